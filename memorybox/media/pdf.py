"""Documents: the page count and a picture of the first page, drawn with PDFium (pypdfium2).

PDFium runs in the bounded child process (:func:`memorybox.media.tools.run_job`): a hostile
PDF can at worst crash or stall that child. Encrypted PDFs are refused, even those that
open without a password, because we cannot be sure what we show is what is inside.
The preview is a WebP at most ``PREVIEW_SIDE`` pixels on its longest side, plus a small one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memorybox.media import errors, tools
from memorybox.media.errors import MediaError
from memorybox.media.images import Rendition

PREVIEW_SIDE = 1600
SMALL_SIDE = 320
PDF_JOB_SECONDS = 20.0
WEBP_QUALITY = 80
FPDF_ERR_PASSWORD = 4


@dataclass(frozen=True)
class DocumentPreview:
    page_count: int
    renditions: tuple[Rendition, ...]  # the first page: 1600 and 320 pixels, WebP

    def by_size(self, longest_side: int) -> Rendition:
        return next(r for r in self.renditions if r.longest_side == longest_side)


def _open(path: str) -> Any:
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    try:
        document = pdfium.PdfDocument(Path(path))
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == FPDF_ERR_PASSWORD:
            raise MediaError(errors.LOCKED_DOCUMENT) from None
        raise MediaError(errors.DAMAGED_DOCUMENT) from None
    if pdfium_c.FPDF_GetSecurityHandlerRevision(document.raw) != -1:
        document.close()
        raise MediaError(errors.LOCKED_DOCUMENT)
    return document


def preview_here(path: str, out_dir: str) -> dict[str, Any]:
    """Child side of :func:`preview`."""
    from PIL import Image

    document = _open(path)
    try:
        pages = len(document)
        if pages < 1:
            raise MediaError(errors.DAMAGED_DOCUMENT)
        page = document[0]
        try:
            width, height = page.get_size()
            if not (math.isfinite(width) and math.isfinite(height)) or min(width, height) <= 0:
                raise MediaError(errors.DAMAGED_DOCUMENT)
            scale = PREVIEW_SIDE / max(width, height)
            bitmap = page.render(scale=scale, may_draw_forms=False)
            image = bitmap.to_pil().convert("RGB")
        finally:
            page.close()
    finally:
        document.close()
    made = []
    for side in (PREVIEW_SIDE, SMALL_SIDE):
        image.thumbnail((side, side), Image.Resampling.LANCZOS)
        out = Path(out_dir) / f"page-1-{side}.webp"
        image.save(out, "WEBP", quality=WEBP_QUALITY, method=4)
        made.append(
            {"path": str(out), "width": image.width, "height": image.height, "longest_side": side}
        )
    return {"pages": pages, "renditions": made}


def check_here(path: str) -> dict[str, Any]:
    """Child side of :func:`check`."""
    document = _open(path)
    try:
        pages = len(document)
        if pages < 1:
            raise MediaError(errors.DAMAGED_DOCUMENT)
        document[0].close()
    finally:
        document.close()
    return {"pages": pages}


def check(path: Path) -> int:
    """Open the PDF with PDFium in a bounded child process; its number of pages."""
    result = tools.run_job(
        "pdf.check", {"path": str(path)}, kind="document", timeout=PDF_JOB_SECONDS
    )
    return int(result["pages"])


def preview(path: Path, out_dir: Path) -> DocumentPreview:
    """The page count and WebP pictures of the first page (1600 and 320 px) in ``out_dir``."""
    result = tools.run_job(
        "pdf.preview",
        {"path": str(path), "out_dir": str(out_dir)},
        kind="document",
        timeout=PDF_JOB_SECONDS,
    )
    renditions = tuple(
        Rendition(
            path=Path(r["path"]),
            content_type="image/webp",
            width=int(r["width"]),
            height=int(r["height"]),
            longest_side=int(r["longest_side"]),
        )
        for r in result["renditions"]
    )
    return DocumentPreview(int(result["pages"]), renditions)
