"""Faults on the scale-out stack, each counting what was lost (the target is nothing) into a
row of the reliability table (``docs/reliability.md``)."""

from __future__ import annotations

import http.client
import time
from pathlib import Path

import pytest
import requests

from tests.scaleout import facts
from tests.scaleout.client import (
    CARER,
    DEMO_PASSWORD,
    MIB,
    SOCIAL_WORKER,
    Person,
    mp4_duration,
    photo,
    sha256,
    video,
)
from tests.scaleout.report import Row
from tests.scaleout.stack import (
    STALLED_AFTER_SECONDS,
    SWEEP_EVERY_MINUTES,
    Stack,
    Worker,
    command_line,
    wait_for,
)

pytestmark = pytest.mark.scaleout

#: Words that would mean a traceback or an internal name reached a person.
LEAKS = ("Traceback", "sqlalchemy", "psycopg", "OperationalError", "redis", "Exception")
#: The longest a lost job may wait for a sweep: the window, then the next sweep (a minute).
SWEEP_SECONDS = STALLED_AFTER_SECONDS + 60 * SWEEP_EVERY_MINUTES


def _transcoding(worker: Worker) -> bool:
    """ffmpeg is making the web copy of a video under this worker."""
    return any("libx264" in command_line(pid) for pid in worker.descendants())


def _worker_transcoding(stack: Stack, seconds: float = 60) -> Worker:
    return wait_for(
        "a worker transcoding the video",
        lambda: next((w for w in stack.workers if _transcoding(w)), None),
        seconds,
        every=0.05,
    )


def _not_served_while_not_ready(person: Person, item_id: int) -> int:
    """Asks for every derivative of an unfinished item; how many answered with content."""
    served = 0
    for route in ("play", "poster", "download", "file", "thumbnail"):
        status, _ = person.fetch(f"/items/{item_id}/{route}")
        served += status != 404
    state = person.item_state(item_id)
    served += bool(state["ready"])
    return served


def _wait_ready(person: Person, item_id: int, seconds: float) -> float:
    started = time.monotonic()

    def ready() -> bool:
        state = person.item_state(item_id)
        assert state["state"] != "failed", state
        return bool(state["ready"])

    wait_for(f"item {item_id} ready", ready, seconds, every=0.25)
    return time.monotonic() - started


def _whole_video_served(person: Person, item_id: int, seconds: float, folder: Path) -> bool:
    status, body = person.fetch(f"/items/{item_id}/play")
    assert status == 200
    return abs(mp4_duration(body, folder) - seconds) < 0.5


# --- a web process killed ----------------------------------------------------------------------


def test_a_web_process_killed_mid_patch(stack: Stack, reliability: Row) -> None:
    reliability.fault = "A web process killed (SIGKILL, the whole gunicorn) mid-PATCH"
    reliability.does = (
        "24 MiB upload: one PATCH on web 1, then a 16 MiB PATCH to web 1, killed once its first "
        "8 MiB part is in S3; HEAD and the rest on web 2, the item added there"
    )
    web1, web2 = stack.webs
    person = Person(web1).sign_in()
    content = photo(41, padding=3 * 8 * MIB - 20_000)  # just under 24 MiB
    location = person.create_upload(len(content), "killed.jpg")
    assert person.patch(location, 0, content[: 8 * MIB]).status_code == 204

    conn = person.raw_patch(location, 8 * MIB, len(content) - 8 * MIB)
    conn.send(content[8 * MIB : 20 * MIB])
    wait_for(
        "the first part of the PATCH in S3",
        lambda: facts.parts_in_storage(stack, location) >= 2,
        30,
    )
    web1.kill()
    with pytest.raises((OSError, http.client.HTTPException)):
        conn.send(content[20 * MIB :])
        conn.getresponse()
    conn.close()

    offset = person.on(web2).offset(location)
    assert offset == 8 * MIB  # the killed PATCH never said it stored anything
    resent = len(content) - offset
    assert person.send_from(location, content, offset) == len(content)
    stored = facts.object_sha256(stack, facts.upload_session(stack, location)["storage_key"])
    item_id = person.add(location, "After a crash")
    _wait_ready(person, item_id, 60)
    reliability.lost = {
        "uploads lost": 0 if stored == sha256(content) else 1,
        "items ready without their object": len(facts.ready_without_objects(stack)),
    }
    reliability.note(f"{resent / MIB:.0f} MiB sent again from the last part the app recorded")
    assert stored == sha256(content)
    assert reliability.lost["items ready without their object"] == 0


# --- object storage stopped --------------------------------------------------------------------


