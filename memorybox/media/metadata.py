"""Taking location (and every other tag) out of originals, and reading the date taken first.

A leaked photo can show where a child lives, so the original we store is a copy with no
EXIF GPS, no XMP, no IPTC, no comments, no EXIF thumbnail, no QuickTime ``©xyz`` or
ISO 6709 location and no GPS telemetry track. The date it was taken is read first and
returned as a field.

How each kind is cleaned (full resolution and quality are kept):

- JPEG: LOSSLESS. The marker segments are rewritten: APP1 (EXIF, XMP), APP13 (IPTC /
  Photoshop), COM, APP2 other than ICC (MPF), every other APPn except JFIF (thumbnail
  removed) and Adobe (needed for colours) are dropped, and anything after the end of the
  image (MPF pictures, appended archives) is cut off. The entropy-coded pixel bytes are
  copied untouched, the ICC profile is kept. Orientation is PRESERVED by writing a new,
  minimal EXIF block holding only the Orientation tag (when it is not 1), so the photo
  shows the same way up with identical pixels.
- PNG: LOSSLESS. Only an allow-list of chunks is kept (image data, palette, transparency,
  colour and animation chunks); ``eXIf``, ``tEXt``/``zTXt``/``iTXt`` (XMP lives there),
  ``tIME`` and unknown chunks are dropped, chunk bytes copied as they are. Orientation is
  kept the same way as for JPEG, in a minimal ``eXIf``.
- WebP: LOSSLESS. RIFF chunks ``EXIF`` and ``XMP`` are dropped (and their VP8X flags
  cleared); orientation kept in a minimal ``EXIF`` chunk.
- GIF: LOSSLESS. Comment, plain-text and application extensions are dropped, except the
  looping extension (``NETSCAPE2.0`` / ``ANIMEXTS1.0``); image blocks copied as they are.
- HEIC/HEIF: CONVERTED to JPEG, quality 95 with no chroma subsampling, already turned the
  right way up (libheif applies the HEIF rotation), ICC profile kept, no other metadata.
  The result is ``image/jpeg``.
- Sound and video: a stream copy (``-c copy``) of the first video and audio streams into
  the same format with ``-map_metadata -1 -map_chapters -1`` (see :mod:`memorybox.media.av`),
  so data tracks and every tag are left behind. The date taken comes from
  ``com.apple.quicktime.creationdate`` or ``creation_time``.

Images are cleaned in the bounded child process (they are decoded to check them).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from PIL import ExifTags, Image

from memorybox.media import av, errors, images, tools
from memorybox.media.errors import MediaError

HEIF_JPEG_QUALITY = 95


@dataclass(frozen=True)
class CleanOriginal:
    path: Path
    content_type: str
    extension: str
    width: int | None  # as people see it; None for sound
    height: int | None
    taken_at: datetime | None  # aware when the file says its time zone, else camera time


def _damaged() -> MediaError:
    return MediaError(errors.DAMAGED_PHOTO)


# --- the date taken -------------------------------------------------------------------


def parse_exif_date(value: Any, offset: Any = None) -> datetime | None:
    """``"2021:06:01 10:20:30"`` (and ``"+01:00"``) as a datetime; None when unusable."""
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.strptime(value.strip().rstrip("\x00")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    if not 1900 <= moment.year <= 2200:
        return None
    if isinstance(offset, bytes):
        offset = offset.decode("ascii", "replace")
    if isinstance(offset, str) and len(offset.strip()) == 6:
        text = offset.strip()
        try:
            sign = -1 if text[0] == "-" else 1
            hours, minutes = int(text[1:3]), int(text[4:6])
            if text[0] in "+-" and text[3] == ":" and hours <= 14 and minutes < 60:
                zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
                moment = moment.replace(tzinfo=zone)
        except ValueError:
            pass
    return moment


def date_taken(image: Image.Image) -> datetime | None:
    """DateTimeOriginal, else DateTimeDigitized, else DateTime, from the photo's EXIF."""
    try:
        exif = image.getexif()
        details = exif.get_ifd(ExifTags.IFD.Exif)
    except Exception:
        return None
    candidates = [
        (
            details.get(ExifTags.Base.DateTimeOriginal),
            details.get(ExifTags.Base.OffsetTimeOriginal),
        ),
        (
            details.get(ExifTags.Base.DateTimeDigitized),
            details.get(ExifTags.Base.OffsetTimeDigitized),
        ),
        (exif.get(ExifTags.Base.DateTime), details.get(ExifTags.Base.OffsetTime)),
    ]
    for value, offset in candidates:
        moment = parse_exif_date(value, offset)
        if moment is not None:
            return moment
    return None


