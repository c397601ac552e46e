"""S3 storage (AWS, or an S3-compatible service such as SeaweedFS) through boto3.

Chosen by ``STORAGE_URL=s3://bucket?endpoint=http://127.0.0.1:8333&region=us-east-1``
(``endpoint`` and ``region`` are optional; without ``endpoint`` it is AWS itself).
Credentials come from boto3's default chain: ``AWS_ACCESS_KEY_ID`` and
``AWS_SECRET_ACCESS_KEY`` in the environment, or a profile; never from the URL.

One boto3 client is built per storage and shared by every thread (boto3 clients are
thread-safe; sessions are not, so the session is used only here, once), plus a second one
for streamed parts (below). Timeouts are short (2 s to connect, 5 s per read) and there is
one retry, so an outage surfaces as StorageUnavailable within seconds.

Memory stays flat: ``save`` sends an object under 8 MiB in one PUT and anything larger as a
multipart upload, one 8 MiB part at a time, each spooled first (its payload is signed, so
botocore reads it twice). Downloads stream from the response in chunks. ``open`` gives a
seekable reader whose first read after a seek asks S3 for 1 MiB only, so a look at a
file's head and tail (sniffing a finished upload's type) fetches just that.

Streamed parts (``upload_part``, one tus PATCH each). A part is forwarded to S3 while it
arrives, so receiving it and sending it on overlap instead of following each other, and
memory holds a few reads of at most 1 MiB. The decisions, which hold for AWS over https
(production) and for an S3-compatible server over plain http (SeaweedFS here) alike:

* Unsigned payload (``payload_signing_enabled=False``, so ``X-Amz-Content-SHA256:
  UNSIGNED-PAYLOAD``; the headers are still signed). A signed payload must be hashed whole
  before its first byte goes out, which is what serialised the two hops. AWS and SeaweedFS
  accept it; over https TLS guards the bytes in transit, and AWS's own SDKs send streaming
  uploads unsigned there.
* Integrity is checked end to end instead, on every part: the MD5 of the bytes read is
  compared with the ETag S3 answers, which is the MD5 of the part it stored (hashed on a
  thread of its own while the part is sent). On a mismatch the part does not count
  (PartCorrupted: the caller keeps its offset) and the client sends it again. Where the
  ETag is not an MD5 (SSE-KMS or SSE-C encryption, or a server that differs from AWS here)
  the comparison is skipped and a note logged once: TLS is then the check.
* No retries for a part: its body is the client's request stream, which cannot be rewound,
  so the parts client makes one attempt (and the body has no ``seek``, so botocore could
  never resend a truncated one). A failure is StorageUnavailable at once; the tus client
  sends the whole part again.
* A client that drops or ends early: its stream's error (or IncompletePart) is raised
  unchanged, and the request to S3 is cut off before its declared length, which stores
  nothing (AWS and SeaweedFS alike).
* Slow clients: reads from the client start at 64 KiB and grow to 1 MiB only while they
  come back quickly (shrinking to 16 KiB when they do not), so bytes keep flowing to S3 on
  a poor connection too (AWS drops a request whose body stalls for about 20 s, SeaweedFS's
  S3 server after 120 s by default). A client slower than 16 KiB in 20 s cannot upload to
  AWS; with spooled parts it could.
* No ``Expect: 100-continue`` round trip before each part (botocore adds one to every body
  that is a file). Should S3 refuse a part, it answers while the body is on its way.
* SeaweedFS keeps every copy of a part number sent and lists them to the second; after a
  mismatch the answer waits a second, so the copy sent again is listed as the newest.
"""

from __future__ import annotations

import hashlib
import io
import logging
import queue
import re
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import IO, TYPE_CHECKING, Any, BinaryIO
from urllib.parse import parse_qsl, urlparse

import boto3
import urllib3.exceptions
from boto3.exceptions import Boto3Error
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.handlers import add_expect_header

from memorybox.storage.base import (
    MAX_PART_NUMBER,
    IncompletePart,
    PartCorrupted,
    RangeNotSatisfiable,
    StorageError,
    StorageUnavailable,
    StoredObject,
    check_header_value,
    check_part,
    check_part_sizes,
    check_range,
    url_lifetime,
)
from memorybox.storage.keys import KEY_PATTERN, check_key

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

