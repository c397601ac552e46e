"""The tus 1.0 resumable-upload protocol (core, creation, termination), for big files on
poor connections. The browser side is tus-js-client (static/vendor, installed by npm)."""

from __future__ import annotations

import base64
from typing import BinaryIO, cast

from flask import Blueprint, Response, abort, current_app, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.exceptions import ClientDisconnected

from memorybox import i18n
from memorybox.children.models import Child
from memorybox.memories import uploads
from memorybox.memories.models import UploadSession
from memorybox.policy import Action
from memorybox.storage import IncompletePart, PartCorrupted, StorageError
from memorybox.web.access import load, signed_in_actor, storage
from memorybox.web.request_body import UploadBody
from memorybox.words import words_of

bp = Blueprint("uploads", __name__)

TUS_VERSION = "1.0.0"


def _tus(response: Response) -> Response:
    response.headers["Tus-Resumable"] = TUS_VERSION
    response.headers["Cache-Control"] = "no-store"
    return response


def _problem(message: str, status: int) -> Response:
    return _tus(Response(message, status=status, mimetype="text/plain"))


def _metadata() -> dict[str, str]:
    """``Upload-Metadata: key base64value,key base64value``."""
    found: dict[str, str] = {}
    for pair in request.headers.get("Upload-Metadata", "").split(","):
        key, _, value = pair.strip().partition(" ")
        if key:
            try:
                found[key] = base64.b64decode(value, validate=True).decode("utf-8", "replace")[:200]
            except ValueError:
                found[key] = ""
    return found


def _int_header(name: str) -> int | None:
    raw = request.headers.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) < 16 else None


@bp.post("/children/<int:child_id>/uploads")
@login_required
def create(child_id: int) -> ResponseReturnValue:
    child = load(Child, child_id, Action.ITEM_ADD)
    length = _int_header("Upload-Length")
    if length is None:
        return _problem(_("Upload-Length is needed."), 400)
    try:
        session = uploads.start(
            user=signed_in_actor(),
            child=child,
            length=length,
            filename=_metadata().get("filename", ""),
            storage=storage(),
            max_bytes=current_app.config["MAX_RESUMABLE_BYTES"],
        )
    except uploads.UploadProblem as exc:
        return _problem(i18n.problem_words(words_of(exc)), exc.status)
    except StorageError:
        return _problem(
            _("We can't save things right now. Please try again in a few minutes."), 503
        )
    response = _tus(Response(status=201))
    response.headers["Location"] = url_for("uploads.resume", upload_id=session.id)
    response.headers["Upload-Offset"] = "0"
    return response


def _session(upload_id: str) -> UploadSession:
    session = uploads.find(upload_id)
    if session is None:
        abort(404)
    return load(UploadSession, session.id, Action.UPLOAD_USE)  # type: ignore[arg-type]


@bp.route("/uploads/<upload_id>", methods=["HEAD"])
@login_required
def resume(upload_id: str) -> ResponseReturnValue:
    session = _session(upload_id)
    response = _tus(Response(status=200))
    response.headers["Upload-Offset"] = str(session.offset)
    response.headers["Upload-Length"] = str(session.length)
    return response


@bp.route("/uploads/<upload_id>", methods=["PATCH"])
@login_required
def append(upload_id: str) -> ResponseReturnValue:
    session = _session(upload_id)
    if request.mimetype != "application/offset+octet-stream":
        return _problem(_("Wrong content type."), 415)
    offset = _int_header("Upload-Offset")
    length = request.content_length
    if offset is None or length is None:
        return _problem(_("Upload-Offset and Content-Length are needed."), 400)
    body = UploadBody(request.environ, request.input_stream, request.stream)
    try:
        new_offset = uploads.append(
            session,
            offset=offset,
            stream=cast(BinaryIO, body),
            length=length,
            storage=storage(),
        )
    except uploads.UploadProblem as exc:
        return _problem(i18n.problem_words(words_of(exc)), exc.status)
    except (IncompletePart, ClientDisconnected):
        return _problem(_("The connection dropped. The upload will carry on."), 400)
    except PartCorrupted:  # the tus client sends the part again after a 409
        return _problem(_("That part did not arrive intact. The upload will carry on."), 409)
    except StorageError:
        return _problem(_("We can't save things right now. The upload will carry on later."), 503)
    response = _tus(Response(status=204))
    response.headers["Upload-Offset"] = str(new_offset)
    return response


@bp.route("/uploads/<upload_id>", methods=["DELETE"])
@login_required
def cancel(upload_id: str) -> ResponseReturnValue:
    session = _session(upload_id)
    try:
        uploads.cancel(session, storage())
    except StorageError:
        return _problem(_("We can't reach storage right now. Please try again."), 503)
    return _tus(Response(status=204))
