"""Sound and video: probing, transcoding, posters, and the hardening of every ffmpeg run."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from PIL import Image

from memorybox.media import av, errors, metadata, pipeline, tools
from memorybox.media.errors import MediaError
from tests.media import makers
from tests.media.conftest import assert_no_location


def _out(tmp_path: Path, name: str = "out") -> Path:
    out = tmp_path / name
    out.mkdir()
    return out


def test_probe_reads_duration_size_rotation_codecs_and_date(samples):
    info = av.probe(samples["mov-apple"], "video/quicktime")
    assert info.duration == pytest.approx(1.0, abs=0.1)
    assert (info.width, info.height) == (320, 240) and info.rotation in (90, 270)
    assert info.display_size == (240, 320)
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert info.has_video and info.has_audio
    assert info.taken_at is not None and info.taken_at.isoformat() == "2021-06-01T10:20:30+01:00"


def test_video_becomes_h264_aac_mp4_with_faststart_and_a_poster(tmp_path, samples):
    made = av.transcode_video(samples["mov-apple"], "video/quicktime", _out(tmp_path))
    assert (made.width, made.height) == (240, 320), "turned upright, not enlarged"
    info = av.probe(made.path, "video/mp4")
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert info.rotation == 0 and (info.width, info.height) == (240, 320)
    data = made.path.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat"), "+faststart: the index comes first"
    assert b"tmcd" not in data
    with Image.open(made.poster, formats=["JPEG"]) as poster:
        assert poster.size == (240, 320)
    for path in (made.path, made.poster):
        assert_no_location(path)


@pytest.mark.parametrize(
    ("sample", "content_type", "size"),
    [
        ("hd", "video/mp4", (1280, 720)),
        ("odd", "video/quicktime", (332, 200)),
        ("webm", "video/webm", (176, 144)),
        ("3gp", "video/3gpp", (176, 144)),
    ],
)
def test_videos_are_at_most_720p_with_even_sizes(tmp_path, samples, sample, content_type, size):
    made = av.transcode_video(samples[sample], content_type, _out(tmp_path))
    assert (made.width, made.height) == size
    assert made.width % 2 == 0 and made.height % 2 == 0


@pytest.mark.parametrize(
    ("display", "expected"),
    [
        ((1920, 1080), (1280, 720)),
        ((1080, 1920), (720, 1280)),
        ((3840, 1600), (1280, 532)),
        ((720, 720), (720, 720)),
        ((4000, 4000), (720, 720)),
        ((321, 239), (320, 238)),
        ((1, 1), (2, 2)),
    ],
)
def test_target_size(display, expected):
    assert av.target_size(display) == expected


@pytest.mark.parametrize(
    ("sample", "content_type"),
    [
        ("mp3", "audio/mpeg"),
        ("m4a", "audio/mp4"),
        ("wav", "audio/wav"),
        ("opus", "audio/ogg"),
        ("vorbis", "audio/ogg"),
        ("webm-sound", "audio/webm"),
        ("aac", "audio/aac"),
    ],
)
def test_sound_becomes_aac_in_m4a_with_its_duration(tmp_path, samples, sample, content_type):
    made = av.transcode_audio(samples[sample], content_type, _out(tmp_path))
    assert made.path.suffix == ".m4a"
    assert made.duration == pytest.approx(1.0, abs=0.15)
    info = av.probe(made.path, "audio/mp4", "audio")
    assert info.audio_codec == "aac" and not info.has_video
    assert_no_location(made.path)


def test_every_ffmpeg_command_is_hardened(tmp_path):
    source = tmp_path / "in.mov"
    commands = [
        av.transcode_video_command(source, "video/quicktime", tmp_path / "o.mp4", (640, 360), True),
        av.transcode_audio_command(
            source,
            "video/quicktime",
            tmp_path / "o.m4a",
            av.Probe(1.0, None, None, 0, None, "aac", 6, 96000, None),
        ),
        av.remux_command(source, "video/quicktime", tmp_path / "o.mov", "video"),
        av.poster_command(source, tmp_path / "p.jpg", 1.0),
        av.probe_command(source, "video/quicktime"),
    ]
    for command in commands:
        line = " ".join(command)
        before_input = command[: command.index("-i")]
        assert before_input[before_input.index("-f") :][:2] == ["-f", "mov"], "forced demuxer"
        assert "-protocol_whitelist file" in " ".join(before_input)
        assert "-format_whitelist mov" in " ".join(before_input)
        assert "-enable_drefs 0" in " ".join(before_input)
        assert "-max_alloc" in line
        if command[0] == tools.binaries().ffmpeg:
            assert "-nostdin" in command
            assert "-map_metadata -1" in line
            assert "-map 0:a:0?" in line or "-map 0:V:0?" in line
            assert "-map 0:v" not in line and "-map 0 " not in line
    video, audio, remux, _, _ = (" ".join(c) for c in commands)
    assert "-map 0:V:0? -map 0:a:0?" in video and "-threads 2" in video
    assert "-c:v libx264" in video and "-c:a aac" in video and "-movflags +faststart" in video
    assert "-vf scale=640:360,setsar=1" in video and "-map_chapters -1" in video
    assert "-ac 2" in audio and "-ar 48000" in audio and "-vn" in audio
    assert "-c copy" in remux and "-write_tmcd 0" in remux and "-map_chapters -1" in remux


def test_a_video_longer_than_the_limit_is_refused(tmp_path, samples, monkeypatch):
    monkeypatch.setattr(av, "MAX_VIDEO_SECONDS", 0.5)
    with pytest.raises(MediaError, match="too long"):
        av.transcode_video(samples["mov-xyz"], "video/quicktime", _out(tmp_path))


def test_a_stuck_ffmpeg_is_killed_at_its_time_limit(tmp_path, monkeypatch):
    """A named pipe nobody writes to: ffmpeg and ffprobe would wait for ever."""
    stuck = tmp_path / "stuck.mov"
    os.mkfifo(stuck)
    monkeypatch.setattr(av, "_time_limit", lambda duration: 0.5)
    monkeypatch.setattr(av, "PROBE_SECONDS", 0.5)
    info = av.Probe(1.0, 320, 240, 0, "h264", "aac", 2, 44100, None)
    started = time.monotonic()
    with pytest.raises(MediaError) as failed:
        av.transcode_video(stuck, "video/quicktime", _out(tmp_path), info)
    assert str(failed.value) == errors.TOO_SLOW.format(what="video")
    assert not (tmp_path / "out" / "video.mp4").exists(), "nothing half-written is left"
    with pytest.raises(MediaError, match="took too long"):
        av.probe(stuck, "video/quicktime")
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="zero-bytes"),
        pytest.param(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2", id="only-a-header"),
        pytest.param(b"\x00\x00\x00\x18ftypqt  \x00\x00\x00\x00qt  " + b"\xff" * 5000, id="junk"),
        pytest.param(b"\x1a\x45\xdf\xa3" + b"\x00" * 100, id="broken-webm"),
    ],
)
def test_broken_videos_get_a_clear_message(tmp_path, data):
    source = tmp_path / "in"
    source.write_bytes(data)
    content_type = "video/webm" if data.startswith(b"\x1a") else "video/mp4"
    for attempt in (
        lambda: av.probe(source, content_type),
        lambda: av.transcode_video(source, content_type, _out(tmp_path, "a")),
        lambda: metadata.clean_av(source, content_type, "video", _out(tmp_path, "b")),
    ):
        with pytest.raises(MediaError) as failed:
            attempt()
        assert str(failed.value) == errors.DAMAGED_VIDEO


def test_a_truncated_video_fails_cleanly(tmp_path, samples):
    data = samples["mov-apple"].read_bytes()
    source = tmp_path / "in.mov"
    source.write_bytes(data[: len(data) // 3])
    with pytest.raises(MediaError, match="damaged"):
        pipeline.process(source, "video/quicktime", "video", tmp_path / "out")


def _every_output(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


@pytest.mark.parametrize("content_type", sorted(av.DEMUXER))
def test_an_avi_hiding_an_hls_playlist_never_reads_the_canary(tmp_path, canary, content_type):
    """The known exploit: with the demuxer forced and only ``file`` allowed, the playlist is
    never followed, whatever type the file was sniffed as."""
    canary_path, secret = canary
    source = tmp_path / "upload.bin"
    source.write_bytes(makers.avi_with_hls_playlist(canary_path))
    out = tmp_path / "out"
    kind = "audio" if content_type.startswith("audio/") else "video"
    with pytest.raises(MediaError) as failed:
        pipeline.process(source, content_type, kind, out)
    assert secret.decode() not in str(failed.value)
    assert str(failed.value) in errors.known_messages()
    for path in _every_output(tmp_path):
        if path != canary_path:
            assert secret not in path.read_bytes(), f"{path.name} holds the canary"


def test_without_our_flags_ffmpeg_would_follow_the_playlist(tmp_path):
    """A control for the test above: plain ffprobe takes a file named .mp4 for an HLS playlist
    and opens a local file through it (a tiny WAV standing in for a secret); ours refuses."""
    secret = tmp_path / "secret.wav"
    makers.ffmpeg(*makers.lavfi_sound(0.2), str(secret))
    playlist = tmp_path / "clip.mp4"
    playlist.write_bytes(makers.hls_playlist(secret))
    plain = subprocess.run(
        [tools.binaries().ffprobe, "-v", "error", "-show_streams", str(playlist)],
        capture_output=True,
        timeout=30,
    )
    followed = b"pcm_s16le" in plain.stdout  # it read the local file through the playlist
    tried = b"[hls @" in plain.stderr  # builds with later HLS checks stop a step later
    assert followed or tried, "auto-detection chose the playlist demuxer"
    with pytest.raises(MediaError):
        av.probe(playlist, "video/mp4")
    with pytest.raises(MediaError):
        av.probe(playlist, "audio/wav", "audio")
