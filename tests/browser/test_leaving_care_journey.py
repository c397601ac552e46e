"""Leaving care in a real Chromium, on a 360 px phone, axe on every page: the manager records
that Alex (17) has left care and adds a personal adviser; the former social worker can no
longer open Alex's page; Alex adds their own email, chooses a new password, shares a memory
with the adviser (who can see it), asks to delete their account, reads the warning and the
day 30 days on, and changes their mind."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from memorybox import clock, i18n
from memorybox.accounts.models import Role
from memorybox.children.models import Child
from memorybox.db import db
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
from tests.factories import PASSWORD, World

pytestmark = pytest.mark.browser

NEW_PASSWORD = "my own new password"


def test_leaving_care_keeping_the_box(
    app: object,
    world: World,
    page: Page,
    another_page: Callable[[], Page],
    cast: Cast,
    problems: Problems,
) -> None:
    child = db.session.get(Child, cast.child_id)
    assert child is not None
    today = clock.today()
    child.date_of_birth = date(today.year - 17, today.month, 1)
    adviser = factories.user(app, world.authority, Role.SOCIAL_WORKER, "Morgan Adviser")  # type: ignore[arg-type]
    item = factories.item(app, child, world.young_person, title="My first flat")  # type: ignore[arg-type]
    adviser_person, adviser_id, item_id = (
        Person(adviser.email, adviser.display_name),
        adviser.id,
        item.id,
    )
    db.session.commit()

    # The manager records leaving care, and adds Alex's personal adviser.
    manager = on_phone(another_page())
    sign_in(manager, cast.manager)
    manager.goto(f"/manage/children/{cast.child_id}")
    check(manager, "a child's page for a manager, before leaving care")
    manager.get_by_role("link", name="Record leaving care").click()
    expect(heading(manager, f"{cast.child_name} is leaving care")).to_be_visible()
    check(manager, "recording leaving care")
    manager.get_by_role("button", name="Record leaving care").click()
    expect(notice(manager)).to_contain_text(f"{cast.child_name} left care on {i18n.day(today)}")
    expect(manager.get_by_text(f"Left care on {i18n.day(today)}.", exact=True)).to_be_visible()
    manager.get_by_label("Personal adviser or other worker").select_option(str(adviser_id))
    manager.get_by_role("button", name="Add", exact=True).click()
    expect(notice(manager)).to_contain_text("Morgan Adviser can now be chosen")
    check(manager, "a child's page after leaving care, with a personal adviser")

    # The former social worker can no longer open Alex's page.
    worker = on_phone(another_page())
    sign_in(worker, cast.social_worker)
    response = worker.goto(f"/shared/{cast.child_id}")
    assert response is not None and response.status == 404
    expect(heading(worker, "We can't find that page")).to_be_visible()
    check(worker, "the former social worker, refused")

    # Alex adds their own email and chooses a new password.
    on_phone(page)
    sign_in(page, cast.young_person)
    page.goto("/notifications/settings")
    check(page, "settings at 17")
    page.get_by_role("link", name="Your email").click()
    expect(heading(page, "Your email")).to_be_visible()
    check(page, "adding your own email")
    page.get_by_label("Your own email address").fill("not an email")
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Save my email").click()
    expect(page.get_by_text("That doesn't look like an email address.")).to_be_visible()
    check(page, "an email that is not one")
    page.get_by_label("Your own email address").fill("alex.own@personal.example")
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Save my email").click()
    expect(notice(page)).to_contain_text("From now on you sign in with alex.own@personal.example")
    page.get_by_role("link", name="Change your password").click()
    page.get_by_label("Your password now").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Type the new password again").fill(NEW_PASSWORD)
    check(page, "choosing a new password")
    page.get_by_role("button", name="Change password").click()
    expect(notice(page)).to_contain_text("Your password has changed")

    # Alex shares a memory with the adviser, who can see it.
    page.goto(f"/items/{item_id}")
    page.get_by_role("link", name="Share", exact=True).click()
    page.get_by_role("radio", name="One person I choose").check()
    page.get_by_label("Which person?").select_option(str(adviser_id))
    check(page, "sharing with a personal adviser")
    page.get_by_role("button", name="Share", exact=True).click()
    expect(notice(page)).to_contain_text("is shared")
    them = on_phone(another_page())
    sign_in(them, adviser_person)
    them.goto(f"/items/{item_id}")
    expect(heading(them, "My first flat")).to_be_visible()
    check(them, "the adviser sees what was shared")

    # Alex asks to delete the account, reads the warning, and changes their mind.
    day = i18n.day(today + timedelta(days=30))
    page.goto("/notifications/settings")
    page.get_by_role("link", name="Delete your account").click()
    expect(heading(page, "Delete your account")).to_be_visible()
    expect(page.get_by_text(f"We will delete your account on {day}.")).to_be_visible()
    expect(page.get_by_text("They keep these for 6 years")).to_be_visible()
    check(page, "the warning before deleting an account")
    page.get_by_label("Your password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Delete my account").click()
    expect(notice(page)).to_contain_text(f"We will delete your account on {day}")
    banner = page.get_by_role("region", name="Your account")
    expect(banner).to_contain_text(f"Your account will be deleted on {day}.")
    check(page, "an account waiting to be deleted")
    nav(page, re.compile("^(Home|My box)$")).first.click()
    expect(banner).to_be_visible()
    check(page, "the banner on the home page")
    banner.get_by_role("button", name="Cancel, keep my account").click()
    expect(notice(page)).to_contain_text("You changed your mind")
    expect(page.get_by_role("region", name="Your account")).to_have_count(0)
    check(page, "the account kept")
    problems.assert_none()
