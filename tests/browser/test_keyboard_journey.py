"""A young person's main tasks on a 360 px phone with only the keyboard (Tab, Shift+Tab,
Enter, Space, Escape and typing; no mouse): sign in, open a memory from the gallery, add a
photo (the file itself is given to the focused file box, as a phone's file picker would),
share a memory with their carers and stop sharing it, write a part of their story, open
"More" and reach Settings, and find something.

Each Tab is checked: focus lands on something visible, on the screen and not under the menu
bar; it moves on in the page's order (forwards with Tab, backwards with Shift+Tab) and, in
the page's main part, down the page or along a row, never back up; and it is never lost to
the page itself after something is done on the page (opening or closing a menu, choosing).
A new page starts at its top: the first Tab reaches "Skip to main content", and Enter there
moves focus to the main part.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import Locator, Page, expect

from memorybox.db import db
from tests import factories
from tests.browser.conftest import (
    SMALL_PHONE,
    Cast,
    Problems,
    assert_accessible,
    heading,
    notice,
)
from tests.factories import PASSWORD, World

pytestmark = pytest.mark.browser

TITLE = "Sports day"

#: Where focus is now, and whether it moved on from where it was last time this was asked.
FOCUSED = r"""
() => {
  const el = document.activeElement;
  const last = window.__lastFocused;
  window.__lastFocused = el;
  if (!el || el === document.body || el === document.documentElement) return { lost: true };
  const r = el.getBoundingClientRect();
  const bar = document.querySelector('.child-nav');
  const barTop = bar && !bar.contains(el) ? bar.getBoundingClientRect().top : innerHeight;
  const words = (el.getAttribute('aria-label') || el.textContent || el.value || el.name || '')
    .trim().replace(/\s+/g, ' ').slice(0, 40);
  return {
    lost: false,
    name: `${el.tagName.toLowerCase()} "${words}"`,
    visible: el.checkVisibility({ visibilityProperty: true }),
    onScreen: r.bottom > 0 && r.top < barTop && Math.min(r.bottom, barTop) - Math.max(r.top, 0)
      >= Math.min(r.height, 44) - 1,
    order: last && last !== el && last.isConnected
      ? (last.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING ? 'after' : 'before')
      : null,
    inMain: !!el.closest('main'),
    top: r.top + scrollY,
    bottom: r.bottom + scrollY,
    left: r.left,
  };
}
"""


@dataclass
class Keyboard:
    """The young person's hands on the keyboard, watching where focus goes."""

    page: Page
    path: list[str] = field(default_factory=list)  # where Tab has been on this page
    _last: dict[str, Any] | None = None

    def _where(self) -> dict[str, Any]:
        now: dict[str, Any] = self.page.evaluate(FOCUSED)
        return now

    def focus_kept(self, after: str) -> None:
        """Focus is on something on the page, not lost to the page itself."""
        now = self._where()
        assert not now["lost"], f"focus was lost to the page after {after}"
        self._last = now

    def tab(self, backwards: bool = False) -> dict[str, Any]:
        self.page.keyboard.press("Shift+Tab" if backwards else "Tab")
        now = self._where()
        step = f"Tab ({'backwards' if backwards else 'forwards'}) after {' > '.join(self.path)}"
        assert not now["lost"], f"{step}: focus went to the page itself"
        self.path.append(now["name"])
        assert now["visible"], f"{step}: focus is on something hidden: {now['name']}"
        assert now["onScreen"], f"{step}: {now['name']} is off the screen or under the menu bar"
        if now["order"] is not None:
            wanted = "before" if backwards else "after"
            assert now["order"] == wanted, f"{step}: focus jumped {now['order']} {now['name']}"
        last = self._last
        if last and not last["lost"] and last["inMain"] and now["inMain"] and now["order"]:
            # in reading order: further down the page, or along the same row
            # (a button floated to the end of a row may come first in it)
            first, second = (now, last) if backwards else (last, now)
            below = second["top"] >= first["bottom"] - 4
            same_row = min(first["bottom"], second["bottom"]) > max(first["top"], second["top"])
            assert below or same_row, f"{step}: focus went back up the page to {now['name']}"
        self._last = now
        return now

    def tab_to(self, target: Locator, backwards: bool = False, limit: int = 80) -> None:
        """Press Tab (or Shift+Tab) until ``target`` has focus, checking each step."""
        if target.evaluate("el => el === document.activeElement"):
            return
        for _ in range(limit):
            self.tab(backwards)
            if target.evaluate("el => el === document.activeElement"):
                return
        pytest.fail(f"Tab never reached {target}: {' > '.join(self.path)}")

    def press(self, key: str) -> None:
        """A key that acts on the page and stays on it: focus must stay on something."""
        self.page.keyboard.press(key)
        self.focus_kept(key)

    def type(self, words: str) -> None:
        self.page.keyboard.type(words)

    def go(self, key: str = "Enter") -> None:
        """A key that opens a new page: it starts at its top, where Tab finds the skip link."""
        with self.page.expect_navigation():
            self.page.keyboard.press(key)
        self.new_page()

    def new_page(self) -> None:
        """A new page starts at its top: the first Tab reaches the skip link. (After the skip
        link was used, the address ends in #main, which a form's answer keeps: then the first
        Tab reaches the first thing in the main part, as it should.)"""
        self.page.wait_for_load_state()
        self.path = []
        self._last = None
        now = self.tab()
        if urlsplit(self.page.url).fragment == "main":
            assert now["inMain"], f"the first Tab on {self.page.url} missed the main part"
        else:
            expect(self.page.get_by_role("link", name="Skip to main content")).to_be_focused()

    def skip_to_main(self) -> None:
        """From the skip link, Enter moves focus to the page's main part (or it is there)."""
        skip = self.page.get_by_role("link", name="Skip to main content")
        if skip.evaluate("el => el === document.activeElement"):
            self.press("Enter")
            expect(self.page.locator("main")).to_be_focused()
        else:
            assert self._where()["inMain"], "focus is not in the main part of the page"
        self._last = None


