"""One upload end to end: what comes out is what the web layer serves, and none of it, not
one stored or derived file, holds a location."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from memorybox.media import errors, pipeline
from memorybox.media.errors import MediaError
from memorybox.memories.models import ItemKind
from tests.media import makers
from tests.media.conftest import assert_no_location

PLUS_ONE = timezone(timedelta(hours=1))


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def _check_everything_made(result: pipeline.Processed, out: Path) -> None:
    made = {result.original.path, *(r.path for r in result.renditions)}
    for path in made:
        assert path.is_file() and path.stat().st_size > 0
    for path in _files(out):
        assert_no_location(path)


@pytest.mark.parametrize(
    ("maker", "content_type", "stored_type", "size"),
    [
        (lambda: makers.camera_jpeg(640, 480, 6), "image/jpeg", "image/jpeg", (480, 640)),
        (makers.png_with_location, "image/png", "image/png", (96, 64)),
        (makers.webp_with_location, "image/webp", "image/webp", (96, 64)),
        (makers.gif_with_location, "image/gif", "image/gif", (48, 32)),
        (makers.heic_with_location, "image/heic", "image/jpeg", (64, 96)),
    ],
)
def test_a_photo(tmp_path, maker, content_type, stored_type, size):
    source = tmp_path / "upload"
    source.write_bytes(maker())
    out = tmp_path / "work" / "out"
    result = pipeline.process(source, content_type, "photo", out)
    assert result.kind is ItemKind.PHOTO
    assert result.original.content_type == stored_type
    assert (result.width, result.height) == size
    assert [r.name for r in result.renditions] == ["thumb", "large"]
    assert all(r.content_type == "image/webp" for r in result.renditions)
    if content_type == "image/gif":  # GIF has no place for a date taken
        assert result.taken_at is None
    elif content_type == "image/jpeg":  # the camera said its time zone
        assert result.taken_at == datetime(2021, 6, 1, 10, 20, 30, tzinfo=PLUS_ONE)
    else:  # it did not: UK time, 9:20 UTC in summer
        assert result.taken_at == datetime(2021, 6, 1, 9, 20, 30, tzinfo=UTC)
    _check_everything_made(result, out)


def test_a_document(tmp_path):
    source = tmp_path / "upload"
    source.write_bytes(makers.pdf(2))
    result = pipeline.process(source, "application/pdf", "document", tmp_path / "out")
    assert result.kind is ItemKind.DOCUMENT and result.page_count == 2
    assert result.original.path == source and result.original.extension == "pdf"
    assert [r.name for r in result.renditions] == ["preview", "thumb"]


@pytest.mark.parametrize(
    ("sample", "content_type"),
    [
        ("mov-apple", "video/quicktime"),
        ("mov-xyz", "video/quicktime"),
        ("mp4-location", "video/mp4"),
        ("webm", "video/webm"),
        ("3gp", "video/3gpp"),
    ],
)
def test_a_video(tmp_path, samples, sample, content_type):
    out = tmp_path / "out"
    result = pipeline.process(samples[sample], content_type, "video", out)
    assert result.kind is ItemKind.VIDEO
    assert [(r.name, r.content_type) for r in result.renditions] == [
        ("web", "video/mp4"),
        ("poster", "image/jpeg"),
        ("thumb", "image/webp"),
    ]
    expected = 0.5 if sample in ("webm", "3gp") else 1.0
    assert result.duration_seconds == pytest.approx(expected, abs=0.1)
    assert result.original.content_type == content_type
    _check_everything_made(result, out)


@pytest.mark.parametrize(
    ("sample", "content_type", "kind", "stored_type"),
    [
        ("mp3", "audio/mpeg", "audio", "audio/mpeg"),
        ("mp4-sound", "video/mp4", "video", "audio/mp4"),
        ("webm-sound", "video/webm", "video", "audio/webm"),
    ],
)
def test_sound_even_when_it_was_sniffed_as_video(
    tmp_path, samples, sample, content_type, kind, stored_type
):
    out = tmp_path / "out"
    result = pipeline.process(samples[sample], content_type, kind, out)
    assert result.kind is ItemKind.AUDIO
    assert result.original.content_type == stored_type
    assert [(r.name, r.content_type) for r in result.renditions] == [("web", "audio/mp4")]
    assert result.duration_seconds == pytest.approx(1.0, abs=0.15)
    _check_everything_made(result, out)


@pytest.mark.parametrize(
    ("data", "content_type", "kind"),
    [
        pytest.param(b"", "image/jpeg", "photo", id="empty-photo"),
        pytest.param(b"", "application/pdf", "document", id="empty-pdf"),
        pytest.param(b"", "audio/mpeg", "audio", id="empty-sound"),
        pytest.param(b"", "video/mp4", "video", id="empty-video"),
        pytest.param(makers.png_bomb(), "image/png", "photo", id="bomb"),
        pytest.param(makers.corrupt_jpeg(), "image/jpeg", "photo", id="corrupt-jpeg"),
        pytest.param(makers.encrypted_pdf(False), "application/pdf", "document", id="locked"),
        pytest.param(b"<svg/>", "image/svg+xml", "photo", id="svg"),
        pytest.param(b"RIFF", "video/x-msvideo", "video", id="avi"),
        pytest.param(makers.plain_jpeg(), "image/jpeg", "video", id="kind-disagrees"),
    ],
)
def test_anything_bad_is_one_exception_with_a_message_for_people(
    tmp_path, data, content_type, kind
):
    source = tmp_path / "upload"
    source.write_bytes(data)
    with pytest.raises(MediaError) as failed:
        pipeline.process(source, content_type, kind, tmp_path / "out")
    assert str(failed.value) in errors.known_messages()


def test_a_date_without_a_zone_can_be_read_in_another_zone(tmp_path):
    source = tmp_path / "upload"
    source.write_bytes(makers.png_with_location())
    zone = ZoneInfo("America/New_York")
    result = pipeline.process(source, "image/png", "photo", tmp_path / "out", assume_zone=zone)
    assert result.taken_at == datetime(2021, 6, 1, 14, 20, 30, tzinfo=UTC)
