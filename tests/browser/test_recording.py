"""Recording a voice note in the browser (MediaRecorder), with Chromium's fake microphone."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, expect
from sqlalchemy import select

from memorybox.db import db
from memorybox.memories.models import ItemKind, MemoryItem, Processing
from tests.browser.conftest import (
    CHROMIUM,
    LAUNCH_ARGS,
    TIMEOUT_MS,
    Cast,
    assert_accessible,
    on_small_phone,
    sign_in,
)

pytestmark = pytest.mark.browser

FAKE_MEDIA = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]


@pytest.fixture
def recording_browser(playwright_driver: Playwright) -> Iterator[Browser]:
    browser = playwright_driver.chromium.launch(
        executable_path=CHROMIUM, args=[*LAUNCH_ARGS, *FAKE_MEDIA]
    )
    yield browser
    browser.close()


def test_a_voice_note_recorded_in_the_page_becomes_an_item(
    recording_browser: Browser, portal: str, cast: Cast
) -> None:
    context = recording_browser.new_context(base_url=portal, permissions=["microphone"])
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        sign_in(page, cast.young_person)
        page.goto(f"/children/{cast.child_id}/add")
        page.get_by_role("button", name="Record a voice note").click()
        stop = page.get_by_role("button", name="Stop")
        expect(stop).to_be_visible()
        expect(stop).to_be_focused()
        page.wait_for_timeout(1500)
        stop.click()
        expect(page.get_by_text("Recorded. Give it a title")).to_be_visible()
        assert_accessible(page, "the add page after recording")
        page.get_by_label("Title", exact=True).fill("Hello from me")
        page.get_by_role("button", name="Add it").click()
        expect(page).to_have_url(re.compile(r"/items/\d+$"))
    finally:
        context.close()
    db.session.rollback()
    item = db.session.scalar(select(MemoryItem))
    assert item.kind is ItemKind.AUDIO, item.kind
    assert item.processing is Processing.READY, item.processing_error
    assert item.rendition("web") is not None


def test_a_voice_note_in_my_story_becomes_words_i_check(
    playwright_driver: Playwright, portal: str, cast: Cast, tmp_path: Path
) -> None:
    """The fake microphone plays a voice (espeak-ng) saying a sentence; the child records it
    into "About me", turns it into words, corrects one and saves them."""
    from tests.test_story_voice import SPOKEN, needs_extra

    if needs_extra.args[0]:
        pytest.skip(needs_extra.kwargs["reason"])
    speaker = shutil.which("espeak-ng")
    if speaker is None:
        pytest.skip("espeak-ng is not installed")
    voice = tmp_path / "voice.wav"
    subprocess.run([speaker, "-s", "140", "-w", str(voice), SPOKEN], check=True, timeout=60)
    browser = playwright_driver.chromium.launch(
        executable_path=CHROMIUM,
        args=[*LAUNCH_ARGS, *FAKE_MEDIA, f"--use-file-for-fake-audio-capture={voice}"],
    )
    context = browser.new_context(base_url=portal, permissions=["microphone"])
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        sign_in(page, cast.young_person)
        page.goto(f"/children/{cast.child_id}/story")
        page.get_by_role("link", name=re.compile("About me")).first.click()
        page.get_by_role("link", name="Record a voice note").click()
        assert_accessible(page, "the add-a-voice-note page")
        on_small_phone(page, "the add-a-voice-note page")
        expect(page.get_by_role("button", name="Record a video")).to_have_count(0)
        page.get_by_role("button", name="Record a voice note").click()
        stop = page.get_by_role("button", name="Stop")
        expect(stop).to_be_focused()
        page.wait_for_timeout(5500)  # the sentence takes about four seconds to say
        stop.click()
        expect(page.get_by_text("Recorded. Give it a title")).to_be_visible()
        page.get_by_role("button", name="Add my voice note").click()
        expect(page).to_have_url(re.compile(r"/story/\d+#voice-notes$"))
        notes = page.get_by_role("region", name="Voice notes")
        expect(notes.locator("audio")).to_have_count(1)
        assert_accessible(page, "the story editor with a voice note")
        on_small_phone(page, "the story editor with a voice note")
        # In tests the job runs inside this request: the speech model reads the clip before
        # the page answers, which on a busy two-core machine can take longer than a click's
        # usual 10 seconds.
        notes.get_by_role("button", name="Turn it into words").click(timeout=90_000)
        expect(
            page.get_by_role("heading", name="Check the words from your voice note")
        ).to_be_visible(timeout=30_000)
        words = page.get_by_label("The words we heard")
        expect(words).to_have_value(re.compile("football", re.IGNORECASE))
        assert_accessible(page, "checking the words from a voice note")
        on_small_phone(page, "checking the words from a voice note")
        heard = words.input_value()
        words.fill(heard + " And my dog Biscuit.")
        page.get_by_role("button", name="Add these words").click()
        expect(page.get_by_text("Your words are part of “About me” now.")).to_be_visible()
        expect(page.get_by_label("Your words")).to_have_value(re.compile("my dog Biscuit"))
    finally:
        context.close()
        browser.close()
