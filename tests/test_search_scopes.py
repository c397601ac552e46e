"""Search asks policy in SQL, and these tests hold it to the rules: for every person of the
access matrix's world, every item in every state (kept, suggested, waiting for approval, not
approved, in the bin, shared with every audience through the item or an album, granted,
expired or stopped, a child with no login) and every story section (shared with every
audience in every state, nothing saved, other children's), a search through the real pages
finds exactly what ``can`` lets that person open, and nothing of a child whose shares they
may not search. ``policy.readable_sections`` is checked against ``can`` the same way."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from memorybox import policy
from memorybox.accounts.models import User
from memorybox.children.models import Child
from memorybox.db import db
from memorybox.memories.models import ItemStatus, MemoryItem
from memorybox.policy import Action
from memorybox.story.models import StorySection
from tests import factories
from tests.factories import World
from tests.test_access_matrix import BUILDERS, Scene
from tests.test_policy_scopes import _people

pytestmark = pytest.mark.app_config(ARGON2_MEMORY_KIB=64)

#: every item's caption and every section's words hold this word
EVERYWHERE = "zebra"


@pytest.fixture
def scene(app: Flask, world: World) -> Scene:
    made = Scene(app, world)
    BUILDERS["fetch"](made)  # every item state and every consent state
    BUILDERS["section"](made)  # every section sharing state
    factories.item(app, world.other_child, world.other_young_person, title="Blake's bike")
    for item in db.session.scalars(select(MemoryItem)):
        item.caption = f"A {EVERYWHERE} by {item.title}"
    db.session.commit()
    for section in db.session.scalars(select(StorySection)):
        if section.versions:
            section.own_title = f"{section.own_title} {EVERYWHERE}"
    db.session.commit()
    return made


def _children(world: World) -> list[Child]:
    return [world.child, world.young_child, world.other_child, world.other_authority_child]


def _ids(html: str, list_id: str, pattern: str) -> set[int]:
    match = re.search(rf'id="{list_id}".*?</ul>', html, re.S)
    return {int(i) for i in re.findall(pattern, match.group(0))} if match else set()


def _search(
    client: FlaskClient, person: User, child: Child, words: str
) -> tuple[set[int], set[int]] | None:
    """What the search page finds for ``person`` in ``child``'s things (their own box, or
    what is shared with them); None when neither page lets them in."""
    factories.login_as(client, person)
    for url in (f"/children/{child.id}/search", f"/shared/{child.id}/search"):
        response = client.get(url, query_string={"q": words})
        refused = response.status_code == 302 and "/login" in response.headers["Location"]
        if response.status_code == 404 or refused:
            continue
        assert response.status_code == 200, (person.display_name, url)
        html = response.get_data(as_text=True)
        assert 'rel="next"' not in html and "Show more" not in html, "one page holds it all"
        return (
            _ids(html, "found-things", r'href="/items/(\d+)"'),
            _ids(html, "found-story", r'data-section-id="(\d+)"'),
        )
    return None


def _by_rules(person: User, child: Child, word: str) -> tuple[set[int], set[int]]:
    own = policy.can(person, Action.BOX_VIEW, child)
    items = db.session.scalars(select(MemoryItem).where(MemoryItem.child_id == child.id)).all()
    found_items = {
        i.id
        for i in items
        if word in f"{i.title} {i.caption}".lower()
        and policy.can(person, Action.ITEM_VIEW, i)
        # a letter's photos are seen only on the letter: no search finds them
        and i.status is not ItemStatus.IN_LETTER
        and (not own or (i.status is ItemStatus.KEPT and not i.in_bin))
    }
    sections = db.session.scalars(
        select(StorySection).where(StorySection.child_id == child.id)
    ).all()
    found_sections = {
        s.id
        for s in sections
        if s.latest is not None
        and word in f"{s.title} {s.latest.body}".lower()
        and policy.can(person, Action.SECTION_READ, s)
    }
    return found_items, found_sections


@pytest.mark.parametrize("moderation", [True, False])
@pytest.mark.parametrize("word", [EVERYWHERE, "shared", "newer"])
def test_search_finds_exactly_what_the_rules_allow(
    scene: Scene, world: World, client: FlaskClient, moderation: bool, word: str
) -> None:
    world.authority.moderation_required = moderation
    db.session.commit()
    searched, adults_found = 0, 0
    for person in _people(world):
        for child in _children(world):
            expected = _by_rules(person, child, word)
            got = _search(client, person, child, word)
            if got is None:
                may_search = policy.can(person, Action.BOX_VIEW, child) or policy.can(
                    person, Action.SHARED_VIEW, child
                )
                assert not may_search, (person.display_name, child.display_name)
                continue
            searched += 1
            assert got == expected, (person.display_name, child.display_name)
            adults_found += person.id != child.user_id and bool(got[0] or got[1])
    assert searched >= 6 and adults_found >= 2


def test_a_switched_off_account_finds_nothing(
    scene: Scene, world: World, client: FlaskClient
) -> None:
    from memorybox.accounts import services as accounts

    accounts.disable(world.carer)
    assert _search(client, world.carer, world.child, EVERYWHERE) is None


def test_the_section_query_picks_exactly_what_the_rules_allow(scene: Scene, world: World) -> None:
    sections = db.session.scalars(select(StorySection)).all()
    for person in _people(world):
        allowed = {s.id for s in sections if policy.can(person, Action.SECTION_READ, s)}
        query = select(StorySection.id).where(policy.readable_sections(person))
        assert set(db.session.scalars(query)) == allowed, person.display_name
    assert any(policy.can(world.social_worker, Action.SECTION_READ, s) for s in sections), (
        "the world shares a section with the worker"
    )
