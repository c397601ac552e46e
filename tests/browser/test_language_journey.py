"""A young person switches their pages to Arabic, then Welsh, in Settings, on a 360 px
phone: the page says its language and direction, the bottom menu and its "More" panel sit
mirrored (right to left) in Arabic, a card reads as a card, nothing scrolls sideways, and
axe finds nothing on a few pages in each language. Screenshots of the home page in each
language land in test-results/ (to look at)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from memorybox.memories.models import ItemKind
from tests.browser.conftest import (
    SMALL_PHONE,
    Cast,
    Problems,
    assert_accessible,
    assert_no_sideways_scroll,
    sign_in,
)
from tests.factories import World
from tests.test_list_queries import bulk_items

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "test-results"

#: per language: what the settings button, the menu and a page heading say
WORDS = {
    "ar": {"save": "احفظ", "more": "المزيد", "box": "صندوقي", "memories": "ذكرياتك"},
    "cy": {"save": "Cadw", "more": "Mwy", "box": "Fy mocs", "memories": "Dy atgofion"},
    "en_GB": {"save": "Save", "more": "More", "box": "My box", "memories": "Your memories"},
}


@pytest.fixture
def small_box(app: Flask, world: World, cast: Cast) -> int:
    storage = app.extensions["memorybox.storage"]
    bulk_items(world.child, world.young_person, 4, storage=storage)
    bulk_items(world.child, world.young_person, 1, kind=ItemKind.VIDEO, storage=storage)
    return cast.child_id


def _choose(page: Page, code: str, now: str) -> None:
    """Settings, in the language the page is in now (``now``), then the new one."""
    page.goto("/notifications/settings")
    page.locator("select#language").select_option(code)
    page.get_by_role("button", name=WORDS[now]["save"], exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", code.replace("_", "-"))


def _look(page: Page, child: int, code: str) -> None:
    words = WORDS[code]
    rtl = code == "ar"
    html = page.locator("html")
    expect(html).to_have_attribute("dir", "rtl" if rtl else "ltr")
    page.goto(f"/children/{child}/box")
    expect(page.get_by_role("heading", level=1, name=words["box"])).to_be_visible()
    menu = page.locator("nav.child-nav")
    bar = page.locator(".child-nav__bar").bounding_box()
    assert bar is not None and bar["y"] + bar["height"] <= SMALL_PHONE["height"] + 1
    home = page.locator(".child-nav__bar > li").first.bounding_box()
    more = page.locator(".child-nav__more").bounding_box()
    assert home is not None and more is not None
    # the menu runs in reading order: Home first, More last (mirrored in Arabic)
    assert (home["x"] > more["x"]) if rtl else (home["x"] < more["x"]), (code, home, more)
    # a card: a square picture with its title under it
    card = page.get_by_role("list", name=words["memories"]).get_by_role("listitem").first
    expect(card).to_be_visible()
    picture = card.locator(".card__picture").bounding_box()
    assert picture is not None and abs(picture["width"] - picture["height"]) <= 1
    assert_no_sideways_scroll(page, f"the gallery in {code}")
    assert_accessible(page, f"the gallery in {code}")
    # "More" opens above the bar, inside the screen, on the reading side's end
    page.locator(".child-nav__more summary").click()
    panel = page.locator(".child-nav__menu").bounding_box()
    assert panel is not None
    assert panel["x"] >= -1 and panel["x"] + panel["width"] <= SMALL_PHONE["width"] + 1
    if rtl:
        assert panel["x"] <= 1, panel  # mirrored: it hangs from the left edge
    else:
        assert panel["x"] + panel["width"] >= SMALL_PHONE["width"] - 1, panel
    assert_accessible(page, f"the menu, open, in {code}")
    expect(menu).to_be_visible()
    page.locator(".child-nav__more summary").click()
    for path in ("/", f"/children/{child}/story", "/notifications/settings"):
        page.goto(path)
        expect(html).to_have_attribute("dir", "rtl" if rtl else "ltr")
        assert_no_sideways_scroll(page, f"{path} in {code}")
        assert_accessible(page, f"{path} in {code}")
    page.goto("/")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"home-360-{code}.png"), full_page=True)


def test_a_young_person_reads_their_pages_in_arabic_and_in_welsh(
    page: Page, cast: Cast, small_box: int, problems: Problems
) -> None:
    page.set_viewport_size(SMALL_PHONE)
    sign_in(page, cast.young_person)
    _look(page, small_box, "en_GB")
    _choose(page, "ar", "en_GB")
    _look(page, small_box, "ar")
    _choose(page, "cy", "ar")
    _look(page, small_box, "cy")
    _choose(page, "en_GB", "cy")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    problems.assert_none()


def test_the_sign_in_page_offers_each_language(page: Page, problems: Problems) -> None:
    page.set_viewport_size(SMALL_PHONE)
    page.goto("/login")
    page.get_by_role("link", name="العربية").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", level=1)).to_have_text("سجّل الدخول")
    assert_no_sideways_scroll(page, "the sign-in page in Arabic")
    assert_accessible(page, "the sign-in page in Arabic")
    page.get_by_role("link", name="Cymraeg").click()
    expect(page.locator("html")).to_have_attribute("lang", "cy")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mewngofnodi")
    assert_accessible(page, "the sign-in page in Welsh")
    problems.assert_none()
