"""Sniffing uploads from their bytes: the allow-list, names that must agree, polyglots, and
the decoder's confirmation (sound or video by its streams)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from memorybox.media import errors
from memorybox.media.errors import MediaError
from memorybox.media.inspect import Sniffed, UnsupportedFile, sniff, verify
from memorybox.memories.models import ItemKind
from tests.media import makers


def _sniff(data: bytes, name: str | None = None) -> Sniffed:
    stream = io.BytesIO(data)
    result = sniff(stream, name)
    assert stream.tell() == 0, "the stream is left at its start"
    return result


@pytest.mark.parametrize(
    ("maker", "content_type", "kind"),
    [
        (makers.camera_jpeg, "image/jpeg", ItemKind.PHOTO),
        (makers.png_with_location, "image/png", ItemKind.PHOTO),
        (makers.webp_with_location, "image/webp", ItemKind.PHOTO),
        (makers.gif_with_location, "image/gif", ItemKind.PHOTO),
        (makers.heic_with_location, "image/heic", ItemKind.PHOTO),
        (makers.pdf, "application/pdf", ItemKind.DOCUMENT),
    ],
)
def test_photos_and_documents_are_known_by_their_bytes(maker, content_type, kind):
    sniffed = _sniff(maker())
    assert (sniffed.content_type, sniffed.kind) == (content_type, kind)


@pytest.mark.parametrize(
    ("sample", "sniffed_type", "final_type", "kind"),
    [
        ("mp3", "audio/mpeg", "audio/mpeg", ItemKind.AUDIO),
        ("m4a", "audio/mp4", "audio/mp4", ItemKind.AUDIO),
        ("mp4-sound", "video/mp4", "audio/mp4", ItemKind.AUDIO),
        ("wav", "audio/wav", "audio/wav", ItemKind.AUDIO),
        ("opus", "audio/ogg", "audio/ogg", ItemKind.AUDIO),
        ("vorbis", "audio/ogg", "audio/ogg", ItemKind.AUDIO),
        ("webm-sound", "video/webm", "audio/webm", ItemKind.AUDIO),
        ("aac", "audio/aac", "audio/aac", ItemKind.AUDIO),
        ("mov-apple", "video/quicktime", "video/quicktime", ItemKind.VIDEO),
        ("mp4-location", "video/mp4", "video/mp4", ItemKind.VIDEO),
        ("webm", "video/webm", "video/webm", ItemKind.VIDEO),
        ("3gp", "video/3gpp", "video/3gpp", ItemKind.VIDEO),
    ],
)
def test_sound_and_video_are_sniffed_then_confirmed_by_their_streams(
    samples, sample, sniffed_type, final_type, kind
):
    path = samples[sample]
    sniffed = _sniff(path.read_bytes())
    assert sniffed.content_type == sniffed_type
    final = verify(path, sniffed)
    assert (final.content_type, final.kind) == (final_type, kind)


def test_photos_and_documents_are_confirmed_by_their_decoders(tmp_path):
    photo = tmp_path / "photo"
    photo.write_bytes(makers.camera_jpeg())
    assert verify(photo, _sniff(photo.read_bytes())).content_type == "image/jpeg"
    document = tmp_path / "document"
    document.write_bytes(makers.pdf(3))
    assert verify(document, _sniff(document.read_bytes())).kind is ItemKind.DOCUMENT


def test_a_file_whose_decoder_disagrees_is_refused(tmp_path):
    """Bytes that start like an MP3 but are not one: ffprobe with the forced demuxer fails."""
    fake = tmp_path / "fake.mp3"
    fake.write_bytes(b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\x00" * 4000)
    with pytest.raises(MediaError, match="damaged"):
        verify(fake, Sniffed(ItemKind.AUDIO, "audio/mpeg", "mp3"))
    video_as_sound = tmp_path / "video.webm"
    video_as_sound.write_bytes(b"\x1a\x45\xdf\xa3" + b"\x00" * 100)
    with pytest.raises(MediaError):
        verify(video_as_sound, Sniffed(ItemKind.VIDEO, "video/webm", "webm"))


SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"<html><script>alert(1)</script></html>", id="html"),
        pytest.param(b"<!DOCTYPE html><p>hello", id="doctype"),
        pytest.param(SVG, id="svg"),
        pytest.param(makers.zip_bytes(), id="zip"),
        pytest.param(b"MZ\x90\x00" + b"\x00" * 200, id="exe"),
        pytest.param(b"\x7fELF\x02\x01\x01" + b"\x00" * 100, id="elf"),
        pytest.param(b"#!/bin/sh\necho hi\n", id="script"),
        pytest.param(b"RIFF\x10\x00\x00\x00AVI LIST\x04\x00\x00\x00movi", id="avi"),
        pytest.param(b"\x1a\x45\xdf\xa3\x93\x42\x82\x88matroska" + b"\x00" * 40, id="mkv"),
        pytest.param(b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", id="avif"),
        pytest.param(b"\x00\x00\x00\x18ftypcrx \x00\x00\x00\x01crx isom", id="canon-raw"),
        pytest.param(
            b"OggS\x00\x02" + b"\x00" * 20 + b"\x01\x1e\x80theora" + b"\x00" * 30, id="theora"
        ),
        pytest.param(b"#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n", id="playlist"),
        pytest.param(b"BM" + b"\x00" * 60, id="bmp"),
        pytest.param(b"just some text, nothing more", id="text"),
        pytest.param(b"\xff\xfb\x90\x00" + b"\x00" * 10, id="one-mp3-frame-then-junk"),
    ],
)
def test_everything_else_is_refused_in_words_a_child_understands(content):
    with pytest.raises(UnsupportedFile) as refused:
        _sniff(content, None)
    assert str(refused.value).startswith("We can't keep that kind of file.")
    assert "JPEG" in str(refused.value), "it says what can be added"


def test_an_empty_file_is_explained():
    with pytest.raises(UnsupportedFile, match="That file is empty"):
        _sniff(b"", "nothing.jpg")


def test_an_html_file_named_jpg_is_refused():
    with pytest.raises(UnsupportedFile, match="can't keep that kind of file"):
        _sniff(b"<html><body><script>document.cookie</script></body></html>", "photo.jpg")


@pytest.mark.parametrize(
    ("maker", "name"),
    [
        (makers.png_with_location, "photo.jpg"),
        (makers.plain_jpeg, "drawing.png"),
        (makers.plain_jpeg, "page.html"),
        (makers.plain_jpeg, "picture.svg"),
        (makers.pdf, "report.docx"),
        (makers.plain_jpeg, "clip.mp4"),
    ],
)
def test_a_known_extension_must_agree_with_the_bytes(maker, name):
    with pytest.raises(UnsupportedFile, match="its name says it is one kind of file"):
        _sniff(maker(), name)


@pytest.mark.parametrize(
    "name",
    ["IMG_0001.JPG", "holiday.jpeg", "me at 9.5", "Mum.and.Dad", "photo.jpg.download", None, ""],
)
def test_a_matching_or_unknown_suffix_is_accepted(name):
    assert _sniff(makers.plain_jpeg(), name).content_type == "image/jpeg"


def test_iso_media_names_share_one_family(samples):
    """MOV, MP4, M4A and 3GP are all read by the same demuxer: any of their names will do."""
    assert _sniff(samples["mov-apple"].read_bytes(), "clip.MP4").content_type == "video/quicktime"
    assert _sniff(samples["m4a"].read_bytes(), "song.mp4").content_type == "audio/mp4"
    with pytest.raises(UnsupportedFile):
        _sniff(samples["m4a"].read_bytes(), "song.mp3")


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(makers.plain_jpeg() + makers.zip_bytes(), id="jpeg+zip"),
        pytest.param(makers.png_with_location() + makers.zip_bytes(), id="png+zip"),
        pytest.param(makers.pdf() + makers.zip_bytes(), id="pdf+zip"),
        pytest.param(
            makers.plain_jpeg()[:2]
            + b"\xff\xfe\x00\x2a<html><script>alert(1)</script></html>"
            + makers.plain_jpeg()[2:],
            id="jpeg-with-html-comment",
        ),
        pytest.param(makers.plain_jpeg() + b"<script>alert(1)</script>", id="jpeg+script"),
        pytest.param(
            makers.plain_jpeg()[:2] + b"\xff\xfe\x00\x0a%PDF-1.4" + makers.plain_jpeg()[2:],
            id="jpeg+pdf-header",
        ),
        pytest.param(makers.gif_with_location() + b"<?php system($_GET[1]); ?>", id="gif+php"),
    ],
)
def test_polyglots_are_refused(content):
    with pytest.raises(UnsupportedFile, match="can't keep that kind of file"):
        _sniff(content, None)


def test_a_video_with_a_zip_on_the_end_is_refused(samples):
    content = samples["mp4-location"].read_bytes() + makers.zip_bytes()
    with pytest.raises(UnsupportedFile):
        _sniff(content, "clip.mp4")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(makers.png_bomb(), errors.TOO_BIG_PHOTO, id="png-bomb"),
        pytest.param(makers.jpeg_with_size(65_000, 65_000), errors.TOO_BIG_PHOTO, id="jpeg-huge"),
        pytest.param(makers.png_bomb(1, 40_000), errors.TOO_BIG_PHOTO, id="absurd-strip"),
        pytest.param(makers.png_bomb(0, 10), errors.DAMAGED_PHOTO, id="zero-width"),
        pytest.param(b"\xff\xd8\xff\xe0" + b"garbage" * 50, errors.DAMAGED_PHOTO, id="fake-jpeg"),
        pytest.param(makers.plain_jpeg()[:40], errors.DAMAGED_PHOTO, id="truncated-header"),
        pytest.param(
            makers.png_with_location()[:60] + b"\x00" * 20, errors.DAMAGED_PHOTO, id="png-crc"
        ),
    ],
)
def test_photos_are_opened_by_their_own_decoder_with_limits(content, message):
    with pytest.raises(UnsupportedFile) as refused:
        _sniff(content, None)
    assert str(refused.value) == message


def test_sniff_keeps_the_old_call_working():
    """The upload view calls ``sniff(stream)`` without a name."""
    stream = io.BytesIO(makers.plain_jpeg())
    assert sniff(stream) == Sniffed(ItemKind.PHOTO, "image/jpeg", "jpg")


def test_unknown_verify_type_is_refused(tmp_path: Path):
    path = tmp_path / "x"
    path.write_bytes(b"data")
    with pytest.raises(MediaError):
        verify(path, Sniffed(ItemKind.VIDEO, "video/x-msvideo", "avi"))