#: Size of the parts ``save`` sends; also the most a part buffer holds in memory.
PART_SIZE = 8 * 1024 * 1024
#: How much is read from a caller's stream at once.
CHUNK = 1024 * 1024
#: What ``open``'s reader fetches on its first read after opening or seeking (see _S3Reader).
PEEK = CHUNK
#: A streamed part is read from the client in steps between these sizes: a step that comes
#: back within STEP_FAST seconds doubles the next, one slower than STEP_SLOW halves it.
STEP_MIN = 16 * 1024
STEP_FIRST = 64 * 1024
STEP_MAX = CHUNK
STEP_FAST = 0.25
STEP_SLOW = 1.0
#: After a part whose ETag was not its MD5, wait this long before answering, so the copy
#: sent again is listed as newer (SeaweedFS keeps both and lists times to the second).
RESEND_GAP = 1.0

log = logging.getLogger(__name__)

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
# Upload ids are the server's (AWS: base64-like; SeaweedFS: hex_hex; Ceph: 2~...). They only
# travel as a query parameter, but a slash or a leading dot is never needed, so never passed.
_UPLOAD_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~+=-]{0,1023}$")
_MD5_HEX = re.compile(r"^[0-9a-f]{32}$")
_NOT_FOUND = {"NoSuchKey", "NotFound", "404", "NoSuchUpload"}
_UNREACHABLE: tuple[type[BaseException], ...] = (
    BotoCoreError,
    Boto3Error,
    urllib3.exceptions.HTTPError,
)


@contextmanager
def _translated(*also: type[BaseException]) -> Iterator[None]:
    """Turn boto3's errors into the storage package's: missing → FileNotFoundError, anything
    else → StorageUnavailable. ``also`` adds error types to treat as an outage (OSError while
    reading a response body)."""
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in _NOT_FOUND:
            raise FileNotFoundError(
                f"object storage has no such object or upload ({code})"
            ) from None
        if code == "InvalidRange" or status == 416:
            raise RangeNotSatisfiable("the range starts past the end of the object") from None
        raise StorageUnavailable(f"object storage refused the request ({code or status})") from exc
    except _UNREACHABLE + also as exc:
        raise StorageUnavailable(
            f"object storage could not be reached ({type(exc).__name__})"
        ) from exc


