"""The security baseline: CSRF on every form, headers, cookies, and nothing secret in logs."""

from __future__ import annotations

import io
import logging
import re

import pytest

from tests import factories
from tests.factories import PASSWORD, login_as, login_with_form


def _post_rules(app):
    for rule in app.url_map.iter_rules():
        if "POST" in (rule.methods or set()):
            yield rule


def _fill(rule, ids):
    return re.sub(r"<(?:int:)?(\w+)>", lambda m: str(ids.get(m.group(1), 1)), rule.rule)


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_every_post_route_needs_a_csrf_token(app, client, world):
    it = factories.item(app, world.child, world.young_person)
    ids = {"child_id": world.child.id, "item_id": it.id, "user_id": world.carer.id}
    login_as(client, world.young_person)
    rules = list(_post_rules(app))
    assert len(rules) >= 15
    for rule in rules:
        response = client.post(_fill(rule, ids), data={"title": "x"})
        assert response.status_code == 400, rule.rule
        assert b"This page timed out" in response.data, rule.rule


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_forms_work_with_their_csrf_token(client, world):
    page = client.get("/login").data.decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/login", data={"email": world.carer.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302


def test_pages_carry_the_security_headers(client, world):
    login_as(client, world.young_person)
    response = client.get(f"/children/{world.child.id}/box")
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert (
        "default-src 'self'" in csp
        and "frame-ancestors 'none'" in csp
        and "object-src 'none'" in csp
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "geolocation=()" in response.headers["Permissions-Policy"]
    assert response.headers["Cache-Control"] == "no-store"


def test_pages_have_no_inline_scripts_or_styles(client, world):
    """The CSP forbids them, so a page that had one would be broken."""
    login_as(client, world.young_person)
    for url in (
        f"/children/{world.child.id}/box",
        f"/children/{world.child.id}/add",
        "/account/password",
    ):
        html = client.get(url).data.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), url
        assert " style=" not in html and "<style" not in html, url


def test_session_cookie_is_httponly_and_samesite(client, world):
    response = login_with_form(client, world.carer.email)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


@pytest.mark.app_config(SESSION_COOKIE_SECURE=True)
def test_session_cookie_is_secure_when_configured(client, world):
    cookie = login_with_form(client, world.carer.email).headers["Set-Cookie"]
    assert "Secure" in cookie


def test_body_size_is_capped(app):
    assert app.config["MAX_CONTENT_LENGTH"] > app.config["MAX_UPLOAD_BYTES"] > 0
    assert 64 * 1024 < app.config["MAX_FORM_MEMORY_SIZE"] <= 1_000_000


def test_passwords_tokens_and_file_contents_never_reach_the_logs(app, client, world, caplog):
    caplog.set_level(logging.DEBUG)
    login_with_form(client, world.carer.email)
    login_with_form(app.test_client(), world.carer.email, "my wrong guess")
    secret_bytes = b"SECRET-CONTENT-" + b"7" * 20
    client.post(
        f"/children/{world.child.id}/add",
        data={"file": (io.BytesIO(factories.jpeg_bytes() + secret_bytes), "x.jpg"), "title": "t"},
        content_type="multipart/form-data",
    )
    text = caplog.text
    assert PASSWORD not in text and "my wrong guess" not in text
    assert "SECRET-CONTENT" not in text


def test_unknown_pages_get_a_friendly_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert b"We can&#39;t find that page" in response.data


def test_unexpected_errors_get_a_friendly_500(app, client, world, monkeypatch):
    from memorybox.memories import services

    def explode(child, after):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "box_page", explode)
    login_as(client, world.young_person)
    response = client.get(f"/children/{world.child.id}/box")
    assert response.status_code == 500
    assert b"something went wrong on our side" in response.data
    assert b"boom" not in response.data


def test_wrong_method_is_a_friendly_405(client, world):
    login_as(client, world.young_person)
    response = client.get("/logout")
    assert response.status_code == 405
