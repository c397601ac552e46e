"""Exports: "Take my things with me" for the young person, PDF and JSON for professionals."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from memorybox.audit import service as audit
from memorybox.children.models import Child
from memorybox.db import db
from memorybox.exports import services as exports
from memorybox.exports.models import Export, ExportKind, ExportState
from memorybox.policy import Action
from memorybox.storage import RangeNotSatisfiable, StorageError
from memorybox.web.access import load, require, signed_in_actor, signed_in_only, storage
from memorybox.web.errors import render_error

bp = Blueprint("exports", __name__)

signed_in_only(bp)


def _status(export: Export) -> dict[str, object]:
    return {
        "id": export.id,
        "kind": export.kind.value,
        "state": export.state.value,
        "progress": export.progress,
        "error": export.error,
        "ready": export.ready,
        "size": export.size,
        "download_url": url_for("exports.download", export_id=export.id) if export.ready else None,
    }


@bp.get("/children/<int:child_id>/exports")
def index(child_id: int) -> ResponseReturnValue:
    child = load(Child, child_id, Action.EXPORT_REQUEST)
    me = signed_in_actor()
    return render_template(
        "exports/index.html",
        child=child,
        own=child.user_id == me.id,
        kinds=exports.allowed_kinds(me, child),
        exports=exports.exports_for(me, child),
        ExportState=ExportState,
    )


@bp.post("/children/<int:child_id>/exports")
def create(child_id: int) -> ResponseReturnValue:
    from memorybox.jobs import tasks

    child = load(Child, child_id, Action.EXPORT_REQUEST)
    me = signed_in_actor()
    try:
        kind = ExportKind(request.form.get("kind", ""))
    except ValueError:
        abort(400)
    require(Action.EXPORT_REQUEST, exports.unsaved(me, child, kind))
    export = exports.request(me, child, kind)
    tasks.build_export(export.id)
    flash(f"We are making your {kind.label.lower()}. It will be ready to download below.")
    return redirect(url_for("exports.index", child_id=child.id))


@bp.get("/exports/<int:export_id>/status")
def status(export_id: int) -> ResponseReturnValue:
    export = load(Export, export_id, Action.EXPORT_DOWNLOAD)
    response = jsonify(_status(export))
    response.headers["Cache-Control"] = "no-store"
    return response


def _filename(export: Export) -> str:
    import re
    import unicodedata

    name = unicodedata.normalize("NFKD", export.child.display_name).encode("ascii", "ignore")
    base = re.sub(r"[^A-Za-z0-9_-]+", "-", name.decode()).strip("-")[:40] or "memory-box"
    label = {"pdf": "life-story", "json": "export", "zip": "memory-box"}[export.kind.value]
    return f"{base}-{label}-{export.created_at.strftime('%Y-%m-%d')}.{export.kind.value}"


@bp.get("/exports/<int:export_id>/download")
def download(export_id: int) -> ResponseReturnValue:
    export = load(Export, export_id, Action.EXPORT_DOWNLOAD)
    if not export.ready or export.storage_key is None or export.size is None:
        abort(404)
    audit.record(signed_in_actor(), Action.EXPORT_DOWNLOAD.value, export)
    db.session.commit()
    return _send(export.storage_key, export.kind.content_type, export.size, _filename(export))


def _send(key: str, content_type: str, size: int, name: str) -> ResponseReturnValue:
    """A signed URL where storage offers one (S3), else streamed from here with Range."""
    disposition = f'attachment; filename="{name}"'
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
    return render_error(503, "We can't open that just now", "Please try again in a few minutes.")