class S3Storage:
    backend_name = "s3"

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        connect_timeout: float = 2.0,
        read_timeout: float = 5.0,
        max_attempts: int = 2,
    ) -> None:
        """``access_key``/``secret_key`` default to boto3's chain (the environment)."""
        if not _BUCKET.fullmatch(bucket):
            raise ValueError(f"{bucket!r} is not an S3 bucket name")
        self.bucket = bucket
        self._etag_note_logged = False
        # S3-compatible servers answer on one host name: bucket in the path.
        addressing = {"addressing_style": "path"} if endpoint_url else {}
        try:
            config = Config(
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                retries={"total_max_attempts": max_attempts, "mode": "standard"},
                signature_version="s3v4",
                s3=addressing or None,
                # Checksums only where S3 demands them: some S3-compatible services reject
                # the newer CRC headers. The payload is signed (botocore hashes it first).
                request_checksum_calculation="when_required",
            )
            # Streamed parts (see the module's docstring): payload unsigned, one attempt.
            parts_config = config.merge(
                Config(
                    retries={"total_max_attempts": 1, "mode": "standard"},
                    s3={**addressing, "payload_signing_enabled": False},
                )
            )
            session = boto3.session.Session(
                aws_access_key_id=access_key,
                aws_secret_access_key=secret_key,
                region_name=region,
            )
            self._client = session.client("s3", endpoint_url=endpoint_url, config=config)
            self._parts_client = session.client(
                "s3", endpoint_url=endpoint_url, config=parts_config
            )
            # No "Expect: 100-continue" wait before a part's body (a round trip per part).
            self._parts_client.meta.events.unregister("before-call.s3", add_expect_header)
        except _UNREACHABLE as exc:
            raise ValueError(f"S3 storage is misconfigured: {exc}") from exc

    @classmethod
    def from_url(cls, url: str) -> S3Storage:
        """``s3://bucket?endpoint=http://host:port&region=name``."""
        parsed = urlparse(url)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise ValueError("an S3 STORAGE_URL looks like s3://bucket?region=eu-west-2")
        if "@" in parsed.netloc:
            raise ValueError("put S3 credentials in AWS_ACCESS_KEY_ID/_SECRET_, not the URL")
        if parsed.path not in {"", "/"} or parsed.fragment or parsed.params:
            raise ValueError("an S3 STORAGE_URL names a bucket only, no folder")
        options = dict(parse_qsl(parsed.query, keep_blank_values=True))
        unknown = set(options) - {"endpoint", "region"}
        if unknown:
            raise ValueError(f"unknown S3 STORAGE_URL option(s): {', '.join(sorted(unknown))}")
        endpoint = options.get("endpoint") or None
        if endpoint is not None:
            target = urlparse(endpoint)
            if target.scheme not in {"http", "https"} or not target.hostname:
                raise ValueError("the S3 endpoint must be an http:// or https:// address")
            if target.username or target.password:
                raise ValueError("put S3 credentials in AWS_ACCESS_KEY_ID/_SECRET_, not the URL")
        return cls(parsed.netloc, endpoint_url=endpoint, region=options.get("region") or None)

    # Objects

    def save(self, key: str, stream: BinaryIO, content_type: str) -> int:
        check_key(key)
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        total = 0
        try:
            while True:
                with _spooled(stream, PART_SIZE) as (body, size):
                    if upload_id is None and size < PART_SIZE:
                        with _translated():
                            self._client.put_object(
                                Bucket=self.bucket,
                                Key=key,
                                Body=body,
                                ContentLength=size,
                                ContentType=content_type,
                            )
                        return size
                    if size == 0:
                        break
                    if upload_id is None:
                        upload_id = self.start_upload(key, content_type)
                    number = len(parts) + 1
                    if number > MAX_PART_NUMBER:
                        raise ValueError("the object is larger than S3 can take in one upload")
                    parts.append(
                        {
                            "PartNumber": number,
                            "ETag": self._put_part(key, upload_id, number, body, size),
                        }
                    )
                    total += size
                    if size < PART_SIZE:
                        break
            with _translated():
                self._client.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
        except BaseException:
            if upload_id is not None:
                self._abort_quietly(key, upload_id)
            raise
        return total

    def open(self, key: str) -> BinaryIO:
        size = self.size(key)
        return io.BufferedReader(_S3Reader(self, key, size), buffer_size=CHUNK)

    def iter_bytes(self, key: str, chunk_size: int = 256 * 1024) -> Iterator[bytes]:
        check_key(key)
        yield from self._stream(key, None, chunk_size)

    def get_range(
        self, key: str, start: int, end: int, chunk_size: int = 256 * 1024
    ) -> Iterator[bytes]:
        check_key(key)
        check_range(start, end)
        yield from self._stream(key, f"bytes={start}-{end}", chunk_size)

    def size(self, key: str) -> int:
        check_key(key)
        with _translated():
            head = self._client.head_object(Bucket=self.bucket, Key=key)
        return int(head["ContentLength"])

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except FileNotFoundError:
            return False
        return True

    def delete(self, key: str) -> None:
        check_key(key)
        with _translated():
            self._client.delete_object(Bucket=self.bucket, Key=key)

    def objects(self) -> Iterator[StoredObject]:
        with _translated():
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix="items/"
            )
            for page in pages:
                for entry in page.get("Contents", []):
                    key = str(entry["Key"])
                    if KEY_PATTERN.fullmatch(key):
                        yield StoredObject(key, int(entry["Size"]), entry["LastModified"])

    def presigned_url(
        self, key: str, *, expires_in: int = 60, content_type: str, disposition: str
    ) -> str:
        check_key(key)
        with _translated():
            url = self._client.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": key,
                    "ResponseContentType": check_header_value(content_type),
                    "ResponseContentDisposition": check_header_value(disposition),
                    "ResponseCacheControl": "no-store",
                },
                ExpiresIn=url_lifetime(expires_in),
                HttpMethod="GET",
            )
        return str(url)

    # Multipart uploads

    def start_upload(self, key: str, content_type: str) -> str:
        check_key(key)
        with _translated():
            started = self._client.create_multipart_upload(
                Bucket=self.bucket, Key=key, ContentType=content_type
            )
        upload_id = str(started["UploadId"])
        if not _UPLOAD_ID.fullmatch(upload_id):
            self._abort_quietly(key, upload_id)
            raise StorageUnavailable("object storage gave an upload id this app cannot use")
        return upload_id

    def upload_part(
        self, key: str, upload_id: str, part_number: int, stream: BinaryIO, length: int
    ) -> None:
        check_key(key)
        _check_upload_id(upload_id)
        check_part(part_number, length)
        body = _PartBody(stream, length)
        try:
            with _translated():
                sent = self._parts_client.upload_part(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=part_number,
                    Body=body,
                    ContentLength=length,
                )
        except StorageError:
            if body.error is not None:  # the client's stream failed, not S3
                raise body.error from None
            raise
        finally:
            body.md5.close()
        if body.error is not None or body.read_so_far != length:
            raise StorageUnavailable("object storage answered before the whole part was sent")
        self._check_etag(sent, body.md5.hexdigest(), part_number)

    def uploaded_parts(self, key: str, upload_id: str) -> list[tuple[int, int]]:
        return [(int(p["PartNumber"]), int(p["Size"])) for p in self._list_parts(key, upload_id)]

    def complete_upload(self, key: str, upload_id: str) -> int:
        listed = self._list_parts(key, upload_id)
        sizes = [(int(part["PartNumber"]), int(part["Size"])) for part in listed]
        check_part_sizes(sizes)
        with _translated():
            self._client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={
                    "Parts": [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in listed]
                },
            )
        return sum(size for _number, size in sizes)

    def abort_upload(self, key: str, upload_id: str) -> None:
        check_key(key)
        _check_upload_id(upload_id)
        try:
            with _translated():
                self._client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except FileNotFoundError:
            pass

    # Helpers

    def _check_etag(self, sent: dict[str, Any], md5: str, part_number: int) -> None:
        """Raise PartCorrupted when S3 stored other bytes than were read (its ETag is the
        part's MD5), after RESEND_GAP; only log, once, when the ETag is no MD5."""
        etag = str(sent.get("ETag", "")).strip('"').lower()
        encrypted = str(sent.get("ServerSideEncryption", "")).startswith("aws:kms") or bool(
            sent.get("SSECustomerAlgorithm")
        )
        if encrypted or not _MD5_HEX.fullmatch(etag):
            if not self._etag_note_logged:
                self._etag_note_logged = True
                log.info(
                    "object storage's part ETags are not MD5s (encryption: %s): parts are "
                    "not checked against what was stored; only TLS, where used, guards them",
                    sent.get("ServerSideEncryption") or "none",
                )
            return
        if etag != md5:
            log.warning("part %d was stored with other bytes than were sent", part_number)
            time.sleep(RESEND_GAP)
            raise PartCorrupted("the part did not arrive intact; send it again")

    def _put_part(self, key: str, upload_id: str, number: int, body: IO[bytes], size: int) -> str:
        with _translated():
            sent = self._client.upload_part(
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                PartNumber=number,
                Body=body,
                ContentLength=size,
            )
        return str(sent["ETag"])

    def _list_parts(self, key: str, upload_id: str) -> list[dict[str, Any]]:
        """The stored parts, one per part number, in order.

        AWS keeps one copy of a part number. SeaweedFS keeps every copy sent and joins the
        newest; its listing shows them all, so only the most recently modified is kept here
        (a retry of the same bytes has the same ETag, so which copy wins does not matter).
        """
        check_key(key)
        _check_upload_id(upload_id)
        with _translated():
            pages = self._client.get_paginator("list_parts").paginate(
                Bucket=self.bucket, Key=key, UploadId=upload_id
            )
            newest: dict[int, dict[str, Any]] = {}
            for page in pages:
                for part in page.get("Parts", []):
                    number = int(part["PartNumber"])
                    known = newest.get(number)
                    if known is None or _later(part, known):
                        newest[number] = part
        return [newest[number] for number in sorted(newest)]

    def _abort_quietly(self, key: str, upload_id: str) -> None:
        """Best effort after a failed save; a bucket lifecycle rule sweeps what this misses."""
        with suppress(StorageUnavailable, FileNotFoundError, RangeNotSatisfiable), _translated():
            self._client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)

    def _body(self, key: str, byte_range: str | None) -> Any:
        params = {"Bucket": self.bucket, "Key": key}
        if byte_range:
            params["Range"] = byte_range
        with _translated():
            return self._client.get_object(**params)["Body"]

    def _stream(self, key: str, byte_range: str | None, chunk_size: int) -> Iterator[bytes]:
        body = self._body(key, byte_range)
        try:
            while True:
                with _translated(OSError):
                    chunk = body.read(chunk_size)
                if not chunk:
                    return
                yield chunk
        finally:
            body.close()


