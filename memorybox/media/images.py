"""Photos: opening them safely, checking them, and making the web renditions.

Opening is guarded against decompression bombs: Pillow's ``MAX_IMAGE_PIXELS`` is lowered,
its ``DecompressionBombWarning`` is an error, files are opened with an explicit
``formats=[...]`` list (the sniffed type's decoder only), and the declared size is checked
before any pixel is decoded.

Decoding runs in a child process (:func:`memorybox.media.tools.run_job`), at most
``IMAGE_JOB_SECONDS`` and ``CHILD_MEMORY_BYTES``. The ``*_here`` functions are what the
child runs; call the public functions (:func:`check`, :func:`make_renditions`) instead.

Renditions are WebP, 320 and 1600 pixels on the longest side (never enlarged), with EXIF
orientation applied and no metadata except the colour profile. They are made the fast way:
a JPEG is decoded once, at a reduced scale (``Image.draft``); each size is shrunk from the
one before and only then turned the right way up; and each WebP is encoded on a thread
(``IMAGE_THREADS``: Pillow lets go of the GIL while libwebp encodes), so the small sizes are
made while the large one is still being encoded. The child process imports only the Pillow
plugins it needs (so Pillow never loads every decoder it has) and pillow-heif only when a
HEIF is opened.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

# The decoders and the encoder we use, imported by name: Pillow then finds them registered
# and never runs Image.init(), which would import every plugin it has (tens of milliseconds
# in each child process, and decoders we never use).
from PIL import (
    ExifTags,
    GifImagePlugin,  # noqa: F401
    Image,
    JpegImagePlugin,  # noqa: F401
    PngImagePlugin,  # noqa: F401
    WebPImagePlugin,  # noqa: F401
)

from memorybox.media import errors, tools
from memorybox.media.errors import MediaError

MAX_IMAGE_PIXELS = 50_000_000  # about 50 megapixels: bigger than any ordinary phone photo
MAX_SIDE = 30_000  # a long panorama is fine; a 1 x 50 million strip is not a photo
IMAGE_JOB_SECONDS = 10.0
RENDITION_SIZES = (320, 1600)
WEBP_QUALITY = 80
WEBP_METHOD = 4  # libwebp effort, 0 (fast) to 6 (small)

IMAGE_THREADS = 2  # the machines have two cores

Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS


@functools.cache
def register_heif() -> None:
    """Teach Pillow HEIC/HEIF (pillow-heif), once, the first time one is opened.

    Importing pillow-heif takes a tenth of the child's start-up, so photos of other types
    do without it. No thumbnails, depth or auxiliary images are ever decoded.
    """
    import pillow_heif

    pillow_heif.register_heif_opener(
        thumbnails=False, depth_images=False, aux_images=False, decode_threads=2
    )


PILLOW_FORMAT = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WEBP",
    "image/gif": "GIF",
    "image/heic": "HEIF",
    "image/heif": "HEIF",
}

# EXIF orientation -> the operation that turns the stored pixels the right way up
ORIENTATION_FIX: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True)
class ImageInfo:
    """A decoded photo's size as people see it (after EXIF orientation)."""

    width: int
    height: int


@dataclass(frozen=True)
class Rendition:
    path: Path
    content_type: str
    width: int
    height: int
    longest_side: int  # the size asked for: 320 or 1600


@dataclass(frozen=True)
class ImageRenditions:
    width: int  # the original's size as people see it
    height: int
    renditions: tuple[Rendition, ...]

    def by_size(self, longest_side: int) -> Rendition:
        return next(r for r in self.renditions if r.longest_side == longest_side)


def _check_size(width: int, height: int) -> None:
    if width < 1 or height < 1:
        raise MediaError(errors.DAMAGED_PHOTO)
    if width * height > MAX_IMAGE_PIXELS or max(width, height) > MAX_SIDE:
        raise MediaError(errors.TOO_BIG_PHOTO)


@contextmanager
def open_image(source: str | Path | IO[bytes], content_type: str) -> Iterator[Image.Image]:
    """Open a photo with only its sniffed type's decoder, its size checked, bombs refused.

    Nothing is decoded yet; decoding (``load()``) inside the block is still guarded. Any
    decoder failure becomes a MediaError.
    """
    pillow_format = PILLOW_FORMAT.get(content_type)
    if pillow_format is None:
        raise MediaError(errors.DAMAGED_PHOTO)
    if pillow_format == "HEIF":
        register_heif()
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(source, formats=[pillow_format]) as image:
                _check_size(*image.size)
                yield image
        except MediaError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise MediaError(errors.TOO_BIG_PHOTO) from None
        except MemoryError:
            raise MediaError(errors.TOO_BIG_PHOTO) from None
        except Exception:  # any decoder failure means we cannot trust the file
            raise MediaError(errors.DAMAGED_PHOTO) from None


