"""Sharing in a real Chromium, by clicks and keys: a young person shares a photo and an album
and stops a share, their social worker is told and looks, the child sees who looked, "I need
help", moderation from the manager's switch to the child's Suggested page, a small phone and
the keyboard. Every page is checked by axe."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Locator, Page, expect

from memorybox.db import db
from tests import factories
from tests.browser.conftest import (
    Cast,
    Problems,
    assert_accessible,
    heading,
    nav,
    notice,
    on_small_phone,
    sign_in,
)
from tests.factories import World

pytestmark = pytest.mark.browser

TITLE = "Beach day"


@dataclass(frozen=True)
class Shelf:
    """Things already in Alex's box, read as plain values before the server is used."""

    beach: int

    @property
    def beach_url(self) -> str:
        return f"/items/{self.beach}"


@pytest.fixture
def shelf(app: Flask, world: World, cast: Cast) -> Shelf:
    made = factories.item(
        app, world.child, world.young_person, title=TITLE, memory_date=date(2024, 3, 27)
    )
    result = Shelf(beach=made.id)
    db.session.commit()  # end the test thread's read transaction before the server writes
    return result


# --- helpers -------------------------------------------------------------------------------


def who_can_see(page: Page) -> Locator:
    """The names in the item page's "Who can see this" panel (its first list)."""
    panel = page.get_by_role("region", name="Who can see this")
    return panel.get_by_role("list").first.get_by_role("listitem")


def open_from_box(page: Page, title: str) -> None:
    nav(page, "My box").click()
    page.get_by_role("list", name="Your memories").get_by_role("link", name=title).click()
    expect(heading(page, title)).to_be_visible()


def share_with(page: Page, choice: str) -> None:
    """On a share form: choose who, press Share."""
    page.get_by_role("radio", name=choice).check()
    page.get_by_role("button", name="Share", exact=True).click()


# --- journeys ------------------------------------------------------------------------------


