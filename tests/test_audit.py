"""Every view or download of a child's item by anyone but the child is recorded, and so is
every denial."""

from __future__ import annotations

from sqlalchemy import select

from memorybox.audit.models import AuditEvent
from memorybox.audit.service import events_for_child
from memorybox.db import db
from memorybox.memories.models import ItemStatus
from tests import factories
from tests.factories import login_as


def _events(outcome=None):
    query = select(AuditEvent).order_by(AuditEvent.id)
    if outcome:
        query = query.where(AuditEvent.outcome == outcome)
    return list(db.session.scalars(query))


def test_a_carer_viewing_their_item_is_recorded_for_each_route(app, client, world):
    it = factories.item(app, world.child, world.carer, status=ItemStatus.SUGGESTED)
    login_as(client, world.carer)
    for url in (f"/items/{it.id}", f"/items/{it.id}/file", f"/items/{it.id}/download"):
        assert client.get(url).status_code == 200
    events = _events("allowed")
    assert [e.action for e in events] == ["item:view", "item:view-file", "item:download"]
    assert all(
        e.actor_id == world.carer.id and e.item_id == it.id and e.child_id == world.child.id
        for e in events
    )
    assert events[0].occurred_at is not None


def test_the_childs_own_views_are_not_recorded_as_someone_else_looking(app, client, world):
    it = factories.item(app, world.child, world.young_person)
    login_as(client, world.young_person)
    client.get(f"/items/{it.id}")
    client.get(f"/items/{it.id}/download")
    assert _events("allowed") == []


def test_denials_are_recorded(app, client, world):
    it = factories.item(app, world.child, world.young_person)
    login_as(client, world.social_worker)
    assert client.get(f"/items/{it.id}/download").status_code == 404
    denied = _events("denied")
    assert len(denied) == 1
    assert denied[0].actor_id == world.social_worker.id and denied[0].item_id == it.id
    assert denied[0].action == "item:view"


def test_the_childs_trail_lists_newest_first(app, client, world):
    it = factories.item(app, world.child, world.carer, status=ItemStatus.SUGGESTED)
    login_as(client, world.carer)
    client.get(f"/items/{it.id}")
    client.get(f"/items/{it.id}/download")
    trail = events_for_child(world.child.id)
    assert [e.action for e in trail] == ["item:download", "item:view"]


def test_a_refused_upload_is_recorded_without_its_token(app, client, world):
    """Upload ids are random tokens, not row numbers: the denial is still recorded."""
    from memorybox.memories import uploads

    session = uploads.start(
        user=world.young_person,
        child=world.child,
        length=10,
        filename="a.jpg",
        storage=app.extensions["memorybox.storage"],
        max_bytes=100,
    )
    login_as(client, world.other_young_person)
    assert (
        client.head(f"/uploads/{session.id}", headers={"Tus-Resumable": "1.0.0"}).status_code == 404
    )
    denied = _events("denied")
    assert len(denied) == 1 and denied[0].target_type == "uploadsession"
    assert denied[0].target_id is None and denied[0].child_id == world.child.id
