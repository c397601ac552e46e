"""Voice notes in a story: recording one into a section, and turning one into words the
child checks before they become part of a version.

Callers have asked policy first. A voice note is a memory item in the child's own box (so it
plays, shares and exports like any other), attached to the section by a new version.
"""

from __future__ import annotations

import logging
import tempfile
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from memorybox import clock
from memorybox.accounts.models import User
from memorybox.db import db
from memorybox.media.errors import MediaError
from memorybox.memories.models import ItemKind, MemoryItem, Processing
from memorybox.storage import Storage, StorageError
from memorybox.story import services as story
from memorybox.story import transcribe
from memorybox.story.models import SectionVersion, StorySection, Transcript, TranscriptState
from memorybox.words import N_

log = logging.getLogger(__name__)

SPOKEN_KINDS = (ItemKind.AUDIO, ItemKind.VIDEO)


class NotReadyYet(Exception):
    """The voice note is still being processed: try the words again in a moment."""


def voice_notes(section: StorySection) -> list[MemoryItem]:
    """Sound and video attached to the section now (what can be turned into words)."""
    latest = section.latest
    if latest is None:
        return []
    return [i for i in latest.items if i.kind in SPOKEN_KINDS and i.deleted_at is None]


def attach(section: StorySection, item: MemoryItem, by: User) -> SectionVersion | None:
    """A new version: the same words, with the voice note added to what goes with them."""
    latest = section.latest
    body = latest.body if latest is not None else ""
    items = list(latest.items) if latest is not None else []
    if item.id not in {i.id for i in items}:
        items.append(item)
    draft = story.unsaved_draft(section)
    version = story.save_version(section, body, items, by, source="voice-note")
    if draft is not None:
        # Saving a version clears the draft; what the child was typing must survive.
        story.save_draft(section, draft.body)
    return version


def transcript_for(section: StorySection, item: MemoryItem) -> Transcript | None:
    return db.session.scalar(
        select(Transcript).where(Transcript.section_id == section.id, Transcript.item_id == item.id)
    )


def transcripts_of(section: StorySection) -> dict[int, Transcript]:
    """Unused transcripts of the section, by item id."""
    rows = db.session.scalars(
        select(Transcript).where(
            Transcript.section_id == section.id, Transcript.used_in_version_id.is_(None)
        )
    )
    return {t.item_id: t for t in rows}


def request(section: StorySection, item: MemoryItem, by: User) -> tuple[Transcript, bool]:
    """Ask for the words in ``item``. Returns the transcript and whether a job must be queued
    (not when one is already waiting, working or done)."""
    if item not in voice_notes(section):
        raise story.StoryError(N_("You can only turn voice notes in this part into words."))
    found = transcript_for(section, item)
    if found is not None and found.used_in_version_id is None:
        if found.state is not TranscriptState.FAILED:
            return found, False
        found.state = TranscriptState.WAITING
        found.reason = ""
        found.finished_at = None
        found.created_at = clock.now()
        db.session.commit()
        return found, True
    if found is not None:  # used before: start again, the child wants the words once more
        db.session.delete(found)
        db.session.flush()
    made = Transcript(section_id=section.id, item_id=item.id, requested_by_id=by.id)
    db.session.add(made)
    db.session.commit()
    return made, True


def _finish(
    transcript: Transcript, state: TranscriptState, text: str = "", reason: str = ""
) -> None:
    transcript.state = state
    transcript.text = text
    transcript.reason = reason
    transcript.finished_at = clock.now()
    db.session.commit()


def run(transcript_id: int, storage: Storage) -> TranscriptState | None:
    """The background job: hear the words. Safe to run twice (a finished one is left)."""
    transcript = db.session.get(Transcript, transcript_id)
    if transcript is None or transcript.state in (TranscriptState.READY, TranscriptState.FAILED):
        return transcript.state if transcript else None
    item = transcript.item
    if item.processing in (Processing.WAITING, Processing.WORKING) and item.deleted_at is None:
        raise NotReadyYet(item.id)
    if item.deleted_at is not None or not item.is_ready:
        _finish(transcript, TranscriptState.FAILED, reason=transcribe.COULD_NOT)
        return transcript.state
    web = item.rendition("web")
    transcript.state = TranscriptState.WORKING
    db.session.commit()
    # Our own web rendition (AAC or H.264/AAC, made by our ffmpeg) when there is one.
    key = web.storage_key if web is not None else item.storage_key
    content_type = web.content_type if web is not None else item.content_type
    try:
        with tempfile.TemporaryDirectory(prefix="memorybox-words-") as folder:
            path = Path(folder) / "sound"
            with storage.open(key) as source, path.open("wb") as out:
                while chunk := source.read(1024 * 1024):
                    out.write(chunk)
            text = transcribe.transcribe(path, content_type)
    except MediaError as exc:
        _finish(transcript, TranscriptState.FAILED, reason=str(exc))
        return transcript.state
    except (StorageError, OSError):
        log.warning("could not read voice note %s to transcribe it", item.id)
        _finish(transcript, TranscriptState.FAILED, reason=transcribe.COULD_NOT)
        return transcript.state
    _finish(transcript, TranscriptState.READY, text=story.plain_text(text))
    return transcript.state


def use(transcript: Transcript, words: str, by: User) -> SectionVersion | None:
    """Add the words the child checked to the end of the section, as a new version."""
    section = transcript.section
    words = story.plain_text(words).strip()
    if not words:
        raise story.StoryError(N_("There are no words to add. You could type some, or go back."))
    draft = story.unsaved_draft(section)
    latest = section.latest
    base = draft.body if draft is not None else (latest.body if latest is not None else "")
    body = f"{base.rstrip()}\n\n{words}" if base.strip() else words
    items = list(latest.items) if latest is not None else []
    version = story.save_version(section, body, items, by, source="voice")
    if version is not None:
        # Keep the words as the child checked them: these, not the draft heard, are what a
        # search finds the voice note by.
        transcript.text = words
        transcript.used_in_version_id = version.id
        db.session.commit()
    return version


def give_up(transcript_id: int) -> None:
    transcript = db.session.get(Transcript, transcript_id)
    if transcript is not None and transcript.state is not TranscriptState.READY:
        _finish(transcript, TranscriptState.FAILED, reason=transcribe.COULD_NOT)


def stalled(minutes: int) -> list[int]:
    """Transcripts a lost worker left waiting or working (or whose voice note never became
    ready): the sweeper queues them again, and gives up on ones older than a day."""
    now = clock.now()
    rows = db.session.scalars(
        select(Transcript).where(
            Transcript.state.in_([TranscriptState.WAITING, TranscriptState.WORKING]),
            Transcript.created_at < now - timedelta(minutes=minutes),
        )
    )
    again = []
    for transcript in rows:
        if transcript.created_at < now - timedelta(days=1):
            _finish(transcript, TranscriptState.FAILED, reason=transcribe.COULD_NOT)
        else:
            again.append(transcript.id)
    return again


def discard(transcript: Transcript) -> None:
    db.session.delete(transcript)
    db.session.commit()
