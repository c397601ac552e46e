"""Where item bytes live, behind one interface chosen by ``STORAGE_URL``."""

from __future__ import annotations

from urllib.parse import urlparse

from memorybox.storage.base import Storage, StorageError, StorageUnavailable
from memorybox.storage.keys import new_key
from memorybox.storage.local import LocalStorage

__all__ = [
    "LocalStorage",
    "Storage",
    "StorageError",
    "StorageUnavailable",
    "get_storage",
    "new_key",
]


def get_storage(url: str) -> Storage:
    """Build the storage named by a URL such as ``file:///var/lib/memorybox``."""
    parsed = urlparse(url)
    if parsed.scheme in {"file", ""}:
        path = parsed.path if parsed.scheme == "file" else url
        if not path:
            raise ValueError("STORAGE_URL needs a folder, for example file:///srv/memorybox")
        return LocalStorage(path)
    raise ValueError(
        f"STORAGE_URL scheme {parsed.scheme!r} is not supported: use file:///path/to/folder"
    )
