"""What a child shares with me, and (for their social worker) what needs attention now: the
single view of each child for the adults in their life."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_login import login_required

from memorybox import clock, policy
from memorybox.children.models import Child
from memorybox.db import db
from memorybox.memories import services as memories
from memorybox.policy import Action
from memorybox.sharing import services as sharing
from memorybox.sharing.models import Visit
from memorybox.story import services as story
from memorybox.web import attention
from memorybox.web.access import load, signed_in_actor

bp = Blueprint("shared", __name__, url_prefix="/shared")


@bp.get("/<int:child_id>")
@login_required
def child(child_id: int) -> ResponseReturnValue:
    kid = load(Child, child_id, Action.SHARED_VIEW)
    viewer = signed_in_actor()
    visit = attention.last_visit(viewer.id, kid.id)
    since = visit.last_seen_at if visit else None
    items = attention.shared_items(viewer, kid)
    needs = attention.for_child(viewer, kid, items=items)
    albums = [
        a for a in sharing.collections_of(kid) if policy.can(viewer, Action.COLLECTION_VIEW, a)
    ]
    added = [i for i in memories.added_by(viewer, kid) if policy.can(viewer, Action.ITEM_VIEW, i)]
    sections = [
        (section, *story.changed_since(section, viewer))
        for section in story.sections_of(kid)
        if policy.can(viewer, Action.SECTION_READ, section)
    ]
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
        needs=needs,
        sections=sections,
        read_on=story.read_on,
    )