def test_object_storage_stopped_mid_upload(stack: Stack, reliability: Row) -> None:
    reliability.fault = "Object storage (S3) stopped mid-upload, then back"
    reliability.does = (
        "S3 cut (connections reset, new ones refused) while a PATCH streams to web 2; a PATCH, "
        "a new upload and adding a finished one tried while it is down; back: HEAD and the "
        "rest on both, both added; storage-orphans"
    )
    web1, web2 = stack.webs
    orphans_before = set(facts.orphans(stack))
    person = Person(web1).sign_in()
    content = photo(42, padding=4 * 8 * MIB - 5000)
    location = person.create_upload(len(content), "outage.jpg")
    assert person.patch(location, 0, content[: 8 * MIB]).status_code == 204
    small = photo(43)
    finished = person.create_upload(len(small), "finished.jpg")
    person.send_from(finished, small, 0)

    conn = person.on(web2).raw_patch(location, 8 * MIB, 8 * MIB)
    conn.send(content[8 * MIB : 12 * MIB])
    stack.s3_proxy.cut()
    cut_at = time.monotonic()
    try:
        conn.send(content[12 * MIB : 16 * MIB])
        answer = conn.getresponse()
        mid_patch = (answer.status, answer.read().decode())
    except (OSError, http.client.HTTPException) as exc:
        mid_patch = (0, type(exc).__name__)
    finally:
        conn.close()
    assert mid_patch[0] in (0, 503), mid_patch  # 0: the app hung up while we still sent

    try:
        while_down = person.on(web1).patch(
            location, person.offset(location), content[8 * MIB : 16 * MIB]
        )
        answered_in = time.monotonic() - cut_at
        assert while_down.status_code == 503
        assert "can't save things right now" in while_down.text
        refused = person.on(web2).start_upload(1000, "another.jpg")
        assert refused.status_code == 503 and "try again" in refused.text
        not_added = person.on(web1).try_add(finished, "Added while S3 is down")
        assert not_added.status_code == 503 and "try again" in not_added.json()["error"]
    finally:
        stack.s3_proxy.restore()
    added = person.on(web2).add(finished, "Added once S3 is back")

    offset = person.on(web2).offset(location)
    assert offset == 8 * MIB
    for number, web in enumerate((web1, web2, web1)):
        person.on(web)
        part = content[offset : offset + 8 * MIB]
        sent = person.patch(location, offset, part)
        assert sent.status_code == 204, f"PATCH {number} after S3 came back: {sent.text}"
        offset = int(sent.headers["Upload-Offset"])
    offset = person.send_from(location, content, offset)
    stored = facts.object_sha256(stack, facts.upload_session(stack, location)["storage_key"])
    item_id = person.add(location, "After an outage")
    for ready in (item_id, added):
        _wait_ready(person, ready, 60)
    new_orphans = set(facts.orphans(stack)) - orphans_before
    reliability.lost = {
        "uploads lost": 0 if stored == sha256(content) else 1,
        "items ready without their object": len(facts.ready_without_objects(stack)),
        "orphaned objects": len(new_orphans),
    }
    reliability.note(
        f"mid-PATCH answer: {mid_patch[0] or 'connection closed'}; while down a PATCH "
        f"answered 503 in {answered_in:.1f} s, a new upload and an add 503 'please try again'"
    )
    assert stored == sha256(content)
    assert reliability.lost["items ready without their object"] == 0
    assert not new_orphans


