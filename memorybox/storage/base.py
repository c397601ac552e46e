from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, Protocol, runtime_checkable


class StorageError(Exception):
    """Something went wrong in storage; callers show "please try again"."""


class StorageUnavailable(StorageError):
    """The storage service could not be reached or refused the request."""


@runtime_checkable
class Storage(Protocol):
    """Stores immutable objects under generated keys. Missing keys raise FileNotFoundError."""

    backend_name: str

    def save(self, key: str, stream: BinaryIO, content_type: str) -> int:
        """Stream ``stream`` to ``key`` without reading it whole; return the bytes written.

        The object appears complete or not at all.
        """
        ...

    def open(self, key: str) -> BinaryIO:
        """A readable, seekable file object for the object at ``key``."""
        ...

    def iter_bytes(self, key: str, chunk_size: int = 256 * 1024) -> Iterator[bytes]:
        """Yield the object in chunks, for streaming responses."""
        ...

    def size(self, key: str) -> int: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove the object; removing a missing object is not an error."""
        ...
