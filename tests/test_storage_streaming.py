"""S3 parts streamed as they arrive (storage/s3.py, "Streamed parts"): forwarded before the
client's stream is read to the end, checked against the ETag S3 answers, never retried,
and refused whole when the stream fails. Through a relay in front of the real SeaweedFS
that can flip a byte of a part on its way, as a broken network or proxy would."""

from __future__ import annotations

import hashlib
import http.server
import io
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

from memorybox.storage import IncompletePart, PartCorrupted, StorageUnavailable, new_key, s3_streams
from memorybox.storage import s3 as s3_module
from memorybox.storage.s3 import S3Storage

if TYPE_CHECKING:
    from tests.seaweed import SeaweedS3

MiB = 1024 * 1024


class PartRelay:
    """A TCP relay in front of an S3 server that reads each request as it passes: it counts
    the body bytes of part uploads (``PUT ...?partNumber=``) and, when asked, flips one byte
    in the body of the next ``corrupt`` parts. Everything else passes through untouched."""

    FLIP_AT = 3 * MiB + 7

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.corrupt = 0
        self.part_bytes = 0
        self.part_requests = 0
        self.changed = threading.Condition()
        self._sockets: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_for_part_bytes(self, at_least: int, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.part_bytes >= at_least, timeout)

    def close(self) -> None:
        self._listener.close()
        for sock in self._sockets:
            sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _address = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            self._sockets += [client, upstream]
            threading.Thread(target=self._requests, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._copy, args=(upstream, client), daemon=True).start()

    def _copy(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
            target.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def _requests(self, source: socket.socket, target: socket.socket) -> None:
        buffered = b""
        try:
            while True:
                while b"\r\n\r\n" not in buffered:
                    data = source.recv(65536)
                    if not data:
                        target.shutdown(socket.SHUT_WR)
                        return
                    buffered += data
                head, _, buffered = buffered.partition(b"\r\n\r\n")
                lines = head.split(b"\r\n")
                length = next(
                    (
                        int(line.split(b":", 1)[1])
                        for line in lines[1:]
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                is_part = lines[0].startswith(b"PUT ") and b"partNumber=" in lines[0]
                flip = -1
                with self.changed:
                    if is_part:
                        self.part_requests += 1
                        if self.corrupt > 0:
                            self.corrupt -= 1
                            flip = self.FLIP_AT
                target.sendall(head + b"\r\n\r\n")
                sent = 0
                while sent < length:
                    if not buffered:
                        buffered = source.recv(65536)
                        if not buffered:
                            target.close()  # the sender went away mid-body: so does this
                            return
                    piece, buffered = buffered[: length - sent], buffered[length - sent :]
                    if 0 <= flip - sent < len(piece):
                        at = flip - sent
                        piece = piece[:at] + bytes([piece[at] ^ 0xFF]) + piece[at + 1 :]
                    target.sendall(piece)
                    sent += len(piece)
                    if is_part:
                        with self.changed:
                            self.part_bytes += len(piece)
                            self.changed.notify_all()
        except OSError:
            pass


@pytest.fixture
def relay(s3_server: SeaweedS3) -> Iterator[PartRelay]:
    port = int(s3_server.endpoint.rsplit(":", 1)[1])
    relay = PartRelay(port)
    yield relay
    relay.close()


@pytest.fixture
def no_resend_gap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(s3_module, "RESEND_GAP", 0.0)


def _through(relay: PartRelay, s3_server: SeaweedS3, check: str = "crc32") -> S3Storage:
    """S3 storage through the relay, its part check settled (probed, or set to ``check``
    when that is "md5") before the relay starts counting parts."""
    storage = s3_server.storage(endpoint_url=relay.endpoint)
    if check == "md5":
        storage._part_check = "md5"
    else:
        assert storage.part_check() == check
    relay.part_requests = relay.part_bytes = 0
    return storage


def _content(size: int, seed: int) -> bytes:
    block = hashlib.sha256(seed.to_bytes(4, "big")).digest() * (MiB // 32)
    return (block * (size // MiB + 1))[:size]


class Stream(io.RawIOBase):
    """Bytes handed out as asked, remembering each size asked for; ``before_read(offset)``
    runs before each read (to wait, fail or check something there)."""

    def __init__(self, data: bytes, before_read: Callable[[int], None] | None = None) -> None:
        self._data = data
        self.position = 0
        self.asked: list[int] = []
        self._before_read = before_read

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        assert size is not None and size > 0, "parts are read in steps, never whole"
        self.asked.append(size)
        if self._before_read is not None:
            self._before_read(self.position)
        chunk = self._data[self.position : self.position + size]
        self.position += len(chunk)
        return chunk


def _object_sha256(storage: S3Storage, key: str) -> str:
    digest = hashlib.sha256()
    for chunk in storage.iter_bytes(key, chunk_size=MiB):
        digest.update(chunk)
    return digest.hexdigest()


def test_a_part_is_forwarded_while_it_is_still_arriving(s3_server, relay):
    """The first megabytes reach S3 before the client's stream has been read to its end."""
    storage = _through(relay, s3_server)
    part = _content(8 * MiB, 1)
    forwarded_early: list[bool] = []

    def halfway(offset: int) -> None:
        if offset >= 4 * MiB and not forwarded_early:
            forwarded_early.append(relay.wait_for_part_bytes(2 * MiB, timeout=20))

    key = new_key("bin")
    upload_id = storage.start_upload(key, "application/octet-stream")
    storage.upload_part(key, upload_id, 1, Stream(part, halfway), len(part))  # type: ignore[arg-type]
    assert forwarded_early == [True]
    assert storage.complete_upload(key, upload_id) == len(part)
    assert _object_sha256(storage, key) == hashlib.sha256(part).hexdigest()
    storage.delete(key)


@pytest.mark.parametrize("check", ["crc32", "md5"])
def test_a_part_changed_on_the_way_is_refused_and_its_resend_is_what_is_kept(
    s3_server, relay, check
):
    """The relay flips one byte of the first part: the CRC32 SeaweedFS reports (or, where a
    server reports none, its ETag) is not that of what was read, so the part does not count.
    Sent again under the same number (after the wait that makes SeaweedFS list it as the
    newer copy), the object assembled is byte for byte the file."""
    storage = _through(relay, s3_server, check)
    first, last = _content(6 * MiB, 2), _content(MiB + 5, 3)
    key = new_key("bin")
    upload_id = storage.start_upload(key, "application/octet-stream")
    relay.corrupt = 1
    with pytest.raises(PartCorrupted):
        storage.upload_part(key, upload_id, 1, io.BytesIO(first), len(first))
    assert relay.corrupt == 0  # the relay really changed a part
    storage.upload_part(key, upload_id, 1, io.BytesIO(first), len(first))
    storage.upload_part(key, upload_id, 2, io.BytesIO(last), len(last))
    assert storage.complete_upload(key, upload_id) == len(first) + len(last)
    assert _object_sha256(storage, key) == hashlib.sha256(first + last).hexdigest()
    storage.delete(key)


@pytest.mark.parametrize("fails_with", [ConnectionResetError, IncompletePart])
def test_a_stream_that_fails_mid_part_stores_nothing(s3_server, relay, fails_with):
    """The client's own error comes out unchanged (the web layer tells a dropped connection
    from an outage by it), the half-sent request to S3 is cut, and nothing is stored."""
    storage = _through(relay, s3_server)
    part = _content(8 * MiB, 4)

    def drop(offset: int) -> None:
        if offset >= 3 * MiB:
            raise fails_with("the client went away")

    key = new_key("bin")
    upload_id = storage.start_upload(key, "application/octet-stream")
    with pytest.raises(fails_with, match="went away"):
        storage.upload_part(key, upload_id, 1, Stream(part, drop), len(part))  # type: ignore[arg-type]
    assert 0 < relay.part_bytes < len(part)  # some of it was on its way to S3
    assert storage.uploaded_parts(key, upload_id) == []
    storage.abort_upload(key, upload_id)


def test_a_part_is_sent_once_unsigned_and_never_retried():
    """A server answering 500 (retryable) gets one request: the body is the client's
    stream and cannot be sent twice. Its payload is not signed (no hash before sending)."""
    requests: list[tuple[str, str]] = []

    class Failing(http.server.BaseHTTPRequestHandler):
        def do_PUT(self) -> None:  # noqa: N802 - the stdlib's name
            self.rfile.read(int(self.headers["Content-Length"]))
            requests.append((self.path, self.headers.get("X-Amz-Content-SHA256", "")))
            body = b"<Error><Code>InternalError</Code></Error>"
            self.send_response(500)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Failing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        storage = S3Storage(
            "memorybox-test",
            endpoint_url=f"http://127.0.0.1:{server.server_port}",
            access_key="MBFAILING",
            secret_key="always-500",
        )
        part = _content(6 * MiB, 5)
        with pytest.raises(StorageUnavailable):
            storage.upload_part(new_key("bin"), "some-upload", 1, io.BytesIO(part), len(part))
    finally:
        server.shutdown()
        server.server_close()
    assert len(requests) == 1
    assert "partNumber=1" in requests[0][0]
    assert requests[0][1] == "UNSIGNED-PAYLOAD"


def test_reads_from_a_slow_client_get_smaller_and_from_a_fast_one_larger(monkeypatch):
    """So bytes keep reaching S3 on a poor connection (AWS drops a body idle ~20 s)."""
    monkeypatch.setattr(s3_streams, "STEP_SLOW", 0.1)
    monkeypatch.setattr(s3_streams, "STEP_FAST", 0.05)
    slow_until = (64 + 32 + 16 + 16) * 1024  # the first four reads come slowly

    def pace(offset: int) -> None:
        if offset < slow_until:
            time.sleep(0.2)

    stream = Stream(bytes(4 * MiB), pace)
    body = s3_streams.PartBody(stream, 4 * MiB)  # type: ignore[arg-type]
    try:
        while body.read(256 * 1024):
            pass
    finally:
        body.checksum.close()
    assert stream.asked[:5] == [64 * 1024, 32 * 1024, 16 * 1024, 16 * 1024, 16 * 1024]
    assert max(stream.asked) == s3_streams.STEP_MAX
    assert body.read_so_far == 4 * MiB


def test_etags_that_are_no_md5_are_not_compared(s3_server, caplog, no_resend_gap):
    """SSE-KMS (and other servers) answer ETags that are not the part's MD5: those parts
    pass, with one note in the log; a plain MD5 that differs does not."""
    storage = s3_server.storage()
    md5 = hashlib.md5(b"part", usedforsecurity=False).hexdigest()
    other = hashlib.md5(b"other", usedforsecurity=False).hexdigest()
    with caplog.at_level(logging.INFO, logger="memorybox.storage.s3"):
        storage._check_etag({"ETag": f'"{other}"', "ServerSideEncryption": "aws:kms"}, md5, 1)
        storage._check_etag({"ETag": '"3858f62230ac3c915f300c664312c63f-1"'}, md5, 2)
        storage._check_etag({"ETag": f'"{md5.upper()}"'}, md5, 3)
    assert sum("not MD5s" in record.getMessage() for record in caplog.records) == 1
    with pytest.raises(PartCorrupted):
        storage._check_etag({"ETag": f'"{other}"', "ServerSideEncryption": "AES256"}, md5, 4)


def test_a_look_at_head_and_tail_fetches_only_those(s3_server, monkeypatch):
    """open() asks for a bounded range on the first read after a seek (sniffing a finished
    upload reads its head and tail), and streams the rest when the reader reads on."""
    storage = s3_server.storage()
    content = _content(5 * MiB + 123, 6)
    key = new_key("bin")
    storage.save(key, io.BytesIO(content), "application/octet-stream")
    asked: list[str | None] = []
    body = storage._body

    def recording(key: str, byte_range: str | None) -> object:
        asked.append(byte_range)
        return body(key, byte_range)

    monkeypatch.setattr(storage, "_body", recording)
    with storage.open(key) as stream:
        assert stream.read(64) == content[:64]
        stream.seek(-100, io.SEEK_END)
        assert stream.read() == content[-100:]
        stream.seek(0)
        assert stream.read() == content
    size, peek = len(content), s3_streams.PEEK
    assert asked == [
        f"bytes=0-{peek - 1}",
        f"bytes={size - 100}-{size - 1}",
        f"bytes=0-{peek - 1}",
        f"bytes={peek}-",
    ]
    storage.delete(key)


class FakeS3(http.server.BaseHTTPRequestHandler):
    """Just enough of S3 for parts: starts an upload, takes a part (answering as ``part``
    says: "etag" for an ETag only, "refuse" for AWS's 400 to a bare checksum header) and
    aborts; every request is kept as (method, path, checksum header)."""

    part = "etag"
    seen: list[tuple[str, str, str]] = []

    def _answer(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _keep(self) -> None:
        asked = self.headers.get("x-amz-sdk-checksum-algorithm", "")
        self.seen.append((self.command, self.path, asked))

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        self._keep()
        self._answer(
            200,
            b"<InitiateMultipartUploadResult><Bucket>memorybox-test</Bucket><Key>k</Key>"
            b"<UploadId>fake-upload</UploadId></InitiateMultipartUploadResult>",
        )

    def do_PUT(self) -> None:  # noqa: N802
        self._keep()
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.part == "refuse" and self.headers.get("x-amz-sdk-checksum-algorithm"):
            self._answer(
                400,
                b"<Error><Code>InvalidRequest</Code><Message>x-amz-sdk-checksum-algorithm "
                b"specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers "
                b"were found.</Message></Error>",
            )
            return
        etag = hashlib.md5(body, usedforsecurity=False).hexdigest()
        self._answer(200, headers={"ETag": f'"{etag}"'})

    def do_DELETE(self) -> None:  # noqa: N802
        self._keep()
        self._answer(204)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_s3() -> Iterator[Callable[[str], S3Storage]]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeS3)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    FakeS3.seen = []

    def storage(part: str) -> S3Storage:
        FakeS3.part = part
        return S3Storage(
            "memorybox-test",
            endpoint_url=f"http://127.0.0.1:{server.server_port}",
            access_key="MBFAKE",
            secret_key="fake-secret",
        )

    yield storage
    server.shutdown()
    server.server_close()


def test_seaweedfs_reports_each_parts_crc32_so_parts_are_checked_by_it(s3_server):
    storage = s3_server.storage()
    assert storage.part_check() == "crc32"
    part = _content(5 * MiB + 3, 6)
    key = new_key("bin")
    upload_id = storage.start_upload(key, "application/octet-stream")
    storage.upload_part(key, upload_id, 1, io.BytesIO(part), len(part))
    assert storage.uploaded_parts(key, upload_id) == [(1, len(part))]  # the probe is not one
    storage.abort_upload(key, upload_id)


@pytest.mark.parametrize("answer", ["etag", "refuse"])
def test_a_server_that_does_not_report_crc32s_is_checked_by_md5(fake_s3, answer):
    """A server that reports no CRC32, or refuses to be asked (as AWS does), gets MD5 checks
    and is not asked again; the probe's scratch upload is aborted."""
    storage = fake_s3(answer)
    part = _content(5 * MiB, 7)
    storage.upload_part(new_key("bin"), "fake-upload", 1, io.BytesIO(part), len(part))
    assert storage.part_check() == "md5"
    methods = [method for method, _path, _asked in FakeS3.seen]
    assert methods == ["POST", "PUT", "DELETE", "PUT"]  # probe: start, part, abort; the part
    assert FakeS3.seen[1][2] == "CRC32" and FakeS3.seen[3][2] == ""


def test_a_server_that_stops_reporting_crc32s_has_the_part_sent_again_and_is_probed_again(
    fake_s3, no_resend_gap
):
    storage = fake_s3("etag")
    storage._part_check = "crc32"  # as if it had reported them before
    part = _content(5 * MiB, 8)
    with pytest.raises(PartCorrupted):
        storage.upload_part(new_key("bin"), "fake-upload", 1, io.BytesIO(part), len(part))
    assert storage.part_check() == "md5"