def test_object_storage_stopped_mid_processing(
    stack: Stack, reliability: Row, tmp_path: Path
) -> None:
    reliability.fault = "Object storage (S3) stopped mid-processing, then back"
    reliability.does = (
        "a 6 s 720p video added; S3 cut as the worker sends its second file (the clean "
        "original stored, the web copy not); the item and its derivatives asked for while "
        "down; back: the retry finishes it; storage-orphans until it finds nothing"
    )
    orphans_before = set(facts.orphans(stack))
    person = Person(stack.webs[0]).sign_in()
    clip = video(tmp_path, 6)
    files_sent = 0

    def second_file(data: bytes) -> bool:
        """A whole object sent to S3 (not a part of an upload): the second one cuts."""
        nonlocal files_sent
        line = data.split(b"\r\n", 1)[0]
        if line.startswith(b"PUT /") and b"/items/" in line and b"partNumber=" not in line:
            files_sent += 1
        return files_sent == 2

    item_id = person.upload(clip, "outage.mp4", "Video in an outage")
    stack.s3_proxy.cut_when(second_file)
    try:
        wait_for("S3 cut mid-processing", stack.s3_proxy.tripped.is_set, 90, every=0.1)
        wait_for(
            "the attempt to fail and wait for a retry",
            lambda: facts.item(stack, item_id)["processing_error"] != "",
            60,
            every=0.2,
        )
        state = person.on(stack.webs[1]).item_state(item_id)
        served_while_down = _not_served_while_not_ready(person, item_id)
        broken_while_down = len(facts.ready_without_objects(stack))
    finally:
        stack.s3_proxy.restore()
    back_at = time.monotonic()
    assert state["ready"] is False and state["message"] == "Getting your video ready…", state
    took = _wait_ready(person, item_id, SWEEP_SECONDS + 60)
    whole = _whole_video_served(person, item_id, 6, tmp_path)
    try:
        wait_for(
            "storage-orphans to find nothing new",
            lambda: not set(facts.orphans(stack)) - orphans_before,
            60,
            every=1,
        )
        tidy = time.monotonic() - back_at
    finally:
        new_orphans = set(facts.orphans(stack)) - orphans_before
    reliability.lost = {
        "derivatives served before ready": served_while_down,
        "items ready without their object": broken_while_down
        + len(facts.ready_without_objects(stack)),
        "orphaned objects": len(new_orphans),
    }
    reliability.note(
        f"ready {took:.0f} s after S3 came back (retried with backoff); the object the failed "
        f"attempt had stored was gone {tidy:.0f} s after"
    )
    assert whole
    assert served_while_down == 0 and broken_while_down == 0
    assert facts.ready_without_objects(stack) == []


# --- a worker killed ---------------------------------------------------------------------------


def test_a_worker_killed_mid_video(stack: Stack, reliability: Row, tmp_path: Path) -> None:
    reliability.fault = "A worker killed (SIGKILL) mid-video"
    reliability.does = (
        "a 10 s 720p video added; the worker running its ffmpeg is sent SIGKILL, its "
        "derivatives are asked for, it is started again; the job must finish within the "
        f"stalled-job window ({STALLED_AFTER_SECONDS} s here) and the next sweep"
    )
    orphans_before = set(facts.orphans(stack))
    person = Person(stack.webs[1]).sign_in()
    clip = video(tmp_path, 10)
    item_id = person.upload(clip, "killed.mp4", "Video with a crash")
    worker = _worker_transcoding(stack)
    children = worker.kill(group=False)
    killed_at = time.monotonic()
    left_running = [pid for pid in children if any("ffmpeg" in a for a in command_line(pid))]
    served = _not_served_while_not_ready(person, item_id)
    assert facts.processing(stack, item_id) == "working"
    worker.start()
    took = _wait_ready(person, item_id, SWEEP_SECONDS + 90)
    since_kill = time.monotonic() - killed_at
    whole = _whole_video_served(person, item_id, 10, tmp_path)
    new_orphans = set(facts.orphans(stack)) - orphans_before
    reliability.lost = {
        "jobs lost": len(facts.items_not_done(stack)),
        "derivatives served before ready": served,
        "items ready without their object": len(facts.ready_without_objects(stack)),
        "orphaned objects": len(new_orphans),
    }
    reliability.note(
        f"ready {since_kill:.0f} s after the kill (window {STALLED_AFTER_SECONDS} s + sweep "
        f"every {SWEEP_EVERY_MINUTES} min); {len(left_running)} of the dead worker's child "
        "processes (its ffmpeg) ran on after it"
    )
    assert took <= SWEEP_SECONDS + 90
    assert whole and served == 0
    assert facts.ready_without_objects(stack) == []
    assert not new_orphans


# --- Redis stopped -----------------------------------------------------------------------------


