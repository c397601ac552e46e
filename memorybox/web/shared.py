"""What a child shares with me, and (for their social worker) what needs attention now: the
single view of each child for the adults in their life."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_login import login_required

from memorybox import clock, i18n, policy
from memorybox.children.models import Child
from memorybox.db import db
from memorybox.memories import services as memories
from memorybox.pagination import Page
from memorybox.policy import Action
from memorybox.sharing import services as sharing
from memorybox.sharing.models import Visit
from memorybox.story import services as story
from memorybox.web import attention, lists
from memorybox.web.access import load, signed_in_actor

bp = Blueprint("shared", __name__, url_prefix="/shared")


@bp.get("/<int:child_id>")
@login_required
def child(child_id: int) -> ResponseReturnValue:
    kid = load(Child, child_id, Action.SHARED_VIEW)
    viewer = signed_in_actor()
    visit = attention.last_visit(viewer.id, kid.id)
    since = visit.last_seen_at if visit else None
    viewable = policy.viewable_items(viewer, kid.id)
    page = lists.page(lambda after: memories.items_page(kid, viewable, after))
    needs = attention.for_child(viewer, kid)
    items = Page([(item, needs.since.get(item.id)) for item in page.rows], page.more)
    every_album = sharing.collections_of(kid)
    sharing.prime_collection_consents(a.id for a in every_album)
    albums = [a for a in every_album if policy.can(viewer, Action.COLLECTION_VIEW, a)]
    sent = lists.page(lambda after: memories.added_by_page(viewer, kid, after), "sent")
    added = Page(policy.viewable(viewer, sent.rows), sent.more)
    sections = story.sections_of(kid)
    sharing.prime_section_consents([kid.id], [s.id for s in sections])
    readable = [s for s in sections if policy.can(viewer, Action.SECTION_READ, s)]
    changes = story.changes_for(viewer, readable)
    page_html = render_template(
        "shared/child.html",
        child=kid,
        items=items,
        albums=albums,
        added=added,
        since=since,
        needs=needs,
        sections=[(s, *changes[s.id]) for s in readable],
        read_on=i18n.read_on,
    )
    # Remembered after the first page is made: what it shows as new is new since the visit
    # before (and stays so on the pages after it).
    if lists.cursor() or lists.cursor("sent"):
        return page_html
    if visit is None:
        db.session.add(Visit(viewer_id=viewer.id, child_id=kid.id, last_seen_at=clock.now()))
    else:
        visit.last_seen_at = clock.now()
    db.session.commit()
    return page_html