def orientation_of(image: Image.Image) -> int:
    """The EXIF orientation (1-8), 1 when missing or nonsense.

    pillow-heif already applies HEIF rotations and resets this to 1.
    """
    try:
        value = image.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception:
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def displayed_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    width, height = size
    return (height, width) if orientation >= 5 else (width, height)


def _fit(size: tuple[int, int], longest: int) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, longest / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _web_mode(image: Image.Image) -> Image.Image:
    if image.mode in ("RGB", "RGBA", "L", "LA"):
        return image
    if image.mode.startswith("I;16") or image.mode in ("I", "F"):
        return image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    return image.convert("RGBA" if image.has_transparency_data else "RGB")


def check_here(path: str, content_type: str) -> dict[str, Any]:
    """Child side of :func:`check`: decode the whole (first) picture."""
    with open_image(path, content_type) as image:
        orientation = orientation_of(image)
        image.load()
        width, height = displayed_size(image.size, orientation)
    return {"width": width, "height": height}


def _save_webp(image: Image.Image, out: Path, icc: Any) -> None:
    save: dict[str, Any] = {"quality": WEBP_QUALITY, "method": WEBP_METHOD}
    if isinstance(icc, bytes) and icc:
        save["icc_profile"] = icc
    image.save(out, "WEBP", **save)


def renditions_here(path: str, content_type: str, out_dir: str) -> dict[str, Any]:
    """Child side of :func:`make_renditions`.

    One decode; each size is shrunk from the one before. The encodes run on a small thread
    pool while the next size is made. No image is changed once its encode has started
    (each later size works on a copy), and every encode has finished, and its failure been
    raised, before the photo is closed.
    """
    made = []
    with open_image(path, content_type) as image:
        orientation = orientation_of(image)
        width, height = displayed_size(image.size, orientation)
        icc = image.info.get("icc_profile")
        largest = max(RENDITION_SIZES)
        if image.format == "JPEG":
            image.draft(image.mode, _fit(image.size, largest))
        working = image if image.mode not in ("P", "PA") else image.convert("RGBA")
        working = _web_mode(working)
        working.load()  # decoded here, once, before any thread can look at it
        encoding: list[Future[None]] = []
        with ThreadPoolExecutor(IMAGE_THREADS, thread_name_prefix="webp") as pool:
            # leaving this block waits for every encode, even when something failed
            for index, longest in enumerate(sorted(RENDITION_SIZES, reverse=True)):
                if index:  # the previous size may still be encoding: leave it alone
                    working = working.copy()
                working.thumbnail((longest, longest), Image.Resampling.LANCZOS, reducing_gap=3.0)
                upright = working
                if orientation in ORIENTATION_FIX:
                    upright = working.transpose(ORIENTATION_FIX[orientation])
                out = Path(out_dir) / f"rendition-{longest}.webp"
                encoding.append(pool.submit(_save_webp, upright, out, icc))
                made.append(
                    {
                        "path": str(out),
                        "width": upright.width,
                        "height": upright.height,
                        "longest_side": longest,
                    }
                )
        for job in encoding:
            job.result()  # an encoder's failure is raised here, inside open_image
    return {"width": width, "height": height, "renditions": made}


def check(path: Path, content_type: str) -> ImageInfo:
    """Decode the photo fully in a bounded child process; its size as people see it."""
    result = tools.run_job(
        "images.check",
        {"path": str(path), "content_type": content_type},
        kind="photo",
        timeout=IMAGE_JOB_SECONDS,
    )
    return ImageInfo(int(result["width"]), int(result["height"]))


def make_renditions(path: Path, content_type: str, out_dir: Path) -> ImageRenditions:
    """Make the 320 and 1600 pixel WebP renditions of a photo in ``out_dir``."""
    result = tools.run_job(
        "images.renditions",
        {"path": str(path), "content_type": content_type, "out_dir": str(out_dir)},
        kind="photo",
        timeout=IMAGE_JOB_SECONDS,
    )
    return renditions_from(result)


def renditions_from(result: dict[str, Any]) -> ImageRenditions:
    """The child's answer as an ImageRenditions."""
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
    return ImageRenditions(int(result["width"]), int(result["height"]), renditions)