class _S3Reader(io.RawIOBase):
    """A seekable reader over one object. The first read after opening or seeking fetches
    a bounded range (PEEK bytes, or what was asked if more): callers that look at a file's
    head and tail (sniffing its type) cost S3 no more than that. Reading on past it
    streams the rest in one GET; a seek starts again with a bounded range."""

    def __init__(self, storage: S3Storage, key: str, size: int) -> None:
        super().__init__()
        self._storage = storage
        self._key = key
        self._size = size
        self._position = 0
        self._response: Any = None
        self._response_end = 0  # where the open response's range ends
        self._peeking = True

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            target = offset
        elif whence == io.SEEK_CUR:
            target = self._position + offset
        elif whence == io.SEEK_END:
            target = self._size + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if target < 0:
            raise ValueError("negative seek position")
        if target != self._position:
            self._drop_response()
            self._position = target
            self._peeking = True
        return self._position

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        if self._position >= self._size or not len(view):
            return 0
        if self._response is not None and self._position >= self._response_end:
            self._drop_response()  # the bounded first range is used up: stream the rest
            self._peeking = False
        if self._response is None:
            start = self._position
            if self._peeking:
                self._response_end = min(self._size, start + max(PEEK, len(view)))
                byte_range = f"bytes={start}-{self._response_end - 1}"
            else:
                self._response_end = self._size
                byte_range = f"bytes={start}-"
            self._response = self._storage._body(self._key, byte_range)
        with _translated(OSError):
            data = self._response.read(min(len(view), self._response_end - self._position))
        if not data:
            raise StorageUnavailable("the object ended before its recorded size")
        view[: len(data)] = data
        self._position += len(data)
        return len(data)

    def close(self) -> None:
        self._drop_response()
        super().close()

    def _drop_response(self) -> None:
        if self._response is not None:
            self._response.close()
            self._response = None


