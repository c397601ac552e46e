"""Two web processes and two workers behave as one Memory Box: an upload moves between web
processes, a session and the sign-in limits hold on both, either worker takes the jobs."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from tests.scaleout import facts
from tests.scaleout.client import (
    CARER,
    DEMO_PASSWORD,
    MIB,
    SOCIAL_WORKER,
    Person,
    photo,
    sha256,
)
from tests.scaleout.stack import Stack, wait_for

pytestmark = pytest.mark.scaleout

ITEM_TAKEN = r"processing item (\d+)"
EXPORT_TAKEN = r"building export (\d+)"


def wait_ready(stack: Stack, person: Person, item_id: int, seconds: float = 60) -> None:
    def ready() -> bool:
        state = person.item_state(item_id)
        assert state["state"] != "failed", state
        return bool(state["ready"])

    wait_for(f"item {item_id} ready", ready, seconds, every=0.25)


def test_an_upload_started_on_one_web_process_is_finished_on_the_other(stack: Stack) -> None:
    web1, web2 = stack.webs
    person = Person(web1).sign_in()
    content = photo(1, padding=3 * 8 * MIB + 12345)  # four PATCHes
    location = person.create_upload(len(content), "holiday.jpg")
    offset = 0
    for number in range(4):
        person.on(stack.webs[number % 2])
        assert person.offset(location) == offset  # both see where it has got to
        part = content[offset : offset + 8 * MIB]
        sent = person.patch(location, offset, part)
        assert sent.status_code == 204, sent.text
        offset = int(sent.headers["Upload-Offset"])
    assert offset == len(content)
    assert person.on(web1).offset(location) == person.on(web2).offset(location) == len(content)
    session = facts.upload_session(stack, location)
    assert facts.object_sha256(stack, session["storage_key"]) == sha256(content)

    item_id = person.on(web1).add(location, "Sent through both")
    wait_ready(stack, person.on(web2), item_id)
    files = facts.stored_files(stack, item_id)
    assert len(files) >= 2 and all(f.present == f.size for f in files), files
    status, thumb = person.on(web1).fetch(f"/items/{item_id}/thumbnail")
    assert status == 200 and thumb[:4] == b"RIFF"  # a WebP made by a worker


def test_a_session_made_on_one_web_process_holds_on_the_other(stack: Stack) -> None:
    web1, web2 = stack.webs
    person = Person(web1, SOCIAL_WORKER).sign_in()
    other_browser = Person(web2, SOCIAL_WORKER).sign_in()
    for web in (web1, web2, web1):
        page = person.on(web).get("/", allow_redirects=False)
        assert page.status_code in (200, 302), page.status_code
        assert "/login" not in page.headers.get("Location", ""), "signed out on " + web.name

    # Changing the password on one process ends every other session, on both processes.
    new_password = "a-new-password-for-sam-1234"
    token = person.on(web2).csrf("/account/password")
    changed = person.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current": DEMO_PASSWORD,
            "password": new_password,
            "confirm": new_password,
        },
        allow_redirects=False,
    )
    assert changed.status_code == 302, changed.text[:500]
    try:
        for web in (web1, web2):
            stale = other_browser.on(web).get("/", allow_redirects=False)
            assert stale.status_code == 302 and "/login" in stale.headers["Location"], web.name
            kept = person.on(web).get("/", allow_redirects=False)
            assert "/login" not in kept.headers.get("Location", ""), web.name
    finally:
        token = person.on(web1).csrf("/account/password")
        back = person.post(
            "/account/password",
            data={
                "csrf_token": token,
                "current": new_password,
                "password": DEMO_PASSWORD,
                "confirm": DEMO_PASSWORD,
            },
            allow_redirects=False,
        )
        assert back.status_code == 302


def test_sign_in_throttling_counts_failures_on_both_web_processes(stack: Stack) -> None:
    """Five failed sign-ins per account in 15 minutes, however the balancer spreads them:
    with per-process counting (memory://) each of the four gunicorn workers would allow
    five."""
    answers = []
    for attempt in range(8):
        person = Person(stack.webs[attempt % 2], CARER)
        answers.append(person.try_sign_in("not-the-password").status_code)
    assert answers == [401] * 5 + [429] * 3, answers
    # The right password is refused too while the account is held back, on both.
    for web in stack.webs:
        held = Person(web, CARER).try_sign_in()
        assert held.status_code == 429 and "Too many tries" in held.text


def test_jobs_are_taken_by_either_worker(stack: Stack) -> None:
    person = Person(stack.webs[0]).sign_in()
    items: list[int] = []

    def both_took_some() -> bool:
        return all(worker.took(ITEM_TAKEN) & set(items) for worker in stack.workers)

    for seed in range(10, 20):
        person.on(stack.webs[seed % 2])
        items.append(person.upload(photo(seed), f"photo-{seed}.jpg", f"Photo {seed}"))
        if len(items) >= 4 and both_took_some():
            break
    for item_id in items:
        wait_ready(stack, person, item_id)
    taken = {worker.name: sorted(worker.took(ITEM_TAKEN) & set(items)) for worker in stack.workers}
    assert all(taken.values()), f"one worker took nothing: {taken}"
    assert facts.ready_without_objects(stack) == []


def test_exports_are_built_by_either_worker(stack: Stack) -> None:
    person = Person(stack.webs[0]).sign_in()
    person.upload(photo(99), "for-export.jpg", "In the export")
    exports: list[int] = []

    def both_built_some() -> bool:
        return all(worker.took(EXPORT_TAKEN) & set(exports) for worker in stack.workers)

    for number in range(8):
        person.on(stack.webs[number % 2])
        exports.append(person.ask_for_export("json" if number % 2 else "zip"))
        if len(exports) >= 4 and both_built_some():
            break

    for export_id in exports:
        wait_for(
            f"export {export_id} ready",
            lambda export_id=export_id: person.export_state(export_id)["ready"],
            90,
            every=0.25,
        )
    built = {w.name: sorted(w.took(EXPORT_TAKEN) & set(exports)) for w in stack.workers}
    assert all(built.values()), f"one worker built nothing: {built}"
    for number, export_id in enumerate(exports):
        status, body = person.on(stack.webs[number % 2]).fetch(f"/exports/{export_id}/download")
        assert status == 200
        state = person.export_state(export_id)
        if state["kind"] == "zip":
            with zipfile.ZipFile(io.BytesIO(body)) as archive:
                assert archive.testzip() is None
                assert "index.html" in archive.namelist()
        else:
            assert json.loads(body)
