"""Tiny real files for seeded items: a few hundred bytes each, so pages and the thumbnail
routes serve real bytes without filling a disk."""

from __future__ import annotations

import functools
import hashlib
import io
from dataclasses import dataclass

from PIL import Image

from memorybox.memories.models import ItemKind

WIDTH, HEIGHT = 32, 24
COLOURS = (
    (224, 122, 95),
    (61, 64, 91),
    (129, 178, 154),
    (242, 204, 143),
    (116, 0, 184),
    (0, 119, 182),
    (255, 183, 3),
    (106, 153, 78),
)

# A one-page PDF with nothing on it (valid: xref offsets are exact).
_PDF = (
    b"%PDF-1.4\n"
    b"1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 32 24]>>endobj\n"
)
_XREF_AT = len(_PDF)
_PDF += (
    b"xref\n0 4\n0000000000 65535 f \n"
    + b"".join(f"{_PDF.index(f'{n} 0 obj'.encode()):010d} 00000 n \n".encode() for n in (1, 2, 3))
    + f"trailer<</Size 4/Root 1 0 R>>\nstartxref\n{_XREF_AT}\n%%EOF\n".encode()
)


@dataclass(frozen=True)
class Blob:
    data: bytes
    content_type: str
    extension: str

    @functools.cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class Shape:
    """What one kind of item is stored as: the original, then its renditions by name (as the
    media pipeline makes them)."""

    content_type: str
    extension: str
    renditions: tuple[str, ...]


SHAPES = {
    ItemKind.PHOTO: Shape("image/jpeg", "jpg", ("thumb", "large")),
    ItemKind.DOCUMENT: Shape("application/pdf", "pdf", ("preview", "thumb")),
    ItemKind.AUDIO: Shape("audio/mp4", "m4a", ("web",)),
    ItemKind.VIDEO: Shape("video/mp4", "mp4", ("web", "poster", "thumb")),
}


def _image(colour: tuple[int, int, int], fmt: str) -> bytes:
    picture = Image.new("RGB", (WIDTH, HEIGHT), colour)
    for x in range(0, WIDTH, 4):  # a stripe, so it is not one flat colour
        picture.putpixel((x, HEIGHT // 2), (255, 255, 255))
    out = io.BytesIO()
    picture.save(out, fmt, quality=60)
    return out.getvalue()


def _mp4(brand: bytes) -> bytes:
    """An MP4 file-type box and padding: the right type of bytes to serve, not a playable file."""
    ftyp = b"ftyp" + brand + b"\x00\x00\x02\x00" + brand + b"isom"
    free = b"free" + bytes(200)
    return len(ftyp).to_bytes(4, "big") + ftyp + (len(free) + 4).to_bytes(4, "big") + free


@functools.cache
def original(kind: ItemKind, variant: int) -> Blob:
    colour = COLOURS[variant % len(COLOURS)]
    if kind is ItemKind.PHOTO:
        return Blob(_image(colour, "JPEG"), "image/jpeg", "jpg")
    if kind is ItemKind.DOCUMENT:
        return Blob(_PDF, "application/pdf", "pdf")
    if kind is ItemKind.AUDIO:
        return Blob(_mp4(b"M4A "), "audio/mp4", "m4a")
    return Blob(_mp4(b"mp42"), "video/mp4", "mp4")


@functools.cache
def rendition(kind: ItemKind, name: str, variant: int) -> Blob:
    colour = COLOURS[variant % len(COLOURS)]
    if name == "web":
        return original(kind, variant)
    if name == "poster":
        return Blob(_image(colour, "JPEG"), "image/jpeg", "jpg")
    return Blob(_image(colour, "WEBP"), "image/webp", "webp")
