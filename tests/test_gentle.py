"""Gentle with hard memories: a content note is shown to the child before the memory and they
choose to open it, wait, or open it later with someone they trust; they can hide any memory
or story part until they are ready (no picture is even fetched) and undo each choice; no adult
sees these choices, and only its writer sees a note."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from flask.testing import FlaskClient

from memorybox.db import db
from memorybox.memories.models import ItemStatus, MemoryItem
from memorybox.sharing import services as sharing
from memorybox.sharing.models import Audience
from memorybox.story import services as story
from tests import factories
from tests.factories import World, login_as

pytestmark = pytest.mark.app_config(ARGON2_MEMORY_KIB=64)

NOTE = "This photo shows your birth mum."


def client_for(app: Flask, user) -> FlaskClient:  # type: ignore[no-untyped-def]
    client = app.test_client()
    login_as(client, user)
    return client


def _carer_sends_with_a_note(app: Flask, world: World) -> MemoryItem:
    carer = client_for(app, world.carer)
    response = carer.post(
        f"/children/{world.child.id}/add",
        data={
            "title": "Mum and me",
            "caption": "",
            "content_note": NOTE,
            "file": (io.BytesIO(factories.jpeg_bytes()), "mum.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    item = db.session.scalar(db_select_title("Mum and me"))
    assert item is not None
    return item


def db_select_title(title: str):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    return select(MemoryItem).where(MemoryItem.title == title)


def test_the_child_reads_the_note_first_and_chooses(app: Flask, world: World) -> None:
    item = _carer_sends_with_a_note(app, world)
    assert item.status is ItemStatus.SUGGESTED and item.content_note == NOTE
    child = client_for(app, world.young_person)
    suggested = child.get(f"/children/{world.child.id}/suggested").data.decode()
    assert f"/items/{item.id}/file" not in suggested and "Read the note first" in suggested
    first = child.get(f"/items/{item.id}").data.decode()
    assert "Before you open this" in first and NOTE in first
    assert "Jo, your foster carer" in first
    assert f"/items/{item.id}/file" not in first, "nothing of the photo before they choose"
    opened = child.post(f"/items/{item.id}/gentle", data={"choice": "open"})
    assert opened.status_code == 302 and "open=1" in opened.location
    page = child.get(opened.location).data.decode()
    assert f"/items/{item.id}/file" in page and NOTE in page
    db.session.expire_all()
    assert db.session.get(MemoryItem, item.id).note_opened_at is not None  # type: ignore[union-attr]
    assert "Before you open this" not in child.get(f"/items/{item.id}").data.decode()


def test_later_with_someone_names_the_adult_they_trust(app: Flask, world: World) -> None:
    item = _carer_sends_with_a_note(app, world)
    child = client_for(app, world.young_person)
    settings = child.post(
        "/notifications/settings",
        data={"trusted_person": str(world.social_worker.id), "trusted_how": "Ring Sam at school"},
    )
    assert settings.status_code == 302
    later = child.post(f"/items/{item.id}/gentle", data={"choice": "someone"})
    assert later.status_code == 302 and later.location.endswith(f"/children/{world.child.id}/box")
    pause = child.get(f"/items/{item.id}").data.decode()
    assert "You chose Sam, your social worker." in pause and "Ring Sam at school" in pause
    assert child.post(f"/items/{item.id}/gentle", data={"choice": "alone"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(MemoryItem, item.id).with_someone is False  # type: ignore[union-attr]
    forged = child.post("/notifications/settings", data={"trusted_person": str(world.manager.id)})
    assert forged.status_code == 400, "only someone from the child's life"


def test_hidden_until_ready_fetches_no_picture_anywhere_and_can_be_undone(
    app: Flask, world: World
) -> None:
    item = factories.item(app, world.child, world.young_person, title="Hard day")
    child = client_for(app, world.young_person)
    assert child.post(f"/items/{item.id}/gentle", data={"choice": "hide"}).status_code == 302
    thumbnail = f"/items/{item.id}/thumbnail"
    for page in ("/", f"/children/{world.child.id}/box", f"/children/{world.child.id}/timeline"):
        html = child.get(page).data.decode()
        assert thumbnail not in html, page
    assert (
        "Hidden until you are ready" in child.get(f"/children/{world.child.id}/box").data.decode()
    )
    assert "You hid this until you" in child.get(f"/items/{item.id}").data.decode()
    assert child.post(f"/items/{item.id}/gentle", data={"choice": "show"}).status_code == 302
    assert thumbnail in child.get(f"/children/{world.child.id}/box").data.decode()


def test_no_adult_sees_the_childs_choices_and_only_the_writer_sees_the_note(
    app: Flask, world: World
) -> None:
    item = _carer_sends_with_a_note(app, world)
    child = client_for(app, world.young_person)
    child.post(f"/items/{item.id}/gentle", data={"choice": "open"})
    child.post(f"/items/{item.id}/keep", data={})
    child.post(f"/items/{item.id}/gentle", data={"choice": "hide"})
    db.session.expire_all()
    kept = db.session.get(MemoryItem, item.id)
    assert kept is not None and kept.status is ItemStatus.KEPT
    sharing.grant(
        child=world.child,
        decided_by=world.young_person,
        on_behalf=False,
        audience=Audience.SOCIAL_WORKER,
        item=kept,
    )
    db.session.commit()
    carer_page = client_for(app, world.carer).get(f"/items/{item.id}").data.decode()
    worker_page = client_for(app, world.social_worker).get(f"/items/{item.id}").data.decode()
    assert f"Your note for Alex: “{NOTE}”" in carer_page
    assert NOTE not in worker_page
    for page in (carer_page, worker_page):
        assert "Hidden until" not in page and "Be gentle" not in page and "hid this" not in page
    refused = client_for(app, world.carer).post(f"/items/{item.id}/gentle", data={"choice": "show"})
    assert refused.status_code == 404


def test_a_story_part_can_wait_until_the_child_is_ready(app: Flask, world: World) -> None:
    section = story.sections_of(world.child)[0]
    story.save_version(section, "Why I came into care.", [], world.young_person)
    db.session.commit()
    child = client_for(app, world.young_person)
    assert child.post(f"/story/{section.id}/gentle", data={"choice": "hide"}).status_code == 302
    home = child.get(f"/children/{world.child.id}/story").data.decode()
    assert "Why I came into care." not in home and "Hidden until you" in home
    pause = child.get(f"/story/{section.id}").data.decode()
    assert "Before you open" in pause and "Why I came into care." not in pause
    assert "Why I came into care." in child.get(f"/story/{section.id}?open=1").data.decode()
    assert child.post(f"/story/{section.id}/gentle", data={"choice": "nonsense"}).status_code == 400
    assert child.post(f"/story/{section.id}/gentle", data={"choice": "show"}).status_code == 302
    assert "Why I came into care." in child.get(f"/children/{world.child.id}/story").data.decode()
