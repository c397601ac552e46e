"""The storage contract, run against every backend: local disk and a real S3 (SeaweedFS, from
tests/seaweed.py). Then what only S3 can get wrong: outages, wrong credentials, memory."""

from __future__ import annotations

import hashlib
import io
import socket
import subprocess
import sys
import threading
import time
import tracemalloc
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlparse

import pytest

from memorybox.storage import (
    MIN_PART_SIZE,
    IncompletePart,
    LocalStorage,
    RangeNotSatisfiable,
    Storage,
    StorageUnavailable,
    get_storage,
    new_key,
)
from memorybox.storage.keys import new_upload_id
from memorybox.storage.s3 import S3Storage

if TYPE_CHECKING:
    from tests.seaweed import SeaweedS3


MiB = 1024 * 1024


@pytest.fixture(scope="session")
def s3_storage(s3_server: SeaweedS3) -> S3Storage:
    """One S3Storage (one boto3 client) for the whole session, as the app has."""
    return s3_server.storage()


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path) -> Storage:
    if request.param == "local":
        return LocalStorage(tmp_path / "objects")
    return request.getfixturevalue("s3_storage")


@pytest.fixture
def leftovers(storage: Storage, request: pytest.FixtureRequest) -> Callable[[str], list[str]]:
    """What a backend still holds for a key besides the finished object: temporary and staged
    files on disk, unfinished multipart uploads in S3."""
    if isinstance(storage, LocalStorage):
        root = storage.root

        def on_disk(key: str) -> list[str]:
            return sorted(
                str(path.relative_to(root))
                for path in root.rglob("*")
                if path.is_file() and path != root / key
            )

        return on_disk
    server: SeaweedS3 = request.getfixturevalue("s3_server")

    def in_s3(key: str) -> list[str]:
        listed = server.client().list_multipart_uploads(Bucket=server.bucket, Prefix=key)
        return [upload["UploadId"] for upload in listed.get("Uploads", [])]

    return in_s3


