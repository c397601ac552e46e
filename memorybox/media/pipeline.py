"""Everything one upload needs, in order: verify, remove location, make the web copies.

:func:`process` works on a local file (the caller downloads the upload first) and writes
only into ``out_dir``. It knows nothing of Flask, the database or storage. Every failure is
a :class:`~memorybox.media.errors.MediaError` whose message can be shown to people.

Renditions by kind (names as the web layer serves them):

- photo: ``thumb`` (320 px WebP), ``large`` (1600 px WebP)
- document: ``preview`` (first page, 1600 px WebP), ``thumb`` (320 px WebP)
- video: ``web`` (H.264/AAC MP4, at most 720p), ``poster`` (JPEG), ``thumb`` (320 px WebP)
- sound: ``web`` (AAC in .m4a)

The original to keep is ``Processed.original``: for photos and sound/video a copy with no
location or other metadata (HEIC becomes JPEG); for a PDF the file itself.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from pathlib import Path

from memorybox import clock
from memorybox.media import av, errors, images, metadata, pdf
from memorybox.media.inspect import ALLOWED, UnsupportedFile, verify_av
from memorybox.media.metadata import CleanOriginal
from memorybox.memories.models import ItemKind

__all__ = ["Derived", "Processed", "process"]


@dataclass(frozen=True)
class Derived:
    name: str  # "thumb", "large", "preview", "poster" or "web"
    path: Path
    content_type: str
    width: int | None
    height: int | None


@dataclass(frozen=True)
class Processed:
    kind: ItemKind  # may differ from the upload's: an MP4 or WebM with no picture is sound
    original: CleanOriginal
    renditions: tuple[Derived, ...]
    taken_at: datetime | None  # always timezone-aware
    width: int | None
    height: int | None
    duration_seconds: float | None
    page_count: int | None


def _derived(name: str, rendition: images.Rendition) -> Derived:
    return Derived(name, rendition.path, rendition.content_type, rendition.width, rendition.height)


def _photo(source: Path, content_type: str, out_dir: Path) -> Processed:
    original, made = metadata.clean_photo(source, content_type, out_dir)
    return Processed(
        kind=ItemKind.PHOTO,
        original=original,
        renditions=(_derived("thumb", made.by_size(320)), _derived("large", made.by_size(1600))),
        taken_at=original.taken_at,
        width=made.width,
        height=made.height,
        duration_seconds=None,
        page_count=None,
    )


def _document(source: Path, out_dir: Path) -> Processed:
    shown = pdf.preview(source, out_dir)
    original = CleanOriginal(source, "application/pdf", "pdf", None, None, None)
    first_page = shown.by_size(pdf.PREVIEW_SIDE)
    return Processed(
        kind=ItemKind.DOCUMENT,
        original=original,
        renditions=(
            _derived("preview", first_page),
            _derived("thumb", shown.by_size(pdf.SMALL_SIDE)),
        ),
        taken_at=None,
        width=first_page.width,
        height=first_page.height,
        duration_seconds=None,
        page_count=shown.page_count,
    )


def _video(source: Path, content_type: str, out_dir: Path, info: av.Probe) -> Processed:
    original = metadata.clean_av(source, content_type, "video", out_dir, info)
    made = av.transcode_video(source, content_type, out_dir, info)
    thumbs = out_dir / "thumbs"
    thumbs.mkdir(exist_ok=True)
    thumb = images.make_renditions(made.poster, "image/jpeg", thumbs).by_size(320)
    return Processed(
        kind=ItemKind.VIDEO,
        original=original,
        renditions=(
            Derived("web", made.path, "video/mp4", made.width, made.height),
            Derived("poster", made.poster, "image/jpeg", made.width, made.height),
            _derived("thumb", thumb),
        ),
        taken_at=info.taken_at,
        width=made.width,
        height=made.height,
        duration_seconds=made.duration,
        page_count=None,
    )


def _sound(source: Path, content_type: str, out_dir: Path, info: av.Probe) -> Processed:
    original = metadata.clean_av(source, content_type, "audio", out_dir, info)
    made = av.transcode_audio(source, content_type, out_dir, info)
    return Processed(
        kind=ItemKind.AUDIO,
        original=original,
        renditions=(Derived("web", made.path, "audio/mp4", None, None),),
        taken_at=info.taken_at,
        width=None,
        height=None,
        duration_seconds=made.duration,
        page_count=None,
    )


def process(
    source: Path, content_type: str, kind: str, out_dir: Path, assume_zone: tzinfo | None = None
) -> Processed:
    """Verify ``source`` (sniffed as ``content_type`` / ``kind``) and make what we keep.

    ``out_dir`` is created if needed. A date taken without a time zone (most cameras write
    none) is read as ``assume_zone``, by default the UK's (``clock.LOCAL_ZONE``). Raises
    MediaError (or its UnsupportedFile).
    """
    result = _process(source, content_type, kind, out_dir)
    taken = result.taken_at
    if taken is not None and taken.tzinfo is None:
        taken = taken.replace(tzinfo=assume_zone or clock.LOCAL_ZONE)
    return replace(result, taken_at=taken)


def _process(source: Path, content_type: str, kind: str, out_dir: Path) -> Processed:
    sniffed = ALLOWED.get(content_type)
    if sniffed is None or sniffed.kind.value != kind:
        raise UnsupportedFile(errors.NOT_ALLOWED)
    out_dir.mkdir(parents=True, exist_ok=True)
    if sniffed.kind is ItemKind.PHOTO:  # cleaning decodes it fully: that is its check
        return _photo(source, sniffed.content_type, out_dir)
    if sniffed.kind is ItemKind.DOCUMENT:  # drawing the first page is its check
        return _document(source, out_dir)
    final, info = verify_av(source, sniffed)
    if final.kind is ItemKind.VIDEO:
        return _video(source, final.content_type, out_dir, info)
    return _sound(source, final.content_type, out_dir, info)
