"""The staff second factor: set up, sign in with a code, no code twice, recovery codes once,
remembered devices (30 days at most), a manager's reset, throttling, and who is never asked."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from memorybox import clock
from memorybox.accounts import second_factor as factor
from memorybox.accounts.models import RecoveryCode, RememberedDevice, User
from memorybox.audit.models import AuditEvent
from memorybox.db import db
from memorybox.web import second_factor as step
from tests import factories
from tests.factories import PASSWORD, TOTP_SECRET, World, login_as, login_with_form

STEP = "/second-factor"
SET_UP = "/second-factor/set-up"


def _code(secret: str = TOTP_SECRET, steps_from_now: int = 0) -> str:
    totp = pyotp.TOTP(secret)
    return totp.at(clock.now().timestamp() + steps_from_now * 30)


def _password_only(client: FlaskClient, user: User) -> None:
    response = login_with_form(client, user.email)
    assert response.status_code == 302
    assert response.location.endswith(STEP)


def _at_home(client: FlaskClient) -> None:
    response = client.get("/", follow_redirects=True)
    assert response.status_code == 200
    assert not response.request.path.startswith((STEP, "/login")), response.request.path


def _events(action: str, outcome: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.action == action)
    if outcome is not None:
        query = query.where(AuditEvent.outcome == outcome)
    return list(db.session.scalars(query))


def _new_worker(app: Flask, world: World) -> User:
    """A social worker whose second factor is not set up yet."""
    worker = world.unallocated_social_worker
    worker.totp_secret = None
    worker.mfa_set_up_at = None
    db.session.commit()
    return worker


def _set_up(client: FlaskClient) -> tuple[str, list[str]]:
    page = client.get(SET_UP)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    shown = re.search(
        r"<code class=\"secret\" data-secret translate=\"no\">([A-Z2-7 ]+)</code>", html
    )
    assert shown is not None
    assert re.fullmatch(r"([A-Z2-7]{4} ){7}[A-Z2-7]{4}", shown.group(1))
    assert 'src="data:image/svg+xml' in html  # the QR code, drawn here, no outside service
    secret = shown.group(1).replace(" ", "")
    done = client.post(SET_UP, data={"code": _code(secret)})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", done.get_data(True))
    return secret, codes


def test_a_social_worker_sets_up_a_second_factor_at_first_sign_in(
    app: Flask, client: FlaskClient, world: World
) -> None:
    worker = _new_worker(app, world)
    _password_only(client, worker)
    # nothing else opens before the second step
    assert client.get("/").location.endswith(STEP)
    assert client.get(STEP).location.endswith(SET_UP)
    wrong = client.post(SET_UP, data={"code": "000000"})
    assert wrong.status_code == 401
    assert b"That code didn" in wrong.data
    secret, codes = _set_up(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    db.session.expire_all()
    assert worker.totp_secret == secret
    stored = db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == worker.id))
    hashes = [row.code_hash for row in stored]
    assert len(hashes) == 10
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert not any(code.replace("-", "") in h for h in hashes for code in codes)
    # this session carries on, past the second step
    _at_home(client)
    assert client.get(SET_UP).location.endswith(STEP)  # set up already
    assert _events("second-factor:set-up", "allowed")
    assert _events("second-factor:set-up", "denied")


def test_signing_in_with_a_code_and_the_session_records_when(
    client: FlaskClient, world: World
) -> None:
    _password_only(client, world.social_worker)
    assert client.get(STEP).status_code == 200
    response = client.post(STEP, data={"code": _code()})
    assert response.status_code == 302 and response.location.endswith("/")
    with client.session_transaction() as session:
        assert session[step.PASSED] == step.marker(world.social_worker)
        passed_at = session[step.PASSED_AT]
    assert abs((clock.now() - clock.now().fromisoformat(passed_at)).total_seconds()) < 60
    _at_home(client)
    assert client.get(STEP).location.endswith("/")  # nothing more to do
    assert _events("second-factor:totp", "allowed")


def test_a_code_is_never_accepted_twice(app: Flask, world: World) -> None:
    first, second = app.test_client(), app.test_client()
    code = _code()
    _password_only(first, world.social_worker)
    assert first.post(STEP, data={"code": code}).status_code == 302
    _password_only(second, world.social_worker)
    again = second.post(STEP, data={"code": code})
    assert again.status_code == 401
    # nor one from before it
    assert second.post(STEP, data={"code": _code(steps_from_now=-1)}).status_code == 401
    # the next step's code (one step of clock drift) still works, once
    assert second.post(STEP, data={"code": _code(steps_from_now=1)}).status_code == 302
    assert len(_events("second-factor:verify", "denied")) == 2


def test_codes_two_steps_away_are_refused(client: FlaskClient, world: World) -> None:
    _password_only(client, world.social_worker)
    assert client.post(STEP, data={"code": _code(steps_from_now=2)}).status_code == 401
    assert client.post(STEP, data={"code": _code(steps_from_now=-2)}).status_code == 401
    assert client.post(STEP, data={"code": "12345"}).status_code == 401
    assert client.post(STEP, data={"code": ""}).status_code == 400
    too_long = client.post(STEP, data={"code": "1" * 50})
    assert too_long.status_code == 400 and b"too long for a code" in too_long.data


def test_a_recovery_code_works_once_only(app: Flask, world: World) -> None:
    worker = _new_worker(app, world)
    setting_up = app.test_client()
    _password_only(setting_up, worker)
    _secret, codes = _set_up(setting_up)
    later = app.test_client()
    _password_only(later, worker)
    used = later.post(STEP, data={"code": codes[3].upper()}, follow_redirects=True)
    assert used.status_code == 200
    assert b"You have 9 left" in used.data
    again = app.test_client()
    _password_only(again, worker)
    assert again.post(STEP, data={"code": codes[3]}).status_code == 401
    assert again.post(STEP, data={"code": codes[4]}).status_code == 302
    assert factor.recovery_codes_left(worker) == 8
    assert len(_events("second-factor:recovery", "allowed")) == 2


def _device_cookie(response) -> str:  # type: ignore[no-untyped-def]
    header = next(
        h for h in response.headers.getlist("Set-Cookie") if h.startswith(step.DEVICE_COOKIE)
    )
    return header


def test_a_remembered_device_skips_the_code_for_30_days(
    app: Flask, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    phone = app.test_client()
    _password_only(phone, world.social_worker)
    response = phone.post(STEP, data={"code": _code(), "remember": "y"})
    assert response.status_code == 302
    header = _device_cookie(response)
    assert "HttpOnly" in header and "SameSite=Lax" in header
    assert f"Max-Age={30 * 24 * 3600}" in header
    assert "Secure" not in header  # tests run over http; production sets it (next test)
    row = db.session.scalars(select(RememberedDevice)).one()
    assert row.expires_at - row.created_at == timedelta(days=30)
    assert row.token_hash not in header  # only a hash is stored
    phone.post("/logout")
    again = login_with_form(phone, world.social_worker.email)
    assert again.status_code == 302 and again.location.endswith("/")
    _at_home(phone)
    assert _events("second-factor:remembered-device", "allowed")
    # the same cookie does nothing for someone else signing in on that browser
    phone.post("/logout")
    assert login_with_form(phone, world.manager.email).location.endswith(STEP)
    phone.post("/logout")
    # 29 days on, still remembered; 30 days on, the code is asked for again
    start = clock.now()
    almost = start + timedelta(days=29, hours=23)
    monkeypatch.setattr(clock, "now", lambda: almost)
    assert login_with_form(phone, world.social_worker.email).location.endswith("/")
    phone.post("/logout")
    later = start + timedelta(days=30, seconds=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert login_with_form(phone, world.social_worker.email).location.endswith(STEP)


@pytest.mark.app_config(SESSION_COOKIE_SECURE=True)
def test_the_device_cookie_is_secure_when_sessions_are(client: FlaskClient, world: World) -> None:
    _password_only(client, world.social_worker)
    response = client.post(STEP, data={"code": _code(), "remember": "y"})
    assert "Secure" in _device_cookie(response)


def test_a_forged_or_copied_device_cookie_is_not_honoured(app: Flask, world: World) -> None:
    phone = app.test_client()
    _password_only(phone, world.social_worker)
    phone.post(STEP, data={"code": _code(), "remember": "y"})
    real = phone.get_cookie(step.DEVICE_COOKIE)
    assert real is not None
    value = real.value
    forged = app.test_client()
    forged.set_cookie(step.DEVICE_COOKIE, value[:-2] + ("AA" if value[-2:] != "AA" else "BB"))
    assert login_with_form(forged, world.social_worker.email).location.endswith(STEP)
    # a cookie whose row is gone (ended) is not honoured either
    db.session.execute(RememberedDevice.__table__.delete())
    db.session.commit()
    phone.post("/logout")
    assert login_with_form(phone, world.social_worker.email).location.endswith(STEP)


def test_a_manager_resets_a_second_factor_ending_sessions_and_devices(
    app: Flask, world: World
) -> None:
    worker = world.social_worker
    laptop = app.test_client()
    _password_only(laptop, worker)
    laptop.post(STEP, data={"code": _code(), "remember": "y"})
    _at_home(laptop)
    manager = app.test_client()
    login_as(manager, world.manager)
    person = manager.get(f"/manage/people/{worker.id}")
    assert b"Reset the second step" in person.data
    confirm = manager.get(f"/manage/people/{worker.id}/second-factor/reset")
    assert confirm.status_code == 200 and b"Yes, reset it" in confirm.data
    db.session.expire_all()
    assert worker.totp_secret is not None  # the confirmation page changes nothing
    done = manager.post(f"/manage/people/{worker.id}/second-factor/reset", follow_redirects=True)
    assert done.status_code == 200 and b"reset" in done.data
    db.session.expire_all()
    assert worker.totp_secret is None
    assert (
        db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == worker.id)).all()
        == []
    )
    assert all(row.ended_at is not None for row in db.session.scalars(select(RememberedDevice)))
    (event,) = _events("second-factor:reset")
    assert event.actor_id == world.manager.id and event.target_id == worker.id
    # their session has ended, and the remembered device no longer skips the step
    assert laptop.get("/").location.endswith("/login")
    after = login_with_form(laptop, worker.email)
    assert after.location.endswith(STEP)
    assert laptop.get(STEP).location.endswith(SET_UP)


def test_only_a_manager_of_their_authority_resets_and_never_their_own(
    app: Flask, world: World
) -> None:
    other = app.test_client()
    login_as(other, world.other_manager)
    url = f"/manage/people/{world.social_worker.id}/second-factor/reset"
    assert other.get(url).status_code == 404
    assert other.post(url).status_code == 404
    own = app.test_client()
    login_as(own, world.manager)
    mine = f"/manage/people/{world.manager.id}/second-factor/reset"
    assert own.get(mine).status_code == 404
    assert own.post(mine).status_code == 404
    worker = app.test_client()
    login_as(worker, world.social_worker)
    assert (
        worker.post(
            f"/manage/people/{world.unallocated_social_worker.id}/second-factor/reset"
        ).status_code
        == 404
    )
    db.session.expire_all()
    assert world.social_worker.totp_secret == TOTP_SECRET
    assert world.manager.totp_secret == TOTP_SECRET
    assert _events("second-factor:reset", "allowed") == []


@pytest.mark.app_config(LOGIN_LIMIT_PER_ACCOUNT="3 per 15 minutes")
def test_wrong_codes_are_throttled_with_wrong_passwords(app: Flask, world: World) -> None:
    worker = world.social_worker
    guesser = app.test_client()
    assert login_with_form(guesser, worker.email, "not it").status_code == 401
    _password_only(guesser, worker)
    assert guesser.post(STEP, data={"code": "000000"}).status_code == 401
    assert guesser.post(STEP, data={"code": "111111"}).status_code == 401
    blocked = guesser.post(STEP, data={"code": _code()})
    assert blocked.status_code == 429
    assert b"Too many tries" in blocked.data
    # the password form is blocked for this account too, from anywhere
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "10.9.9.9"
    assert login_with_form(elsewhere, worker.email).status_code == 429
    assert len(_events("second-factor:verify", "denied")) == 2
    # another person is not held up
    assert login_with_form(elsewhere, world.manager.email).status_code == 302


@pytest.mark.app_config(LOGIN_LIMIT_PER_ADDRESS="3 per 15 minutes")
def test_wrong_codes_count_per_address_too(app: Flask, world: World) -> None:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.2.2.2"
    _password_only(client, world.social_worker)
    for guess in ("000000", "111111", "222222"):
        assert client.post(STEP, data={"code": guess}).status_code == 401
    assert client.post(STEP, data={"code": _code()}).status_code == 429


def test_young_people_and_family_are_never_asked(app: Flask, world: World) -> None:
    young = app.test_client()
    response = login_with_form(young, world.young_person.email)
    assert response.status_code == 302 and response.location.endswith("/")
    _at_home(young)
    assert young.get(STEP).status_code == 404
    assert young.get(SET_UP).status_code == 404
    carer = app.test_client()
    assert login_with_form(carer, world.carer.email).location.endswith("/")
    _at_home(carer)


def test_carers_are_asked_when_their_authority_turns_it_on(app: Flask, world: World) -> None:
    manager = app.test_client()
    login_as(manager, world.manager)
    saved = manager.post(
        "/manage/settings",
        data={"self_sharing_age": "12", "carer_second_factor": "y", "help_escalation_hours": "4"},
    )
    assert saved.status_code == 302
    db.session.expire_all()
    assert world.authority.carer_second_factor
    carer = app.test_client()
    _password_only(carer, world.carer)
    assert carer.get("/").location.endswith(STEP)
    assert carer.get(STEP).location.endswith(SET_UP)
    _secret, codes = _set_up(carer)
    assert len(codes) == 10
    _at_home(carer)
    # the other authority's carers are not asked
    other_carer = factories.user(app, world.other_authority, factories.Role.CARER)
    assert login_with_form(app.test_client(), other_carer.email).location.endswith("/")


def _sample_args(rule) -> dict[str, object]:  # type: ignore[no-untyped-def]
    values: dict[str, object] = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        values[name] = 1 if type(converter).__name__ in ("IntegerConverter",) else "x"
    return values


def test_with_only_a_password_every_staff_route_leads_to_the_second_step(
    app: Flask, world: World
) -> None:
    """Every route of app.url_map, every method, for a social worker and a manager who have
    given only their password: the second step's pages and signing out, nothing else."""
    from flask import url_for

    reached = []
    for person in (world.social_worker, world.manager):
        for rule in app.url_map.iter_rules():
            if rule.endpoint in step.OPEN_ENDPOINTS or rule.endpoint.startswith("second_factor."):
                continue
            with app.test_request_context():
                url = url_for(rule.endpoint, **_sample_args(rule))
            for method in sorted((rule.methods or set()) - {"OPTIONS", "HEAD"}):
                client = app.test_client()
                login_as(client, person, second_factor=False)
                response = client.open(url, method=method)
                if response.status_code != 302 or not response.location.endswith(STEP):
                    reached.append(f"{method} {url} ({rule.endpoint}) -> {response.status_code}")
    assert not reached, "\n".join(reached)
    # and the open ones do open
    client = app.test_client()
    login_as(client, world.social_worker, second_factor=False)
    assert client.get(STEP).status_code == 200
    assert client.post("/logout").location.endswith("/login")
    assert PASSWORD  # the password itself was never enough


def test_signing_out_forgets_the_second_step(app: Flask, world: World) -> None:
    client = app.test_client()
    _password_only(client, world.social_worker)
    assert client.post(STEP, data={"code": _code()}).status_code == 302
    client.post("/logout")
    assert login_with_form(client, world.social_worker.email).location.endswith(STEP)
    assert client.get("/").location.endswith(STEP)