class _Hasher:
    """MD5 of a series of chunks, computed on a thread of its own (hashlib lets go of the GIL
    while it hashes), so hashing a part runs beside reading and sending it. At most two
    chunks wait; ``update`` blocks while they do."""

    def __init__(self) -> None:
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=2)
        self._thread = threading.Thread(target=self._run, name="part-md5", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (chunk := self._queue.get()) is not None:
            self._md5.update(chunk)

    def update(self, chunk: bytes) -> None:
        self._queue.put(chunk)

    def hexdigest(self) -> str:
        self.close()
        return self._md5.hexdigest()

    def close(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()


class _PartBody:
    """What botocore sends as a streamed part: exactly ``length`` bytes of the caller's stream,
    read as botocore asks for them and hashed (MD5) on the way. Not seekable, so never sent
    twice. An error from the stream (or IncompletePart when it ends early) is kept in
    ``error`` and raised, which cuts the request to S3 off."""

    def __init__(self, stream: BinaryIO, length: int) -> None:
        self._stream = stream
        self._left = length  # still to read from the stream
        self._chunk = b""  # the last read from the stream, handed on from ``_at``
        self._at = 0
        self._step = STEP_FIRST
        self.md5 = _Hasher()
        self.error: BaseException | None = None
        self.read_so_far = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if self._at >= len(self._chunk):
            self._fill()
        start, whole = self._at, len(self._chunk)
        end = whole if size is None or size < 0 else min(whole, start + size)
        self._at = end
        self.read_so_far += end - start
        return self._chunk if start == 0 and end == whole else self._chunk[start:end]

    def _fill(self) -> None:
        if self._left <= 0:
            return
        want = min(self._step, self._left)
        started = time.monotonic()
        try:
            chunk = self._stream.read(want)
            if not chunk:
                raise IncompletePart(f"the part ended {self._left} bytes short")
            if len(chunk) > want:
                raise ValueError("the stream gave more bytes than were asked for")
        except BaseException as exc:
            self.error = exc
            raise
        elapsed = time.monotonic() - started
        if elapsed < STEP_FAST:
            self._step = min(self._step * 2, STEP_MAX)
        elif elapsed > STEP_SLOW:
            self._step = max(self._step // 2, STEP_MIN)
        self._left -= len(chunk)
        self.md5.update(chunk)
        self._chunk, self._at = chunk, 0


def _later(part: dict[str, Any], than: dict[str, Any]) -> bool:
    mine, theirs = part.get("LastModified"), than.get("LastModified")
    return mine is not None and theirs is not None and bool(mine > theirs)


def _check_upload_id(upload_id: str) -> str:
    if not isinstance(upload_id, str) or not _UPLOAD_ID.fullmatch(upload_id):
        raise ValueError("not an upload id this storage made")
    return upload_id


@contextmanager
def _spooled(stream: BinaryIO, limit: int) -> Iterator[tuple[IO[bytes], int]]:
    """Up to ``limit`` bytes of ``stream`` in a rewound buffer: memory up to PART_SIZE, a
    temporary file beyond it. Errors from ``stream`` itself pass through unchanged."""
    with tempfile.SpooledTemporaryFile(max_size=PART_SIZE) as spool:
        size = 0
        while size < limit:
            chunk = stream.read(min(CHUNK, limit - size))
            if not chunk:
                break
            try:
                spool.write(chunk)
            except OSError as exc:
                raise StorageUnavailable("could not buffer the upload") from exc
            size += len(chunk)
        spool.seek(0)
        yield spool, size
