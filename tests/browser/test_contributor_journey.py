"""The letterbox in a real Chromium, on a 360 px phone: the allocated social worker invites
the child's birth mum from the child's page; she sets a password and sends a photo with a
few words; the worker checks it and passes it on (the authority does not ask for checks:
what family sends is checked anyway); the child sees it is from their birth mum and keeps
it; the birth mum sees "Passed on", and nothing of the child's life. axe checks every page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests import factories
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

pytestmark = pytest.mark.browser

WORDS = "I think about you every day. This is you on your first birthday."


def test_a_birth_mums_photo_is_checked_passed_on_and_kept(
    page: Page,
    another_page: Callable[[], Page],
    cast: Cast,
    problems: Problems,
    tmp_path: Path,
) -> None:
    worker = on_phone(another_page())
    sign_in(worker, cast.social_worker)
    worker.goto(f"/shared/{cast.child_id}")
    worker.get_by_role(
        "link", name=f"Family and past carers who send things to {cast.child_name}"
    ).click()
    expect(
        heading(worker, f"Family and past carers who send things to {cast.child_name}")
    ).to_be_visible()
    check(worker, "a worker's list of who sends things, none yet")
    worker.get_by_role("button", name="Make an invite link").click()
    expect(worker.get_by_text("Please say who they are to the child.")).to_be_visible()
    check(worker, "the contributor invite form showing errors")
    worker.get_by_label("Their name").fill("Morgan Reed")
    worker.get_by_label("Who they are to the child").fill("birth mum")
    worker.get_by_label("Their email address").fill("morgan@example.org")
    worker.get_by_role("button", name="Make an invite link").click()
    expect(heading(worker, "Invite link for Morgan Reed")).to_be_visible()
    check(worker, "a contributor's invite link")
    token = worker.get_by_label("Invite link").input_value().partition("#")[2]
    assert token

    mum = on_phone(page)
    mum.goto(f"/invite#{token}")
    expect(heading(mum, "Set up your account")).to_be_visible()
    check(mum, "a contributor setting up their account")
    mum.get_by_label("Choose a password").press_sequentially("sunny rooftop garden")
    mum.get_by_label("Type it again").press_sequentially("sunny rooftop garden")
    mum.get_by_role("button", name="Create my account").click()
    expect(heading(mum, f"Send something to {cast.child_name}")).to_be_visible()
    expect(mum.get_by_text("You have not sent anything yet.")).to_be_visible()
    check(mum, "a contributor's page, nothing sent")
    photo = tmp_path / "birthday.jpg"
    photo.write_bytes(factories.jpeg_bytes(320, 240, "teal"))
    mum.get_by_label("Title", exact=True).fill("Your first birthday")
    mum.get_by_label("What is this memory about?").fill(WORDS)
    mum.get_by_label("Choose a file").set_input_files(photo)
    mum.get_by_role("button", name="Send it").click()
    expect(notice(mum)).to_contain_text("social worker will check “Your first birthday” first")
    sent = mum.get_by_role("table")
    expect(sent).to_contain_text("Your first birthday")
    expect(sent).to_contain_text("Waiting to be checked")
    check(mum, "a contributor's page, one waiting")
    for secret in (cast.carer.name, "My box", "My story"):
        expect(mum.get_by_text(secret)).to_have_count(0)

    worker.goto("/caseload/reviews")
    waiting = worker.get_by_role("list", name="Waiting for your approval").get_by_role("listitem")
    expect(waiting).to_contain_text("Your first birthday")
    expect(waiting).to_contain_text("birth mum")
    check(worker, "the review queue with a contribution")
    waiting.get_by_role("button", name=f"Pass on to {cast.child_name}").click()
    expect(notice(worker)).to_contain_text("has been passed on")
    check(worker, "the review queue after passing it on")

    child = on_phone(another_page())
    sign_in(child, cast.young_person)
    nav(child, "Suggested").click()
    card = child.get_by_role("list", name="Waiting for you").get_by_role("listitem")
    expect(card).to_contain_text("From your birth mum, Morgan Reed")
    expect(card).to_contain_text(WORDS)
    check(child, "a suggestion from the child's birth mum")
    card.get_by_role("link", name="Your first birthday").click()
    expect(heading(child, "Your first birthday")).to_be_visible()
    expect(child.get_by_text("From your birth mum, Morgan Reed.")).to_be_visible()
    expect(child.get_by_role("button", name="No more from Morgan Reed")).to_be_visible()
    check(child, "a birth mum's photo, before choosing")
    child.get_by_role("button", name="Keep it").click()
    expect(notice(child)).to_contain_text("“Your first birthday” is in your box now.")
    check(child, "the suggestions after keeping it")

    mum.reload()
    expect(mum.get_by_role("table")).to_contain_text("Passed on")
    expect(mum.get_by_role("table")).not_to_contain_text("Kept")
    check(mum, "a contributor's page, passed on")
    problems.assert_none()
