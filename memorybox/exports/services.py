"""Asking for an export, building it in the background, and finding it again.

Callers have asked policy first; the builder asks again, as the requester, at build time:
someone whose relationship ended between asking and building gets nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from flask_babel import force_locale
from sqlalchemy import select

from memorybox import clock, i18n, policy
from memorybox.accounts.models import User
from memorybox.audit import service as audit
from memorybox.children.models import Child
from memorybox.db import db
from memorybox.exports import builders
from memorybox.exports.content import Contents, gather
from memorybox.exports.models import Export, ExportKind, ExportState
from memorybox.policy import Action
from memorybox.storage import Storage, new_key
from memorybox.words import N_

log = logging.getLogger(__name__)

Builder = Callable[[Contents, Storage, str, builders.Report], int]

BUILDERS: dict[ExportKind, Builder] = {
    ExportKind.PDF: builders.build_pdf,
    ExportKind.JSON: builders.build_json,
    ExportKind.ZIP: builders.build_zip,
}

FAILED_MESSAGE = N_("We couldn't make this. Please try again later.")
NOT_ALLOWED_MESSAGE = N_("This can no longer be made for you.")


def allowed_kinds(actor: User, child: Child) -> list[ExportKind]:
    return [
        kind
        for kind in ExportKind
        if policy.can(actor, Action.EXPORT_REQUEST, unsaved(actor, child, kind))
    ]


def unsaved(actor: User, child: Child, kind: ExportKind) -> Export:
    """An export not yet asked for, for asking policy about its kind."""
    export = Export(child_id=child.id, requested_by_id=actor.id, kind=kind)
    export.child = child
    return export


def request(actor: User, child: Child, kind: ExportKind) -> Export:
    """Record the request (audited); the caller queues :func:`build`."""
    export = Export(child_id=child.id, requested_by_id=actor.id, kind=kind)
    db.session.add(export)
    db.session.flush()
    audit.record(actor, Action.EXPORT_REQUEST.value, export)
    db.session.commit()
    return export


def exports_for(actor: User, child: Child) -> list[Export]:
    query = (
        select(Export)
        .where(
            Export.child_id == child.id,
            Export.requested_by_id == actor.id,
            Export.expires_at > clock.now(),
        )
        .order_by(Export.created_at.desc(), Export.id.desc())
    )
    return list(db.session.scalars(query))


def _finish(export_id: int, state: ExportState, error: str = "") -> None:
    export = db.session.get(Export, export_id)
    if export is None:
        return
    export.state = state
    export.error = error
    export.finished_at = clock.now()
    if state is ExportState.READY:
        export.progress = 100
    db.session.commit()


def build(export_id: int, storage: Storage) -> ExportState | None:
    """Build one export into storage. Safe to run twice: a finished export is left alone."""
    export = db.session.get(Export, export_id)
    if export is None or export.state in {ExportState.READY, ExportState.FAILED}:
        return export.state if export is not None else None
    requester = export.requested_by
    if not policy.can(requester, Action.EXPORT_REQUEST, export):
        _finish(export_id, ExportState.FAILED, NOT_ALLOWED_MESSAGE)
        return ExportState.FAILED
    export.state = ExportState.WORKING
    export.progress = 0
    db.session.commit()

    shown = 0

    def report(percent: int) -> None:
        """Called for every chunk; the database hears only when the percentage goes up."""
        nonlocal shown
        percent = max(0, min(99, percent))
        if percent <= shown:
            return
        shown = percent
        current = db.session.get(Export, export_id)
        if current is not None and percent > current.progress:
            current.progress = percent
            db.session.commit()

    kind = export.kind
    key = new_key(kind.value)
    try:
        contents = gather(requester, export.child)
        with force_locale(i18n.language_of(requester)):  # in the words of whoever asked
            size = BUILDERS[kind](contents, storage, key, report)
    except Exception:
        log.exception("export %s failed", export_id)
        db.session.rollback()
        try:
            storage.delete(key)
        except Exception:
            log.exception("export %s: could not remove a partial file", export_id)
        _finish(export_id, ExportState.FAILED, FAILED_MESSAGE)
        return ExportState.FAILED
    export = db.session.get(Export, export_id)
    assert export is not None
    export.storage_key = key
    export.size = size
    _finish(export_id, ExportState.READY)
    return ExportState.READY


def remove_expired(storage: Storage) -> int:
    """Delete the files of exports past their expiry (and their rows)."""
    query = select(Export).where(Export.expires_at <= clock.now())
    removed = 0
    for export in db.session.scalars(query):
        if export.storage_key:
            storage.delete(export.storage_key)
        db.session.delete(export)
        removed += 1
    db.session.commit()
    return removed


def stalled(minutes: int) -> list[int]:
    """Exports still waiting or working ``minutes`` after they were asked for (their job was
    lost with its worker): they are built again, from the start."""
    cutoff = clock.now() - timedelta(minutes=minutes)
    query = select(Export.id).where(
        Export.state.in_([ExportState.WAITING, ExportState.WORKING]),
        Export.created_at < cutoff,
    )
    ids = list(db.session.scalars(query))
    for export_id in ids:
        export = db.session.get(Export, export_id)
        if export is not None:
            export.state = ExportState.WAITING
    db.session.commit()
    return ids
