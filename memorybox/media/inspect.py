"""Decide what an upload really is from its bytes, against an allow-list.

The file name and the browser's claimed type are ignored: only the bytes count. Photos are
also opened by the decoder for their format, with a pixel limit, so a file that only looks
like a JPEG in its first bytes is still refused.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import BinaryIO

import filetype
from PIL import Image

from memorybox.memories.models import ItemKind

HEAD_BYTES = 8192
MAX_IMAGE_PIXELS = 50_000_000  # about 50 megapixels: bigger than any phone photo
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS


class UnsupportedFile(ValueError):
    """The upload is not a kind of file the box accepts. The message is for the person."""


@dataclass(frozen=True)
class Sniffed:
    kind: ItemKind
    content_type: str
    extension: str


ALLOWED: dict[str, Sniffed] = {
    "image/jpeg": Sniffed(ItemKind.PHOTO, "image/jpeg", "jpg"),
    "image/png": Sniffed(ItemKind.PHOTO, "image/png", "png"),
    "application/pdf": Sniffed(ItemKind.DOCUMENT, "application/pdf", "pdf"),
    "audio/mpeg": Sniffed(ItemKind.AUDIO, "audio/mpeg", "mp3"),
    "audio/mp4": Sniffed(ItemKind.AUDIO, "audio/mp4", "m4a"),
    "audio/x-wav": Sniffed(ItemKind.AUDIO, "audio/wav", "wav"),
    "audio/ogg": Sniffed(ItemKind.AUDIO, "audio/ogg", "ogg"),
    "video/mp4": Sniffed(ItemKind.VIDEO, "video/mp4", "mp4"),
    "video/quicktime": Sniffed(ItemKind.VIDEO, "video/quicktime", "mov"),
    "video/webm": Sniffed(ItemKind.VIDEO, "video/webm", "webm"),
}

PILLOW_FORMAT = {"image/jpeg": "JPEG", "image/png": "PNG"}

FRIENDLY_TYPES = (
    "a photo (JPEG or PNG), a PDF, a sound clip (MP3, M4A, WAV, OGG) or a video (MP4, MOV, WebM)"
)


def sniff(stream: BinaryIO) -> Sniffed:
    """Identify the upload and check it; the stream is left at its start."""
    stream.seek(0)
    head = stream.read(HEAD_BYTES)
    stream.seek(0)
    if not head:
        raise UnsupportedFile("That file is empty. Please choose another one.")
    guess = filetype.guess(head)
    sniffed = ALLOWED.get(guess.mime) if guess is not None else None
    if sniffed is None:
        raise UnsupportedFile(f"We can't keep that kind of file. You can add {FRIENDLY_TYPES}.")
    if sniffed.kind is ItemKind.PHOTO:
        _check_image(stream, PILLOW_FORMAT[sniffed.content_type])
    return sniffed


def _check_image(stream: BinaryIO, pillow_format: str) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(stream, formats=[pillow_format]) as image:
                width, height = image.size
                if width < 1 or height < 1 or width * height > MAX_IMAGE_PIXELS:
                    raise UnsupportedFile(
                        "That photo is too big for us to show. Please try a smaller one."
                    )
                image.verify()
    except UnsupportedFile:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UnsupportedFile(
            "That photo is too big for us to show. Please try a smaller one."
        ) from exc
    except Exception as exc:  # any decoder failure means we cannot trust the file
        raise UnsupportedFile(
            "That photo seems to be damaged, so we can't keep it. Please try another copy."
        ) from exc
    finally:
        stream.seek(0)
