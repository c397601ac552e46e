"""Recording a voice note in the browser (MediaRecorder), with Chromium's fake microphone."""

from __future__ import annotations

import re
from collections.abc import Iterator

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
