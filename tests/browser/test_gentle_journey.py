"""Gentle with hard memories in a real Chromium: a carer adds a photo with a note; the child
sees the note before anything of the photo, chooses to open it later with someone they trust,
names that person, is reminded of them, opens it, then hides it until they're ready and
shows it again. Every page is checked by axe, on a small phone too."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

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

pytestmark = pytest.mark.browser

NOTE = "This photo shows your birth mum."


def test_a_hard_memory_waits_until_the_child_chooses(
    page: Page,
    another_page: Callable[[], Page],
    cast: Cast,
    problems: Problems,
    tmp_path: Path,
) -> None:
    photo = tmp_path / "mum.jpg"
    photo.write_bytes(factories.jpeg_bytes(320, 240, "teal"))
    carer = another_page()
    sign_in(carer, cast.carer)
    carer.get_by_role("link", name=f"Send {cast.child_name} a photo or keepsake").click()
    carer.get_by_label("Choose a file").set_input_files(photo)
    carer.get_by_label("Title", exact=True).press_sequentially("Mum and me")
    carer.get_by_label("Is there something hard about this?").press_sequentially(NOTE)
    assert_accessible(carer, "the add form with a content note")
    carer.get_by_role("button", name="Add it").click()
    expect(carer).to_have_url(re.compile(r"/carer$"))

    sign_in(page, cast.young_person)
    nav(page, "Suggested").click()
    card = page.get_by_role("list", name="Waiting for you").get_by_role("listitem")
    expect(card).to_contain_text("Jo wrote a note about this.")
    expect(card.get_by_role("img")).to_have_count(0)
    card.get_by_role("link", name="Read the note first").click()
    expect(heading(page, "Before you open this")).to_be_visible()
    expect(page.get_by_text(NOTE)).to_be_visible()
    expect(page.get_by_role("img")).to_have_count(0)
    assert_accessible(page, "the note before a memory")
    on_small_phone(page, "the note before a memory")
    page.get_by_role("button", name="Open it later with someone").click()
    expect(notice(page)).to_contain_text("We'll ask you first next time")

    nav(page, "Settings").click()
    page.get_by_label("Someone you trust to open hard memories with").select_option(
        label="Jo, your foster carer"
    )
    page.get_by_label("How to reach them").press_sequentially("Ask Jo after tea")
    page.get_by_role("button", name="Save").click()
    expect(notice(page)).to_contain_text("Saved.")
    assert_accessible(page, "settings with someone trusted")

    nav(page, "Suggested").click()
    page.get_by_role("link", name="Read the note first").click()
    expect(page.get_by_text("You chose Jo, your foster carer.")).to_be_visible()
    expect(page.get_by_text("How to reach them: Ask Jo after tea")).to_be_visible()
    assert_accessible(page, "the pause before opening with someone")
    page.get_by_role("button", name="Open it now").click()
    expect(heading(page, "Mum and me")).to_be_visible()
    expect(page.get_by_text(f"The note about this: “{NOTE}”")).to_be_visible()
    page.get_by_role("button", name="Keep it").click()

    nav(page, "My box").click()
    page.get_by_role("list", name="Your memories").get_by_role("link", name="Mum and me").click()
    expect(heading(page, "Before you open this")).to_be_visible()  # still with someone
    page.get_by_role("button", name="I can open it on my own").click()
    expect(heading(page, "Mum and me")).to_be_visible()
    page.get_by_text("Be gentle with this memory").click()
    page.get_by_role("button", name="Hide it until I'm ready").click()
    expect(notice(page)).to_contain_text("It is hidden until you're ready.")
    hidden = page.get_by_role("list", name="Your memories").get_by_role("listitem")
    expect(hidden.filter(has_text="Mum and me")).to_contain_text("Hidden until you are ready")
    assert_accessible(page, "a gallery with a hidden memory")
    hidden.filter(has_text="Mum and me").get_by_role("link").click()
    page.get_by_role("button", name="Stop hiding it").click()
    expect(notice(page)).to_contain_text("It is not hidden any more.")
    problems.assert_none()
