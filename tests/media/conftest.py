"""Fixtures for the media library: test media made once per session, and independent checks.

Location is checked with parsers other than the ones that wrote the files: ExifTool
(Debian's ``libimage-exiftool-perl``), exifread for JPEG EXIF, and a raw byte scan.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import exifread
import pytest

from tests.media import makers


def exiftool_tags(path: Path) -> dict[str, object]:
    """Every tag ExifTool finds, embedded ones included, as ``Group:Tag`` -> value."""
    exiftool = shutil.which("exiftool")
    if exiftool is None:
        pytest.skip("ExifTool is missing: apt-get install libimage-exiftool-perl")
    done = subprocess.run(
        [exiftool, "-j", "-a", "-G1", "-ee", "-u", str(path)],
        capture_output=True,
        timeout=60,
    )
    tags: dict[str, object] = json.loads(done.stdout)[0]
    # Raw ADTS sound has no container and so nowhere for tags: ExifTool says "unknown".
    assert done.returncode == 0 or tags.get("ExifTool:Error") == "Unknown file type", tags
    return tags


LOCATION_WORDS = ("gps", "location", "xmp", "iptc", "thumbnail", "xyz", "6709", ":city")


def assert_no_location(path: Path) -> None:
    """No coordinate, location tag, XMP, IPTC or EXIF thumbnail, by bytes and by ExifTool."""
    data = path.read_bytes()
    for token in makers.FORBIDDEN:
        assert token not in data, f"{path.name} still holds {token!r}"
    if data.startswith(b"\xff\xd8"):
        header = data[: data.find(b"\xff\xda")]
        assert b"GPS" not in header and b"Exif\x00\x00" not in header.replace(
            b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12", b""
        ), f"{path.name} has EXIF beyond the orientation"
        tags = exifread.process_file(path.open("rb"), details=False)
        found = [k for k in tags if k.startswith(("GPS", "Thumbnail", "EXIF"))]
        assert not found, f"exifread found {found} in {path.name}"
    tags = exiftool_tags(path)
    found = [k for k in tags if any(word in k.lower() for word in LOCATION_WORDS)]
    assert not found, f"ExifTool found {found} in {path.name}"


@pytest.fixture(scope="session")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Sound and video files made with ffmpeg's lavfi sources (small and short)."""
    folder = tmp_path_factory.mktemp("samples")
    made: dict[str, Path] = {
        "mov-apple": makers.video_with_location(folder, "apple", "mov", apple_keys=True),
        "mov-xyz": makers.video_with_location(folder, "xyz", "mov", apple_keys=False),
        "mp4-location": makers.video_with_location(folder, "phone", "mp4", apple_keys=False),
    }
    sound = makers.lavfi_sound()
    video = makers.lavfi_video("176x144", 0.5)
    x264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    recipes: dict[str, list[str]] = {
        "mp3": [*sound, "-metadata", "comment=London 51.5072", "-c:a", "libmp3lame", "-f", "mp3"],
        "m4a": [*sound, "-metadata", "location=+51.5072-000.1276/", "-c:a", "aac", "-f", "ipod"],
        "mp4-sound": [*sound, "-c:a", "aac", "-f", "mp4"],
        "wav": [*sound, "-metadata", "comment=London", "-c:a", "pcm_s16le", "-f", "wav"],
        "opus": [*sound, "-c:a", "libopus", "-f", "ogg"],
        "vorbis": [*sound, "-c:a", "libvorbis", "-f", "ogg"],
        "webm-sound": [*sound, "-c:a", "libopus", "-f", "webm"],
        "aac": [*sound, "-c:a", "aac", "-f", "adts"],
        "webm": [
            *video,
            *sound,
            "-c:v",
            "libvpx",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-c:a",
            "libopus",
            "-shortest",
            "-f",
            "webm",
        ],
        "3gp": [*video, *sound, *x264, "-c:a", "aac", "-ar", "16000", "-shortest", "-f", "3gp"],
        "hd": [*makers.lavfi_video("1920x1080", 0.2), *x264, "-f", "mp4"],
        "odd": [*makers.lavfi_video("333x201", 0.3), *x264.copy()[:4], "-f", "mov"],
    }
    for name, recipe in recipes.items():
        out = folder / f"{name}.bin"
        makers.ffmpeg(*recipe, str(out))
        made[name] = out
    return made


@pytest.fixture
def canary(tmp_path: Path) -> tuple[Path, bytes]:
    """A local file a hostile media file will try to read, and its unique contents."""
    secret = f"CANARY-{tmp_path.name}-do-not-leak".encode()
    path = tmp_path / "canary.txt"
    path.write_bytes(secret)
    return path, secret
