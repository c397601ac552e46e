"""A young person's box on a small phone (360 x 740), in a real Chromium: the first memories
are on the first screen of every box page, the menu's "More" opens from the keyboard, cards
are even squares with videos and sounds marked and documents shown whole, nothing hidden
shows (the recorder's Stop button), and there is no emoji to show as empty boxes."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from memorybox import clock
from memorybox.db import db
from memorybox.memories.models import ItemKind, ItemStatus, MemoryItem
from memorybox.sharing.models import Collection, CollectionItem
from tests.browser.conftest import SMALL_PHONE, Cast, Problems, assert_accessible, heading, sign_in
from tests.factories import World
from tests.test_list_queries import bulk_items

pytestmark = pytest.mark.browser

EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf\u2b50\u231b\u23f3]")


@pytest.fixture
def phone_box(app: Flask, world: World, cast: Cast) -> dict[str, int]:
    storage = app.extensions["memorybox.storage"]
    photos = bulk_items(world.child, world.young_person, 20, storage=storage)
    video = bulk_items(world.child, world.young_person, 1, kind=ItemKind.VIDEO, storage=storage)
    document = bulk_items(
        world.child, world.young_person, 1, kind=ItemKind.DOCUMENT, storage=storage
    )
    bulk_items(world.child, world.carer, 3, status=ItemStatus.SUGGESTED, storage=storage)
    bulk_items(world.child, world.young_person, 3, deleted=True, storage=storage)
    album = Collection(child_id=world.child.id, name="Holidays")
    db.session.add(album)
    db.session.flush()
    for item_id in photos[:8]:
        db.session.add(CollectionItem(collection_id=album.id, item_id=item_id))
    # The video and the document are the newest, so they come first in the gallery.
    for number, item_id in enumerate((video[0], document[0])):
        item = db.session.get(MemoryItem, item_id)
        assert item is not None
        item.memory_date = clock.today() - timedelta(hours=number)
        item.title = ("Swimming video", "School report")[number]
    db.session.commit()
    return {"album": album.id, "child": cast.child_id}


def _first_screen(page: Page, list_name: str, what: str) -> None:
    """The first memory of ``list_name`` is wholly on screen above the menu bar."""
    first = page.get_by_role("list", name=list_name).get_by_role("listitem").first
    expect(first).to_be_visible()
    card = first.bounding_box()
    bar = page.get_by_role("navigation", name="Main").bounding_box()
    assert card is not None and bar is not None
    assert card["y"] >= 0 and card["y"] + min(card["height"], 120) <= bar["y"], (
        f"{what}: the first memory starts at {card['y']:.0f}px, the menu bar at {bar['y']:.0f}px"
    )
    assert not EMOJI.search(page.content()), f"{what} uses emoji"
    assert_accessible(page, what)


def test_the_first_memories_are_on_the_first_screen_of_every_box_page(
    page: Page, cast: Cast, phone_box: dict[str, int], problems: Problems
) -> None:
    page.set_viewport_size(SMALL_PHONE)
    child = phone_box["child"]
    sign_in(page, cast.young_person)
    expect(heading(page, f"Hello, {cast.child_name}")).to_be_visible()
    _first_screen(page, "New in your box", "the home page")
    for path, name, what in (
        (f"/children/{child}/box", "Your memories", "the gallery"),
        (f"/children/{child}/timeline", "Your memories in date order", "the timeline"),
        (f"/albums/{phone_box['album']}", "In this album", "an album"),
        (f"/children/{child}/suggested", "Waiting for you", "suggestions"),
        (f"/children/{child}/bin", "In your bin", "the bin"),
    ):
        page.goto(path)
        _first_screen(page, name, what)
    problems.assert_none()


def test_cards_are_even_squares_with_videos_marked_and_documents_whole(
    page: Page, cast: Cast, phone_box: dict[str, int], problems: Problems
) -> None:
    page.set_viewport_size(SMALL_PHONE)
    sign_in(page, cast.young_person)
    page.goto(f"/children/{phone_box['child']}/box")
    pictures = page.locator(".card__image")
    expect(pictures.first).to_be_visible()
    for index in range(6):
        box = pictures.nth(index).bounding_box()
        assert box is not None and abs(box["width"] - box["height"]) <= 1, box
    cards = page.get_by_role("list", name="Your memories").get_by_role("listitem")
    video = cards.filter(has_text="Swimming video")
    expect(video.locator(".card__mark")).to_be_visible()
    document = cards.filter(has_text="School report").locator("img")
    assert document.evaluate("img => getComputedStyle(img).objectFit") == "contain"
    problems.assert_none()


def test_more_opens_from_the_keyboard_and_nothing_hidden_shows(
    page: Page, cast: Cast, phone_box: dict[str, int], problems: Problems
) -> None:
    page.set_viewport_size(SMALL_PHONE)
    sign_in(page, cast.young_person)
    menu = page.get_by_role("navigation", name="Main")
    more = menu.locator("summary")
    expect(menu.get_by_role("link", name="Timeline")).to_be_hidden()
    more.focus()
    page.keyboard.press("Enter")
    timeline = menu.get_by_role("link", name="Timeline")
    expect(timeline).to_be_visible()
    assert_accessible(page, "the menu, open")
    page.keyboard.press("Tab")
    expect(menu.get_by_role("link", name="Find something")).to_be_focused()
    page.keyboard.press("Tab")
    expect(timeline).to_be_focused()
    page.keyboard.press("Enter")
    expect(heading(page, "My timeline")).to_be_visible()

    menu.get_by_role("link", name="Home").click()
    page.get_by_role("search", name="Find in your box").get_by_role("searchbox").fill("swim")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q=swim$"))
    expect(page.get_by_role("link", name="Swimming video")).to_be_visible()

    menu.get_by_role("link", name="Add").click()
    expect(heading(page, "Add something to your box")).to_be_visible()
    expect(page.get_by_role("button", name="Stop")).to_be_hidden()
    hint = page.get_by_text(re.compile(r"HEIC"))
    expect(hint).to_be_visible()
    assert_accessible(page, "the add form on a phone")
    problems.assert_none()
