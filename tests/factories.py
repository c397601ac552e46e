"""Building blocks for tests: people, children, relationships and files, made the app's way."""

from __future__ import annotations

import functools
import io
import itertools
from dataclasses import dataclass
from datetime import date, timedelta

from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from memorybox import clock
from memorybox.accounts.models import Authority, Role, User
from memorybox.children.models import Allocation, Child, Placement
from memorybox.db import db
from memorybox.memories.models import ItemKind, ItemStatus, MemoryItem, Processing
from memorybox.storage import new_key

PASSWORD = "correct horse battery"
#: the code app secret every social worker and manager made here has set up (a test signs
#: in with ``pyotp.TOTP(TOTP_SECRET).now()``; tests of setting one up clear it first)
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
_counter = itertools.count(1)


def authority(name: str = "Testshire County Council") -> Authority:
    n = next(_counter)
    a = Authority(name=f"{name} {n}", slug=f"auth-{n}")
    db.session.add(a)
    db.session.commit()
    return a


def user(app: Flask, auth: Authority, role: Role, name: str | None = None) -> User:
    n = next(_counter)
    passwords = app.extensions["memorybox.passwords"]
    u = User(
        authority_id=auth.id,
        email=f"{role.value}{n}@example.org",
        display_name=name or f"{role.label} {n}",
        role=role,
        password_hash=passwords.hash(PASSWORD),
    )
    if role in (Role.SOCIAL_WORKER, Role.MANAGER):
        u.totp_secret = TOTP_SECRET
        u.mfa_set_up_at = clock.now()
    db.session.add(u)
    db.session.commit()
    return u


def child(
    auth: Authority, login: User | None = None, name: str = "Alex", age: int | None = None
) -> Child:
    dob = None
    if age is not None:
        today = clock.today()
        dob = (
            today.replace(year=today.year - age)
            if (today.month, today.day) != (2, 29)
            else (today - timedelta(days=1)).replace(year=today.year - age)
        )
    c = Child(
        authority_id=auth.id,
        display_name=name,
        user_id=login.id if login else None,
        date_of_birth=dob,
    )
    db.session.add(c)
    db.session.commit()
    return c


def placement(
    c: Child, carer: User, start: date | None = None, end: date | None = None
) -> Placement:
    p = Placement(
        child_id=c.id,
        carer_id=carer.id,
        start_date=start or clock.today() - timedelta(days=30),
        end_date=end,
    )
    db.session.add(p)
    db.session.commit()
    return p


def allocation(
    c: Child, sw: User, start: date | None = None, end: date | None = None
) -> Allocation:
    a = Allocation(
        child_id=c.id,
        social_worker_id=sw.id,
        start_date=start or clock.today() - timedelta(days=30),
        end_date=end,
    )
    db.session.add(a)
    db.session.commit()
    return a


def jpeg_bytes(width: int = 64, height: int = 48, colour: str = "purple") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buf, "JPEG")
    return buf.getvalue()


def png_bytes(width: int = 32, height: int = 32) -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", (width, height), (10, 200, 30, 255)).save(buf, "PNG")
    return buf.getvalue()


def pdf_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(buf, "PDF")
    return buf.getvalue()


def wav_bytes(frames: int = 800) -> bytes:
    import wave

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x01" * frames)
    return buf.getvalue()


@functools.cache
def mp4_bytes() -> bytes:
    """A real half-second H.264 video with sound, made by ffmpeg."""
    import subprocess
    import tempfile

    from memorybox.media import tools

    with tempfile.TemporaryDirectory() as folder:
        out = f"{folder}/clip.mp4"
        subprocess.run(  # noqa: S603 - fixed arguments, our own ffmpeg
            [
                str(tools.binaries().ffmpeg),
                "-hide_banner",
                "-loglevel",
                "error",
                "-f",
                "lavfi",
                "-i",
                "testsrc=size=160x120:rate=10:duration=0.5",
                "-f",
                "lavfi",
                "-i",
                "sine=frequency=440:duration=0.5",
                "-c:v",
                "libx264",
                "-pix_fmt",
                "yuv420p",
                "-c:a",
                "aac",
                "-shortest",
                out,
            ],
            check=True,
            timeout=60,
        )
        with open(out, "rb") as handle:
            return handle.read()


