"""Location removal: originals keep full resolution and quality, lose every location tag,
and give up their date taken as a field first. Checked with ExifTool, exifread and bytes."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import exifread
import pytest
from PIL import Image

from memorybox.media import av, metadata
from memorybox.media.errors import MediaError
from tests.media import makers
from tests.media.conftest import assert_no_location, exiftool_tags

PLUS_ONE = timezone(timedelta(hours=1))


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _out(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    return out


def _scan(data: bytes) -> bytes:
    """A baseline JPEG's scan: from its start-of-scan marker to the end. (The last one: an
    EXIF thumbnail has its own, earlier; entropy-coded data never holds FF DA.)"""
    return data[data.rindex(b"\xff\xda") :]


def test_the_test_photo_really_carries_location(tmp_path):
    """A check on the test itself: the input is as bad as a phone's."""
    tags = exiftool_tags(_write(tmp_path, "in.jpg", makers.camera_jpeg()))
    assert "GPS:GPSLatitude" in tags and "IFD1:ThumbnailImage" in tags
    assert "XMP-exif:GPSLatitude" in tags and "XMP-photoshop:City" in tags
    assert "IPTC:City" in tags and "File:Comment" in tags


def test_jpeg_location_goes_losslessly_and_the_orientation_stays(tmp_path):
    original = makers.camera_jpeg(640, 480, orientation=6)
    source = _write(tmp_path, "in.jpg", original)
    clean = metadata.clean_image(source, "image/jpeg", _out(tmp_path))

    assert_no_location(clean.path)
    data = clean.path.read_bytes()
    assert _scan(data) == _scan(original), "the pixel data bytes are untouched"
    with Image.open(source) as before, Image.open(clean.path) as after:
        assert after.size == before.size == (640, 480)
        assert after.tobytes() == before.tobytes(), "identical decoded pixels"
        assert after.info.get("icc_profile") == before.info.get("icc_profile") is not None
    tags = exifread.process_file(io.BytesIO(data), details=False)
    assert str(tags["Image Orientation"]) == "Rotated 90 CW"
    assert set(tags) == {"Image Orientation"}
    assert (clean.width, clean.height) == (480, 640), "the size as people see it"
    assert (clean.content_type, clean.extension) == ("image/jpeg", "jpg")
    assert clean.taken_at == datetime(2021, 6, 1, 10, 20, 30, tzinfo=PLUS_ONE)


def test_a_jpeg_with_orientation_1_keeps_no_exif_at_all(tmp_path):
    source = _write(tmp_path, "in.jpg", makers.camera_jpeg(120, 80, orientation=1))
    clean = metadata.clean_image(source, "image/jpeg", _out(tmp_path))
    assert b"Exif" not in clean.path.read_bytes()
    assert_no_location(clean.path)


def test_strip_jpeg_cuts_trailing_data_and_the_jfif_thumbnail():
    jpeg = makers.plain_jpeg()
    jfif_with_thumb = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x01\x01" + b"\x10\x20\x30"
    segment = b"\xff\xe0" + (len(jfif_with_thumb) + 2).to_bytes(2, "big") + jfif_with_thumb
    start = 2 + 2 + int.from_bytes(jpeg[4:6], "big")  # after Pillow's own APP0
    hostile = jpeg[:2] + segment + jpeg[start:] + b"MPF second image London 51.5072"
    cleaned = metadata.strip_jpeg(hostile)
    assert cleaned.endswith(b"\xff\xd9") and b"London" not in cleaned
    assert cleaned[6:20] == b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    with Image.open(io.BytesIO(cleaned)) as a, Image.open(io.BytesIO(jpeg)) as b:
        assert a.tobytes() == b.tobytes()


def test_a_progressive_jpeg_with_restart_markers_is_copied_exactly():
    buf = io.BytesIO()
    makers.picture(200, 150).save(buf, "JPEG", progressive=True, restart_marker_blocks=1)
    jpeg = buf.getvalue()
    cleaned = metadata.strip_jpeg(jpeg)
    first_scan = jpeg.index(b"\xff\xda")
    assert cleaned[cleaned.index(b"\xff\xda") :] == jpeg[first_scan:]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(makers.plain_jpeg()[:-200], id="no-end-of-image"),
        pytest.param(b"\xff\xd8\xff\xe1\xff\xff" + b"\x00" * 10, id="segment-past-the-end"),
        pytest.param(b"\xff\xd8\x00\x00", id="not-a-marker"),
        pytest.param(b"GIF89a", id="not-a-jpeg"),
    ],
)
def test_strip_jpeg_refuses_broken_files(data):
    with pytest.raises(MediaError, match="damaged"):
        metadata.strip_jpeg(data)


