"""Local-disk storage: the default for one machine."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from memorybox.storage.base import StorageUnavailable
from memorybox.storage.keys import check_key

CHUNK = 1024 * 1024


class LocalStorage:
    backend_name = "local"

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def save(self, key: str, stream: BinaryIO, content_type: str) -> int:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
        except OSError as exc:
            raise StorageUnavailable("could not write to the storage folder") from exc
        written = 0
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):  # a failing upload raises its own error
                    _write(out, chunk)
                    written += len(chunk)
                _write(out, b"", sync=True)
            try:
                os.replace(tmp_name, path)
            except OSError as exc:
                raise StorageUnavailable("could not write to the storage folder") from exc
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        return written

    def open(self, key: str) -> BinaryIO:
        return self._path(key).open("rb")

    def iter_bytes(self, key: str, chunk_size: int = 256 * 1024) -> Iterator[bytes]:
        with self.open(key) as handle:
            while chunk := handle.read(chunk_size):
                yield chunk

    def size(self, key: str) -> int:
        return self._path(key).stat().st_size

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


def _write(out: BinaryIO, chunk: bytes, sync: bool = False) -> None:
    try:
        out.write(chunk)
        if sync:
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        raise StorageUnavailable("could not write to the storage folder") from exc
