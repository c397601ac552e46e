"""A request body read the cheapest way the server allows, for upload parts.

Under gunicorn (``wsgi.input_terminated``: the server ends the body at its Content-Length)
the body is read without Werkzeug's guard, which copies every chunk twice more. gunicorn's
own ``read`` still copies each chunk three or four times through BytesIO buffers, about a
fifth of the web process's CPU while a big file arrives, so where the objects are exactly
gunicorn's (27.x: Body over LengthReader over SocketUnreader, nothing held in Body yet) its
socket reader is asked for one receive at a time instead, and anything received past the
body (a pipelined next request) is handed back to it. Anything else: the server's stream.
"""

from __future__ import annotations

from typing import Any

from gunicorn.http.body import Body, LengthReader
from gunicorn.http.unreader import SocketUnreader
from werkzeug.exceptions import ClientDisconnected


class GunicornBody:
    """gunicorn's body of known length, read straight from its socket reader."""

    def __init__(self, reader: Any) -> None:
        self._reader = reader  # gunicorn's LengthReader: ``length`` is what is left

    @classmethod
    def of(cls, stream: Any) -> GunicornBody | None:
        """The fast reader for ``stream`` (``wsgi.input``), or None if it is not one."""
        if type(stream) is not Body:
            return None
        reader: Any = getattr(stream, "reader", None)
        if type(reader) is not LengthReader or type(reader.unreader) is not SocketUnreader:
            return None
        if stream.buf.tell():  # the app already read some through Body: keep to its path
            return None
        return cls(reader)

    def read(self, size: int = -1) -> bytes:
        reader = self._reader
        want = reader.length if size is None or size < 0 else min(size, reader.length)
        if want <= 0:
            return b""
        # What the reader holds, or one receive of at most ``want`` (at least 8 KiB).
        data = reader.unreader.read(None, read_ahead=want)
        if len(data) > want:
            reader.unreader.unread(data[want:])
            data = data[:want]
        reader.length -= len(data)
        return bytes(data)


class UploadBody:
    """The request body as storage reads it (``read(size)`` only, never more than the
    declared length). A dropped connection is ClientDisconnected."""

    def __init__(self, environ: dict[str, Any], stream: Any, guarded: Any) -> None:
        """``stream`` is the server's ``wsgi.input``, ``guarded`` Werkzeug's guard on it."""
        if environ.get("wsgi.input_terminated"):
            self._raw = GunicornBody.of(stream) or stream
        else:
            self._raw = guarded

    def read(self, size: int = -1) -> bytes:
        try:
            return self._raw.read(size)
        except OSError as exc:
            raise ClientDisconnected() from exc
