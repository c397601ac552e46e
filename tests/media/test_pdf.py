"""Documents: page count, a bounded picture of the first page, and refusals in plain words."""

from __future__ import annotations

from pathlib import Path

import pypdfium2
import pytest
from PIL import Image

from memorybox.media import errors, pdf
from memorybox.media.errors import MediaError
from tests.media import makers


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "in.pdf"
    path.write_bytes(data)
    return path


def test_the_first_page_is_drawn_at_most_1600_pixels_with_the_page_count(tmp_path):
    shown = pdf.preview(_write(tmp_path, makers.pdf(3)), tmp_path)
    assert shown.page_count == 3
    large, small = shown.by_size(1600), shown.by_size(320)
    assert max(large.width, large.height) == 1600
    assert max(small.width, small.height) == 320
    with Image.open(large.path, formats=["WEBP"]) as image:
        assert image.size == (large.width, large.height)
        assert image.convert("RGB").getpixel((10, 10)) == (255, 255, 255), "page 1 is white"
    assert pdf.check(_write(tmp_path, makers.pdf(2))) == 2


def test_a_huge_page_is_still_drawn_small(tmp_path):
    document = pypdfium2.PdfDocument.new()
    document.new_page(14_400, 200)
    path = tmp_path / "wide.pdf"
    document.save(path)
    document.close()
    large = pdf.preview(path, tmp_path).by_size(1600)
    assert large.width == 1600 and large.height in (22, 23)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(makers.encrypted_pdf(False), errors.LOCKED_DOCUMENT, id="password"),
        pytest.param(makers.encrypted_pdf(True), errors.LOCKED_DOCUMENT, id="owner-only"),
        pytest.param(b"%PDF-1.7\n" + b"nonsense " * 100, errors.DAMAGED_DOCUMENT, id="corrupt"),
        pytest.param(makers.pdf()[:100], errors.DAMAGED_DOCUMENT, id="truncated"),
        pytest.param(b"", errors.DAMAGED_DOCUMENT, id="zero-bytes"),
    ],
)
def test_locked_and_broken_documents_are_refused_in_plain_words(tmp_path, data, message):
    path = _write(tmp_path, data)
    for attempt in (lambda: pdf.check(path), lambda: pdf.preview(path, tmp_path)):
        with pytest.raises(MediaError) as failed:
            attempt()
        assert str(failed.value) == message
    assert not list(tmp_path.glob("*.webp"))


def test_the_owner_only_pdf_really_opens_without_a_password(tmp_path):
    """A check on the test file: PDFium opens it, so only our own check refuses it."""
    document = pypdfium2.PdfDocument(_write(tmp_path, makers.encrypted_pdf(True)))
    assert len(document) == 1
    document.close()
