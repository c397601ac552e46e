"""Local-disk storage: the default for one machine.

Objects live at ``<root>/<key>``. Multipart uploads are staged in ``<root>/.uploads/<id>/``
(one file per part, plus ``upload.json`` naming the key) until they are joined.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from memorybox.storage.base import (
    MAX_PART_NUMBER,
    IncompletePart,
    RangeNotSatisfiable,
    StorageUnavailable,
    StoredObject,
    check_header_value,
    check_part,
    check_part_sizes,
    check_range,
)
from memorybox.storage.keys import KEY_PATTERN, check_key, check_upload_id, new_upload_id

CHUNK = 1024 * 1024
UPLOADS_DIR = ".uploads"
_PART_PREFIX = "part-"


class LocalStorage:
    backend_name = "local"

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def save(self, key: str, stream: BinaryIO, content_type: str) -> int:
        path = self._path(key)
        with _atomic_file(path) as out:
            written = 0
            while chunk := stream.read(CHUNK):  # a failing upload raises its own error
                _write(out, chunk)
                written += len(chunk)
        return written

    def open(self, key: str) -> BinaryIO:
        return self._path(key).open("rb")

    def iter_bytes(self, key: str, chunk_size: int = 256 * 1024) -> Iterator[bytes]:
        with self.open(key) as handle:
            while chunk := handle.read(chunk_size):
                yield chunk

    def get_range(
        self, key: str, start: int, end: int, chunk_size: int = 256 * 1024
    ) -> Iterator[bytes]:
        check_range(start, end)
        with self.open(key) as handle:
            size = os.fstat(handle.fileno()).st_size
            if start >= size:
                raise RangeNotSatisfiable(f"the object has {size} bytes")
            handle.seek(start)
            remaining = min(end, size - 1) - start + 1
            while remaining > 0 and (chunk := handle.read(min(chunk_size, remaining))):
                remaining -= len(chunk)
                yield chunk

    def size(self, key: str) -> int:
        return self._path(key).stat().st_size

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def objects(self) -> Iterator[StoredObject]:
        # Keys are items/<2 hex>/<name>: two levels, no deeper walk needed. Temporary files
        # (".partial-...") and the staging folder never match the key pattern.
        for path in sorted(self.root.glob("items/*/*")):
            key = path.relative_to(self.root).as_posix()
            if not KEY_PATTERN.fullmatch(key) or not path.is_file():
                continue
            try:
                stat = path.stat()
            except FileNotFoundError:  # deleted while we looked
                continue
            modified = datetime.fromtimestamp(stat.st_mtime, UTC)
            yield StoredObject(key, stat.st_size, modified)

    def presigned_url(
        self, key: str, *, expires_in: int = 60, content_type: str, disposition: str
    ) -> str | None:
        """None: there is no second server to send the browser to; the app serves the file."""
        check_key(key)
        check_header_value(content_type)
        check_header_value(disposition)
        return None

    # Multipart uploads

    def _upload_dir(self, key: str, upload_id: str) -> Path:
        """The staging folder of an upload started for ``key``; FileNotFoundError otherwise."""
        check_key(key)
        folder = self.root / UPLOADS_DIR / check_upload_id(upload_id)
        try:
            meta = json.loads((folder / "upload.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise FileNotFoundError("no such upload") from None
        except (OSError, ValueError) as exc:
            raise StorageUnavailable("could not read the upload's staging folder") from exc
        if meta.get("key") != key:
            raise FileNotFoundError("no such upload")
        return folder

    def start_upload(self, key: str, content_type: str) -> str:
        check_key(key)
        upload_id = new_upload_id()
        folder = self.root / UPLOADS_DIR / upload_id
        meta = json.dumps({"key": key, "content_type": content_type}).encode()
        try:
            folder.mkdir(parents=True)
        except OSError as exc:
            raise StorageUnavailable("could not write to the storage folder") from exc
        with _atomic_file(folder / "upload.json") as out:
            _write(out, meta)
        return upload_id

    def upload_part(
        self, key: str, upload_id: str, part_number: int, stream: BinaryIO, length: int
    ) -> None:
        check_part(part_number, length)
        folder = self._upload_dir(key, upload_id)
        with _atomic_file(folder / f"{_PART_PREFIX}{part_number:05d}") as out:
            remaining = length
            while remaining > 0:
                chunk = stream.read(min(CHUNK, remaining))
                if not chunk:
                    raise IncompletePart(f"the part ended {remaining} bytes short")
                _write(out, chunk)
                remaining -= len(chunk)

    def uploaded_parts(self, key: str, upload_id: str) -> list[tuple[int, int]]:
        return _stored_parts(self._upload_dir(key, upload_id))

    def complete_upload(self, key: str, upload_id: str) -> int:
        folder = self._upload_dir(key, upload_id)
        parts = _stored_parts(folder)
        check_part_sizes(parts)
        written = 0
        with _atomic_file(self._path(key)) as out:
            for number, _size in parts:
                try:
                    with (folder / f"{_PART_PREFIX}{number:05d}").open("rb") as part:
                        while chunk := part.read(CHUNK):
                            _write(out, chunk)
                            written += len(chunk)
                except FileNotFoundError:
                    raise FileNotFoundError("no such upload") from None
                except OSError as exc:
                    raise StorageUnavailable("could not read a stored part") from exc
        shutil.rmtree(folder, ignore_errors=True)
        return written

    def abort_upload(self, key: str, upload_id: str) -> None:
        try:
            folder = self._upload_dir(key, upload_id)
        except FileNotFoundError:
            return
        try:
            shutil.rmtree(folder)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StorageUnavailable("could not remove the upload's staging folder") from exc


def _stored_parts(folder: Path) -> list[tuple[int, int]]:
    parts = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                number = _part_number(entry.name)
                if number is not None:
                    parts.append((number, entry.stat().st_size))
    except FileNotFoundError:
        raise FileNotFoundError("no such upload") from None
    except OSError as exc:
        raise StorageUnavailable("could not read the upload's staging folder") from exc
    return sorted(parts)


def _part_number(name: str) -> int | None:
    digits = name.removeprefix(_PART_PREFIX)
    if digits == name or len(digits) != 5 or not digits.isdigit():
        return None
    number = int(digits)
    return number if 1 <= number <= MAX_PART_NUMBER else None


@contextmanager
def _atomic_file(path: Path) -> Iterator[BinaryIO]:
    """Write to a hidden temporary file beside ``path``; on success fsync it and rename it into
    place, on any error remove it. Readers see nothing, or the whole file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
    except OSError as exc:
        raise StorageUnavailable("could not write to the storage folder") from exc
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            _write(out, b"", sync=True)
        try:
            os.replace(tmp_name, path)
            _fsync_dir(path.parent)
        except OSError as exc:
            raise StorageUnavailable("could not write to the storage folder") from exc
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _fsync_dir(folder: Path) -> None:
    """Make a rename inside ``folder`` survive a power cut."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write(out: BinaryIO, chunk: bytes, sync: bool = False) -> None:
    try:
        out.write(chunk)
        if sync:
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        raise StorageUnavailable("could not write to the storage folder") from exc