def test_young_person_shares_and_their_social_worker_is_told_and_looks(
    shelf: Shelf,
    page: Page,
    another_page: Callable[[], Page],
    cast: Cast,
    problems: Problems,
) -> None:
    sw = cast.social_worker.name
    child = cast.child_name

    # 1. Private to start with.
    sign_in(page, cast.young_person)
    expect(heading(page, f"Hello, {child}")).to_be_visible()
    open_from_box(page, TITLE)
    expect(who_can_see(page)).to_have_text(["You"])
    assert_accessible(page, "the item page with its who-can-see panel")

    # Share it with "my social worker"; first forgetting to choose.
    page.get_by_role("link", name="Share", exact=True).click()
    expect(heading(page, f"Share “{TITLE}”")).to_be_visible()
    assert_accessible(page, "the share form")
    page.get_by_role("button", name="Share", exact=True).click()
    choices = page.get_by_role("group", name="Who can see it?")
    expect(choices).to_have_accessible_description("Error: Please choose who can see it.")
    assert_accessible(page, "the share form showing an error")
    share_with(page, "My social worker (whoever it is now)")
    expect(page).to_have_url(re.compile(rf"{shelf.beach_url}$"))
    expect(notice(page)).to_contain_text(f"“{TITLE}” is shared. You can stop sharing at any time.")
    expect(who_can_see(page)).to_have_text(["You", re.compile(rf"^{sw}, your social worker \(")])
    expect(who_can_see(page).nth(1)).to_contain_text("you shared it")
    assert_accessible(page, "the item page, shared")

    # An album called "Nan", filled from the item page and shared with the foster carers.
    nav(page, "Albums").click()
    expect(heading(page, "Albums")).to_be_visible()
    expect(page.get_by_text("No albums yet.")).to_be_visible()
    assert_accessible(page, "the albums page")
    page.get_by_label("Name your album").press_sequentially("Nan")
    page.get_by_role("button", name="Make album").click()
    expect(heading(page, "Nan")).to_be_visible()
    expect(notice(page)).to_contain_text("Your album “Nan” is ready.")
    expect(page.get_by_text("This album is private to you.")).to_be_visible()

    open_from_box(page, TITLE)
    albums = page.get_by_role("region", name="Albums")
    albums.get_by_label("Add to album").select_option(label="Nan")
    albums.get_by_role("button", name="Add to album").click()
    expect(notice(page)).to_contain_text(f"“{TITLE}” is in your album “Nan”.")
    page.get_by_role("region", name="Albums").get_by_role("link", name="Nan").click()
    expect(heading(page, "Nan")).to_be_visible()
    in_album = page.get_by_role("list", name="In this album").get_by_role("listitem")
    expect(in_album).to_have_count(1)
    expect(in_album.get_by_role("link", name=TITLE)).to_be_visible()
    assert_accessible(page, "the album page")

    page.get_by_role("link", name="Share this album").click()
    expect(heading(page, "Share “Nan”")).to_be_visible()
    expect(page.get_by_text("anything you add to it later")).to_be_visible()
    assert_accessible(page, "the share form for an album")
    share_with(page, "My foster carers (whoever looks after me now)")
    expect(heading(page, "Nan")).to_be_visible()
    expect(notice(page)).to_contain_text("“Nan” is shared.")
    expect(page.get_by_text(re.compile(r"^Shared with: your foster carers\."))).to_be_visible()

    # The overview: what is shared now, and every choice so far.
    nav(page, "Who can see").click()
    expect(heading(page, "Who can see your things")).to_be_visible()
    shared_now = page.get_by_role("list", name="Shared now").get_by_role("listitem")
    expect(shared_now).to_have_count(2)
    expect(shared_now.filter(has_text=TITLE)).to_contain_text("your social worker")
    expect(shared_now.filter(has_text="Nan")).to_contain_text("your foster carers")
    history = page.get_by_role("table", name="Every sharing choice, newest first")
    expect(history.locator("tbody tr")).to_have_count(2)
    expect(history.locator("tbody tr").filter(has_text="Nan")).to_contain_text("Shared")
    assert_accessible(page, "the who-can-see overview")

    shared_now.filter(has_text="Nan").get_by_role("button", name="Stop sharing").click()
    expect(notice(page)).to_contain_text("can't see “Nan” any more.")
    expect(shared_now).to_have_count(1)
    expect(shared_now).to_contain_text(TITLE)
    expect(history.locator("tbody tr").filter(has_text="Nan")).to_contain_text("Stopped by you on")
    expect(history.locator("tbody tr").filter(has_text=TITLE)).to_contain_text("Shared")
    assert_accessible(page, "the who-can-see overview after stopping a share")

    nav(page, "Who looked").click()
    expect(heading(page, "Who has looked at your things")).to_be_visible()
    expect(page.get_by_text("Nobody else has looked at anything yet.")).to_be_visible()
    assert_accessible(page, "the who-looked page, empty")

    # 2. The social worker is told, and looks.
    worker = another_page()
    sign_in(worker, cast.social_worker)
    expect(heading(worker, "Your caseload")).to_be_visible()
    messages = nav(worker, "Messages 1 new")
    expect(messages).to_be_visible()
    row = worker.get_by_role("listitem").filter(
        has=worker.get_by_role("heading", name=child, exact=True)
    )
    expect(row).to_contain_text("Needs you: 1 new share.")
    expect(row).to_contain_text("1 shared with you.")
    assert_accessible(worker, "the caseload")

    messages.click()
    expect(heading(worker, "Messages")).to_be_visible()
    assert_accessible(worker, "the messages page")
    # The message leads to exactly what was shared, and is read once opened.
    worker.get_by_role("link", name=f"{child} has shared something new with you.").click()
    expect(worker).to_have_url(re.compile(rf"{shelf.beach_url}$"))
    expect(heading(worker, TITLE)).to_be_visible()
    expect(nav(worker, "Messages")).to_be_visible()
    expect(worker.get_by_role("region", name="Who can see this")).to_have_count(0)
    assert_accessible(worker, "the item page as the social worker")

    nav(worker, f"Back to {child}").click()
    expect(worker).to_have_url(re.compile(rf"/shared/{cast.child_id}$"))
    expect(heading(worker, child)).to_be_visible()
    needs = worker.get_by_role("region", name="What needs you now")
    expect(needs).to_contain_text(f"“{TITLE}” was shared with you")
    shared = worker.get_by_role("list", name=f"What {child} shares with you").get_by_role(
        "listitem"
    )
    expect(shared.filter(has_text=TITLE)).to_contain_text("New")
    assert_accessible(worker, "the single view of a child")

    # The child sees who looked, in plain words.
    page.reload()
    looks = page.get_by_role("main").get_by_role("listitem")
    expect(looks.first).to_contain_text(f"{sw}, your social worker, looked at “{TITLE}” on")
    expect(looks).to_have_count(1)
    assert_accessible(page, "the who-looked page")

    problems.assert_none()


def test_i_need_help_gives_emergency_numbers_and_tells_the_social_worker(
    page: Page, another_page: Callable[[], Page], cast: Cast, problems: Problems
) -> None:
    sign_in(page, cast.young_person)
    page.get_by_role("navigation", name="Help").get_by_role("link", name="I need help").click()
    expect(heading(page, "I need help")).to_be_visible()
    expect(page.get_by_text("call 999")).to_be_visible()
    expect(page.get_by_role("link", name="0800 1111")).to_have_attribute("href", "tel:08001111")
    assert_accessible(page, "the help page")

    page.get_by_role("button", name="Tell my social worker I need help").click()
    expect(notice(page)).to_contain_text(f"We have told {cast.social_worker.name}.")
    expect(page.get_by_text("call 999")).to_be_visible()
    expect(page.get_by_text("Childline")).to_contain_text("0800 1111")
    assert_accessible(page, "the help page after asking for help")

    worker = another_page()
    sign_in(worker, cast.social_worker)
    nav(worker, "Messages 1 new").click()
    urgent = worker.get_by_role("main").get_by_role("listitem").filter(has_text="Urgent")
    expect(urgent).to_contain_text(f"{cast.child_name} pressed “I need help”.")

    problems.assert_none()


