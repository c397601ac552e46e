"""Decide what an upload really is from its bytes, against an allow-list.

Two steps:

1. :func:`sniff` (in the web request, cheap): the type is read from the bytes by our own
   signature checks below (not from the name or the browser's claim). When the uploaded
   name has a known file-type extension it must agree with the bytes. Photos are also
   opened by their own decoder only, their size checked (decompression bombs refused).
   Polyglots are refused: a ZIP directory at the end of the file, a PDF header inside
   another type, or HTML / SVG / script markup inside (the whole file is scanned for
   photos and PDFs, the first and last 64 KiB for sound and video). For MP4 / MOV / 3GP /
   WebM the kind (sound or video) is PROVISIONAL: the bytes alone cannot tell.
2. :func:`verify` (in the worker, on a local copy): the decoder must agree. Photos are
   fully decoded and PDFs opened in a bounded child process; sound and video are probed
   with ffprobe using the demuxer forced from the sniffed type, and MP4 / 3GP / WebM
   without a video stream become sound.

Accepted: JPEG, PNG, WebP, GIF, HEIC/HEIF; PDF; MP3, M4A (AAC), raw AAC (ADTS), WAV,
OGG (Opus or Vorbis), WebM sound; MP4, MOV, WebM and 3GP video. Everything else is refused
(SVG, HTML, archives, programs, AVI, Matroska, AVIF, RAW...).

Extension agreement: a suffix counts only when it is a file-type extension we know
(``KNOWN_EXTENSIONS``); an unknown suffix such as ``.download`` or ``.5`` is ignored. The
ISO media types (mp4, m4v, m4a, mov, qt, 3gp, 3g2) share one decoder and so one family.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from memorybox.media import errors, images
from memorybox.media.errors import FRIENDLY_TYPES, MediaError
from memorybox.memories.models import ItemKind

if TYPE_CHECKING:
    from memorybox.media.av import Probe

HEAD_BYTES = 8192
SCAN_CHUNK = 1024 * 1024
AV_SCAN_BYTES = 64 * 1024
ZIP_TAIL_BYTES = 65_535 + 22

__all__ = [
    "FRIENDLY_TYPES",
    "KNOWN_EXTENSIONS",
    "Sniffed",
    "UnsupportedFile",
    "sniff",
    "verify",
    "verify_av",
]


class UnsupportedFile(MediaError):
    """The upload is not a kind of file the box accepts. The message is for the person."""


@dataclass(frozen=True)
class Sniffed:
    kind: ItemKind
    content_type: str
    extension: str


ALLOWED: dict[str, Sniffed] = {
    s.content_type: s
    for s in (
        Sniffed(ItemKind.PHOTO, "image/jpeg", "jpg"),
        Sniffed(ItemKind.PHOTO, "image/png", "png"),
        Sniffed(ItemKind.PHOTO, "image/webp", "webp"),
        Sniffed(ItemKind.PHOTO, "image/gif", "gif"),
        Sniffed(ItemKind.PHOTO, "image/heic", "heic"),
        Sniffed(ItemKind.PHOTO, "image/heif", "heif"),
        Sniffed(ItemKind.DOCUMENT, "application/pdf", "pdf"),
        Sniffed(ItemKind.AUDIO, "audio/mpeg", "mp3"),
        Sniffed(ItemKind.AUDIO, "audio/mp4", "m4a"),
        Sniffed(ItemKind.AUDIO, "audio/aac", "aac"),
        Sniffed(ItemKind.AUDIO, "audio/wav", "wav"),
        Sniffed(ItemKind.AUDIO, "audio/ogg", "ogg"),
        Sniffed(ItemKind.AUDIO, "audio/webm", "webm"),
        Sniffed(ItemKind.AUDIO, "audio/3gpp", "3gp"),
        Sniffed(ItemKind.VIDEO, "video/mp4", "mp4"),
        Sniffed(ItemKind.VIDEO, "video/quicktime", "mov"),
        Sniffed(ItemKind.VIDEO, "video/webm", "webm"),
        Sniffed(ItemKind.VIDEO, "video/3gpp", "3gp"),
    )
}

_ISO = frozenset({"mp4", "m4v", "m4a", "mov", "qt", "3gp", "3gpp", "3g2"})
EXTENSIONS: dict[str, frozenset[str]] = {
    "image/jpeg": frozenset({"jpg", "jpeg", "jpe", "jfif"}),
    "image/png": frozenset({"png"}),
    "image/webp": frozenset({"webp"}),
    "image/gif": frozenset({"gif"}),
    "image/heic": frozenset({"heic", "heif", "hif"}),
    "image/heif": frozenset({"heic", "heif", "hif"}),
    "application/pdf": frozenset({"pdf"}),
    "audio/mpeg": frozenset({"mp3"}),
    "audio/aac": frozenset({"aac"}),
    "audio/wav": frozenset({"wav", "wave"}),
    "audio/ogg": frozenset({"ogg", "oga", "opus"}),
    "audio/webm": frozenset({"webm", "weba"}),
    "video/webm": frozenset({"webm", "weba"}),
    "audio/mp4": _ISO,
    "audio/3gpp": _ISO,
    "video/mp4": _ISO,
    "video/quicktime": _ISO,
    "video/3gpp": _ISO,
}
# Other file types people have: a name ending in one of these must not claim to be ours.
_FOREIGN = frozenset(
    """html htm xhtml shtml svg svgz xml xsl js mjs css json txt csv md rtf doc docx xls xlsx
    ppt pptx odt ods odp pages key numbers zip rar 7z tar gz tgz bz2 xz zst jar war apk ipa
    exe dll msi com bat cmd sh ps1 vbs scr app dmg iso img bin elf so py pl rb php phtml
    asp aspx jsp cgi avi mkv mk3d mka wmv asf flv f4v mpg mpeg ts m2ts mts vob ogv flac aif
    aiff wma amr mid midi bmp dib tif tiff ico cur psd xcf raw dng cr2 cr3 nef arw orf rw2
    avif jxl jp2 j2k eps ps ai swf m3u m3u8 pls torrent lnk url webloc eml msg ics vcf
    heics""".split()  # noqa: SIM905
)
KNOWN_EXTENSIONS = frozenset().union(*EXTENSIONS.values(), _FOREIGN)

POLYGLOT_MARKERS = tuple(
    token
    for word in (b"<html", b"<script", b"<!doctype", b"<svg", b"<body", b"<iframe", b"<?php")
    for token in (word, word.upper())
)


def _refuse(message: str = errors.NOT_ALLOWED) -> UnsupportedFile:
    return UnsupportedFile(message)


# --- signatures ------------------------------------------------------------------------


def _ogg(head: bytes) -> str | None:
    if len(head) < 28:
        return None
    start = 27 + head[26]
    packet = head[start : start + 8]
    if packet == b"OpusHead" or packet.startswith(b"\x01vorbis"):
        return "audio/ogg"
    return None


def _read_vint(data: bytes, pos: int, keep_marker: bool) -> tuple[int, int]:
    first = data[pos]
    length = 1
    while length <= 8 and not first & (0x80 >> (length - 1)):
        length += 1
    if length > 8 or pos + length > len(data):
        raise ValueError("bad EBML number")
    value = first if keep_marker else first & (0xFF >> length)
    for byte in data[pos + 1 : pos + length]:
        value = (value << 8) | byte
    return value, length


def _webm(head: bytes) -> str | None:
    try:
        size, used = _read_vint(head, 4, keep_marker=False)
        pos, end = 4 + used, min(len(head), 4 + used + size)
        while pos < end:
            element, used = _read_vint(head, pos, keep_marker=True)
            pos += used
            length, used = _read_vint(head, pos, keep_marker=False)
            pos += used
            if element == 0x4282:
                doctype = head[pos : pos + length].rstrip(b"\x00")
                return "video/webm" if doctype == b"webm" else None
            pos += length
    except (ValueError, IndexError):
        return None
    return None


_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"}
_HEIF_BRANDS = {b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}
_MP4_BRANDS = {
    b"isom",
    b"iso2",
    b"iso3",
    b"iso4",
    b"iso5",
    b"iso6",
    b"mp41",
    b"mp42",
    b"mp71",
    b"avc1",
    b"M4V ",
    b"M4VH",
    b"M4VP",
    b"MSNV",
    b"mmp4",
    b"dash",
    b"XAVC",
}


def _iso_brand(brand: bytes) -> str | None:
    if brand in _HEIC_BRANDS:
        return "image/heic"
    if brand == b"qt  ":
        return "video/quicktime"
    if brand in (b"M4A ", b"M4B "):
        return "audio/mp4"
    if brand[:3] in (b"3gp", b"3g2", b"3ge", b"3gg", b"3gr", b"3gs"):
        return "video/3gpp"
    if brand in _MP4_BRANDS:
        return "video/mp4"
    return None


def _iso(head: bytes) -> str | None:
    box_size = struct.unpack(">I", head[:4])[0]
    if box_size < 16 or box_size > 4096:
        return None
    major = head[8:12]
    compatible = [head[i : i + 4] for i in range(16, min(box_size, len(head)) - 3, 4)]
    brands = {major, *compatible}
    if brands & _AVIF_BRANDS:
        return None
    if major in _HEIF_BRANDS:
        return "image/heif" if not brands & _HEIC_BRANDS else "image/heic"
    return _iso_brand(major)  # an unknown major brand (Canon RAW "crx ", JPEG 2000...) is refused


_MP3_BITRATES = {
    (3, 1): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (2, 1): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _mp3_frame_length(data: bytes, pos: int) -> int | None:
    """The length of the MPEG-1/2/2.5 Layer III frame at ``pos``, or None."""
    if pos + 4 > len(data) or data[pos] != 0xFF or data[pos + 1] & 0xE0 != 0xE0:
        return None
    version = (data[pos + 1] >> 3) & 3
    layer = (data[pos + 1] >> 1) & 3
    bitrate_index = data[pos + 2] >> 4
    rate_index = (data[pos + 2] >> 2) & 3
    padding = (data[pos + 2] >> 1) & 1
    if version == 1 or layer != 1 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    bitrate = _MP3_BITRATES[(3 if version == 3 else 2, 1)][bitrate_index] * 1000
    rate = _MP3_RATES[version][rate_index]
    return (144 if version == 3 else 72) * bitrate // rate + padding


def _adts_frame_length(data: bytes, pos: int) -> int | None:
    if pos + 7 > len(data) or data[pos] != 0xFF or data[pos + 1] & 0xF6 != 0xF0:
        return None
    length = ((data[pos + 3] & 0x03) << 11) | (data[pos + 4] << 3) | (data[pos + 5] >> 5)
    return length if length >= 7 else None


def _two_frames(data: bytes, pos: int, whole: bool) -> str | None:
    """The MP3 or ADTS type when two frames follow each other at ``pos`` (or one frame is
    the whole file)."""
    for content_type, frame_length in (
        ("audio/mpeg", _mp3_frame_length),
        ("audio/aac", _adts_frame_length),
    ):
        length = frame_length(data, pos)
        if length is None:
            continue
        following = pos + length
        if following + 4 <= len(data):
            return content_type if frame_length(data, following) is not None else None
        return content_type if whole and following == len(data) else None
    return None


def _mpeg_audio(stream: BinaryIO, head: bytes) -> str | None:
    start = 0
    if head.startswith(b"ID3") and len(head) >= 10:
        tag = head[6:10]
        if any(b & 0x80 for b in tag):
            return None
        start = 10 + ((tag[0] << 21) | (tag[1] << 14) | (tag[2] << 7) | tag[3])
        if head[5] & 0x10:
            start += 10
    window = 2 * HEAD_BYTES  # an ADTS frame can be 8 KiB long
    stream.seek(start)
    data = stream.read(window)
    stream.seek(0)
    return _two_frames(data, 0, whole=len(data) < window)


def _identify(stream: BinaryIO, head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head.startswith(b"RIFF") and len(head) >= 12:
        return {b"WEBP": "image/webp", b"WAVE": "audio/wav"}.get(head[8:12])
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"OggS"):
        return _ogg(head)
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return _webm(head)
    if len(head) >= 16 and head[4:8] == b"ftyp":
        return _iso(head)
    if head.startswith(b"ID3") or head[:1] == b"\xff":
        return _mpeg_audio(stream, head)
    return None


# --- agreement with the name, polyglots ------------------------------------------------


def _name_extension(filename: str | None) -> str | None:
    if not filename:
        return None
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    if "." not in name.strip("."):
        return None
    suffix = name.rsplit(".", 1)[-1].strip().lower()
    return suffix if suffix in KNOWN_EXTENSIONS else None


def _zip_directory_at_end(tail: bytes) -> bool:
    """Whether ``tail`` (the end of a file) ends with a ZIP end-of-central-directory record."""
    pos = tail.rfind(b"PK\x05\x06")
    while pos >= 0:
        if pos + 22 <= len(tail):
            comment = struct.unpack("<H", tail[pos + 20 : pos + 22])[0]
            if pos + 22 + comment == len(tail):
                return True
        pos = tail.rfind(b"PK\x05\x06", 0, pos)
    return False


def _has_markup(chunk: bytes) -> bool:
    return any(token in chunk for token in POLYGLOT_MARKERS)


def _is_polyglot(stream: BinaryIO, sniffed: Sniffed) -> bool:
    size = stream.seek(0, 2)
    try:
        stream.seek(max(0, size - ZIP_TAIL_BYTES))
        if _zip_directory_at_end(stream.read()):
            return True
        stream.seek(0)
        if sniffed.content_type != "application/pdf" and b"%PDF-" in stream.read(1024):
            return True
        if sniffed.kind in (ItemKind.PHOTO, ItemKind.DOCUMENT):
            stream.seek(0)
            overlap = b""
            while chunk := stream.read(SCAN_CHUNK):
                if _has_markup(overlap + chunk):
                    return True
                overlap = chunk[-16:]
            return False
        stream.seek(0)
        if _has_markup(stream.read(AV_SCAN_BYTES)):
            return True
        stream.seek(max(0, size - AV_SCAN_BYTES))
        return _has_markup(stream.read())
    finally:
        stream.seek(0)


def _check_image(stream: BinaryIO, content_type: str) -> None:
    try:
        with images.open_image(stream, content_type) as image:
            image.verify()
    except MediaError as exc:
        raise UnsupportedFile(exc.message) from None
    except Exception:
        raise UnsupportedFile(errors.DAMAGED_PHOTO) from None
    finally:
        stream.seek(0)


def sniff(stream: BinaryIO, filename: str | None = None) -> Sniffed:
    """Identify the upload and check it; the stream is left at its start.

    ``filename`` is the uploaded name, if any: a known file-type extension on it must agree
    with the bytes. Raises UnsupportedFile (a MediaError) with a message for the person.
    """
    stream.seek(0)
    head = stream.read(HEAD_BYTES)
    stream.seek(0)
    if not head:
        raise _refuse(errors.EMPTY)
    content_type = _identify(stream, head)
    stream.seek(0)
    sniffed = ALLOWED.get(content_type) if content_type else None
    if sniffed is None:
        raise _refuse()
    extension = _name_extension(filename)
    if extension is not None and extension not in EXTENSIONS[sniffed.content_type]:
        raise _refuse(errors.NAME_DISAGREES)
    if _is_polyglot(stream, sniffed):
        raise _refuse()
    if sniffed.kind is ItemKind.PHOTO:
        _check_image(stream, sniffed.content_type)
    return sniffed


# --- the decoder agrees ----------------------------------------------------------------

_AUDIO_CODECS = {
    "audio/mpeg": {"mp3"},
    "audio/aac": {"aac"},
    "audio/ogg": {"opus", "vorbis"},
    "audio/webm": {"opus", "vorbis"},
    "video/webm": {"opus", "vorbis"},
}
_VIDEO_CODECS = {"video/webm": {"vp8", "vp9", "av1"}}
_AS_SOUND = {
    "video/mp4": "audio/mp4",
    "video/quicktime": "audio/mp4",
    "video/3gpp": "audio/3gpp",
    "video/webm": "audio/webm",
}
_AS_VIDEO = {"audio/mp4": "video/mp4", "audio/3gpp": "video/3gpp", "audio/webm": "video/webm"}


def verify(path: Path, sniffed: Sniffed) -> Sniffed:
    """Confirm the sniffed type with its decoder, on a local copy; the final type.

    Photos are fully decoded and PDFs opened (in a bounded child process); sound and video
    are probed, and MP4 / MOV / 3GP / WebM are sound or video by their streams. Raises
    MediaError (UnsupportedFile when the decoder disagrees with the bytes' type).
    """
    from memorybox.media import pdf

    if sniffed.kind is ItemKind.PHOTO:
        images.check(path, sniffed.content_type)
        return sniffed
    if sniffed.kind is ItemKind.DOCUMENT:
        pdf.check(path)
        return sniffed
    return verify_av(path, sniffed)[0]


def verify_av(path: Path, sniffed: Sniffed) -> tuple[Sniffed, Probe]:
    """:func:`verify` for sound and video, also returning what ffprobe found."""
    from memorybox.media import av

    info = av.probe(path, sniffed.content_type, sniffed.kind.value)
    content_type = sniffed.content_type
    if info.has_video:
        content_type = _AS_VIDEO.get(content_type, content_type)
    elif info.has_audio:
        content_type = _AS_SOUND.get(content_type, content_type)
    final = ALLOWED.get(content_type)
    if final is None or final.kind not in (ItemKind.AUDIO, ItemKind.VIDEO):
        raise UnsupportedFile(errors.NOT_ALLOWED)
    what = final.kind.value
    if final.kind is ItemKind.VIDEO and not info.has_video:
        raise UnsupportedFile(errors.damaged(what))
    if final.kind is ItemKind.AUDIO and (info.has_video or not info.has_audio):
        raise UnsupportedFile(errors.damaged(what))
    expected_audio = _AUDIO_CODECS.get(final.content_type)
    if info.has_audio and expected_audio and info.audio_codec not in expected_audio:
        raise UnsupportedFile(errors.damaged(what))
    expected_video = _VIDEO_CODECS.get(final.content_type)
    if info.has_video and expected_video and info.video_codec not in expected_video:
        raise UnsupportedFile(errors.damaged(what))
    return final, info