def menu(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Main")


@pytest.fixture
def photos(app: Flask, world: World) -> Iterator[int]:
    made = factories.item(app, world.child, world.young_person, title=TITLE)
    factories.item(app, world.child, world.young_person, title="Birthday cake")
    db.session.commit()  # end the test thread's read transaction before the server writes
    yield made.id


@pytest.fixture
def keys(page: Page, cast: Cast, photos: int) -> Keyboard:
    """Signed in as the young person on a small phone, with nothing but the keyboard."""
    page.set_viewport_size(SMALL_PHONE)
    page.goto("/login")
    keyboard = Keyboard(page)
    keyboard.new_page()
    keyboard.tab_to(page.get_by_label("Email address"))
    keyboard.type(cast.young_person.email)
    keyboard.tab()
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    keyboard.type(PASSWORD)
    keyboard.go("Enter")
    expect(heading(page, f"Hello, {cast.child_name}")).to_be_visible()
    return keyboard


def test_open_a_memory_from_the_gallery(keys: Keyboard, page: Page, problems: Problems) -> None:
    keys.tab_to(menu(page).get_by_role("link", name="My box"))
    keys.go()
    expect(heading(page, "My box")).to_be_visible()
    keys.skip_to_main()
    memories = page.get_by_role("list", name="Your memories")
    keys.tab_to(memories.get_by_role("link", name=TITLE))
    keys.tab_to(memories.get_by_role("link", name="Birthday cake"), backwards=True)
    keys.tab_to(memories.get_by_role("link", name=TITLE))
    keys.go()
    expect(heading(page, TITLE)).to_be_visible()
    assert_accessible(page, "a memory, opened from the keyboard")
    problems.assert_none()


def test_add_a_photo(keys: Keyboard, page: Page, problems: Problems) -> None:
    keys.tab_to(menu(page).get_by_role("link", name="Add"))
    keys.go()
    expect(heading(page, "Add something to your box")).to_be_visible()
    keys.skip_to_main()
    chooser = page.get_by_label("Choose a file")
    keys.tab_to(chooser)
    # A phone's file picker opens from here (Enter or Space); Chromium's own cannot be driven,
    # so the file is given to the focused box as the picker would.
    chooser.set_input_files(
        files=[{"name": "picnic.jpg", "mimeType": "image/jpeg", "buffer": factories.jpeg_bytes()}]
    )
    keys.focus_kept("choosing a file")
    keys.tab_to(page.get_by_label("Title"))
    keys.type("Picnic in the park")
    keys.tab_to(page.get_by_role("button", name="Add it"))
    keys.go("Enter")
    expect(heading(page, "Picnic in the park")).to_be_visible()
    expect(notice(page)).to_contain_text("“Picnic in the park” is in your box now.")
    problems.assert_none()


def test_share_with_carers_and_stop(
    keys: Keyboard, page: Page, photos: int, problems: Problems
) -> None:
    page.goto(f"/items/{photos}")
    keys.new_page()
    keys.skip_to_main()
    keys.tab_to(page.get_by_role("link", name="Share", exact=True))
    keys.go()
    expect(heading(page, f"Share “{TITLE}”")).to_be_visible()
    keys.skip_to_main()
    carers = page.get_by_role("radio", name="My foster carers (whoever looks after me now)")
    keys.tab_to(carers)
    keys.press("Space")
    expect(carers).to_be_checked()
    keys.tab_to(page.get_by_role("button", name="Share", exact=True))
    keys.go()
    expect(notice(page)).to_contain_text(f"Done. “{TITLE}” is shared.")
    panel = page.get_by_role("region", name="Who can see this")
    expect(panel).to_contain_text("Your foster carers")
    keys.skip_to_main()
    keys.tab_to(panel.get_by_role("button", name="Stop sharing"))
    keys.go()
    expect(notice(page)).to_contain_text(f"can't see “{TITLE}” any more")
    expect(panel.get_by_role("button", name="Stop sharing")).to_have_count(0)
    problems.assert_none()


def test_write_a_part_of_their_story(keys: Keyboard, page: Page, problems: Problems) -> None:
    keys.tab_to(menu(page).get_by_role("link", name="My story"))
    keys.go()
    expect(heading(page, "My story")).to_be_visible()
    keys.skip_to_main()
    keys.tab_to(page.get_by_role("link", name="Write “About me”"))
    keys.go()
    expect(heading(page, "About me")).to_be_visible()
    keys.skip_to_main()
    keys.tab_to(page.get_by_label("Your words"))
    keys.type("I like football and my dog Biscuit.")
    keys.tab_to(page.get_by_role("button", name="Save"))
    keys.go()
    expect(notice(page)).to_contain_text("Saved “About me”.")
    expect(page.get_by_text("I like football and my dog Biscuit.")).to_be_visible()
    problems.assert_none()


def test_more_opens_closes_and_reaches_settings(
    keys: Keyboard, page: Page, problems: Problems
) -> None:
    more = menu(page).locator("summary")
    settings = menu(page).get_by_role("link", name="Settings")
    keys.tab_to(more)
    keys.press("Enter")
    expect(settings).to_be_visible()
    keys.tab()
    expect(menu(page).get_by_role("link", name="Find something")).to_be_focused()
    # Escape closes the menu and puts focus back on "More".
    keys.press("Escape")
    expect(settings).to_be_hidden()
    expect(more).to_be_focused()
    # Open again with Space; Shift+Tab out of it closes it too.
    keys.press("Space")
    expect(settings).to_be_visible()
    keys.tab(backwards=True)
    expect(menu(page).get_by_role("link", name="My story")).to_be_focused()
    expect(settings).to_be_hidden()
    keys.tab()
    keys.press("Enter")
    keys.tab_to(settings)
    assert_accessible(page, "the More menu, open, with focus on Settings")
    keys.go()
    expect(heading(page, "Settings")).to_be_visible()
    problems.assert_none()


def test_find_something(keys: Keyboard, page: Page, problems: Problems) -> None:
    keys.tab_to(menu(page).locator("summary"))
    keys.press("Enter")
    keys.tab_to(menu(page).get_by_role("link", name="Find something"))
    keys.go()
    expect(heading(page, "Find something")).to_be_visible()
    keys.skip_to_main()
    keys.tab_to(page.get_by_label("Words to look for"))
    keys.type("sports")
    keys.go("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q=sports"))
    keys.skip_to_main()
    keys.tab_to(page.get_by_role("link", name=TITLE))
    keys.go()
    expect(heading(page, TITLE)).to_be_visible()
    problems.assert_none()