# --- a minimal EXIF with only the orientation ------------------------------------------


def orientation_exif(orientation: int) -> bytes:
    """A TIFF-structured EXIF block with one entry, Orientation (big-endian)."""
    entry = struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0)
    return b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">H", 1) + entry + b"\x00" * 4


# --- JPEG -----------------------------------------------------------------------------

_SOI, _EOI, _SOS = 0xD8, 0xD9, 0xDA
_APP0, _APP2, _APP14, _COM = 0xE0, 0xE2, 0xEE, 0xFE


def _keep_jpeg_segment(marker: int, payload: bytes) -> bytes | None:
    """The segment to write for ``marker`` (possibly rewritten), or None to drop it."""
    if marker == _APP0:
        if payload.startswith(b"JFIF\x00") and len(payload) >= 14:
            jfif = payload[:12] + b"\x00\x00"  # no embedded thumbnail
            return b"\xff\xe0" + struct.pack(">H", len(jfif) + 2) + jfif
        return None
    if marker == _APP2:
        keep = payload.startswith(b"ICC_PROFILE\x00")
    elif marker == _APP14:
        keep = payload.startswith(b"Adobe")
    elif 0xE0 <= marker <= 0xEF or marker == _COM:
        keep = False
    else:
        keep = True
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload if keep else None


def strip_jpeg(data: bytes, orientation: int = 1) -> bytes:
    """The JPEG with metadata segments removed; pixel data bytes untouched."""
    if data[:2] != b"\xff\xd8":
        raise _damaged()
    size = len(data)
    pos = 2
    out: list[bytes] = []
    ended = False
    while pos < size:
        if data[pos] != 0xFF:
            raise _damaged()
        while pos < size and data[pos] == 0xFF:
            pos += 1
        if pos >= size:
            break
        marker = data[pos]
        pos += 1
        if marker == _EOI:
            out.append(b"\xff\xd9")
            ended = True
            break
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            out.append(bytes([0xFF, marker]))
            continue
        if marker in (0x00, _SOI) or pos + 2 > size:
            raise _damaged()
        length = struct.unpack(">H", data[pos : pos + 2])[0]
        if length < 2 or pos + length > size:
            raise _damaged()
        payload = data[pos + 2 : pos + length]
        pos += length
        if marker == _SOS:
            out.append(bytes([0xFF, marker]) + data[pos - length : pos])
            start = pos
            while True:
                found = data.find(b"\xff", pos)
                if found < 0 or found + 1 >= size:
                    raise _damaged()
                following = data[found + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7:
                    pos = found + 2
                    continue
                out.append(data[start:found])
                pos = found
                break
            continue
        segment = _keep_jpeg_segment(marker, payload)
        if segment is not None:
            out.append(segment)
    if not ended:
        raise _damaged()
    head = [b"\xff\xd8"]
    if out and out[0].startswith(b"\xff\xe0"):
        head.append(out.pop(0))
    if orientation != 1:
        exif = b"Exif\x00\x00" + orientation_exif(orientation)
        head.append(b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif)
    return b"".join(head + out)


# --- PNG ------------------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_KEEP = {
    b"IHDR",
    b"PLTE",
    b"IDAT",
    b"IEND",
    b"tRNS",
    b"cHRM",
    b"gAMA",
    b"iCCP",
    b"sBIT",
    b"sRGB",
    b"cICP",
    b"mDCv",
    b"cLLi",
    b"bKGD",
    b"hIST",
    b"pHYs",
    b"sPLT",
    b"acTL",
    b"fcTL",
    b"fdAT",
}


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def strip_png(data: bytes, orientation: int = 1) -> bytes:
    """The PNG with only allow-listed chunks (copied byte for byte), ending at IEND."""
    if not data.startswith(PNG_SIGNATURE):
        raise _damaged()
    pos, size = len(PNG_SIGNATURE), len(data)
    out = [PNG_SIGNATURE]
    exif_written = orientation == 1
    ended = False
    while pos + 12 <= size:
        length = struct.unpack(">I", data[pos : pos + 4])[0]
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if length > 0x7FFFFFFF or end > size:
            raise _damaged()
        crc = struct.unpack(">I", data[end - 4 : end])[0]
        if zlib.crc32(data[pos + 4 : end - 4]) & 0xFFFFFFFF != crc:
            raise _damaged()
        if kind == b"IDAT" and not exif_written:
            out.append(_png_chunk(b"eXIf", orientation_exif(orientation)))
            exif_written = True
        if kind in PNG_KEEP:
            out.append(data[pos:end])
        pos = end
        if kind == b"IEND":
            ended = True
            break
    if not ended:
        raise _damaged()
    return b"".join(out)


