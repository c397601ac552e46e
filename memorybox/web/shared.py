"""What a child shares with me: for social workers, carers and named people."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_login import login_required
from sqlalchemy import select

from memorybox import clock, policy
from memorybox.children.models import Child
from memorybox.db import db
from memorybox.memories import services as memories
from memorybox.memories.models import MemoryItem
from memorybox.policy import Action
from memorybox.sharing import services as sharing
from memorybox.sharing.models import Consent, Visit
from memorybox.web.access import load, signed_in_actor

bp = Blueprint("shared", __name__, url_prefix="/shared")


def _shared_since(item: MemoryItem, viewer_consents: list[Consent]) -> datetime | None:
    """When this item was first shared with the viewer (through a live consent)."""
    times = []
    for consent in viewer_consents:
        if consent.item_id == item.id:
            times.append(consent.created_at)
        elif (
            consent.collection_id is not None
            and consent.collection is not None
            and any(e.item_id == item.id for e in consent.collection.entries)
        ):
            entry = next(e for e in consent.collection.entries if e.item_id == item.id)
            times.append(max(consent.created_at, entry.added_at))
    return min(times) if times else None


def last_visit(viewer_id: int, child_id: int) -> Visit | None:
    return db.session.scalar(
        select(Visit).where(Visit.viewer_id == viewer_id, Visit.child_id == child_id)
    )


def shared_items(child: Child) -> list[tuple[MemoryItem, datetime | None]]:
    viewer = signed_in_actor()
    consents = [c for c in sharing.candidate_consents(child) if policy.in_audience(viewer, c)]
    result = []
    for item in memories.box_items(child):
        decision = policy.can(viewer, Action.ITEM_VIEW, item)
        if decision:
            result.append((item, _shared_since(item, consents)))
    return result


@bp.get("/<int:child_id>")
@login_required
def child(child_id: int) -> ResponseReturnValue:
    kid = load(Child, child_id, Action.SHARED_VIEW)
    viewer = signed_in_actor()
    visit = last_visit(viewer.id, kid.id)
    since = visit.last_seen_at if visit else None
    items = shared_items(kid)
    albums = [
        a for a in sharing.collections_of(kid) if policy.can(viewer, Action.COLLECTION_VIEW, a)
    ]
    added = [i for i in memories.added_by(viewer, kid) if policy.can(viewer, Action.ITEM_VIEW, i)]
    if visit is None:
        db.session.add(Visit(viewer_id=viewer.id, child_id=kid.id, last_seen_at=clock.now()))
    else:
        visit.last_seen_at = clock.now()
    db.session.commit()
    return render_template(
        "shared/child.html",
        child=kid,
        items=items,
        albums=albums,
        added=added,
        since=since,
    )
