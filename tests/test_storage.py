"""The storage contract. Every backend must pass these (S3 joins them in the media issue)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from memorybox.storage import LocalStorage, Storage, get_storage, new_key


@pytest.fixture(params=["local"])
def storage(request, tmp_path) -> Iterator[Storage]:
    if request.param == "local":
        yield LocalStorage(tmp_path / "objects")


def test_save_then_read_back(storage):
    key = new_key("jpg")
    content = b"\xff\xd8" + bytes(range(256)) * 5000
    assert storage.save(key, io.BytesIO(content), "image/jpeg") == len(content)
    assert storage.exists(key)
    assert storage.size(key) == len(content)
    with storage.open(key) as handle:
        assert handle.read() == content
    assert b"".join(storage.iter_bytes(key, chunk_size=1000)) == content


def test_missing_objects_raise_file_not_found(storage):
    key = new_key("png")
    assert not storage.exists(key)
    with pytest.raises(FileNotFoundError):
        storage.open(key)
    with pytest.raises(FileNotFoundError):
        list(storage.iter_bytes(key))
    storage.delete(key)  # deleting something missing is fine


def test_delete_removes_the_object(storage):
    key = new_key("pdf")
    storage.save(key, io.BytesIO(b"%PDF-1.4"), "application/pdf")
    storage.delete(key)
    assert not storage.exists(key)


class _FailsHalfway(io.RawIOBase):
    def __init__(self) -> None:
        self.calls = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.calls += 1
        if self.calls > 2:
            raise ConnectionResetError("the phone lost signal")
        return b"x" * 1024


def test_an_interrupted_save_leaves_nothing_behind(storage, tmp_path):
    key = new_key("mp4")
    with pytest.raises(ConnectionResetError):
        storage.save(key, _FailsHalfway(), "video/mp4")  # type: ignore[arg-type]
    assert not storage.exists(key)
    leftovers = [p for p in (tmp_path / "objects").rglob("*") if p.is_file()]
    assert leftovers == []


@pytest.mark.parametrize(
    "key", ["../../etc/passwd", "items/../../x.jpg", "/etc/passwd", "items/ab/NOTHEX.jpg", ""]
)
def test_keys_not_made_by_the_app_are_refused(storage, key):
    with pytest.raises(ValueError):
        storage.save(key, io.BytesIO(b"x"), "image/jpeg")
    with pytest.raises(ValueError):
        storage.open(key)


def test_keys_are_unguessable_and_carry_no_names():
    keys = {new_key("jpg") for _ in range(1000)}
    assert len(keys) == 1000
    assert all(len(k.rsplit("/", 1)[1]) == 36 for k in keys)


def test_storage_is_chosen_by_url(tmp_path):
    local = get_storage(f"file://{tmp_path}/store")
    assert isinstance(local, LocalStorage)
    with pytest.raises(ValueError, match="not supported"):
        get_storage("ftp://example.org/box")
