"""``flask seed-scale``, run small: what it makes, that seeded people can use it, that a
second run adds nothing, and that it never runs in production."""

from __future__ import annotations

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from memorybox.accounts.models import Role, User
from memorybox.audit.models import AuditEvent
from memorybox.children.models import Allocation, Child, Placement
from memorybox.db import db
from memorybox.memories.models import ItemStatus, MemoryItem, Rendition
from memorybox.notifications.models import HelpRequest, Notification
from memorybox.seeding import scale
from memorybox.sharing.models import Audience, Collection, Consent
from memorybox.story.models import SectionVersion, StorySection
from tests import factories

ARGS = [
    "seed-scale",
    "--children=10",
    "--carers=3",
    "--social-workers=2",
    "--items-per-child=6",
    "--big-box=25",
    "--audit-rows=300",
    "--password=scale-test-password",
]
SMALL = scale.ScaleOptions(
    children=10, carers=3, social_workers=2, items_per_child=6, big_box=25, audit_rows=300
)


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _counts() -> dict[str, int]:
    models = (
        User,
        Child,
        Placement,
        Allocation,
        MemoryItem,
        Rendition,
        Consent,
        Collection,
        StorySection,
        SectionVersion,
        HelpRequest,
        Notification,
        AuditEvent,
    )
    return {m.__name__: _count(m) for m in models}


def _seed(app: Flask) -> str:
    result = app.test_cli_runner().invoke(args=ARGS)
    assert result.exit_code == 0, result.output
    return result.output


def _user(role: Role, n: int = 1) -> User:
    found = db.session.scalar(select(User).where(User.email == scale.email(SMALL, role, n)))
    assert found is not None
    return found


def test_seed_scale_builds_the_authority(app: Flask) -> None:
    output = _seed(app)
    assert output.count("scale-test-password") == 1
    counts = _counts()
    # 9 young people with a login (the tenth child has none), 3 carers, 2 workers, 2 managers
    assert counts["User"] == 9 + 3 + 2 + 2
    assert counts["Child"] == 10
    assert counts["Allocation"] == 10
    assert counts["Placement"] == 10 + 3  # children 0, 4 and 8 had an earlier carer
    assert counts["MemoryItem"] == 25 + 9 * 6
    assert counts["AuditEvent"] == 300
    assert counts["Collection"] == 30
    assert counts["StorySection"] == 10 * 8
    assert counts["SectionVersion"] > 0
    assert counts["HelpRequest"] == 1  # child 0 (every fifteenth with a login)
    assert counts["Notification"] > 0

    storage = app.extensions["memorybox.storage"]
    for item in db.session.scalars(select(MemoryItem)):
        assert item.is_ready and item.renditions
        assert storage.exists(item.storage_key)
        for rendition in item.renditions:
            assert storage.size(rendition.storage_key) == rendition.size_bytes < 1000
    shared = {
        c.audience for c in db.session.scalars(select(Consent).where(Consent.item_id.is_not(None)))
    }
    assert shared == {Audience.CARERS, Audience.SOCIAL_WORKER}
    for child in db.session.scalars(select(Child)):
        assert child.user_id is not None or child.display_name.startswith("Jade")


def test_seeded_people_see_their_pages(app: Flask, client: FlaskClient) -> None:
    _seed(app)
    young = _user(Role.YOUNG_PERSON)
    child = db.session.scalar(select(Child).where(Child.user_id == young.id))
    assert child is not None
    item = db.session.scalar(
        select(MemoryItem)
        .join(Consent, Consent.item_id == MemoryItem.id)
        .where(
            MemoryItem.child_id == child.id,
            MemoryItem.status == ItemStatus.KEPT,
            MemoryItem.deleted_at.is_(None),
            Consent.audience == Audience.CARERS,
        )
        .order_by(MemoryItem.id)
    )
    assert item is not None
    thumb = item.rendition("thumb")
    assert thumb is not None

    factories.login_with_form(client, young.email, "scale-test-password")
    for path in (
        f"/children/{child.id}/box",
        f"/children/{child.id}/timeline",
        f"/children/{child.id}/seen",
        f"/children/{child.id}/story",
        f"/items/{item.id}",
    ):
        page = client.get(path)
        assert page.status_code == 200, path
    picture = client.get(f"/items/{item.id}/thumbnail")
    assert picture.status_code == 200
    assert picture.data == app.extensions["memorybox.storage"].open(thumb.storage_key).read()
    client.post("/logout")

    factories.login_as(client, _user(Role.CARER))
    page = client.get(f"/shared/{child.id}")
    assert page.status_code == 200
    assert item.title in page.get_data(as_text=True)
    assert client.get(f"/items/{item.id}").status_code == 200
    assert client.get(f"/shared/{child.id}/story").status_code == 200
    client.post("/logout")

    # a seeded social worker signs in with the password and a code from the printed key
    worker = _user(Role.SOCIAL_WORKER)
    assert factories.login_with_form(client, worker.email, "scale-test-password").location == (
        "/second-factor"
    )
    code = pyotp.TOTP(scale.STAFF_TOTP_SECRET).now()
    assert client.post("/second-factor", data={"code": code}).status_code == 302
    page = client.get("/caseload")
    assert page.status_code == 200
    assert child.display_name in page.get_data(as_text=True)
    assert client.get(f"/shared/{child.id}").status_code == 200


def test_a_second_run_adds_nothing(app: Flask) -> None:
    _seed(app)
    before = _counts()
    objects = sum(1 for _ in app.extensions["memorybox.storage"].objects())
    output = _seed(app)
    assert "Added: nothing." in output
    assert _counts() == before
    assert sum(1 for _ in app.extensions["memorybox.storage"].objects()) == objects


def test_a_bigger_run_adds_only_the_new_children(app: Flask) -> None:
    _seed(app)
    before = _counts()
    bigger = [a if not a.startswith("--children") else "--children=12" for a in ARGS]
    result = app.test_cli_runner().invoke(args=bigger)
    assert result.exit_code == 0, result.output
    after = _counts()
    assert after["Child"] == before["Child"] + 2
    assert after["MemoryItem"] == before["MemoryItem"] + 2 * 6
    assert after["Allocation"] == before["Allocation"] + 2
    assert after["StorySection"] == before["StorySection"] + 2 * 8
    assert after["AuditEvent"] == before["AuditEvent"]  # already as many as asked for


def test_it_never_runs_in_production(app: Flask) -> None:
    app.config["MEMORYBOX_ENV"] = "production"
    result = app.test_cli_runner().invoke(args=ARGS)
    assert result.exit_code != 0
    assert "never runs in production" in result.output
    assert _count(User) == 0
    with pytest.raises(scale.SeedRefused):
        scale.seed_scale(
            SMALL,
            environment="production",
            passwords=app.extensions["memorybox.passwords"],
            storage=app.extensions["memorybox.storage"],
        )