# --- WebP -----------------------------------------------------------------------------

WEBP_KEEP = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF", b"ICCP"}
_VP8X_EXIF, _VP8X_XMP, _VP8X_ALPHA = 0x08, 0x04, 0x10


def _riff_chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) % 2 else b"")


def strip_webp(data: bytes, orientation: int = 1, size: tuple[int, int] = (1, 1)) -> bytes:
    """The WebP with EXIF and XMP chunks removed; ``size`` is the canvas, for a new VP8X."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise _damaged()
    end = 8 + struct.unpack("<I", data[4:8])[0]
    if end > len(data) or end < 12:
        raise _damaged()
    pos = 12
    chunks: list[tuple[bytes, bytes]] = []
    while pos + 8 <= end:
        kind = data[pos : pos + 4]
        length = struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body_end = pos + 8 + length
        if body_end > end:
            raise _damaged()
        if kind in WEBP_KEEP:
            chunks.append((kind, data[pos + 8 : body_end]))
        pos = body_end + (length % 2)
    if not chunks:
        raise _damaged()
    if orientation != 1 and chunks[0][0] != b"VP8X":
        has_alpha = any(kind == b"ALPH" for kind, _ in chunks) or (
            chunks[0][0] == b"VP8L" and len(chunks[0][1]) > 4 and chunks[0][1][4] & 0x10
        )
        canvas = struct.pack("<I", size[0] - 1)[:3] + struct.pack("<I", size[1] - 1)[:3]
        flags = _VP8X_ALPHA if has_alpha else 0
        chunks.insert(0, (b"VP8X", bytes([flags, 0, 0, 0]) + canvas))
    if chunks[0][0] == b"VP8X":
        header = bytearray(chunks[0][1])
        if len(header) < 10:
            raise _damaged()
        header[0] &= ~(_VP8X_EXIF | _VP8X_XMP) & 0xFF
        if orientation != 1:
            header[0] |= _VP8X_EXIF
        chunks[0] = (b"VP8X", bytes(header))
    if orientation != 1:
        chunks.append((b"EXIF", orientation_exif(orientation)))
    body = b"WEBP" + b"".join(_riff_chunk(kind, chunk) for kind, chunk in chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


# --- GIF ------------------------------------------------------------------------------

_GIF_LOOPING = (b"NETSCAPE2.0", b"ANIMEXTS1.0")


def _skip_sub_blocks(data: bytes, pos: int) -> int:
    while True:
        if pos >= len(data):
            raise _damaged()
        length = data[pos]
        pos += 1
        if length == 0:
            return pos
        pos += length


def strip_gif(data: bytes) -> bytes:
    """The GIF without comment, plain-text and (non-looping) application extensions."""
    if data[:6] not in (b"GIF87a", b"GIF89a") or len(data) < 13:
        raise _damaged()
    packed = data[10]
    pos = 13 + (3 * (2 ** ((packed & 7) + 1)) if packed & 0x80 else 0)
    if pos > len(data):
        raise _damaged()
    out = [data[:pos]]
    while True:
        if pos >= len(data):
            out.append(b";")  # a missing trailer is common and harmless
            break
        block = data[pos]
        if block == 0x3B:
            out.append(b";")
            break
        if block == 0x2C:
            if pos + 10 > len(data):
                raise _damaged()
            packed = data[pos + 9]
            start = pos
            pos += 10 + (3 * (2 ** ((packed & 7) + 1)) if packed & 0x80 else 0)
            end = _skip_sub_blocks(data, pos + 1)
            out.append(data[start:end])
            pos = end
        elif block == 0x21:
            if pos + 2 > len(data):
                raise _damaged()
            label = data[pos + 1]
            end = _skip_sub_blocks(data, pos + 2)
            first = data[pos + 3 : pos + 3 + data[pos + 2]] if pos + 2 < len(data) else b""
            if label == 0xF9 or (label == 0xFF and first in _GIF_LOOPING):
                out.append(data[pos:end])
            pos = end
        else:
            raise _damaged()
    return b"".join(out)


# --- photos, in the child process ------------------------------------------------------


def _heif_to_jpeg(image: Image.Image, out: Path) -> None:
    image.load()
    icc = image.info.get("icc_profile")
    if image.mode in ("RGBA", "LA", "P", "PA"):
        image = image.convert("RGBA")
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
    elif image.mode != "RGB":
        image = image.convert("RGB")
    options: dict[str, Any] = {"quality": HEIF_JPEG_QUALITY, "subsampling": 0, "optimize": True}
    if isinstance(icc, bytes) and icc:
        options["icc_profile"] = icc
    image.save(out, "JPEG", **options)


OUTPUT_TYPE = {
    "image/jpeg": ("image/jpeg", "jpg"),
    "image/png": ("image/png", "png"),
    "image/webp": ("image/webp", "webp"),
    "image/gif": ("image/gif", "gif"),
    "image/heic": ("image/jpeg", "jpg"),
    "image/heif": ("image/jpeg", "jpg"),
}


def clean_image_here(path: str, content_type: str, out_dir: str) -> dict[str, Any]:
    """Child side of :func:`clean_image`."""
    if content_type not in OUTPUT_TYPE:
        raise _damaged()
    out_type, extension = OUTPUT_TYPE[content_type]
    out = Path(out_dir) / f"original.{extension}"
    with images.open_image(path, content_type) as image:
        taken = date_taken(image)
        orientation = images.orientation_of(image)
        stored_size = image.size
        width, height = images.displayed_size(image.size, orientation)
        image.load()
        if image.format == "HEIF":
            _heif_to_jpeg(image, out)
    if content_type in ("image/jpeg", "image/png", "image/webp", "image/gif"):
        data = Path(path).read_bytes()
        if content_type == "image/jpeg":
            cleaned = strip_jpeg(data, orientation)
        elif content_type == "image/png":
            cleaned = strip_png(data, orientation)
        elif content_type == "image/webp":
            cleaned = strip_webp(data, orientation, stored_size)
        else:
            cleaned = strip_gif(data)
        out.write_bytes(cleaned)
    with images.open_image(out, out_type) as result:
        result.load()
        if images.displayed_size(result.size, images.orientation_of(result)) != (width, height):
            raise _damaged()
    return {
        "path": str(out),
        "content_type": out_type,
        "extension": extension,
        "width": width,
        "height": height,
        "taken_at": taken.isoformat() if taken else None,
    }


def clean_image(path: Path, content_type: str, out_dir: Path) -> CleanOriginal:
    """A copy of the photo with no location or other metadata, and its date taken."""
    result = tools.run_job(
        "metadata.clean_image",
        {"path": str(path), "content_type": content_type, "out_dir": str(out_dir)},
        kind="photo",
        timeout=images.IMAGE_JOB_SECONDS,
    )
    return clean_original_from(result)


def clean_original_from(result: dict[str, Any]) -> CleanOriginal:
    """The child's answer as a CleanOriginal."""
    taken = result.get("taken_at")
    return CleanOriginal(
        path=Path(result["path"]),
        content_type=str(result["content_type"]),
        extension=str(result["extension"]),
        width=int(result["width"]),
        height=int(result["height"]),
        taken_at=datetime.fromisoformat(taken) if isinstance(taken, str) else None,
    )


