"""Placements and allocations: recorded by managers, and only active ones grant anything."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from memorybox import clock, policy
from memorybox.children.models import Allocation, Child, Placement
from memorybox.db import db
from memorybox.memories.models import ItemStatus
from memorybox.policy import Action
from tests import factories
from tests.factories import login_as


def test_manager_adds_a_child_and_records_a_placement_and_allocation(client, world):
    login_as(client, world.manager)
    response = client.post(
        "/manage/children/new", data={"display_name": "Robin", "date_of_birth": "2019-04-02"}
    )
    assert response.status_code == 302
    robin = db.session.scalar(select(Child).where(Child.display_name == "Robin"))
    assert robin.authority_id == world.authority.id and robin.user_id is None
    today = clock.today().isoformat()
    assert (
        client.post(
            f"/manage/children/{robin.id}/placements",
            data={
                "placement-person_id": str(world.unplaced_carer.id),
                "placement-start_date": today,
            },
        ).status_code
        == 302
    )
    assert (
        client.post(
            f"/manage/children/{robin.id}/allocations",
            data={
                "allocation-person_id": str(world.unallocated_social_worker.id),
                "allocation-start_date": today,
            },
        ).status_code
        == 302
    )
    page = client.get(f"/manage/children/{robin.id}").data
    assert b"Lee" in page and b"Ray" in page
    assert policy.can(world.unplaced_carer, Action.ITEM_ADD, robin)
    assert policy.can(world.unallocated_social_worker, Action.CHILD_SEE, robin)


def test_relationship_forms_explain_mistakes(client, world):
    login_as(client, world.manager)
    response = client.post(
        f"/manage/children/{world.child.id}/placements",
        data={
            "placement-person_id": str(world.unplaced_carer.id),
            "placement-start_date": "2024-05-01",
            "placement-end_date": "2024-04-01",
        },
    )
    assert response.status_code == 400
    assert b"The end date must be on or after the start date." in response.data
    missing_date = client.post(
        f"/manage/children/{world.child.id}/placements",
        data={"placement-person_id": str(world.unplaced_carer.id)},
    )
    assert missing_date.status_code == 400
    assert b"Please give a start date." in missing_date.data


def test_a_social_worker_cannot_be_recorded_as_a_carer(client, world):
    login_as(client, world.manager)
    before = db.session.query(Placement).count()
    response = client.post(
        f"/manage/children/{world.child.id}/placements",
        data={
            "placement-person_id": str(world.social_worker.id),
            "placement-start_date": "2024-05-01",
        },
    )
    assert response.status_code == 400
    assert db.session.query(Placement).count() == before


def test_ending_a_placement_ends_the_carers_access_on_the_next_request(app, world):
    it = factories.item(
        app, world.child, world.carer, title="Sports day", status=ItemStatus.SUGGESTED
    )
    carer = app.test_client()
    login_as(carer, world.carer)
    assert carer.get(f"/items/{it.id}").status_code == 200
    assert carer.get(f"/items/{it.id}/file").status_code == 200
    assert b"Alex" in carer.get("/carer").data

    manager = app.test_client()
    login_as(manager, world.manager)
    placement = db.session.scalar(
        select(Placement).where(
            Placement.carer_id == world.carer.id, Placement.child_id == world.child.id
        )
    )
    assert manager.post(f"/manage/placements/{placement.id}/end").status_code == 302

    assert carer.get(f"/items/{it.id}").status_code == 404
    assert carer.get(f"/items/{it.id}/file").status_code == 404
    assert carer.get(f"/items/{it.id}/download").status_code == 404
    assert carer.get(f"/children/{world.child.id}/add").status_code == 404
    assert b"Alex" not in carer.get("/carer").data
    # the child keeps the item
    child = app.test_client()
    login_as(child, world.young_person)
    assert child.get(f"/items/{it.id}").status_code == 200


def test_ending_an_allocation_takes_the_child_off_the_caseload(app, world):
    sw = app.test_client()
    login_as(sw, world.social_worker)
    assert b"Alex" in sw.get("/caseload").data
    allocation = db.session.scalar(
        select(Allocation).where(
            Allocation.social_worker_id == world.social_worker.id,
            Allocation.child_id == world.child.id,
        )
    )
    manager = app.test_client()
    login_as(manager, world.manager)
    assert manager.post(f"/manage/allocations/{allocation.id}/end").status_code == 302
    assert b"Alex" not in sw.get("/caseload").data
    assert not policy.can(world.social_worker, Action.CHILD_SEE, world.child)


def test_a_placement_that_starts_tomorrow_grants_nothing_today(app, world):
    factories.placement(
        world.other_child, world.unplaced_carer, start=clock.today() + timedelta(days=1)
    )
    assert not policy.can(world.unplaced_carer, Action.ITEM_ADD, world.other_child)


def test_a_placement_ends_at_the_start_of_its_end_date(app, world, monkeypatch):
    today = clock.today()
    factories.placement(
        world.other_child,
        world.unplaced_carer,
        start=today - timedelta(days=3),
        end=today + timedelta(days=1),
    )
    assert policy.can(world.unplaced_carer, Action.ITEM_ADD, world.other_child)
    tomorrow = today + timedelta(days=1)
    monkeypatch.setattr(clock, "today", lambda: tomorrow)
    assert not policy.can(world.unplaced_carer, Action.ITEM_ADD, world.other_child)


def test_managers_cannot_see_box_contents(app, client, world):
    it = factories.item(app, world.child, world.young_person)
    login_as(client, world.manager)
    assert client.get(f"/children/{world.child.id}/box").status_code == 404
    assert client.get(f"/items/{it.id}").status_code == 404
    assert client.get(f"/items/{it.id}/download").status_code == 404
    page = client.get(f"/manage/children/{world.child.id}").data
    assert it.title.encode() not in page


def test_a_manager_cannot_switch_off_their_own_account(client, world):
    login_as(client, world.manager)
    assert client.post(f"/manage/people/{world.manager.id}/disable").status_code == 404
    assert world.manager.is_active


def test_a_manager_of_another_authority_sees_nothing_here(client, world):
    login_as(client, world.other_manager)
    assert client.get(f"/manage/children/{world.child.id}").status_code == 404
    assert client.get(f"/manage/people/{world.carer.id}").status_code == 404
    assert client.post(f"/manage/people/{world.carer.id}/disable").status_code == 404
    people = client.get("/manage/people").data
    assert world.carer.email.encode() not in people