class GeneratedStream(io.RawIOBase):
    """``total`` bytes made up as they are read (1 MiB blocks, each stamped with its number),
    never held whole. Optionally calls ``at_offset[1]`` once ``at_offset[0]`` bytes are out."""

    BLOCK = MiB

    def __init__(self, total: int, at_offset: tuple[int, Callable[[], None]] | None = None):
        self.total = total
        self.position = 0
        self.at_offset = at_offset
        self.base = bytes(range(256)) * (self.BLOCK // 256)

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        assert size is not None and size > 0, "storage must read in chunks, never whole"
        if self.at_offset and self.position >= self.at_offset[0]:
            self.at_offset[1]()
            self.at_offset = None
        pieces = []
        end = min(self.total, self.position + size)
        while self.position < end:
            block, within = divmod(self.position, self.BLOCK)
            take = min(end - self.position, self.BLOCK - within)
            stamped = block.to_bytes(8, "big") + self.base[8:]
            pieces.append(stamped[within : within + take])
            self.position += take
        return b"".join(pieces)

    @classmethod
    def sha256(cls, total: int) -> str:
        stream, digest = cls(total), hashlib.sha256()
        while chunk := stream.read(MiB):
            digest.update(chunk)
        return digest.hexdigest()


def _content(size: int, seed: int = 0) -> bytes:
    return bytes((i * 7 + seed) % 251 for i in range(256)) * (size // 256) + b"!" * (size % 256)


# The contract: every backend


def test_save_then_read_back(storage):
    key = new_key("jpg")
    content = b"\xff\xd8" + bytes(range(256)) * 5000
    assert storage.save(key, io.BytesIO(content), "image/jpeg") == len(content)
    assert storage.exists(key)
    assert storage.size(key) == len(content)
    with storage.open(key) as handle:
        assert handle.read() == content
    assert b"".join(storage.iter_bytes(key, chunk_size=1000)) == content


def test_a_save_larger_than_one_part_reads_back_whole(storage, leftovers):
    key = new_key("mp4")
    content = _content(20 * MiB + 123)
    assert storage.save(key, io.BytesIO(content), "video/mp4") == len(content)
    assert storage.size(key) == len(content)
    assert b"".join(storage.iter_bytes(key)) == content
    assert leftovers(key) == []


def test_an_empty_save_is_an_empty_object(storage):
    key = new_key("txt")
    assert storage.save(key, io.BytesIO(b""), "text/plain") == 0
    assert storage.size(key) == 0
    assert b"".join(storage.iter_bytes(key)) == b""


def test_missing_objects_raise_file_not_found(storage):
    key = new_key("png")
    assert not storage.exists(key)
    with pytest.raises(FileNotFoundError):
        storage.open(key)
    with pytest.raises(FileNotFoundError):
        list(storage.iter_bytes(key))
    with pytest.raises(FileNotFoundError):
        list(storage.get_range(key, 0, 10))
    with pytest.raises(FileNotFoundError):
        storage.size(key)
    storage.delete(key)  # deleting something missing is fine


def test_delete_removes_the_object(storage):
    key = new_key("pdf")
    storage.save(key, io.BytesIO(b"%PDF-1.4"), "application/pdf")
    storage.delete(key)
    assert not storage.exists(key)


class _FailsPartWay(io.RawIOBase):
    def __init__(self, fail_after: int) -> None:
        self.fail_after = fail_after
        self.sent = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.sent >= self.fail_after:
            raise ConnectionResetError("the phone lost signal")
        size = min(size, self.fail_after - self.sent)
        self.sent += size
        return b"x" * size


@pytest.mark.parametrize("fail_after", [2048, 20 * MiB], ids=["first-part", "third-part"])
def test_an_interrupted_save_leaves_nothing_behind(storage, leftovers, fail_after):
    key = new_key("mp4")
    with pytest.raises(ConnectionResetError):  # the stream's own error, unchanged
        storage.save(key, _FailsPartWay(fail_after), "video/mp4")  # type: ignore[arg-type]
    assert not storage.exists(key)
    assert leftovers(key) == []


@pytest.mark.parametrize(
    "key", ["../../etc/passwd", "items/../../x.jpg", "/etc/passwd", "items/ab/NOTHEX.jpg", ""]
)
def test_keys_not_made_by_the_app_are_refused(storage, key):
    with pytest.raises(ValueError):
        storage.save(key, io.BytesIO(b"x"), "image/jpeg")
    with pytest.raises(ValueError):
        storage.open(key)
    with pytest.raises(ValueError):
        storage.exists(key)
    with pytest.raises(ValueError):
        storage.delete(key)
    with pytest.raises(ValueError):
        storage.start_upload(key, "image/jpeg")
    with pytest.raises(ValueError):
        storage.presigned_url(key, content_type="image/jpeg", disposition="inline")


def test_open_gives_a_seekable_file(storage):
    key = new_key("jpg")
    content = _content(3 * MiB + 17)
    storage.save(key, io.BytesIO(content), "image/jpeg")
    with storage.open(key) as handle:
        assert handle.read(4) == content[:4]
        handle.seek(2 * MiB + 5)
        assert handle.tell() == 2 * MiB + 5
        assert handle.read(100) == content[2 * MiB + 5 : 2 * MiB + 105]
        handle.seek(-7, io.SEEK_END)
        assert handle.read() == content[-7:]
        handle.seek(10)
        assert handle.read(10) == content[10:20]
        assert handle.read(0) == b""


def test_get_range_yields_inclusive_byte_ranges(storage):
    key = new_key("mp4")
    content = _content(2 * MiB + 99)
    storage.save(key, io.BytesIO(content), "video/mp4")
    assert b"".join(storage.get_range(key, 0, 0)) == content[:1]
    assert b"".join(storage.get_range(key, 100, 199)) == content[100:200]
    middle = storage.get_range(key, 1000, 1_500_999, chunk_size=64 * 1024)
    assert b"".join(middle) == content[1000:1_501_000]
    # an end past the last byte is clamped, as HTTP does
    assert b"".join(storage.get_range(key, len(content) - 5, 10**12)) == content[-5:]
    with pytest.raises(RangeNotSatisfiable):
        list(storage.get_range(key, len(content), len(content) + 10))
    with pytest.raises(ValueError):
        list(storage.get_range(key, 10, 9))
    with pytest.raises(ValueError):
        list(storage.get_range(key, -1, 9))


# Resumable multipart uploads


def _upload(storage: Storage, key: str, upload_id: str, number: int, data: bytes) -> None:
    storage.upload_part(key, upload_id, number, io.BytesIO(data), len(data))


def test_multipart_parts_out_of_order_resume_and_complete(storage, leftovers):
    key = new_key("mp4")
    first, second, last = _content(MIN_PART_SIZE, 1), _content(MIN_PART_SIZE, 2), b"the end"
    upload_id = storage.start_upload(key, "video/mp4")
    _upload(storage, key, upload_id, 3, last)
    _upload(storage, key, upload_id, 2, second)
    assert not storage.exists(key)  # nothing shows before completion

    # The connection drops; the client asks what arrived and sends only what is missing.
    assert storage.uploaded_parts(key, upload_id) == [(2, MIN_PART_SIZE), (3, len(last))]
    _upload(storage, key, upload_id, 1, first)
    assert storage.uploaded_parts(key, upload_id) == [
        (1, MIN_PART_SIZE),
        (2, MIN_PART_SIZE),
        (3, len(last)),
    ]

    total = 2 * MIN_PART_SIZE + len(last)
    assert storage.complete_upload(key, upload_id) == total
    assert storage.size(key) == total
    assert b"".join(storage.iter_bytes(key, chunk_size=MiB)) == first + second + last
    assert leftovers(key) == []
    with pytest.raises(FileNotFoundError):
        storage.uploaded_parts(key, upload_id)


def test_a_part_sent_twice_is_stored_once(storage):
    """A retry after a lost response sends the same bytes again."""
    key = new_key("bin")
    upload_id = storage.start_upload(key, "application/octet-stream")
    part = _content(MIN_PART_SIZE)
    _upload(storage, key, upload_id, 1, part)
    _upload(storage, key, upload_id, 1, part)
    _upload(storage, key, upload_id, 2, b"end")
    assert storage.uploaded_parts(key, upload_id) == [(1, MIN_PART_SIZE), (2, 3)]
    assert storage.complete_upload(key, upload_id) == MIN_PART_SIZE + 3
    assert b"".join(storage.iter_bytes(key, chunk_size=MiB)) == part + b"end"


def test_a_part_cut_short_stores_nothing(storage):
    key = new_key("bin")
    upload_id = storage.start_upload(key, "application/octet-stream")
    with pytest.raises(IncompletePart):
        storage.upload_part(key, upload_id, 1, io.BytesIO(b"only this"), 100)
    assert storage.uploaded_parts(key, upload_id) == []
    storage.abort_upload(key, upload_id)


def test_a_part_reads_only_its_length(storage):
    key = new_key("bin")
    upload_id = storage.start_upload(key, "application/octet-stream")
    stream = io.BytesIO(b"0123456789")
    storage.upload_part(key, upload_id, 1, stream, 4)
    assert stream.read() == b"456789"
    assert storage.complete_upload(key, upload_id) == 4
    assert b"".join(storage.iter_bytes(key)) == b"0123"


def test_complete_refuses_small_parts_before_the_last_and_keeps_the_upload(storage):
    key = new_key("bin")
    upload_id = storage.start_upload(key, "application/octet-stream")
    with pytest.raises(ValueError, match="no parts"):
        storage.complete_upload(key, upload_id)
    _upload(storage, key, upload_id, 1, _content(MIN_PART_SIZE))
    _upload(storage, key, upload_id, 2, b"too small")
    _upload(storage, key, upload_id, 3, b"last")
    with pytest.raises(ValueError, match="5 MiB"):
        storage.complete_upload(key, upload_id)
    assert not storage.exists(key)
    assert storage.uploaded_parts(key, upload_id) == [(1, MIN_PART_SIZE), (2, 9), (3, 4)]
    storage.abort_upload(key, upload_id)


def test_a_small_last_part_completes(storage):
    key = new_key("bin")
    upload_id = storage.start_upload(key, "application/octet-stream")
    _upload(storage, key, upload_id, 1, b"just one small part")
    assert storage.complete_upload(key, upload_id) == 19
    assert b"".join(storage.iter_bytes(key)) == b"just one small part"


def test_abort_leaves_nothing(storage, leftovers):
    key = new_key("mov")
    upload_id = storage.start_upload(key, "video/quicktime")
    _upload(storage, key, upload_id, 1, _content(MIN_PART_SIZE))
    _upload(storage, key, upload_id, 2, b"tail")
    storage.abort_upload(key, upload_id)
    assert not storage.exists(key)
    assert leftovers(key) == []
    with pytest.raises(FileNotFoundError):
        storage.uploaded_parts(key, upload_id)
    with pytest.raises(FileNotFoundError):
        _upload(storage, key, upload_id, 3, b"late")
    with pytest.raises(FileNotFoundError):
        storage.complete_upload(key, upload_id)
    storage.abort_upload(key, upload_id)  # twice is fine


def test_an_upload_belongs_to_its_key(storage):
    key, other = new_key("jpg"), new_key("jpg")
    upload_id = storage.start_upload(key, "image/jpeg")
    with pytest.raises(FileNotFoundError):
        _upload(storage, other, upload_id, 1, b"x")
    with pytest.raises(FileNotFoundError):
        storage.uploaded_parts(other, upload_id)
    storage.abort_upload(other, upload_id)  # aborts nothing
    assert storage.uploaded_parts(key, upload_id) == []
    storage.abort_upload(key, upload_id)


def test_unknown_upload_ids_are_not_found(storage):
    with pytest.raises(FileNotFoundError):
        storage.uploaded_parts(new_key("jpg"), new_upload_id())


@pytest.mark.parametrize("upload_id", ["", "../../../etc", "/etc", "a b", "x" * 2000, "\n"])
def test_upload_ids_that_could_be_paths_are_refused(storage, upload_id):
    key = new_key("jpg")
    with pytest.raises(ValueError):
        _upload(storage, key, upload_id, 1, b"x")
    with pytest.raises(ValueError):
        storage.uploaded_parts(key, upload_id)
    with pytest.raises(ValueError):
        storage.complete_upload(key, upload_id)
    with pytest.raises(ValueError):
        storage.abort_upload(key, upload_id)


@pytest.mark.parametrize("number", [0, -1, 10_001])
def test_part_numbers_run_from_1_to_10000(storage, number):
    key = new_key("jpg")
    upload_id = storage.start_upload(key, "image/jpeg")
    with pytest.raises(ValueError):
        _upload(storage, key, upload_id, number, b"x")
    storage.abort_upload(key, upload_id)


def test_local_uploads_are_staged_in_a_hidden_folder_keyed_by_upload_id(tmp_path):
    storage = LocalStorage(tmp_path / "objects")
    key = new_key("jpg")
    upload_id = storage.start_upload(key, "image/jpeg")
    _upload(storage, key, upload_id, 1, b"abc")
    staged = tmp_path / "objects" / ".uploads" / upload_id
    assert sorted(p.name for p in staged.iterdir()) == ["part-00001", "upload.json"]
    assert not (tmp_path / "objects" / "items").exists()
    storage.complete_upload(key, upload_id)
    assert not staged.exists()


# Presigned URLs


def _fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (our http URL)
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_presigned_urls_serve_the_object_with_safe_headers(storage):
    key = new_key("pdf")
    content = b"%PDF-1.7 a letter from my mum"
    storage.save(key, io.BytesIO(content), "application/pdf")
    disposition = "attachment; filename=\"letter.pdf\"; filename*=UTF-8''lettre%C3%A9.pdf"
    url = storage.presigned_url(
        key, expires_in=3600, content_type="application/pdf", disposition=disposition
    )
    if isinstance(storage, LocalStorage):
        assert url is None  # the app serves local files itself
        return
    assert url is not None
    assert parse_qs(urlparse(url).query)["X-Amz-Expires"] == ["60"]  # clamped to 60 s
    status, headers, body = _fetch(url)
    assert status == 200
    assert body == content
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"] == disposition
    assert headers["Cache-Control"] == "no-store"


def test_presigned_urls_refuse_header_injection(storage):
    key = new_key("pdf")
    for content_type, disposition in [
        ("text/html\r\nX-Evil: 1", "inline"),
        ("application/pdf", 'attachment; filename="a.pdf"\nSet-Cookie: x=1'),
        ("", "inline"),
    ]:
        with pytest.raises(ValueError):
            storage.presigned_url(key, content_type=content_type, disposition=disposition)


def test_presigned_urls_expire(s3_storage):
    key = new_key("jpg")
    s3_storage.save(key, io.BytesIO(b"\xff\xd8 a photo"), "image/jpeg")
    url = s3_storage.presigned_url(
        key, expires_in=1, content_type="image/jpeg", disposition="inline"
    )
    time.sleep(2.1)
    status, _headers, body = _fetch(url)
    assert status == 403
    assert b"a photo" not in body


# S3 only: outages, credentials, threads, memory


def _every_call_is_unavailable(storage: S3Storage) -> None:
    key = new_key("jpg")
    calls: list[Callable[[], object]] = [
        lambda: storage.save(key, io.BytesIO(b"x"), "image/jpeg"),
        lambda: storage.exists(key),
        lambda: storage.open(key),
        lambda: list(storage.iter_bytes(key)),
        lambda: list(storage.get_range(key, 0, 1)),
        lambda: storage.start_upload(key, "image/jpeg"),
        lambda: storage.uploaded_parts(key, "some-upload"),
        lambda: storage.delete(key),
    ]
    for call in calls:
        with pytest.raises(StorageUnavailable):
            call()


def test_nothing_listening_is_storage_unavailable():
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    storage = S3Storage(
        "memorybox-test",
        endpoint_url=f"http://127.0.0.1:{port}",
        access_key="MBNOBODY",
        secret_key="nothing-is-listening",
    )
    _every_call_is_unavailable(storage)


def test_a_server_that_never_answers_is_storage_unavailable():
    """It accepts connections (the kernel does) but never replies: a read timeout."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        storage = S3Storage(
            "memorybox-test",
            endpoint_url=f"http://127.0.0.1:{silent.getsockname()[1]}",
            access_key="MBSILENT",
            secret_key="nobody-answers",
            read_timeout=0.3,
            max_attempts=1,
        )
        key = new_key("jpg")
        with pytest.raises(StorageUnavailable, match="ReadTimeout"):
            storage.exists(key)
        with pytest.raises(StorageUnavailable):
            storage.save(key, io.BytesIO(b"x"), "image/jpeg")
        with pytest.raises(StorageUnavailable):
            list(storage.iter_bytes(key))


def test_wrong_credentials_are_storage_unavailable_not_boto3_errors(s3_server, s3_storage):
    key = new_key("jpg")
    s3_storage.save(key, io.BytesIO(b"real"), "image/jpeg")
    wrong_secret = s3_server.storage(secret_key="not-the-secret")
    unknown_key = s3_server.storage(access_key="MBUNKNOWN", secret_key="whatever")
    for storage in (wrong_secret, unknown_key):
        _every_call_is_unavailable(storage)
        with pytest.raises(StorageUnavailable):  # a 403 HEAD is not "missing"
            storage.exists(key)
        with pytest.raises(StorageUnavailable):
            storage.size(key)


def test_a_server_that_dies_mid_transfer_is_storage_unavailable(s3_server_to_stop):
    server = s3_server_to_stop
    storage = server.storage()
    stored = new_key("mp4")
    storage.save(stored, GeneratedStream(24 * MiB), "video/mp4")  # type: ignore[arg-type]

    download = storage.iter_bytes(stored, chunk_size=64 * 1024)
    assert next(download)
    crash = (16 * MiB, lambda: server.stop(graceful=False))
    with pytest.raises(StorageUnavailable):  # the server is killed while parts are going up
        storage.save(new_key("mp4"), GeneratedStream(40 * MiB, crash), "video/mp4")  # type: ignore[arg-type]
    assert server.process.poll() is not None
    with pytest.raises(StorageUnavailable):  # and the download in flight breaks off
        for _chunk in download:
            pass
    _every_call_is_unavailable(storage)


def test_one_storage_serves_many_threads(s3_storage):
    def round_trip(n: int) -> bool:
        key = new_key("txt")
        content = f"thread {n} {threading.get_ident()}".encode() * 1000
        s3_storage.save(key, io.BytesIO(content), "text/plain")
        return b"".join(s3_storage.iter_bytes(key)) == content

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(round_trip, range(32)))


def test_memory_stays_flat_for_a_200_mb_object(storage):
    """A correctness bound, not a speed test: neither saving nor reading holds the object."""
    total = 200_000_000
    key = new_key("mp4")
    tracemalloc.start()
    try:
        saved = storage.save(key, GeneratedStream(total), "video/mp4")  # type: ignore[arg-type]
        _current, save_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        digest = hashlib.sha256()
        for chunk in storage.iter_bytes(key, chunk_size=MiB):
            digest.update(chunk)
        _current, read_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert saved == total
    assert digest.hexdigest() == GeneratedStream.sha256(total)
    assert save_peak < 32 * MiB, f"save peaked at {save_peak / MiB:.1f} MiB"
    assert read_peak < 8 * MiB, f"read peaked at {read_peak / MiB:.1f} MiB"
    storage.delete(key)


# Choosing a backend


def test_storage_is_chosen_by_url(tmp_path):
    local = get_storage(f"file://{tmp_path}/store")
    assert isinstance(local, LocalStorage)
    s3 = get_storage("s3://memories-eu?endpoint=http://127.0.0.1:8333&region=eu-west-2")
    assert isinstance(s3, S3Storage)
    assert s3.bucket == "memories-eu"
    assert isinstance(get_storage("s3://memories-eu"), S3Storage)  # AWS itself
    with pytest.raises(ValueError, match="not supported"):
        get_storage("ftp://example.org/box")


@pytest.mark.parametrize(
    "url",
    [
        "s3://",
        "s3://Not_A_Bucket",
        "s3://bucket/a/folder",
        "s3://AKIA:secret@bucket",
        "s3://bucket?endpoint=ftp://127.0.0.1",
        "s3://bucket?endpoint=http://user:pw@127.0.0.1:8333",
        "s3://bucket?colour=blue",
        "s3://bucket?region=not a region",
    ],
)
def test_bad_s3_urls_are_refused(url):
    with pytest.raises(ValueError):
        get_storage(url)


def test_s3_credentials_come_from_the_environment(s3_server, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)
    storage = get_storage(s3_server.storage_url)
    key = new_key("txt")
    assert storage.save(key, io.BytesIO(b"hello"), "text/plain") == 5
    assert b"".join(storage.iter_bytes(key)) == b"hello"


def test_without_weed_s3_tests_skip_or_fail_as_asked(monkeypatch, tmp_path):
    from tests import seaweed

    monkeypatch.setattr(seaweed, "weed_binary", lambda: None)
    monkeypatch.delenv(seaweed.REQUIRE_ENV, raising=False)
    with (
        pytest.raises(pytest.skip.Exception, match="not installed"),
        seaweed._server_or_skip(tmp_path),
    ):
        pass
    monkeypatch.setenv(seaweed.REQUIRE_ENV, "1")
    with (
        pytest.raises(pytest.fail.Exception, match=seaweed.REQUIRE_ENV),
        seaweed._server_or_skip(tmp_path),
    ):
        pass


def test_keys_are_unguessable_and_carry_no_names():
    keys = {new_key("jpg") for _ in range(1000)}
    assert len(keys) == 1000
    assert all(len(k.rsplit("/", 1)[1]) == 36 for k in keys)


def test_local_storage_does_not_load_boto3():
    code = "import sys, memorybox.storage; sys.exit('boto3' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_objects_lists_finished_objects_only(storage):
    """The orphan check's listing: finished objects with sizes and times; never an upload
    still in progress (nor, on disk, its staging files or half-written temporaries)."""
    first, second, unfinished = new_key("jpg"), new_key("mp4"), new_key("mov")
    storage.save(first, io.BytesIO(b"a" * 10), "image/jpeg")
    storage.save(second, io.BytesIO(b"b" * 2000), "video/mp4")
    upload_id = storage.start_upload(unfinished, "video/quicktime")
    _upload(storage, unfinished, upload_id, 1, _content(MIN_PART_SIZE))
    try:
        listed = {o.key: o for o in storage.objects()}
        assert listed[first].size == 10 and listed[second].size == 2000
        assert unfinished not in listed
        now = datetime.now(UTC)
        for key in (first, second):
            assert abs(now - listed[key].modified) < timedelta(minutes=5)
        storage.delete(first)
        assert first not in {o.key for o in storage.objects()}
    finally:
        storage.abort_upload(unfinished, upload_id)
