"""A letter the child has opened is theirs for life: it goes with them in every export they
ask for (the JSON, the "Take it with me" ZIP as a text file and on its offline page, and the
life-story book), with their own words about it in the ZIP and the JSON only. A letter still
waiting is in none of them, and no adult's export ever holds a letter. While the child has a
note to read first, or wants to open it with someone, the book and the offline page name it
but keep its words out (the ZIP's text file is their whole copy, as originals are)."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import jsonschema
import pytest
from flask import Flask
from flask.testing import FlaskClient

from memorybox import clock
from tests.factories import World, login_as
from tests.test_exports import SCHEMA, _ask, _download, _pdf_text
from tests.test_letters import NOTE, SECRET, WORDS, move_clock, write

pytestmark = pytest.mark.app_config(ARGON2_MEMORY_KIB=64)


def _young(app: Flask, world: World) -> FlaskClient:
    young = app.test_client()
    login_as(young, world.young_person)
    return young


def test_an_opened_letter_goes_with_the_child_in_every_export(
    app: Flask, client: FlaskClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    today = clock.today()
    opened = write(client, world, rule="date", opens_on=(today + timedelta(days=3)).isoformat())
    waiting = write(client, world, rule="date", opens_on=(today + timedelta(days=300)).isoformat())
    waiting.title = "A letter for when you are older"
    move_clock(monkeypatch, today + timedelta(days=5))
    young = _young(app, world)
    cid = world.child.id

    # Not yet read the note: the book and the offline page keep the words out.
    book = _pdf_text(_download(young, _ask(young, cid, "pdf")))
    assert "My letters" in book and "Why you are in care" in book and "From Sam" in book
    assert WORDS not in book and "There is a note for you first" in book
    archive = zipfile.ZipFile(io.BytesIO(_download(young, _ask(young, cid, "zip"))))
    index = archive.read("index.html").decode()
    assert "Why you are in care" in index and WORDS not in index
    [path] = [n for n in archive.namelist() if n.startswith("letters/")]
    whole = archive.read(path).decode()
    assert WORDS in whole and NOTE in whole  # their own copy, whole

    # The child reads the note, opens the letter and writes their own words about it.
    assert young.post(f"/letters/{opened.id}/gentle", data={"choice": "open"}).status_code == 302
    assert young.post(f"/letters/{opened.id}/note", data={"body": SECRET}).status_code == 302

    book = _pdf_text(_download(young, _ask(young, cid, "pdf")))
    assert WORDS in book and SECRET not in book  # their own words stay out of a book
    assert "A letter for when you are older" not in book
    archive = zipfile.ZipFile(io.BytesIO(_download(young, _ask(young, cid, "zip"))))
    assert WORDS in archive.read("index.html").decode()
    assert SECRET in archive.read(path).decode()
    assert "A letter for when you are older" not in archive.read("index.html").decode()
    document = json.loads(_download(young, _ask(young, cid, "json")))
    jsonschema.validate(document, SCHEMA)
    [letter] = document["letters"]
    assert letter["title"] == "Why you are in care" and letter["text"] == WORDS
    assert letter["own_note"] == SECRET and letter["content_note"] == NOTE
    assert letter["from"] == "Sam"
    assert letter["opened_on"] == (today + timedelta(days=3)).isoformat()

    # The social worker who wrote it: their export of what the child shares holds no letter.
    login_as(client, world.social_worker)
    document = json.loads(_download(client, _ask(client, cid, "json")))
    assert document["letters"] == []
    assert WORDS not in _pdf_text(_download(client, _ask(client, cid, "pdf")))