def item(
    app: Flask,
    c: Child,
    added_by: User,
    *,
    title: str = "Beach day",
    status: ItemStatus = ItemStatus.KEPT,
    memory_date: date | None = None,
    content: bytes | None = None,
    process: bool = True,
) -> MemoryItem:
    """An item stored and processed as an upload would be, without the upload view."""
    content = content if content is not None else jpeg_bytes()
    storage = app.extensions["memorybox.storage"]
    key = new_key("jpg")
    storage.save(key, io.BytesIO(content), "image/jpeg")
    import hashlib

    it = MemoryItem(
        child_id=c.id,
        added_by_id=added_by.id,
        kind=ItemKind.PHOTO,
        status=status,
        title=title,
        caption="",
        memory_date=memory_date,
        content_type="image/jpeg",
        extension="jpg",
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        storage_backend=storage.backend_name,
        storage_key=key,
        original_name="IMG_0001.jpg",
        processing=Processing.WAITING,
    )
    db.session.add(it)
    db.session.commit()
    if process:
        from memorybox.memories import processing

        assert processing.process(it.id, storage) is Processing.READY
        db.session.refresh(it)
    return it


def login_as(client: FlaskClient, u: User, second_factor: bool = True) -> None:
    """Sign in without the login form (the auth tests use the real form): a session that
    has passed the second factor too, unless ``second_factor`` is False (then a person who
    needs one has given only their password)."""
    from memorybox.web import second_factor as step

    with client.session_transaction() as session:
        session["_user_id"] = u.get_id()
        session["_fresh"] = True
        if second_factor:
            session[step.PASSED] = step.marker(u)
            session[step.PASSED_AT] = clock.now().isoformat()


def login_with_form(client: FlaskClient, email: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/login", data={"email": email, "password": password})


@dataclass
class World:
    """Two authorities and a person in every state the access rules care about."""

    authority: Authority
    other_authority: Authority
    young_person: User
    child: Child
    other_young_person: User
    other_child: Child
    young_child: Child  # no login
    carer: User
    ended_carer: User
    unplaced_carer: User
    social_worker: User
    ended_social_worker: User
    unallocated_social_worker: User
    manager: User
    other_manager: User
    other_authority_young_person: User
    other_authority_child: Child


def build_world(app: Flask) -> World:
    a = authority()
    b = authority("Elsewhere Borough")
    yp = user(app, a, Role.YOUNG_PERSON, "Alex")
    c = child(a, yp, "Alex", age=13)
    oyp = user(app, a, Role.YOUNG_PERSON, "Blake")
    oc = child(a, oyp, "Blake", age=14)
    yc = child(a, None, "Casey")
    carer = user(app, a, Role.CARER, "Jo")
    ended = user(app, a, Role.CARER, "Kim")
    unplaced = user(app, a, Role.CARER, "Lee")
    sw = user(app, a, Role.SOCIAL_WORKER, "Sam")
    ended_sw = user(app, a, Role.SOCIAL_WORKER, "Pat")
    free_sw = user(app, a, Role.SOCIAL_WORKER, "Ray")
    manager = user(app, a, Role.MANAGER, "Priya")
    other_manager = user(app, b, Role.MANAGER, "Quinn")
    byp = user(app, b, Role.YOUNG_PERSON, "Drew")
    bc = child(b, byp, "Drew", age=15)
    today = clock.today()
    placement(c, carer)
    placement(yc, carer)
    placement(c, ended, start=today - timedelta(days=400), end=today - timedelta(days=1))
    allocation(c, sw)
    allocation(yc, sw)
    allocation(c, ended_sw, start=today - timedelta(days=400), end=today - timedelta(days=1))
    return World(
        a,
        b,
        yp,
        c,
        oyp,
        oc,
        yc,
        carer,
        ended,
        unplaced,
        sw,
        ended_sw,
        free_sw,
        manager,
        other_manager,
        byp,
        bc,
    )