def test_png_location_goes_and_the_pixel_chunks_stay(tmp_path):
    original = makers.png_with_location()
    source = _write(tmp_path, "in.png", original)
    assert "XMP-exif:GPSLatitude" in exiftool_tags(source)
    clean = metadata.clean_image(source, "image/png", _out(tmp_path))

    assert_no_location(clean.path)
    data = clean.path.read_bytes()
    for chunk in (b"eXIf", b"iTXt", b"tEXt", b"zTXt"):
        assert chunk not in data
    idat = original.index(b"IDAT") - 4
    assert data[data.index(b"IDAT") - 4 :] == original[idat:], "IDAT and IEND byte for byte"
    with Image.open(source) as before, Image.open(clean.path) as after:
        assert after.size == before.size and after.tobytes() == before.tobytes()
    assert clean.taken_at == datetime(2021, 6, 1, 10, 20, 30)


def test_png_orientation_is_kept_in_a_minimal_exif(tmp_path):
    buf = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 8
    exif.get_ifd(0x8825)[1] = "N"
    makers.picture(40, 20).save(buf, "PNG", exif=exif)
    clean = metadata.clean_image(
        _write(tmp_path, "in.png", buf.getvalue()), "image/png", _out(tmp_path)
    )
    assert (clean.width, clean.height) == (20, 40)
    tags = exiftool_tags(clean.path)
    assert tags["IFD0:Orientation"] == "Rotate 270 CW"
    assert not [k for k in tags if "GPS" in k]


def test_png_with_a_bad_checksum_is_damaged():
    data = bytearray(makers.png_with_location())
    data[data.index(b"IDAT") + 10] ^= 0xFF
    with pytest.raises(MediaError, match="damaged"):
        metadata.strip_png(bytes(data))


@pytest.mark.parametrize("lossless", [False, True])
def test_webp_location_goes_losslessly(tmp_path, lossless):
    original = makers.webp_with_location(lossless=lossless)
    source = _write(tmp_path, "in.webp", original)
    assert "GPS:GPSLatitude" in exiftool_tags(source)
    clean = metadata.clean_image(source, "image/webp", _out(tmp_path))
    assert_no_location(clean.path)
    with Image.open(source) as before, Image.open(clean.path) as after:
        assert after.size == before.size and after.tobytes() == before.tobytes()
    assert clean.taken_at == datetime(2021, 6, 1, 10, 20, 30)


def test_webp_orientation_is_kept(tmp_path):
    buf = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6
    exif.get_ifd(0x8825)[1] = "N"
    makers.picture(40, 20).save(buf, "WEBP", exif=exif)
    simple = metadata.strip_webp(metadata.strip_webp(buf.getvalue()), 6, (40, 20))
    with Image.open(io.BytesIO(simple)) as image:
        assert image.getexif()[0x0112] == 6 and image.size == (40, 20)
        image.load()
    clean = metadata.clean_image(
        _write(tmp_path, "in.webp", buf.getvalue()), "image/webp", _out(tmp_path)
    )
    assert (clean.width, clean.height) == (20, 40)
    assert_no_location(clean.path)


def test_gif_comments_and_xmp_go_and_the_animation_stays(tmp_path):
    original = makers.gif_with_location()
    source = _write(tmp_path, "in.gif", original)
    clean = metadata.clean_image(source, "image/gif", _out(tmp_path))
    assert_no_location(clean.path)
    assert b"NETSCAPE2.0" in clean.path.read_bytes(), "it still loops"
    with Image.open(source) as before, Image.open(clean.path) as after:
        assert after.n_frames == before.n_frames == 2
        for frame in range(2):
            before.seek(frame)
            after.seek(frame)
            assert after.convert("RGB").tobytes() == before.convert("RGB").tobytes()


