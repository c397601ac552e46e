"""A later-life letter in a real Chromium, on a 360 px phone: the social worker writes a letter
to open on the child's next birthday and gives it; the child sees it waiting (who wrote it
and when it opens, none of its words); the clock moves to the birthday; the child is told,
reads the content note first, opens the letter and asks to talk about it. The letter carries
a photo, added with the progress bar (its location removed) before it is given: the child
sees nothing of it while the letter waits, and sees it under the words once it is open. axe
checks every page."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from memorybox import clock, i18n
from memorybox.children.models import Child
from memorybox.db import db
from memorybox.letters import services as letters
from memorybox.letters.models import Letter
from tests.browser.conftest import (
    Cast,
    Problems,
    check,
    heading,
    nav,
    notice,
    on_phone,
    sign_in,
)
from tests.browser.test_journey import WATCH_PROGRESS
from tests.media import makers

pytestmark = pytest.mark.browser

WORDS = "Dear Alex, I want you to know why you came to live with Jo."
NOTE = "This letter talks about your birth mum."
PHOTO = "You and your brother at the farm"


def test_a_letter_opens_on_the_childs_birthday(
    page: Page,
    another_page: Callable[[], Page],
    cast: Cast,
    problems: Problems,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    child = db.session.get(Child, cast.child_id)
    assert child is not None and child.date_of_birth is not None
    age = child.age_on(clock.today()) + 1
    birthday = letters.birthday(child, age)
    assert birthday is not None
    db.session.commit()

    worker = on_phone(another_page())
    sign_in(worker, cast.social_worker)
    worker.goto(f"/shared/{cast.child_id}")
    worker.get_by_role("link", name=f"Letters to {cast.child_name}").click()
    expect(heading(worker, f"Letters to {cast.child_name}")).to_be_visible()
    check(worker, "a worker's letters to a child, none yet")
    worker.get_by_role("link", name="Write a new letter").click()
    worker.get_by_label("A title, for your list").fill("Why you are in care")
    worker.get_by_label("The letter", exact=True).fill(WORDS)
    worker.get_by_label("Is there something hard in this letter?").fill(NOTE)
    worker.get_by_label("On a birthday").check()
    worker.get_by_label("The birthday it opens on (their age)").fill(str(age))
    check(worker, "writing a letter")
    worker.get_by_role("button", name="Save").click()
    expect(notice(worker)).to_contain_text("Saved as a draft")
    check(worker, "a draft letter")
    # A photo, straight from a phone camera (it says where it was taken).
    worker.get_by_role("link", name="Add a photo or document").click()
    expect(heading(worker, "Add a photo or document to “Why you are in care”")).to_be_visible()
    check(worker, "adding a photo to a letter")
    photo = tmp_path / "farm.jpg"
    photo.write_bytes(makers.camera_jpeg())
    worker.get_by_label("Choose a file").set_input_files(photo)
    worker.get_by_label("Title", exact=True).fill(PHOTO)
    worker.evaluate(WATCH_PROGRESS)
    with worker.expect_request(lambda r: r.method == "POST" and r.url.endswith("/attach")) as sent:
        worker.get_by_role("button", name="Add it to the letter").click()
    assert sent.value.resource_type == "xhr", "the upload should go by the progress script"
    expect(notice(worker)).to_contain_text(f"“{PHOTO}” is in the letter now.")
    assert worker.evaluate("() => sessionStorage.getItem('progress-shown')") == "yes"
    picture = worker.get_by_role("img", name=PHOTO)
    expect(picture).to_be_visible()
    assert worker.evaluate("(img) => img.naturalWidth", picture.element_handle()) > 0
    check(worker, "a draft letter with a photo")
    worker.get_by_role("button", name=f"Give it to {cast.child_name}").click()
    expect(notice(worker)).to_contain_text("can see now that this letter is waiting")
    opens = f"It opens when {cast.child_name} turns {age}, on {i18n.day(birthday)}."
    expect(worker.get_by_text(opens)).to_be_visible()
    check(worker, "a letter given, waiting")

    on_phone(page)
    sign_in(page, cast.young_person)
    nav(page, "Letters").click()
    expect(heading(page, "Letters")).to_be_visible()
    letter = page.get_by_role("list", name="Your letters").get_by_role("listitem")
    expect(letter).to_contain_text(f"It opens when you turn {age}, on {i18n.day(birthday)}.")
    expect(letter).not_to_contain_text("Why you are in care")
    check(page, "the child's letters, one waiting")
    letter.get_by_role("link", name="A letter from Sam").click()
    expect(heading(page, "A letter from Sam")).to_be_visible()
    expect(page.get_by_text(WORDS)).to_have_count(0)
    expect(page.get_by_text(NOTE)).to_have_count(0)
    expect(page.get_by_text(PHOTO)).to_have_count(0)
    expect(page.get_by_role("img")).to_have_count(0)
    given = db.session.scalars(select(Letter).where(Letter.child_id == cast.child_id)).one()
    [attached] = given.attachments
    assert page.request.get(f"/items/{attached.id}/file").status == 404
    assert page.request.get(f"/items/{attached.id}/thumbnail").status == 404
    check(page, "a letter waiting to open")

    # The birthday comes (at noon in England).
    noon = datetime(birthday.year, birthday.month, birthday.day, 12, tzinfo=clock.LOCAL_ZONE)
    monkeypatch.setattr(clock, "now", lambda: noon.astimezone(UTC))
    assert clock.today() == birthday and isinstance(birthday, date)

    child_page = on_phone(another_page())
    sign_in(child_page, cast.young_person)
    nav(child_page, re.compile(r"^Messages")).click()
    expect(child_page.get_by_text("A letter from Sam is open now.")).to_be_visible()
    check(child_page, "the message that a letter is open")
    nav(child_page, "Letters").click()
    opened = child_page.get_by_role("list", name="Your letters").get_by_role("listitem")
    expect(opened).to_contain_text("Open now")
    opened.get_by_role("link", name="Why you are in care").click()
    expect(heading(child_page, "Before you open this")).to_be_visible()
    expect(child_page.get_by_text(NOTE)).to_be_visible()
    expect(child_page.get_by_text(WORDS)).to_have_count(0)
    check(child_page, "the note before a letter")
    child_page.get_by_role("button", name="Open it now").click()
    expect(heading(child_page, "Why you are in care")).to_be_visible()
    expect(child_page.get_by_text(WORDS)).to_be_visible()
    shown = child_page.get_by_role("img", name=PHOTO)
    expect(shown).to_be_visible()
    assert child_page.evaluate("(img) => img.naturalWidth", shown.element_handle()) > 0
    expect(child_page.get_by_role("link", name=f"Download “{PHOTO}”")).to_be_visible()
    check(child_page, "an open letter with a photo")
    child_page.get_by_role("link", name="I'd like to talk about this").click()
    expect(heading(child_page, "Talk about this letter")).to_be_visible()
    check(child_page, "asking to talk about a letter")
    child_page.get_by_label("Do you want to say anything?").fill("Can we talk about my mum?")
    child_page.get_by_role("button", name="Tell my social worker").click()
    expect(notice(child_page)).to_contain_text("We have told Sam that you'd like to talk.")
    check(child_page, "asked to talk about a letter")

    worker.reload()
    expect(worker.get_by_text(f"Open since {i18n.day(birthday)}")).to_have_count(0)
    expect(
        worker.get_by_text(f"Opened by {cast.child_name} on {i18n.day(birthday)}.")
    ).to_be_visible()
    expect(worker.get_by_role("link", name=re.compile("asked to talk about it"))).to_be_visible()
    check(worker, "a letter opened, with a request to talk")
    problems.assert_none()
