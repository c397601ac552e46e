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
* Integrity is checked end to end instead, on every part, against what S3 says it stored.
  Servers that report a part's CRC32 when the request names the algorithm
  (``x-amz-sdk-checksum-algorithm: CRC32``, no value; SeaweedFS does) are checked by CRC32,
  which costs about a millisecond per 8 MiB part. Whether the server does is learned once
  per storage by a probe (a few bytes sent as a part of a scratch upload, then aborted):
  AWS refuses the bare header, so there, and on any server that does not report a correct
  CRC32, the MD5 of the bytes read is compared with the ETag S3 answers instead, which is
  the MD5 of the part it stored (hashed on a thread of its own while the part is sent,
  about ten times the CPU). On a mismatch the part does not count (PartCorrupted: the
  caller keeps its offset) and the client sends it again. Where the ETag is not an MD5
  (SSE-KMS or SSE-C encryption, or a server that differs from AWS here) the comparison is
  skipped and a note logged once: TLS is then the check.
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

import io
import logging
import re
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from typing import Any, BinaryIO
from urllib.parse import parse_qsl, urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.handlers import add_expect_header

from memorybox.storage.base import (
    MAX_PART_NUMBER,
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
from memorybox.storage.keys import KEY_PATTERN, check_key, new_key
from memorybox.storage.s3_streams import (
    CHUNK,
    PART_SIZE,
    UNREACHABLE,
    PartBody,
    S3Reader,
    crc32_base64,
    spooled,
    translated,
)

#: After a part whose ETag was not its MD5, wait this long before answering, so the copy
#: sent again is listed as newer (SeaweedFS keeps both and lists times to the second).
RESEND_GAP = 1.0

log = logging.getLogger(__name__)

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
# Upload ids are the server's (AWS: base64-like; SeaweedFS: hex_hex; Ceph: 2~...). They only
# travel as a query parameter, but a slash or a leading dot is never needed, so never passed.
_UPLOAD_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~+=-]{0,1023}$")
_MD5_HEX = re.compile(r"^[0-9a-f]{32}$")
#: What the checksum probe sends (any few bytes do).
_PROBE_BODY = b"memorybox: does this server report a part's CRC32?"


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
        # How streamed parts are checked: "crc32" or "md5", None until probed.
        self._part_check: str | None = None
        self._probe_lock = threading.Lock()
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
            self._parts_client.meta.events.register(
                "before-call.s3.UploadPart", self._name_part_checksum
            )
        except UNREACHABLE as exc:
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
                with spooled(stream, PART_SIZE) as (body, size):
                    if upload_id is None and size < PART_SIZE:
                        with translated():
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
                    with translated():
                        sent = self._send_part(self._client, key, upload_id, number, body, size)
                    parts.append({"PartNumber": number, "ETag": str(sent["ETag"])})
                    total += size
                    if size < PART_SIZE:
                        break
            with translated():
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
        reader = S3Reader(lambda byte_range: self._body(key, byte_range), size)
        return io.BufferedReader(reader, buffer_size=CHUNK)

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
        with translated():
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
        with translated():
            self._client.delete_object(Bucket=self.bucket, Key=key)

    def objects(self) -> Iterator[StoredObject]:
        with translated():
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
        with translated():
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
        with translated():
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
        check = self.part_check()
        body = PartBody(stream, length, check)
        try:
            with translated():
                sent = self._send_part(
                    self._parts_client, key, upload_id, part_number, body, length
                )
        except StorageError:
            if body.error is not None:  # the client's stream failed, not S3
                raise body.error from None
            raise
        finally:
            body.checksum.close()
        if body.error is not None or body.read_so_far != length:
            raise StorageUnavailable("object storage answered before the whole part was sent")
        if check == "crc32":
            self._check_crc32(sent, body.checksum.digest(), part_number)
        else:
            self._check_etag(sent, body.checksum.digest(), part_number)

    def uploaded_parts(self, key: str, upload_id: str) -> list[tuple[int, int]]:
        return [(int(p["PartNumber"]), int(p["Size"])) for p in self._list_parts(key, upload_id)]

    def complete_upload(self, key: str, upload_id: str) -> int:
        listed = self._list_parts(key, upload_id)
        sizes = [(int(part["PartNumber"]), int(part["Size"])) for part in listed]
        check_part_sizes(sizes)
        with translated():
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
            with translated():
                self._client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except FileNotFoundError:
            pass

    # Checking streamed parts

    def part_check(self) -> str:
        """How streamed parts are checked, "crc32" or "md5" (probing the server first)."""
        if self._part_check is None:
            with self._probe_lock:
                if self._part_check is None:
                    self._part_check = self._probe_part_check()
                    log.info("streamed parts are checked by %s", self._part_check.upper())
        return self._part_check

    def _name_part_checksum(self, params: dict[str, Any], **_: Any) -> None:
        """Parts client, before each UploadPart: ask for the part's CRC32 (while probing and
        once the server is known to report it). No value is sent: it is computed on the way."""
        if self._part_check != "md5":
            params["headers"]["x-amz-sdk-checksum-algorithm"] = "CRC32"

    def _probe_part_check(self) -> str:
        """Send a few bytes as a part of a scratch upload, asking for their CRC32, and abort
        it: "crc32" when the server reports the right one, "md5" when it reports none, a
        wrong one, or refuses the question (AWS does). An outage is StorageUnavailable and
        decides nothing."""
        key = new_key("probe")
        upload_id: str | None = None
        try:
            upload_id = str(
                self._client.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
            )
            sent = self._send_part(
                self._parts_client, key, upload_id, 1, _PROBE_BODY, len(_PROBE_BODY)
            )
        except ClientError as exc:  # an answer, not an outage: the server will not say
            log.info("object storage refused the CRC32 question (%s)", exc)
            return "md5"
        except UNREACHABLE as exc:
            raise StorageUnavailable(
                f"object storage could not be reached ({type(exc).__name__})"
            ) from exc
        finally:
            if upload_id is not None and _UPLOAD_ID.fullmatch(upload_id):
                self._abort_quietly(key, upload_id)
        return "crc32" if sent.get("ChecksumCRC32") == crc32_base64(_PROBE_BODY) else "md5"

    def _check_crc32(self, sent: dict[str, Any], crc32: str, part_number: int) -> None:
        """Raise PartCorrupted when the CRC32 S3 reports for the part is not that of the bytes
        read, or when it reports none (the server changed: the next part probes again)."""
        reported = sent.get("ChecksumCRC32")
        if reported is None:
            log.warning("object storage stopped reporting part CRC32s; probing again")
            self._part_check = None
        elif reported == crc32:
            return
        else:
            log.warning("part %d was stored with other bytes than were sent", part_number)
        time.sleep(RESEND_GAP)
        raise PartCorrupted("the part did not arrive intact; send it again")

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

    # Helpers

    def _send_part(
        self, client: Any, key: str, upload_id: str, number: int, body: Any, size: int
    ) -> dict[str, Any]:
        """One UploadPart through ``client`` (boto3's errors untranslated)."""
        sent: dict[str, Any] = client.upload_part(
            Bucket=self.bucket,
            Key=key,
            UploadId=upload_id,
            PartNumber=number,
            Body=body,
            ContentLength=size,
        )
        return sent

    def _list_parts(self, key: str, upload_id: str) -> list[dict[str, Any]]:
        """The stored parts, one per part number, in order.

        AWS keeps one copy of a part number. SeaweedFS keeps every copy sent and joins the
        newest; its listing shows them all, so only the most recently modified is kept here
        (a retry of the same bytes has the same ETag, so which copy wins does not matter).
        """
        check_key(key)
        _check_upload_id(upload_id)
        with translated():
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
        with suppress(StorageUnavailable, FileNotFoundError, RangeNotSatisfiable), translated():
            self._client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)

    def _body(self, key: str, byte_range: str | None) -> Any:
        params = {"Bucket": self.bucket, "Key": key}
        if byte_range:
            params["Range"] = byte_range
        with translated():
            return self._client.get_object(**params)["Body"]

    def _stream(self, key: str, byte_range: str | None, chunk_size: int) -> Iterator[bytes]:
        body = self._body(key, byte_range)
        try:
            while True:
                with translated(OSError):
                    chunk = body.read(chunk_size)
                if not chunk:
                    return
                yield chunk
        finally:
            body.close()


def _later(part: dict[str, Any], than: dict[str, Any]) -> bool:
    mine, theirs = part.get("LastModified"), than.get("LastModified")
    return mine is not None and theirs is not None and bool(mine > theirs)


def _check_upload_id(upload_id: str) -> str:
    if not isinstance(upload_id, str) or not _UPLOAD_ID.fullmatch(upload_id):
        raise ValueError("not an upload id this storage made")
    return upload_id
