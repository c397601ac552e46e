"""Exports: "Take my things with me" for the young person, PDF and JSON for professionals."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from memorybox import i18n
from memorybox.audit import service as audit
from memorybox.children.models import Child
from memorybox.db import db
from memorybox.exports import services as exports
from memorybox.exports.models import Export, ExportKind, ExportState
from memorybox.policy import Action
from memorybox.web.access import load, require, signed_in_actor, signed_in_only
from memorybox.web.serving import send_stored

bp = Blueprint("exports", __name__)

signed_in_only(bp)


def _status(export: Export) -> dict[str, object]:
    return {
        "id": export.id,
        "kind": export.kind.value,
        "state": export.state.value,
        "progress": export.progress,
        "error": i18n.problem_words(export.error or ""),
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
    flash(
        _(
            "We are making your %(kind)s. It will be ready to download below.",
            kind=kind.label.lower(),
        )
    )
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
    return send_stored(
        export.storage_key, export.kind.content_type, export.size, _filename(export), True
    )
