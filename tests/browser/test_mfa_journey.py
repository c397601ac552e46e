"""The second step in a real Chromium, on a 360 px phone, axe on every page: a social worker
signs in for the first time, sets up a code app from the page (the code worked out with
pyotp from the key shown, as a phone app would), keeps the recovery codes, signs out, signs
in again with a code and ticks "remember this device"; the next sign-in on that browser
skips the code."""

from __future__ import annotations

import re

import pyotp
import pytest
from playwright.sync_api import Page, expect

from memorybox.db import db
from tests.browser.conftest import (
    Cast,
    Problems,
    check,
    heading,
    on_phone,
    sign_out,
    totp_code,
)
from tests.factories import PASSWORD, World

pytestmark = pytest.mark.browser


def _password(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email address").press_sequentially(email)
    page.get_by_label("Password", exact=True).press_sequentially(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_social_worker_sets_up_and_uses_the_second_step(
    app: object, world: World, page: Page, cast: Cast, problems: Problems
) -> None:
    worker = world.social_worker
    worker.totp_secret = None
    worker.mfa_set_up_at = None
    db.session.commit()
    email = cast.social_worker.email
    on_phone(page)

    # First sign-in: the password, then setting up the code app.
    _password(page, email)
    expect(page).to_have_url(re.compile(r"/second-factor/set-up$"))
    expect(heading(page, "Set up your second step")).to_be_visible()
    check(page, "setting up the second step")
    # nothing else opens yet
    page.goto("/caseload")
    expect(page).to_have_url(re.compile(r"/second-factor/set-up$"))
    key = page.locator("[data-secret]").text_content() or ""
    assert re.fullmatch(r"([A-Z2-7]{4} ){7}[A-Z2-7]{4}", key), key
    expect(page.get_by_role("img", name="A square code to scan with your app")).to_be_visible()
    secret = key.replace(" ", "")

    # a wrong code first: a clear message, the same key still shown
    page.get_by_label("The 6-digit code your app shows").fill("000000")
    page.get_by_role("button", name="Check the code").click()
    expect(page.get_by_text("That code didn't work")).to_be_visible()
    assert (page.locator("[data-secret]").text_content() or "").replace(" ", "") == secret
    check(page, "a wrong code while setting up")

    page.get_by_label("The 6-digit code your app shows").fill(totp_code(email, secret))
    page.get_by_role("button", name="Check the code").click()
    expect(heading(page, "Your recovery codes")).to_be_visible()
    codes = page.locator("[data-recovery-codes] li")
    expect(codes).to_have_count(10)
    saved = [c.strip() for c in codes.all_text_contents()]
    assert all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", c) for c in saved), saved
    check(page, "the recovery codes")
    page.get_by_role("link", name="I have saved them, carry on").click()
    expect(page).not_to_have_url(re.compile(r"/second-factor"))
    sign_out(page)

    # Signing in again: password, then a code from the app; remember this phone.
    _password(page, email)
    expect(page).to_have_url(re.compile(r"/second-factor$"))
    expect(heading(page, "Your code")).to_be_visible()
    check(page, "the code after the password")
    page.get_by_label("Code", exact=True).fill(totp_code(email, secret))
    page.get_by_label("Remember this device for 30 days").check()
    page.get_by_role("button", name="Carry on").click()
    expect(page).not_to_have_url(re.compile(r"/second-factor|/login"))
    cookies = {c["name"]: c for c in page.context.cookies()}
    device = cookies["memorybox_device"]
    assert device["httpOnly"] and device["sameSite"] == "Lax"
    check(page, "home after the second step")
    sign_out(page)

    # This phone is remembered: the password is enough here for 30 days.
    _password(page, email)
    expect(page).not_to_have_url(re.compile(r"/second-factor|/login"))
    sign_out(page)

    # A recovery code instead of the app, on another browser (no remembered device).
    page.context.clear_cookies()
    _password(page, email)
    expect(page).to_have_url(re.compile(r"/second-factor$"))
    page.get_by_label("Code", exact=True).fill(saved[0])
    page.get_by_role("button", name="Carry on").click()
    expect(page.get_by_text("You used a recovery code. You have 9 left")).to_be_visible()
    check(page, "after a recovery code")
    assert pyotp.TOTP(secret).now()  # the key shown is a real one
    problems.assert_none()
