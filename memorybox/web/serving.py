"""Serving stored objects: a short-lived signed URL where storage offers one (S3), else
streamed from here with HTTP Range (local disk). Always no-store, nosniff (set for every
response), a sandboxing CSP and a safe file name."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Response, redirect, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from memorybox.storage import RangeNotSatisfiable, StorageError
from memorybox.web.access import storage
from memorybox.web.errors import render_error


def send_stored(
    key: str, content_type: str, size: int, name: str, attachment: bool
) -> ResponseReturnValue:
    """``name`` must already be safe (ASCII, no quotes): it is never the uploaded name."""
    disposition = f'{"attachment" if attachment else "inline"}; filename="{name}"'
    try:
        url = storage().presigned_url(
            key, expires_in=60, content_type=content_type, disposition=disposition
        )
    except StorageError:
        return _unavailable()
    if url:
        response = redirect(url, code=303)
        response.headers["Cache-Control"] = "no-store"
        return response
    status, start, end = 200, 0, size - 1
    if request.range is not None and size > 0:
        span = request.range.range_for_length(size)
        if span is None:
            response = Response(status=416)
            response.headers["Content-Range"] = f"bytes */{size}"
            return response
        start, end, status = span[0], span[1] - 1, 206
    try:
        chunks = (
            storage().get_range(key, start, end) if status == 206 else storage().iter_bytes(key)
        )
        first = next(chunks, b"")
    except (FileNotFoundError, StorageError, RangeNotSatisfiable):
        return _unavailable()

    def body() -> Iterator[bytes]:
        yield first
        yield from chunks

    response = Response(body(), status=status, mimetype=content_type)
    response.headers["Content-Length"] = str(end - start + 1 if size else 0)
    response.headers["Accept-Ranges"] = "bytes"
    if status == 206:
        response.headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    response.headers["Content-Disposition"] = disposition
    response.headers["Cache-Control"] = "no-store, private"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


def _unavailable() -> ResponseReturnValue:
    return render_error(
        503, _("We can't open that just now"), _("Please try again in a few minutes.")
    )
