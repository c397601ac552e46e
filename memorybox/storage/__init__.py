"""Where item bytes live, behind one interface chosen by ``STORAGE_URL``."""

from __future__ import annotations

from urllib.parse import urlparse

from memorybox.storage.base import (
    MAX_URL_SECONDS,
    MIN_PART_SIZE,
    IncompletePart,
    PartCorrupted,
    RangeNotSatisfiable,
    Storage,
    StorageError,
    StorageUnavailable,
    StoredObject,
)
from memorybox.storage.keys import new_key
from memorybox.storage.local import LocalStorage

__all__ = [
    "MAX_URL_SECONDS",
    "MIN_PART_SIZE",
    "IncompletePart",
    "LocalStorage",
    "PartCorrupted",
    "RangeNotSatisfiable",
    "Storage",
    "StorageError",
    "StorageUnavailable",
    "StoredObject",
    "get_storage",
    "new_key",
]


def get_storage(url: str) -> Storage:
    """Build the storage named by a URL: ``file:///var/lib/memorybox`` (a folder) or
    ``s3://bucket?endpoint=http://127.0.0.1:8333&region=us-east-1`` (credentials from
    AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)."""
    parsed = urlparse(url)
    if parsed.scheme in {"file", ""}:
        path = parsed.path if parsed.scheme == "file" else url
        if not path:
            raise ValueError("STORAGE_URL needs a folder, for example file:///srv/memorybox")
        return LocalStorage(path)
    if parsed.scheme == "s3":
        from memorybox.storage.s3 import S3Storage  # boto3 loads only when S3 is used

        return S3Storage.from_url(url)
    raise ValueError(
        f"STORAGE_URL scheme {parsed.scheme!r} is not supported: use file:///path/to/folder "
        "or s3://bucket?endpoint=...&region=..."
    )