def test_heic_becomes_a_high_quality_jpeg_without_location(tmp_path):
    source = _write(tmp_path, "in.heic", makers.heic_with_location(96, 64, orientation=6))
    assert "GPS:GPSLatitude" in exiftool_tags(source)
    clean = metadata.clean_image(source, "image/heic", _out(tmp_path))
    assert (clean.content_type, clean.extension) == ("image/jpeg", "jpg")
    assert_no_location(clean.path)
    assert b"Exif" not in clean.path.read_bytes(), "turned the right way up, so no EXIF"
    with Image.open(clean.path) as image:
        assert image.size == (64, 96) == (clean.width, clean.height)
        assert image.getpixel((60, 2))[0] > 200, "the red corner is now top right"
        assert image.info.get("progression") is None
    tags = exiftool_tags(clean.path)
    assert tags["File:YCbCrSubSampling"].startswith("YCbCr4:4:4")
    assert clean.taken_at == datetime(2021, 6, 1, 10, 20, 30)


@pytest.mark.parametrize(
    ("value", "offset", "expected"),
    [
        ("2021:06:01 10:20:30", "+01:00", datetime(2021, 6, 1, 10, 20, 30, tzinfo=PLUS_ONE)),
        ("2021:06:01 10:20:30", None, datetime(2021, 6, 1, 10, 20, 30)),
        (b"2021:06:01 10:20:30\x00", b"-05:00", datetime(2021, 6, 1, 15, 20, 30, tzinfo=UTC)),
        ("0000:00:00 00:00:00", None, None),
        ("    :  :     :  :  ", None, None),
        ("1850:01:01 00:00:00", None, None),
        ("2021:06:01 10:20:30", "+99:00", datetime(2021, 6, 1, 10, 20, 30)),
        (12345, None, None),
    ],
)
def test_exif_dates(value, offset, expected):
    assert metadata.parse_exif_date(value, offset) == expected


@pytest.mark.parametrize(
    ("sample", "extension", "taken"),
    [
        ("mov-apple", "mov", datetime(2021, 6, 1, 10, 20, 30, tzinfo=PLUS_ONE)),
        ("mov-xyz", "mov", datetime(2021, 6, 1, 9, 20, 30, tzinfo=UTC)),
        ("mp4-location", "mp4", datetime(2021, 6, 1, 9, 20, 30, tzinfo=UTC)),
    ],
)
def test_video_location_and_data_tracks_go_by_stream_copy(
    tmp_path, samples, sample, extension, taken
):
    source = samples[sample]
    before = exiftool_tags(source)
    assert [k for k in before if "GPS" in k], "the test video really has a location"
    content_type = "video/quicktime" if extension == "mov" else "video/mp4"
    info = av.probe(source, content_type)
    clean = metadata.clean_av(source, content_type, "video", _out(tmp_path), info)

    assert_no_location(clean.path)
    assert b"tmcd" not in clean.path.read_bytes(), "no timecode data track"
    after = av.probe(clean.path, content_type)
    assert (after.video_codec, after.audio_codec) == ("h264", "aac"), "copied, not re-encoded"
    assert after.rotation == info.rotation and info.rotation in (90, 270), "still upright"
    assert (after.width, after.height) == (320, 240), "full resolution"
    assert after.taken_at is None
    assert clean.extension == extension and clean.taken_at == taken
    assert (clean.width, clean.height) == (240, 320)


@pytest.mark.parametrize(
    ("sample", "content_type"),
    [
        ("mp3", "audio/mpeg"),
        ("m4a", "audio/mp4"),
        ("wav", "audio/wav"),
        ("opus", "audio/ogg"),
        ("aac", "audio/aac"),
        ("webm-sound", "audio/webm"),
    ],
)
def test_sound_tags_go_by_stream_copy(tmp_path, samples, sample, content_type):
    clean = metadata.clean_av(samples[sample], content_type, "audio", _out(tmp_path))
    assert_no_location(clean.path)
    data = clean.path.read_bytes()
    assert b"London" not in data and b"51.5072" not in data
    assert av.probe(clean.path, content_type, "audio").has_audio


def test_clean_av_refuses_what_it_cannot_copy(tmp_path):
    with pytest.raises(MediaError):
        metadata.clean_av(tmp_path / "x", "image/png", "video", tmp_path)
