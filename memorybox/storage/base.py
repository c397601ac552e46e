"""The storage interface every backend (local disk, S3) implements, and its errors.

Every method streams: no backend ever holds a whole object or a whole part in memory, only
bounded chunks (about 1 MiB, and one 8 MiB part buffer for S3 uploads).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, Protocol, runtime_checkable

#: S3 refuses any part of a multipart upload smaller than this, except the last one.
#: Both backends enforce it in ``complete_upload`` so the rule is met on a laptop too.
MIN_PART_SIZE = 5 * 1024 * 1024
#: The largest single part S3 accepts.
MAX_PART_SIZE = 5 * 1024 * 1024 * 1024
#: Part numbers run from 1 to this.
MAX_PART_NUMBER = 10_000
#: Presigned URLs never live longer than this many seconds (SECURITY.md, figure 2).
MAX_URL_SECONDS = 60


class StorageError(Exception):
    """Something went wrong in storage; callers show "please try again"."""


class StorageUnavailable(StorageError):
    """The storage service could not be reached or refused the request."""


class PartCorrupted(StorageError):
    """Storage kept other bytes for a part than were sent (its checksum differs): the part
    does not count, and sending it again is safe."""


class IncompletePart(ValueError):
    """A part's stream ended before its declared length; nothing of it was stored."""


class RangeNotSatisfiable(ValueError):
    """A byte range starts at or past the end of the object (HTTP 416)."""


@dataclass(frozen=True)
class StoredObject:
    """One finished object, as a listing of the store sees it."""

    key: str
    size: int
    modified: datetime  # aware, UTC


@runtime_checkable
class Storage(Protocol):
    """Stores immutable objects under generated keys.

    Missing keys (and unknown upload ids) raise FileNotFoundError; an unreachable or
    refusing service raises StorageUnavailable; keys and upload ids this app did not make
    raise ValueError. Nothing else escapes, in particular no boto3 error.
    """

    backend_name: str

    def save(self, key: str, stream: BinaryIO, content_type: str) -> int:
        """Stream ``stream`` to ``key`` without reading it whole; return the bytes written.

        The object appears complete or not at all. An error raised by ``stream`` itself
        (a dropped connection, a size limit) propagates unchanged, after clean-up.
        """
        ...

    def open(self, key: str) -> BinaryIO:
        """A readable, seekable file object for the object at ``key``."""
        ...

    def iter_bytes(self, key: str, chunk_size: int = 256 * 1024) -> Iterator[bytes]:
        """Yield the object in chunks, for streaming responses.

        A generator: errors (FileNotFoundError included) surface on the first ``next()``.
        """
        ...

    def get_range(
        self, key: str, start: int, end: int, chunk_size: int = 256 * 1024
    ) -> Iterator[bytes]:
        """Yield bytes ``start`` to ``end`` INCLUSIVE, as in HTTP ``Range: bytes=start-end``.

        ``end`` past the last byte is clamped to it; ``start`` at or past the end raises
        RangeNotSatisfiable. A generator, like ``iter_bytes``.
        """
        ...

    def size(self, key: str) -> int: ...

    def exists(self, key: str) -> bool: ...

    def objects(self) -> Iterator[StoredObject]:
        """Every finished object under a key this app made, in no particular order (for the
        orphan check). Unfinished uploads and temporary files are not objects."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; removing a missing object is not an error."""
        ...

    def presigned_url(
        self,
        key: str,
        *,
        expires_in: int = MAX_URL_SECONDS,
        content_type: str,
        disposition: str,
    ) -> str | None:
        """A URL a browser can fetch the object from directly, or None to serve it yourself.

        The URL lives at most ``MAX_URL_SECONDS`` (larger values are clamped), and its
        response carries ``content_type``, the ``disposition`` header value as given
        (build it with RFC 6266 encoding first) and ``Cache-Control: no-store``.
        """
        ...

    # Resumable multipart uploads, for a tus-style server. Every part except the last must
    # be at least MIN_PART_SIZE (5 MiB): the caller buffers smaller chunks itself.
    # The caller serialises calls for one upload id (one request at a time per upload).

    def start_upload(self, key: str, content_type: str) -> str:
        """Begin a multipart upload to ``key``; return its upload id (store it)."""
        ...

    def upload_part(
        self, key: str, upload_id: str, part_number: int, stream: BinaryIO, length: int
    ) -> None:
        """Store part ``part_number`` (1 to 10,000) from exactly ``length`` bytes of ``stream``.

        The part is stored whole or not at all: a stream that ends early raises
        IncompletePart, and an error raised by ``stream`` itself propagates unchanged.
        A backend that can tell the stored bytes differ from those read raises
        PartCorrupted: the part then does not count, and is sent again under its number.

        Sending the same part again (a retry) is harmless, but never reuse a part number for
        different bytes of the file: S3-compatible servers differ on which copy they keep
        (SeaweedFS keeps both, and refuses to complete if the older one was too small).
        """
        ...

    def uploaded_parts(self, key: str, upload_id: str) -> list[tuple[int, int]]:
        """``(part_number, size)`` of every part durably stored so far, by part number."""
        ...

    def complete_upload(self, key: str, upload_id: str) -> int:
        """Join the parts in part-number order into the object at ``key``; return its size.

        The object appears complete or not at all. Raises ValueError when there are no parts
        or a part other than the last is smaller than MIN_PART_SIZE (the upload stays open).
        """
        ...

    def abort_upload(self, key: str, upload_id: str) -> None:
        """Throw the upload and its parts away; an unknown or finished upload is not an error."""
        ...


def check_part(part_number: int, length: int) -> None:
    """Refuse part numbers and lengths that S3 would refuse, on every backend alike."""
    if not 1 <= part_number <= MAX_PART_NUMBER:
        raise ValueError(f"part numbers run from 1 to {MAX_PART_NUMBER}")
    if not 0 <= length <= MAX_PART_SIZE:
        raise ValueError("a part is between 0 bytes and 5 GiB")


def check_part_sizes(parts: list[tuple[int, int]]) -> None:
    """The rule ``complete_upload`` enforces before joining anything."""
    if not parts:
        raise ValueError("no parts have been uploaded")
    for number, size in parts[:-1]:
        if size < MIN_PART_SIZE:
            raise ValueError(f"part {number} is {size} bytes; all but the last need 5 MiB")


def check_range(start: int, end: int) -> None:
    if start < 0 or end < start:
        raise ValueError("a byte range needs 0 <= start <= end")


def url_lifetime(expires_in: int) -> int:
    """Seconds a presigned URL may live: at least 1, at most MAX_URL_SECONDS."""
    return max(1, min(int(expires_in), MAX_URL_SECONDS))


def check_header_value(value: str) -> str:
    """Response header values put into a presigned URL: printable, no line breaks."""
    if not value or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise ValueError("a header value must be printable text on one line")
    return value
