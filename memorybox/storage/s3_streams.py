"""The byte streams S3 storage reads and sends, and boto3's errors turned into ours.

- ``translated``: boto3, botocore and urllib3 errors as FileNotFoundError,
  RangeNotSatisfiable or StorageUnavailable, so none reaches a caller.
- ``S3Reader``: a seekable reader over one object whose first read after a seek fetches a
  bounded range.
- ``PartBody`` (with ``Crc32`` or ``Md5``): a part streamed from the client to S3 as it
  arrives, read in steps that follow the client's pace and checksummed on the way.
- ``spooled``: a bounded, rewound copy of a stream, for parts whose payload is signed.

See ``memorybox.storage.s3`` for why parts are streamed and how they are checked.
"""

from __future__ import annotations

import base64
import hashlib
import io
import queue
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any, BinaryIO

import urllib3.exceptions
from boto3.exceptions import Boto3Error
from botocore.exceptions import BotoCoreError, ClientError

from memorybox.storage.base import IncompletePart, RangeNotSatisfiable, StorageUnavailable

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

#: Size of the parts ``save`` sends; also the most a part buffer holds in memory.
PART_SIZE = 8 * 1024 * 1024
#: How much is read from a caller's stream at once.
CHUNK = 1024 * 1024
#: What ``open``'s reader fetches on its first read after opening or seeking (see S3Reader).
PEEK = CHUNK
#: A streamed part is read from the client in steps between these sizes: a step that comes
#: back within STEP_FAST seconds doubles the next, one slower than STEP_SLOW halves it.
STEP_MIN = 16 * 1024
STEP_FIRST = 64 * 1024
STEP_MAX = CHUNK
STEP_FAST = 0.25
STEP_SLOW = 1.0

_NOT_FOUND = {"NoSuchKey", "NotFound", "404", "NoSuchUpload"}
UNREACHABLE: tuple[type[BaseException], ...] = (
    BotoCoreError,
    Boto3Error,
    urllib3.exceptions.HTTPError,
)


@contextmanager
def translated(*also: type[BaseException]) -> Iterator[None]:
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
    except UNREACHABLE + also as exc:
        raise StorageUnavailable(
            f"object storage could not be reached ({type(exc).__name__})"
        ) from exc


class S3Reader(io.RawIOBase):
    """A seekable reader over one object. The first read after opening or seeking fetches
    a bounded range (PEEK bytes, or what was asked if more): callers that look at a file's
    head and tail (sniffing its type) cost S3 no more than that. Reading on past it
    streams the rest in one GET; a seek starts again with a bounded range."""

    def __init__(self, fetch: Callable[[str], Any], size: int) -> None:
        """``fetch(byte_range)`` opens a GET of the object for that range (a streaming
        body with ``read`` and ``close``)."""
        super().__init__()
        self._fetch = fetch
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
            self._response = self._fetch(byte_range)
        with translated(OSError):
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


def crc32_base64(data: bytes) -> str:
    """CRC32 as S3 writes it in ``x-amz-checksum-crc32``: four big-endian bytes, base64."""
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode("ascii")


class Crc32:
    """CRC32 of a series of chunks, in the caller's thread (zlib does a part in about a
    millisecond). ``digest`` is base64, as S3 reports it."""

    def __init__(self) -> None:
        self._crc = 0

    def update(self, chunk: bytes) -> None:
        self._crc = zlib.crc32(chunk, self._crc)

    def digest(self) -> str:
        return base64.b64encode(self._crc.to_bytes(4, "big")).decode("ascii")

    def close(self) -> None:
        pass


class Md5:
    """MD5 of a series of chunks, computed on a thread of its own (hashlib lets go of the GIL
    while it hashes), so hashing a part runs beside reading and sending it. At most two
    chunks wait; ``update`` blocks while they do. ``digest`` is hex, as in an ETag."""

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

    def digest(self) -> str:
        self.close()
        return self._md5.hexdigest()

    def close(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()


class PartBody:
    """What botocore sends as a streamed part: exactly ``length`` bytes of the caller's stream,
    read as botocore asks for them and checksummed on the way (``checksum``: "crc32" or
    "md5"; the result is ``checksum.digest()``). Not seekable, so never sent twice. An
    error from the stream (or IncompletePart when it ends early) is kept in
    ``error`` and raised, which cuts the request to S3 off."""

    def __init__(self, stream: BinaryIO, length: int, checksum: str = "md5") -> None:
        self._stream = stream
        self._left = length  # still to read from the stream
        self._chunk = b""  # the last read from the stream, handed on from ``_at``
        self._at = 0
        self._step = STEP_FIRST
        self.checksum: Crc32 | Md5 = Crc32() if checksum == "crc32" else Md5()
        self.error: BaseException | None = None
        self.read_so_far = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        """The rest of the chunk last read from the client, even when ``size`` asks for less
        (only urllib3 reads this, and it sends whatever a read gives): a chunk of up to
        STEP_MAX goes out in one send, not cut into botocore's 128 KiB blocks (a copy and a
        system call each)."""
        if self._at >= len(self._chunk):
            self._fill()
        start = self._at
        self._at = len(self._chunk)
        self.read_so_far += self._at - start
        return self._chunk if start == 0 else self._chunk[start:]

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
        self.checksum.update(chunk)
        self._chunk, self._at = chunk, 0


@contextmanager
def spooled(stream: BinaryIO, limit: int) -> Iterator[tuple[IO[bytes], int]]:
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
