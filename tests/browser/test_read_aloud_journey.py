"""'Read this to me' in a real Chromium: the button reads the page (or one part of the story)
with the browser's own speech, says so while it reads, and stops when pressed again or on
Escape. The speech engine itself is the browser's: here it is replaced by a recorder, so the
test hears exactly what would be said."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from memorybox.db import db
from memorybox.story import services as story
from tests.browser.conftest import Cast, Problems, assert_accessible, heading, nav, sign_in
from tests.factories import World

pytestmark = pytest.mark.browser

RECORDER = """
window.__said = [];
window.__speaking = null;
const fake = {
  speak(words) { window.__said.push(words.text); window.__speaking = words; },
  cancel() {
    const words = window.__speaking;
    window.__speaking = null;
    if (words && words.onend) words.onend();
  },
  getVoices() { return []; },
};
Object.defineProperty(window, "speechSynthesis", { value: fake, configurable: true });
window.SpeechSynthesisUtterance = function (text) { this.text = text; };
"""


@pytest.fixture
def story_part(app: Flask, world: World, cast: Cast) -> str:
    section = story.sections_of(world.child)[0]
    story.save_version(section, "I like football and my dog Max.", [], world.young_person)
    db.session.commit()
    return section.title


def test_read_this_to_me_reads_the_page_and_stops(
    page: Page, cast: Cast, story_part: str, problems: Problems
) -> None:
    page.add_init_script(RECORDER)
    sign_in(page, cast.young_person)
    button = page.get_by_role("button", name="Read this to me").first
    expect(button).to_be_visible()
    expect(button).to_have_attribute("aria-pressed", "false")
    button.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Stop reading")).to_have_attribute(
        "aria-pressed", "true"
    )
    said = page.evaluate("window.__said")
    assert len(said) == 1 and f"Hello, {cast.child_name}" in said[0]
    assert "Read this to me" not in said[0] and "Stop reading" not in said[0]
    assert_accessible(page, "the home page while reading aloud")
    page.keyboard.press("Escape")
    expect(page.get_by_role("button", name="Read this to me").first).to_have_attribute(
        "aria-pressed", "false"
    )

    nav(page, "My story").click()
    expect(heading(page, "My story")).to_be_visible()
    part = page.get_by_role("button", name=story_part)
    expect(part).to_have_accessible_name(f"Read this to me (“{story_part}”)")
    part.click()
    said = page.evaluate("window.__said")
    assert said[-1].startswith(story_part) and "I like football and my dog Max." in said[-1]
    assert "Hello" not in said[-1], "only that part of the story"
    part.click()
    expect(part).to_have_attribute("aria-pressed", "false")
    assert_accessible(page, "my story with its read-aloud buttons")
    problems.assert_none()


def test_without_speech_in_the_browser_there_is_no_button(
    page: Page, cast: Cast, problems: Problems
) -> None:
    page.add_init_script("delete window.speechSynthesis; delete window.SpeechSynthesisUtterance;")
    sign_in(page, cast.young_person)
    expect(heading(page, f"Hello, {cast.child_name}")).to_be_visible()
    expect(page.get_by_role("button", name="Read this to me")).to_have_count(0)
    problems.assert_none()
