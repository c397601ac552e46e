"""Moving a child to another authority, in a real Chromium: the old authority's manager asks
to move Alex; the new authority's manager sees the request and accepts it; the old social
worker, who could see what Alex shared, can no longer open Alex or it; Alex reads in plain
words what changed; the new manager allocates a social worker, who sees Alex's name and
nothing of Alex's until Alex shares again. axe checks every page of the journey."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from playwright.sync_api import Dialog, Page, expect

from memorybox import clock
from memorybox.accounts.models import Role
from memorybox.db import db
from memorybox.sharing import services as sharing
from memorybox.sharing.models import Audience
from tests import factories
from tests.browser.conftest import (
    Cast,
    Person,
    Problems,
    check,
    heading,
    nav,
    notice,
    on_phone,
    sign_in,
)
from tests.factories import World

pytestmark = pytest.mark.browser


def say_yes(dialog: Dialog) -> None:
    dialog.accept()


def test_a_child_moves_to_another_authority(
    page: Page,
    another_page: Callable[[], Page],
    app: object,
    world: World,
    cast: Cast,
    problems: Problems,
) -> None:
    beach = factories.item(app, world.child, world.young_person, title="Beach day")  # type: ignore[arg-type]
    sharing.grant(
        child=world.child,
        decided_by=world.young_person,
        on_behalf=False,
        audience=Audience.SOCIAL_WORKER,
        item=beach,
    )
    new_worker = factories.user(app, world.other_authority, Role.SOCIAL_WORKER, "Nia")  # type: ignore[arg-type]
    new_manager = Person(world.other_manager.email, world.other_manager.display_name)
    nia = Person(new_worker.email, new_worker.display_name)
    old_name, new_name = world.authority.name, world.other_authority.name
    item_id = beach.id
    planned = clock.today() + timedelta(days=7)
    db.session.commit()

    # Before: Sam, the social worker, sees what Alex shared.
    sam = another_page()
    sign_in(sam, cast.social_worker)
    sam.goto(f"/items/{item_id}")
    expect(heading(sam, "Beach day")).to_be_visible()

    # The old authority's manager asks to move Alex.
    sign_in(page, cast.manager)
    page.goto(f"/manage/children/{cast.child_id}")
    check(page, "a child's page, for its manager")
    page.get_by_role("link", name=f"Ask to move {cast.child_name}").click()
    expect(heading(page, f"Move {cast.child_name} to another authority")).to_be_visible()
    check(page, "asking to move a child")
    page.get_by_role("button", name="Send the request").click()
    expect(page.get_by_text("Please choose another authority from the list.")).to_be_visible()
    check(page, "asking to move a child, nothing chosen")
    page.get_by_label("The authority the child is moving to").select_option(label=new_name)
    page.get_by_label("Planned date of the move").fill(planned.isoformat())
    page.get_by_label("A note for the other authority (optional)").fill("Moving to an aunt.")
    page.get_by_role("button", name="Send the request").click()
    expect(notice(page)).to_contain_text(f"Your request to move {cast.child_name} has been sent")
    expect(page.get_by_text("Waiting for an answer")).to_be_visible()
    check(page, "a request waiting, for the sender")
    nav(page, "Children moving").click()
    expect(heading(page, "Children moving")).to_be_visible()
    check(page, "children moving, for the sender")

    # The new authority's manager sees it coming in, and accepts.
    other = on_phone(another_page())
    sign_in(other, new_manager)
    nav(other, "Children moving").click()
    moving_in = other.get_by_role("region", name="Moving to you")
    expect(moving_in).to_contain_text(old_name)
    check(other, "children moving, for the receiver")
    moving_in.get_by_role("link", name=cast.child_name).click()
    expect(heading(other, f"Moving {cast.child_name}")).to_be_visible()
    expect(other.get_by_text("Moving to an aunt.")).to_be_visible()
    check(other, "a request waiting, for the receiver")
    other.once("dialog", say_yes)
    other.get_by_role("button", name="Accept the move").click()
    expect(notice(other)).to_contain_text(f"{cast.child_name} has moved to you")
    expect(heading(other, cast.child_name)).to_be_visible()
    check(other, "the moved child's page, for the new manager")

    # Sam can no longer open Alex, nor what Alex shared.
    response = sam.goto(f"/items/{item_id}")
    assert response is not None and response.status == 404
    expect(heading(sam, "We can't find that page")).to_be_visible()
    response = sam.goto(f"/shared/{cast.child_id}")
    assert response is not None and response.status == 404
    sam.goto("/caseload")
    expect(sam.get_by_text(cast.child_name, exact=True)).to_have_count(0)
    # Nor can the old manager open Alex's page.
    response = page.goto(f"/manage/children/{cast.child_id}")
    assert response is not None and response.status == 404

    # Alex is told, in plain words.
    alex = on_phone(another_page())
    sign_in(alex, cast.young_person)
    nav(alex, re.compile(r"^Messages")).click()
    expect(alex.get_by_text(f"You have moved to {new_name}.")).to_be_visible()
    expect(alex.get_by_text("Your memories and your story are still here.")).to_be_visible()
    check(alex, "the message that you have moved")

    # The new manager allocates Nia, who sees Alex's name and nothing of Alex's.
    allocations = other.get_by_role("region", name="Allocations (social workers)")
    allocations.get_by_label("Social worker", exact=True).select_option(label=nia.name)
    allocations.get_by_label("Start date").fill(clock.today().isoformat())
    allocations.get_by_role("button", name="Save").click()
    expect(notice(other)).to_contain_text("Saved.")
    check(other, "the moved child with a new social worker")
    nia_page = on_phone(another_page())
    sign_in(nia_page, nia)
    nia_page.goto(f"/shared/{cast.child_id}")
    expect(nia_page.get_by_text("Beach day")).to_have_count(0)
    check(nia_page, "the new social worker's page of the moved child")
    response = nia_page.goto(f"/items/{item_id}")
    assert response is not None and response.status == 404

    # Alex shares it again, with "my social worker": now it is Nia, never Sam.
    alex.goto(f"/items/{item_id}/share")
    alex.get_by_role("radio", name="My social worker (whoever it is now)").check()
    alex.get_by_role("button", name="Share", exact=True).click()
    nia_page.goto(f"/items/{item_id}")
    expect(heading(nia_page, "Beach day")).to_be_visible()
    response = sam.goto(f"/items/{item_id}")
    assert response is not None and response.status == 404
    problems.assert_none()
