"""Photo renditions (upright, the right sizes, no metadata) and photos that try to hurt us."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PIL import Image

from memorybox.media import errors, images, metadata
from memorybox.media.errors import MediaError
from tests.media import makers
from tests.media.conftest import assert_no_location


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _red(pixel: tuple[int, ...]) -> bool:
    return pixel[0] > 200 and pixel[1] < 60 and pixel[2] < 60


def test_renditions_are_upright_webp_at_320_and_1600_without_metadata(tmp_path):
    source = _write(tmp_path, "in.jpg", makers.camera_jpeg(2400, 1800, orientation=6))
    made = images.make_renditions(source, "image/jpeg", tmp_path)

    assert (made.width, made.height) == (1800, 2400)
    large, small = made.by_size(1600), made.by_size(320)
    assert (large.width, large.height) == (1200, 1600)
    assert (small.width, small.height) == (240, 320)
    for rendition in (large, small):
        assert rendition.content_type == "image/webp"
        with Image.open(rendition.path, formats=["WEBP"]) as image:
            assert image.size == (rendition.width, rendition.height)
            assert _red(image.convert("RGB").getpixel((image.width - 3, 2))), "turned upright"
            assert not image.getexif()
        assert_no_location(rendition.path)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_is_applied(tmp_path, orientation):
    source = _write(tmp_path, "in.jpg", makers.camera_jpeg(64, 48, orientation=orientation))
    made = images.make_renditions(source, "image/jpeg", tmp_path)
    small = made.by_size(320)
    expected = (48, 64) if orientation >= 5 else (64, 48)
    assert (small.width, small.height) == expected == (made.width, made.height)
    corner = {
        1: (1, 1),
        2: (-2, 1),
        3: (-2, -2),
        4: (1, -2),
        5: (1, 1),
        6: (-2, 1),
        7: (-2, -2),
        8: (1, -2),
    }[orientation]
    with Image.open(small.path) as image:
        x, y = (corner[0] % image.width, corner[1] % image.height)
        assert _red(image.convert("RGB").getpixel((x, y)))


def test_small_photos_are_never_enlarged(tmp_path):
    source = _write(tmp_path, "in.png", makers.png_with_location(96, 64))
    made = images.make_renditions(source, "image/png", tmp_path)
    assert {(r.width, r.height) for r in made.renditions} == {(96, 64)}


@pytest.mark.parametrize(
    ("maker", "content_type"),
    [
        (makers.png_with_location, "image/png"),
        (makers.webp_with_location, "image/webp"),
        (makers.gif_with_location, "image/gif"),
        (makers.heic_with_location, "image/heic"),
    ],
)
def test_every_photo_type_gets_clean_renditions(tmp_path, maker, content_type):
    source = _write(tmp_path, "in", maker())
    for rendition in images.make_renditions(source, content_type, tmp_path).renditions:
        assert_no_location(rendition.path)


def test_a_big_jpeg_is_rendered_quickly(tmp_path):
    """Image.draft decodes a big JPEG at a reduced scale: well inside the 10 s budget."""
    source = _write(tmp_path, "big.jpg", makers.plain_jpeg(6000, 4000))
    started = time.monotonic()
    made = images.make_renditions(source, "image/jpeg", tmp_path)
    assert time.monotonic() - started < 5
    assert made.by_size(1600).width == 1600


def test_check_decodes_the_whole_photo(tmp_path):
    source = _write(tmp_path, "in.heic", makers.heic_with_location(96, 64, orientation=6))
    assert images.check(source, "image/heic") == images.ImageInfo(64, 96)


HOSTILE = [
    pytest.param(makers.png_bomb(), errors.TOO_BIG_PHOTO, id="decompression-bomb"),
    pytest.param(makers.png_bomb(8000, 8000), errors.TOO_BIG_PHOTO, id="bomb-just-over-limit"),
    pytest.param(makers.png_bomb(1, 40_000), errors.TOO_BIG_PHOTO, id="absurd-strip"),
    pytest.param(makers.jpeg_with_size(65_000, 65_000), errors.TOO_BIG_PHOTO, id="absurd-jpeg"),
    pytest.param(makers.png_bomb(0, 0), errors.DAMAGED_PHOTO, id="zero-size"),
    pytest.param(makers.plain_jpeg(640, 480)[:3000], errors.DAMAGED_PHOTO, id="truncated-jpeg"),
    pytest.param(makers.png_with_location()[:900], errors.DAMAGED_PHOTO, id="truncated-png"),
    pytest.param(makers.corrupt_jpeg(), errors.DAMAGED_PHOTO, id="corrupt-jpeg"),
    pytest.param(makers.corrupt_png(), errors.DAMAGED_PHOTO, id="corrupt-png"),
    pytest.param(b"", errors.DAMAGED_PHOTO, id="zero-bytes"),
    pytest.param(b"<html><script>alert(1)</script></html>", errors.DAMAGED_PHOTO, id="html"),
]


@pytest.mark.parametrize(("data", "message"), HOSTILE)
def test_hostile_photos_get_a_clear_message_and_never_a_raw_error(tmp_path, data, message):
    source = _write(tmp_path, "in.jpg", data)
    content_type = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
    for attempt in (
        lambda: images.check(source, content_type),
        lambda: images.make_renditions(source, content_type, tmp_path),
        lambda: metadata.clean_image(source, content_type, tmp_path),
        lambda: metadata.clean_photo(source, content_type, tmp_path),
    ):
        started = time.monotonic()
        with pytest.raises(MediaError) as failed:
            attempt()
        assert str(failed.value) == message
        assert time.monotonic() - started < images.IMAGE_JOB_SECONDS
    assert not list(tmp_path.glob("rendition-*")), "nothing half-made is left to serve"


def test_a_decompression_bomb_is_refused_before_decoding(monkeypatch):
    """In this process too (the sniff at upload time uses open_image)."""
    import io

    with (
        pytest.raises(MediaError, match="too big"),
        images.open_image(io.BytesIO(makers.png_bomb()), "image/png"),
    ):
        pytest.fail("a bomb was opened")
    assert Image.MAX_IMAGE_PIXELS == images.MAX_IMAGE_PIXELS


def test_the_wrong_decoder_is_never_tried():
    import io

    with (
        pytest.raises(MediaError, match="damaged"),
        images.open_image(io.BytesIO(makers.png_with_location()), "image/jpeg"),
    ):
        pytest.fail("a PNG was opened as a JPEG")
    with pytest.raises(MediaError), images.open_image(io.BytesIO(b"x"), "image/svg+xml"):
        pytest.fail("an unknown type was opened")
