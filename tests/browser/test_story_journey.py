"""My Story in a real Chromium: the young person writes "About me" (the draft is kept as they
type), saves, changes it, goes back to an earlier version and shares the part with their
social worker, who reads it under "Before you ask me again"; the child sees who read it. The
manager's Story prompts page too. Every page is checked by axe and on a 360 px phone."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

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

PART = "About me"
FIRST = "I like football and my dog Biscuit."
SECOND = "I like football, drawing and my dog Biscuit."


def check(page: Page, what: str) -> None:
    """axe finds nothing, and a small phone never scrolls sideways."""
    assert_accessible(page, what)
    on_small_phone(page, what)


def autosave_status(page: Page) -> Locator:
    return page.locator("[data-autosave-status]")


def test_young_person_writes_restores_and_shares_and_the_social_worker_reads(
    page: Page, another_page: Callable[[], Page], cast: Cast, problems: Problems
) -> None:
    sw = cast.social_worker.name

    # 1. My story: the authority's prompts, nothing written yet.
    sign_in(page, cast.young_person)
    nav(page, "My story").click()
    expect(heading(page, "My story")).to_be_visible()
    expect(page.get_by_text("Nobody else has read any of your story yet.")).to_be_visible()
    check(page, "My story, empty")

    # 2. Write in "About me": the draft is kept while typing (autosave), then saved.
    page.get_by_role("link", name=f"Write “{PART}”").click()
    expect(heading(page, PART)).to_be_visible()
    check(page, "the story editor")
    words = page.get_by_label("Your words")
    words.press_sequentially(FIRST)
    words.blur()  # autosave runs on blur (and every few seconds)
    expect(autosave_status(page)).to_contain_text("Draft saved at")
    check(page, "the story editor after autosave")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(heading(page, "My story")).to_be_visible()
    expect(notice(page)).to_contain_text(f"Saved “{PART}”.")
    expect(page.get_by_text(FIRST)).to_be_visible()
    check(page, "My story with one part written")

    # 3. Change it, and save again.
    page.get_by_role("link", name=f"Change “{PART}”").click()
    expect(page.get_by_label("Your words")).to_have_value(FIRST)
    page.get_by_label("Your words").fill(SECOND)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(notice(page)).to_contain_text(f"Saved “{PART}”.")
    expect(page.get_by_text(SECOND)).to_be_visible()

    # 4. Earlier versions: go back to the first one (a new version, nothing lost).
    page.get_by_role("link", name=f"Earlier versions of “{PART}”").click()
    expect(heading(page, f"Earlier versions of “{PART}”")).to_be_visible()
    expect(page.get_by_role("heading", level=2, name=re.compile(r"^Version \d"))).to_have_text(
        ["Version 2 (what it says now)", "Version 1"]
    )
    check(page, "the earlier versions page")
    page.get_by_role("button", name="Go back to version 1").click()
    expect(notice(page)).to_contain_text(f"“{PART}” has the words from version 1 again.")
    expect(page.get_by_role("heading", level=2, name=re.compile(r"^Version \d"))).to_have_text(
        ["Version 3 (what it says now)", "Version 2", "Version 1"]
    )
    check(page, "the earlier versions page after going back")
    page.get_by_role("link", name="Back to my story").click()
    expect(page.get_by_text(FIRST)).to_be_visible()

    # 5. Share it with "my social worker".
    page.get_by_role("link", name=f"Share “{PART}”").click()
    expect(heading(page, f"Share “{PART}”")).to_be_visible()
    check(page, "the story share form")
    page.get_by_role("radio", name="My social worker (whoever it is now)").check()
    page.get_by_role("button", name="Share", exact=True).click()
    expect(heading(page, "My story")).to_be_visible()
    expect(notice(page)).to_contain_text(f"“{PART}” is shared.")
    check(page, "My story with a shared part")

    # 6. The social worker reads it, under "Before you ask me again".
    worker = another_page()
    sign_in(worker, cast.social_worker)
    worker.goto(f"/shared/{cast.child_id}")
    worker.get_by_role("link", name=re.compile(r"^Before you ask me again")).click()
    expect(heading(worker, "Before you ask me again")).to_be_visible()
    expect(worker.get_by_text("You haven't read this yet.")).to_be_visible()
    check(worker, "Before you ask me again")
    worker.get_by_role("link", name=PART, exact=True).click()
    expect(heading(worker, PART)).to_be_visible()
    expect(worker.get_by_text(FIRST)).to_be_visible()
    check(worker, "a shared part of the story")
    worker.get_by_role("link", name=re.compile(r"^Back to .*'s story$")).click()
    expect(worker.get_by_text(re.compile(r"^You read this on "))).to_be_visible()

    # 7. The child sees the read receipt.
    page.reload()
    who_read = page.get_by_role("region", name="Who has read your story")
    expect(who_read).to_contain_text(re.compile(rf"{sw}, your social worker.*read “{PART}” on "))
    check(page, "My story with a read receipt")

    problems.assert_none()


def test_the_managers_story_prompts_page(page: Page, cast: Cast, problems: Problems) -> None:
    sign_in(page, cast.manager)
    page.goto("/manage/story-prompts")
    expect(heading(page, "Story prompts")).to_be_visible()
    check(page, "the Story prompts page")
    page.get_by_role("button", name=f"Hide “{PART}”").click()
    expect(notice(page)).to_contain_text(f"“{PART}” is hidden.")
    check(page, "the Story prompts page with a hidden prompt")
    page.get_by_role("button", name="Add prompt").click()
    expect(page.get_by_text("Please give the prompt a title.")).to_be_visible()
    check(page, "the Story prompts page showing an error")

    problems.assert_none()
