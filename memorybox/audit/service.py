"""Recording reads and denials. Only ids and action names go in: never content or secrets."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import joinedload

from memorybox.accounts.models import User
from memorybox.audit.models import AuditEvent
from memorybox.children.models import Child
from memorybox.db import db
from memorybox.memories.models import ItemStatus, MemoryItem
from memorybox.pagination import Order, Page, keyset

log = logging.getLogger("memorybox.audit")


def _describe(target: Any) -> tuple[str, int | None, int | None, int | None]:
    """(target type, target id, child id, item id) for any policy target."""
    if isinstance(target, MemoryItem) and target.status is ItemStatus.IN_LETTER:
        # A letter's photo: recorded by its own id, but as part of a letter (like the
        # letter's own reads), never as a thing in the box: the child's "who looked" must
        # not tell them of a photo in a letter that has not opened (or was taken off).
        return "attachment", target.id, target.child_id, None
    if isinstance(target, MemoryItem):
        return "item", target.id, target.child_id, target.id
    if isinstance(target, Child):
        return "child", target.id, target.id, None
    child_id = getattr(target, "child_id", None)
    target_id = getattr(target, "id", None)
    if not isinstance(target_id, int):  # e.g. an upload's random token: not a row number
        target_id = None
    return type(target).__name__.lower(), target_id, child_id, None


def record(actor: User | None, action: str, target: Any, outcome: str = "allowed") -> AuditEvent:
    """Add an audit event to the current transaction (the caller commits)."""
    target_type, target_id, child_id, item_id = _describe(target)
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        action=str(action),
        outcome=outcome,
        target_type=target_type,
        target_id=target_id,
        child_id=child_id,
        item_id=item_id,
    )
    db.session.add(event)
    log.info(
        "audit %s %s actor=%s %s=%s",
        outcome,
        action,
        event.actor_id,
        target_type,
        target_id,
    )
    return event


def record_denial(actor: User | None, action: str, target: Any) -> None:
    """Denials are committed on their own, because the request is about to be aborted."""
    record(actor, action, target, outcome="denied")
    db.session.commit()


def events_for_child(child_id: int, limit: int = 200) -> list[AuditEvent]:
    query = (
        select(AuditEvent)
        .where(AuditEvent.child_id == child_id)
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def looks_page(child: Child, cursor: str | None, size: int = 200) -> Page[AuditEvent]:
    """One page of what others were let see of a child's things, newest first (the child's
    own looks and anything refused are not in it)."""
    others: ColumnElement[bool] = AuditEvent.actor_id.is_not(None)
    if child.user_id is not None:
        others = and_(others, AuditEvent.actor_id != child.user_id)
    query = (
        select(AuditEvent)
        .options(joinedload(AuditEvent.actor))
        .where(AuditEvent.child_id == child.id, AuditEvent.outcome == "allowed", others)
    )
    order = (Order(AuditEvent.occurred_at), Order(AuditEvent.id))
    return keyset(query, order, cursor, size=size, values_of=lambda e: (e.occurred_at, e.id))
