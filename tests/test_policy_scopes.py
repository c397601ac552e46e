"""Lists ask policy in SQL (one page of what someone may see, from an index). These tests hold
the SQL to the rules: for every person in the access matrix's world and every item in every
state (kept, suggested, waiting for approval, not approved, in the bin, shared with every
audience through the item or an album, granted, expired or stopped, a child with no login),
the query picks exactly the items ``can`` allows, and "shared since" agrees with the consents
``can`` reads."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask import Flask
from sqlalchemy import select

from memorybox import policy
from memorybox.accounts import services as accounts
from memorybox.accounts.models import User
from memorybox.db import db
from memorybox.memories.models import ItemStatus, MemoryItem
from memorybox.policy import Action
from memorybox.sharing import services as sharing
from tests import factories
from tests.factories import World
from tests.test_access_matrix import BUILDERS, Scene, _album

pytestmark = pytest.mark.app_config(ARGON2_MEMORY_KIB=64)


@pytest.fixture
def scene(app: Flask, world: World) -> Scene:
    made = Scene(app, world)
    BUILDERS["fetch"](made)  # every item state and every consent state
    # An item added to a shared album after it was shared counts from when it was added.
    late = factories.item(app, world.child, world.young_person, title="Added later")
    album = db.session.scalar(
        select(sharing.Collection).where(sharing.Collection.name == "Album album-carers-granted")
    )
    assert album is not None
    sharing.add_to_collection(album, late)
    _album(world.young_child, "Casey's", factories.item(app, world.young_child, world.carer))
    return made


def _people(world: World) -> list[User]:
    return [
        world.young_person,
        world.other_young_person,
        world.carer,
        world.ended_carer,
        world.unplaced_carer,
        world.social_worker,
        world.ended_social_worker,
        world.unallocated_social_worker,
        world.manager,
        world.other_manager,
    ]


def _by_rules(person: User) -> set[int]:
    """What the rules let ``person`` open, but a letter's photos and documents: no list ever
    holds them (only their letter's page shows them, to whoever may read the letter)."""
    items = db.session.scalars(select(MemoryItem)).all()
    return {
        i.id
        for i in items
        if i.status is not ItemStatus.IN_LETTER and policy.can(person, Action.ITEM_VIEW, i)
    }


def _by_query(person: User) -> set[int]:
    query = select(MemoryItem.id).where(policy.viewable_items(person))
    return set(db.session.scalars(query))


@pytest.mark.parametrize("moderation", [True, False])
def test_the_query_picks_exactly_what_the_rules_allow(
    scene: Scene, world: World, moderation: bool
) -> None:
    world.authority.moderation_required = moderation
    db.session.commit()
    for person in _people(world):
        allowed = _by_rules(person)
        assert _by_query(person) == allowed, person.display_name
    in_letters = set(db.session.scalars(select(MemoryItem.id).where(MemoryItem.letter_id > 0)))
    assert in_letters, "the world has a letter's photos"
    for person in _people(world):
        assert not _by_query(person) & in_letters, person.display_name
    assert _by_rules(world.social_worker), "the world shares something with the worker"


def test_a_switched_off_account_sees_nothing_by_either(scene: Scene, world: World) -> None:
    accounts.disable(world.carer)
    assert _by_rules(world.carer) == _by_query(world.carer) == set()


def _since_by_rules(person: User) -> dict[int, datetime]:
    """When each item was first shared with ``person``, from the consents ``can`` reads."""
    found: dict[int, datetime] = {}
    for item in db.session.scalars(select(MemoryItem)).all():
        if item.status is not ItemStatus.KEPT or item.in_bin:
            continue
        times = []
        for consent in sharing.active_consents_for_item(item):
            if not policy.in_audience(person, consent):
                continue
            if consent.item_id == item.id:
                times.append(consent.created_at)
            else:
                entry = next(e for e in consent.collection.entries if e.item_id == item.id)
                times.append(max(consent.created_at, entry.added_at))
        if times:
            found[item.id] = min(times)
    return found


def test_shared_since_agrees_with_the_consents_for_many_people_at_once(
    scene: Scene, world: World
) -> None:
    people = _people(world)
    children = [world.child.id, world.young_child.id, world.other_child.id]
    rows = db.session.execute(policy.shared_since([p.id for p in people], children)).all()
    by_query: dict[int, dict[int, datetime]] = {p.id: {} for p in people}
    for viewer_id, _child_id, item_id, since in rows:
        by_query[viewer_id][item_id] = since
    for person in people:
        expected = _since_by_rules(person)
        got = by_query[person.id]
        assert set(got) == set(expected), person.display_name
        for item_id, since in expected.items():
            assert abs((got[item_id] - since).total_seconds()) < 1, (person.display_name, item_id)
    assert by_query[world.carer.id], "something is shared with the carer"
