"""Finding things in a real Chromium, with the keyboard only: the child tags a memory, finds
it by a word from its caption and by the tag, and narrows a search to a year; a search that
goes wrong says so kindly and keeps what was typed. Every page is checked by axe, on a small
phone too, with touch targets of at least 48 px."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from flask import Flask
from playwright.sync_api import Locator, Page, expect

from memorybox.db import db
from memorybox.memories.models import MemoryItem, Rendition
from memorybox.storage import new_key
from tests.browser.conftest import (
    SMALL_PHONE,
    Cast,
    Problems,
    assert_accessible,
    heading,
    notice,
    on_small_phone,
    sign_in,
)
from tests.factories import World
from tests.test_list_queries import _tiny_webp, bulk_items

pytestmark = pytest.mark.browser


@pytest.fixture
def memories(app: Flask, world: World) -> dict[str, int]:
    """Three memories with pictures, from two years (written through the session, so the
    search index has their words)."""
    ids = bulk_items(
        world.child, world.young_person, 3, storage=app.extensions["memorybox.storage"]
    )
    details = (
        ("A day at the seaside", "We built a sandcastle with a moat.", date(2021, 8, 14)),
        ("Birthday cake", "Chocolate with ten candles.", date(2023, 5, 2)),
        ("My new bike", "It is red and very fast.", date(2023, 9, 30)),
    )
    named = {}
    for item_id, (title, caption, day) in zip(ids, details, strict=True):
        item = db.session.get(MemoryItem, item_id)
        assert item is not None
        item.title, item.caption, item.memory_date = title, caption, day
        named[title] = item_id
    # The item page shows the large copy of a photo: give the one the child opens its own.
    storage = app.extensions["memorybox.storage"]
    key = new_key("webp")
    storage.save(key, io.BytesIO(_tiny_webp()), "image/webp")
    db.session.add(
        Rendition(
            item_id=named["A day at the seaside"],
            name="large",
            storage_key=key,
            content_type="image/webp",
            size_bytes=10,
            width=8,
            height=8,
        )
    )
    db.session.commit()
    return named


def found(page: Page) -> Locator:
    return page.get_by_role("list", name="Things we found").get_by_role("link")


def submit_with_keyboard(page: Page) -> None:
    page.get_by_role("button", name="Find").focus()
    page.keyboard.press("Enter")


def assert_big_targets(page: Page, what: str) -> None:
    """On a small phone, everything in the page's own content a finger presses is at least
    48 px tall (a check box's whole row, with its label, is what the finger presses)."""
    page.set_viewport_size(SMALL_PHONE)
    try:
        small = page.evaluate(
            """() => [...document.querySelectorAll(
                 '#main button, #main select, #main input:not([type=hidden]):not([type=checkbox]),'
                 + ' #main .choice, #main .card__link')]
               .filter(el => el.getClientRects().length)
               .map(el => [el.outerHTML.slice(0, 80), el.getBoundingClientRect().height])
               .filter(([, height]) => height < 47.5)"""
        )
    finally:
        page.set_viewport_size({"width": 1024, "height": 800})
    assert not small, f"{what}: touch targets under 48 px: {small}"


def test_the_child_tags_a_memory_and_finds_it_by_words_tag_and_year(
    page: Page, cast: Cast, memories: dict[str, int], problems: Problems
) -> None:
    sign_in(page, cast.young_person)

    # Tag the seaside memory "Nan", from the keyboard.
    page.goto(f"/items/{memories['A day at the seaside']}")
    add = page.get_by_label("Add a tag")
    add.focus()
    page.keyboard.type("Nan")
    page.keyboard.press("Enter")
    expect(notice(page)).to_contain_text("Added the tag “Nan”")
    tags = page.get_by_role("list", name="Tags on this")
    expect(tags).to_contain_text("Nan")
    expect(page.get_by_role("button", name="Take off the tag Nan")).to_be_visible()
    assert_accessible(page, "an item with a tag")
    on_small_phone(page, "an item with a tag")
    assert_big_targets(page, "an item with a tag")

    # Find it by a word from its caption.
    page.goto(f"/children/{cast.child_id}/search")
    expect(heading(page, "Find something")).to_be_visible()
    assert_accessible(page, "the search page")
    page.get_by_label("Words to look for").focus()
    page.keyboard.type("sandcastle")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"q=sandcastle"))
    expect(found(page)).to_have_count(1)
    expect(found(page).first).to_contain_text("A day at the seaside")
    assert_accessible(page, "search results for a word")
    on_small_phone(page, "search results for a word")
    assert_big_targets(page, "search results for a word")

    # Find it by its tag: no words, the "Nan" box ticked with the space bar.
    page.get_by_label("Words to look for").fill("")
    page.get_by_role("checkbox", name="Nan").focus()
    page.keyboard.press("Space")
    expect(page.get_by_role("checkbox", name="Nan")).to_be_checked()
    submit_with_keyboard(page)
    expect(page).to_have_url(re.compile(r"tag=\d+"))
    expect(found(page)).to_have_count(1)
    expect(found(page).first).to_contain_text("A day at the seaside")
    assert_accessible(page, "search results for a tag")

    # Everything from 2023, newest first.
    page.get_by_role("checkbox", name="Nan").focus()
    page.keyboard.press("Space")
    page.get_by_label("From the year").select_option("2023")
    submit_with_keyboard(page)
    expect(page).to_have_url(re.compile(r"year=2023"))
    expect(found(page)).to_have_count(2)
    expect(found(page).nth(0)).to_contain_text("My new bike")
    expect(found(page).nth(1)).to_contain_text("Birthday cake")
    assert_accessible(page, "search results for a year")

    # A word nothing has: said gently.
    page.get_by_label("Words to look for").fill("dinosaur")
    page.get_by_label("From the year").select_option("")
    submit_with_keyboard(page)
    expect(page.get_by_text("We couldn't find anything for “dinosaur”")).to_be_visible()
    assert_accessible(page, "a search that finds nothing")
    problems.assert_none()


def test_a_search_that_goes_wrong_says_what_to_change_and_keeps_the_words(
    page: Page, cast: Cast, memories: dict[str, int], problems: Problems
) -> None:
    sign_in(page, cast.young_person)
    response = page.goto(f"/children/{cast.child_id}/search?q=cake&kind=spaceship")
    assert response is not None and response.status == 400
    expect(page.get_by_role("alert")).to_contain_text("Please choose what to show")
    expect(page.get_by_label("Words to look for")).to_have_value("cake")
    expect(page.get_by_label("Show me")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page, "a search that went wrong")
    on_small_phone(page, "a search that went wrong")
    page.get_by_role("alert").get_by_role("link").click()
    expect(page.get_by_label("Show me")).to_be_focused()
    submit_with_keyboard(page)
    expect(found(page)).to_have_count(1)
    problems.assert_none()
