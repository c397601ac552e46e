"""A big box in a real Chromium: "Show more" loads the next 60 memories in place (focus on
the first new one, so keyboard users carry on from there), and without script the same link
opens the next page. Checked by axe, on a small phone too."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from memorybox.db import db
from tests.browser.conftest import (
    LAPTOP,
    Cast,
    Problems,
    assert_accessible,
    heading,
    on_small_phone,
    sign_in,
)
from tests.factories import World
from tests.test_list_queries import bulk_items

pytestmark = pytest.mark.browser


@pytest.fixture
def big_box(app: Flask, world: World, cast: Cast) -> str:
    bulk_items(world.child, world.young_person, 130, storage=app.extensions["memorybox.storage"])
    db.session.commit()
    return f"/children/{cast.child_id}/box"


def cards(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_role("list", name="Your memories").get_by_role("listitem")


def test_show_more_loads_the_next_memories_in_place(
    page: Page, cast: Cast, big_box: str, problems: Problems
) -> None:
    sign_in(page, cast.young_person)
    page.goto(big_box)
    expect(cards(page)).to_have_count(60)
    assert_accessible(page, "a big box")
    more = page.get_by_role("link", name="Show more")
    more.focus()
    page.keyboard.press("Enter")
    expect(cards(page)).to_have_count(120)
    expect(page).to_have_url(re.compile(r"/box$"))  # loaded in place
    expect(page.get_by_role("link", name="Memory 69")).to_be_focused()  # the 61st, newest first
    page.get_by_role("link", name="Show more").click()
    expect(cards(page)).to_have_count(130)
    expect(page.get_by_role("link", name="Show more")).to_have_count(0)
    assert_accessible(page, "a big box after showing more")
    on_small_phone(page, "a big box")
    problems.assert_none()


@pytest.fixture
def page_without_script(browser: Browser, portal: str) -> Iterator[Page]:
    context = browser.new_context(base_url=portal, viewport=LAPTOP, java_script_enabled=False)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_without_script_show_more_opens_the_next_page(
    page_without_script: Page, cast: Cast, big_box: str
) -> None:
    page = page_without_script
    sign_in(page, cast.young_person)
    page.goto(big_box)
    page.get_by_role("link", name="Show more").click()
    expect(page).to_have_url(re.compile(r"/box\?after="))
    expect(heading(page, "My box")).to_be_visible()
    expect(cards(page)).to_have_count(60)
    expect(page.get_by_role("link", name="Memory 69")).to_be_visible()
    page.get_by_role("link", name="Back to your newest memories").click()
    expect(page.get_by_role("link", name="Memory 129")).to_be_visible()