def photo_here(path: str, content_type: str, out_dir: str) -> dict[str, Any]:
    """Child side of :func:`clean_photo`: clean the original, then render from the clean copy."""
    original = clean_image_here(path, content_type, out_dir)
    made = images.renditions_here(original["path"], original["content_type"], out_dir)
    return {"original": original, "renditions": made}


def clean_photo(
    path: Path, content_type: str, out_dir: Path
) -> tuple[CleanOriginal, images.ImageRenditions]:
    """:func:`clean_image` and :func:`images.make_renditions` in one child process."""
    result = tools.run_job(
        "metadata.photo",
        {"path": str(path), "content_type": content_type, "out_dir": str(out_dir)},
        kind="photo",
        timeout=images.IMAGE_JOB_SECONDS,
    )
    return clean_original_from(result["original"]), images.renditions_from(result["renditions"])


# --- sound and video ------------------------------------------------------------------


def clean_av(
    path: Path, content_type: str, kind: str, out_dir: Path, info: av.Probe | None = None
) -> CleanOriginal:
    """A stream copy of a sound or video with every tag and data track left behind."""
    if content_type not in av.REMUX or kind not in ("audio", "video"):
        raise MediaError(errors.damaged(kind))
    info = info or av.probe(path, content_type, kind)
    _, extension = av.REMUX[content_type]
    out = out_dir / f"original.{extension}"
    av.remux_without_metadata(path, content_type, out, kind)
    display = info.display_size if kind == "video" else None
    return CleanOriginal(
        path=out,
        content_type=content_type,
        extension=extension,
        width=display[0] if display else None,
        height=display[1] if display else None,
        taken_at=info.taken_at,
    )
