"""Signing in, throttling, sessions ending, and invitations."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from memorybox import clock
from memorybox.accounts.models import Invitation, Role, User
from memorybox.db import db
from tests import factories
from tests.factories import PASSWORD, login_as, login_with_form


def test_sign_in_with_the_right_password_goes_home(client, world):
    response = login_with_form(client, world.carer.email)
    assert response.status_code == 302
    assert client.get("/carer").status_code == 200


def test_email_is_not_case_sensitive(client, world):
    response = login_with_form(client, world.carer.email.upper())
    assert response.status_code == 302


def test_unknown_user_and_wrong_password_get_the_same_answer(client, world):
    wrong = login_with_form(client, world.carer.email, "not the password")
    unknown = login_with_form(client, "nobody@example.org", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert b"don&#39;t match" in wrong.data
    assert wrong.data.replace(world.carer.email.encode(), b"EMAIL") == unknown.data.replace(
        b"nobody@example.org", b"EMAIL"
    )


def test_disabled_account_cannot_sign_in(client, world):
    world.carer.disabled_at = clock.now()
    db.session.commit()
    assert login_with_form(client, world.carer.email).status_code == 401


@pytest.mark.app_config(LOGIN_LIMIT_PER_ACCOUNT="3 per 15 minutes")
def test_failed_sign_ins_are_throttled_per_account_from_any_address(client, world):
    for n in range(3):
        client.environ_base["REMOTE_ADDR"] = f"10.0.0.{n + 1}"
        assert login_with_form(client, world.carer.email, "wrong").status_code == 401
    client.environ_base["REMOTE_ADDR"] = "10.0.0.99"
    blocked = login_with_form(client, world.carer.email, PASSWORD)
    assert blocked.status_code == 429
    assert b"Too many tries" in blocked.data
    # another account from the same address is not blocked by this account's limit
    assert login_with_form(client, world.social_worker.email).status_code == 302


@pytest.mark.app_config(LOGIN_LIMIT_PER_ADDRESS="4 per 15 minutes")
def test_failed_sign_ins_are_throttled_per_address(client, world):
    client.environ_base["REMOTE_ADDR"] = "10.1.1.1"
    for n in range(4):
        assert login_with_form(client, f"guess{n}@example.org", "wrong").status_code == 401
    assert login_with_form(client, world.carer.email).status_code == 429
    client.environ_base["REMOTE_ADDR"] = "10.1.1.2"
    assert login_with_form(client, world.carer.email).status_code == 302


def test_successful_sign_ins_do_not_use_up_the_limit(client, world):
    for _ in range(8):
        assert login_with_form(client, world.carer.email).status_code == 302
        client.post("/logout")


def test_disabling_an_account_ends_its_sessions_on_the_next_request(app, world):
    carer_browser = app.test_client()
    manager_browser = app.test_client()
    login_with_form(carer_browser, world.carer.email)
    assert carer_browser.get("/carer").status_code == 200
    login_as(manager_browser, world.manager)
    response = manager_browser.post(f"/manage/people/{world.carer.id}/disable")
    assert response.status_code == 302
    after = carer_browser.get("/carer")
    assert after.status_code == 302 and "/login" in after.location
    # switched back on, the old session does not come back to life
    manager_browser.post(f"/manage/people/{world.carer.id}/enable")
    assert "/login" in carer_browser.get("/carer").location
    assert login_with_form(carer_browser, world.carer.email).status_code == 302


def test_changing_password_ends_other_sessions_but_keeps_this_one(app, world):
    phone = app.test_client()
    laptop = app.test_client()
    login_with_form(phone, world.carer.email)
    login_with_form(laptop, world.carer.email)
    response = laptop.post(
        "/account/password",
        data={
            "current": PASSWORD,
            "password": "a brand new secret",
            "confirm": "a brand new secret",
        },
    )
    assert response.status_code == 302
    assert laptop.get("/carer").status_code == 200
    assert "/login" in phone.get("/carer").location
    assert login_with_form(phone, world.carer.email, PASSWORD).status_code == 401
    assert login_with_form(phone, world.carer.email, "a brand new secret").status_code == 302


def test_changing_password_needs_the_current_one(client, world):
    login_as(client, world.carer)
    response = client.post(
        "/account/password",
        data={
            "current": "wrong",
            "password": "a brand new secret",
            "confirm": "a brand new secret",
        },
    )
    assert response.status_code == 400
    assert b"isn&#39;t your password" in response.data


def test_a_weak_new_password_gets_a_friendly_message(client, world):
    login_as(client, world.carer)
    response = client.post(
        "/account/password", data={"current": PASSWORD, "password": "short", "confirm": "short"}
    )
    assert response.status_code == 400
    assert b"at least 8 characters" in response.data


def _invite(client, world, **fields):
    login_as(client, world.manager)
    data = {
        "display_name": "Morgan",
        "email": "morgan@example.org",
        "role": "carer",
        "child_id": "",
    }
    data.update(fields)
    return client.post("/manage/people/invite", data=data)


def _token_from(html: bytes) -> str:
    match = re.search(rb'/invite#([A-Za-z0-9_\-]+)"', html)
    assert match, "the invite page shows the link"
    return match.group(1).decode()


def test_manager_invites_a_carer_who_sets_a_password(app, client, world, caplog):
    caplog.set_level(logging.DEBUG)
    response = _invite(client, world)
    assert response.status_code == 201
    token = _token_from(response.data)
    stored = db.session.scalar(select(Invitation).where(Invitation.email == "morgan@example.org"))
    assert stored is not None and token not in stored.token_hash

    newcomer = app.test_client()
    page = newcomer.get("/invite")
    assert page.status_code == 200
    accepted = newcomer.post(
        "/invite",
        data={
            "token": token,
            "password": "lovely long password",
            "confirm": "lovely long password",
        },
    )
    assert accepted.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "morgan@example.org"))
    assert user is not None and user.role is Role.CARER and user.authority_id == world.authority.id
    assert newcomer.get("/carer").status_code == 200

    # single use
    again = app.test_client().post(
        "/invite",
        data={"token": token, "password": "another password!", "confirm": "another password!"},
    )
    assert again.status_code == 400
    assert b"expired or has already been used" in again.data
    # the token never reaches a log line
    assert token not in caplog.text


def test_an_expired_invitation_cannot_be_used(app, client, world, monkeypatch):
    token = _token_from(_invite(client, world).data)
    later = clock.now() + timedelta(days=8)
    monkeypatch.setattr(clock, "now", lambda: later)
    response = app.test_client().post(
        "/invite",
        data={
            "token": token,
            "password": "lovely long password",
            "confirm": "lovely long password",
        },
    )
    assert response.status_code == 400
    assert db.session.scalar(select(User).where(User.email == "morgan@example.org")) is None


def test_a_cancelled_invitation_cannot_be_used(app, client, world):
    token = _token_from(_invite(client, world).data)
    invitation = db.session.scalar(select(Invitation))
    assert client.post(f"/manage/invitations/{invitation.id}/revoke").status_code == 302
    response = app.test_client().post(
        "/invite",
        data={
            "token": token,
            "password": "lovely long password",
            "confirm": "lovely long password",
        },
    )
    assert response.status_code == 400


def test_a_young_persons_invitation_links_their_child_record(app, client, world):
    token = _token_from(
        _invite(client, world, role="young_person", child_id=str(world.young_child.id)).data
    )
    app.test_client().post(
        "/invite",
        data={
            "token": token,
            "password": "lovely long password",
            "confirm": "lovely long password",
        },
    )
    user = db.session.scalar(select(User).where(User.email == "morgan@example.org"))
    db.session.refresh(world.young_child)
    assert world.young_child.user_id == user.id


def test_inviting_an_existing_email_is_refused_kindly(client, world):
    response = _invite(client, world, email=world.carer.email)
    assert response.status_code == 400
    assert b"already has an account" in response.data


def test_cli_invite_prints_a_working_link(app, world):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "invite",
            "--authority",
            world.authority.slug,
            "--email",
            "new.sw@example.org",
            "--name",
            "Nia",
            "--role",
            "social_worker",
        ]
    )
    assert result.exit_code == 0, result.output
    token = re.search(r"/invite#(\S+)", result.output).group(1)
    response = app.test_client().post(
        "/invite",
        data={
            "token": token,
            "password": "lovely long password",
            "confirm": "lovely long password",
        },
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "new.sw@example.org"))
    assert user.role is Role.SOCIAL_WORKER


def test_cli_invite_for_an_unknown_authority_fails_clearly(app):
    result = app.test_cli_runner().invoke(
        args=[
            "invite",
            "--authority",
            "nope",
            "--email",
            "a@b.test",
            "--name",
            "A",
            "--role",
            "carer",
        ]
    )
    assert result.exit_code != 0
    assert "No authority called 'nope'" in result.output


def test_seed_demo_is_idempotent_and_prints_logins(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    second = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0 and second.exit_code == 0
    assert "alex@demo.example.org" in first.output
    assert db.session.scalars(select(User)).all().__len__() == 4
    # every printed login works
    for email in re.findall(r"(\S+@demo\.example\.org)", first.output):
        browser = app.test_client()
        assert login_with_form(browser, email, "memorybox-demo").status_code == 302
        assert browser.get("/", follow_redirects=True).status_code == 200


def test_passwords_are_stored_as_argon2id(world):
    assert world.carer.password_hash.startswith("$argon2id$")


def test_factories_world_is_consistent(world):
    assert factories.PASSWORD not in world.carer.password_hash


def test_an_unknown_email_still_costs_one_password_check(app, world, monkeypatch):
    """So response time does not reveal which accounts exist."""
    from memorybox.accounts import services

    passwords = app.extensions["memorybox.passwords"]
    calls = []
    original = passwords.verify

    def counting(stored_hash, password):
        calls.append(stored_hash)
        return original(stored_hash, password)

    monkeypatch.setattr(passwords, "verify", counting)
    assert services.authenticate(passwords, "nobody@example.org", "guess") is None
    assert services.authenticate(passwords, world.carer.email, "guess") is None
    assert len(calls) == 2
    assert calls[0] is None and calls[1] == world.carer.password_hash