def test_redis_killed_and_restarted(stack: Stack, reliability: Row) -> None:
    reliability.fault = "Redis (queue and sign-in limits) killed, then started again"
    reliability.does = (
        "workers stopped, 3 photos queued, 2 failed sign-ins; Redis killed (SIGKILL; "
        "appendonly yes); sign-ins and a 4th photo tried while down; Redis started, the "
        "queue counted, workers started; 3 more failed sign-ins"
    )
    web1, web2 = stack.webs
    person = Person(web1).sign_in()
    for worker in stack.workers:
        worker.stop()
    queued = [
        person.on(stack.webs[n % 2]).upload(photo(60 + n), f"q{n}.jpg", f"Queued {n}")
        for n in range(3)
    ]
    assert facts.queued_items(stack) == sorted(queued)
    for web in (web1, web2):
        assert Person(web, CARER).try_sign_in("wrong").status_code == 401

    stack.redis.stop(crash=True)
    try:
        during = []
        for number in range(6):
            answer = Person(stack.webs[number % 2], CARER).try_sign_in("wrong")
            during.append(answer.status_code)
            assert "try again in a minute" in answer.text
            assert not any(word in answer.text for word in LEAKS)
        right = Person(web2, CARER).try_sign_in(DEMO_PASSWORD)
        during.append(right.status_code)
        sent_while_down = person.on(web2).upload(photo(64), "down.jpg", "Sent while Redis was down")
        browsing = person.on(web1).get(f"/children/{person.child_id}/box").status_code
    finally:
        stack.redis.start()
    queue_after_restart = len(set(facts.queued_items(stack)) & set(queued))
    for worker in stack.workers:
        worker.start()
    for item_id in queued:
        _wait_ready(person, item_id, 60)
    took = _wait_ready(person, sent_while_down, SWEEP_SECONDS + 30)

    after = [Person(stack.webs[n % 2], CARER).try_sign_in("wrong").status_code for n in range(4)]
    let_through = sum(code != 503 for code in during)
    reliability.lost = {
        "queued jobs lost": 3 - queue_after_restart,
        "sign-ins let through unthrottled while down": let_through,
        "items never made ready": len(facts.items_not_done(stack)),
    }
    reliability.note(
        f"sign-ins while down answered {sorted(set(during))}; the photo sent then was saved "
        f"and made ready {took:.0f} s after the workers came back (by the sweeper)"
    )
    assert during == [503] * 7, during
    assert browsing == 200
    assert queue_after_restart == 3
    assert after == [401, 401, 401, 429], after  # 2 before + 3 after: the count survived


# --- the database connection dropped -----------------------------------------------------------


def test_the_database_connection_dropped_under_the_app(stack: Stack, reliability: Row) -> None:
    reliability.fault = "The database connection dropped under the app, then the database down"
    reliability.does = (
        "every pooled connection reset (the proxy to PostgreSQL): pages on both web processes "
        "and a job; then new connections refused: pages, a sign-in, a status and a tus HEAD; "
        "then back"
    )
    web1, web2 = stack.webs
    child = Person(web1).sign_in()
    social_worker = Person(web2, SOCIAL_WORKER).sign_in()
    location = child.create_upload(1000, "db.jpg")
    pages = [(child, f"/children/{child.child_id}/box"), (social_worker, "/")]

    def browse() -> list[requests.Response]:
        answers = []
        for web in (web1, web2, web1, web2):
            for person, path in pages:
                answers.append(person.on(web).get(path, allow_redirects=False))
        return answers

    assert all(a.status_code in (200, 302) for a in browse())
    dropped = stack.db_proxy.drop()
    after_drop = browse()
    failed_after_drop = sum(a.status_code >= 500 for a in after_drop)
    item_id = child.on(web2).upload(photo(70), "after-drop.jpg", "After the drop")
    _wait_ready(child, item_id, 60)

    stranger = Person(web1, CARER)
    token = stranger.csrf("/login")
    stack.db_proxy.cut()
    try:
        down = browse()
        down.append(
            stranger.post(
                "/login",
                data={"csrf_token": token, "email": CARER, "password": DEMO_PASSWORD},
                allow_redirects=False,
            )
        )
        down.append(
            child.on(web2).get(f"/items/{item_id}/status", headers={"Accept": "application/json"})
        )
        down.append(child.on(web1).get(f"/items/{item_id}/no-such-page"))
        down.append(
            child.http.head(child.url(location), headers={"Tus-Resumable": "1.0.0"}, timeout=30)
        )
    finally:
        stack.db_proxy.restore()
    back = browse()

    friendly = [
        a
        for a in down
        if a.status_code == 503
        and (a.request.method == "HEAD" or "try again in a minute" in a.text)
        and not any(word in a.text for word in LEAKS)
    ]
    reliability.lost = {
        "requests failed after the drop": failed_after_drop,
        "answers while down that were not a friendly 503": len(down) - len(friendly),
        "requests failed once it was back": sum(a.status_code >= 500 for a in back),
    }
    reliability.note(
        f"{dropped} pooled connections reset, {len(after_drop)} requests after it; "
        f"{len(friendly)} of {len(down)} requests while down got the 503 page"
    )
    assert failed_after_drop == 0, [a.status_code for a in after_drop]
    assert len(friendly) == len(down), [
        (a.request.method, a.request.url, a.status_code) for a in down
    ]
    assert all(a.headers.get("Retry-After") == "60" for a in down)
    assert all(a.status_code in (200, 302) for a in back)