def test_moderation_from_the_managers_switch_to_the_childs_suggested_page(
    page: Page,
    another_page: Callable[[], Page],
    cast: Cast,
    problems: Problems,
    tmp_path: Path,
) -> None:
    child = cast.child_name
    title = "Zoo trip"
    photo = tmp_path / "zoo.jpg"
    photo.write_bytes(factories.jpeg_bytes(320, 240, "green"))

    # 3. The manager turns moderation on.
    sign_in(page, cast.manager)
    nav(page, "Settings").click()
    expect(heading(page, "Settings")).to_be_visible()
    assert_accessible(page, "the settings page")
    switch = page.get_by_label("Items from adults wait for the social worker's approval")
    expect(switch).not_to_be_checked()
    switch.check()
    page.get_by_role("button", name="Save settings").click()
    expect(notice(page)).to_contain_text("Settings saved.")
    expect(switch).to_be_checked()

    age = page.get_by_label("Age from which young people decide about sharing themselves")
    age.fill("3")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Please choose an age from 8 to 25.")).to_be_visible()
    expect(age).to_have_attribute("aria-invalid", "true")
    assert_accessible(page, "the settings page showing an error")

    # The carer sends something; it waits for the social worker.
    carer = another_page()
    sign_in(carer, cast.carer)
    carer.get_by_role("link", name=f"Send {child} a photo or keepsake").click()
    expect(carer.get_by_text(f"{child}'s social worker will check it first.")).to_be_visible()
    carer.get_by_label("Choose a file").set_input_files(photo)
    carer.get_by_label("Title", exact=True).press_sequentially(title)
    carer.get_by_role("button", name="Add it").click()
    expect(carer).to_have_url(re.compile(r"/carer$"))
    sent = carer.get_by_role("region", name=child).get_by_role("listitem").filter(has_text=title)
    expect(sent).to_contain_text("waiting for")
    expect(sent).not_to_contain_text("chose not to keep")

    child_page = another_page()
    sign_in(child_page, cast.young_person)
    nav(child_page, "Suggested").click()
    expect(child_page.get_by_text("There is nothing waiting for you right now.")).to_be_visible()

    # The social worker passes it on.
    worker = another_page()
    sign_in(worker, cast.social_worker)
    worker.get_by_role("link", name="1 item is waiting for your approval").click()
    expect(heading(worker, "Waiting for your approval")).to_be_visible()
    waiting = worker.get_by_role("main").get_by_role("listitem").filter(has_text=title)
    expect(waiting).to_contain_text(f"For {child}, from {cast.carer.name}")
    assert_accessible(worker, "the reviews page")
    waiting.get_by_role("button", name=f"Pass on to {child}").click()
    expect(notice(worker)).to_contain_text(f"“{title}” has been passed on to {child}.")
    expect(worker.get_by_text("Nothing is waiting.")).to_be_visible()

    # The child sees it in Suggested.
    child_page.reload()
    suggestion = child_page.get_by_role("listitem").filter(has_text=title)
    expect(suggestion).to_contain_text(f"From {cast.carer.name}")
    expect(suggestion.get_by_role("button", name="Keep it")).to_be_visible()
    assert_accessible(child_page, "the suggested page after approval")

    problems.assert_none()


def test_sharing_fits_a_small_phone_and_works_from_the_keyboard(
    shelf: Shelf, page: Page, cast: Cast, problems: Problems
) -> None:
    sign_in(page, cast.young_person)
    open_from_box(page, TITLE)
    on_small_phone(page, "the item page with its panel")
    page.get_by_role("link", name="Share", exact=True).click()
    expect(heading(page, f"Share “{TITLE}”")).to_be_visible()
    on_small_phone(page, "the share form")
    page.get_by_role("button", name="Share", exact=True).click()
    expect(page.get_by_text("Please choose who can see it.")).to_be_visible()
    on_small_phone(page, "the share form showing an error")

    # 4. Keyboard only: Tab to the group, arrows to choose, Enter to send.
    page.reload()
    focused = """() => {
      const el = document.activeElement;
      return {type: el.type || el.tagName, value: el.value, checked: !!el.checked,
              outline: getComputedStyle(el).outlineStyle};
    }"""
    for _ in range(30):
        page.keyboard.press("Tab")
        now = page.evaluate(focused)
        if now["type"] == "radio":
            break
    else:
        pytest.fail("Tab never reached the choices on the share form")
    assert now == {"type": "radio", "value": "carers", "checked": False, "outline": "solid"}, now
    page.keyboard.press("ArrowDown")
    assert page.evaluate(focused)["value"] == "social_worker"
    page.keyboard.press("ArrowDown")
    assert page.evaluate(focused)["value"] == "person"
    page.keyboard.press("ArrowUp")
    now = page.evaluate(focused)
    assert (now["value"], now["checked"]) == ("social_worker", True), now
    expect(page.get_by_role("radio", name="My social worker (whoever it is now)")).to_be_checked()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"{shelf.beach_url}$"))
    expect(notice(page)).to_contain_text(f"“{TITLE}” is shared.")
    expect(who_can_see(page)).to_have_count(2)

    # With a share to stop, the panel is at its widest.
    on_small_phone(page, "the item page with a share in its panel")

    problems.assert_none()
