"""Writing, giving, opening and keeping letters. Callers have asked policy first.

Whether a letter is open is decided by comparing its rule with today's date in England
(:func:`memorybox.clock.today`) every time someone asks, so a letter due on a birthday is open
from the first moment of that day, with nothing scheduled. What is recorded is what people
did: when it was given, asked for, agreed, first read, and when the child was told.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from memorybox import clock
from memorybox.accounts.models import User
from memorybox.children import relationships
from memorybox.children.models import Child
from memorybox.db import db
from memorybox.letters.models import (
    BODY_MAX,
    NOTE_MAX,
    PRIVATE_NOTE_MAX,
    TITLE_MAX,
    Letter,
    LetterNote,
    LetterVersion,
    ReleaseRule,
)
from memorybox.memories import services as memories
from memorybox.memories.models import MemoryItem
from memorybox.notifications import service as notifications
from memorybox.notifications.models import TalkRequest
from memorybox.notifications.service import Sender, Target
from memorybox.storage import Storage
from memorybox.words import N_, Words

TALK_WORDS_MAX = 500
OLDEST_AGE = 99


@dataclass(frozen=True)
class Rule:
    """When a letter opens, as its writer chose it."""

    rule: ReleaseRule
    opens_on: date | None = None
    opens_at_age: int | None = None


def birthday(child: Child, age: int) -> date | None:
    """The day ``child`` turns ``age`` (someone born on 29 February turns a year older on
    1 March in other years, as the law in England has it); None without a date of birth."""
    born = child.date_of_birth
    if born is None:
        return None
    year = born.year + age
    try:
        return born.replace(year=year)
    except ValueError:
        return date(year, 3, 1)


def opens_on(letter: Letter) -> date | None:
    """The day the letter opens, when that is known: its date, the birthday, or the day a
    social worker agreed to the child's asking. None: it waits for the child to ask (or
    for an agreement), or the child's date of birth is not recorded."""
    if letter.rule is ReleaseRule.DATE:
        return letter.opens_on
    if letter.rule is ReleaseRule.AGE:
        return birthday(letter.child, letter.opens_at_age) if letter.opens_at_age else None
    if letter.agreed_at is not None:
        return letter.agreed_at.astimezone(clock.LOCAL_ZONE).date()
    return None


def is_open(letter: Letter, today: date | None = None) -> bool:
    """Given to the child, and its day has come."""
    if not letter.given:
        return False
    day = opens_on(letter)
    return day is not None and day <= (today or clock.today())


def state(letter: Letter) -> str:
    """One word for where the letter is: draft, waiting, asked, open or read."""
    if not letter.given:
        return "draft"
    if is_open(letter):
        return "read" if letter.opened_at is not None else "open"
    if letter.rule is ReleaseRule.ASKED and letter.asked_at is not None:
        return "asked"
    return "waiting"


def letters_of(child: Child, *, given_only: bool) -> list[Letter]:
    """The child's letters, newest first (only those given to them, if asked)."""
    query = select(Letter).where(Letter.child_id == child.id)
    if given_only:
        query = query.where(Letter.given_at.is_not(None))
    return list(db.session.scalars(query.order_by(Letter.created_at.desc(), Letter.id.desc())))


def start(child: Child, writer: User, title: str, body: str, note: str, rule: Rule) -> Letter:
    letter = Letter(
        child_id=child.id,
        written_by_id=writer.id,
        title=title.strip()[:TITLE_MAX],
        created_at=clock.now(),
    )
    db.session.add(letter)
    db.session.flush()
    save(letter, writer, title, body, note, rule)
    return letter


def save(letter: Letter, by: User, title: str, body: str, note: str, rule: Rule) -> None:
    """Every save of the words is a new version (unless they did not change); the title,
    the note and the rule are the letter's own, as they are now."""
    letter.title = title.strip()[:TITLE_MAX]
    letter.content_note = note.strip()[:NOTE_MAX]
    set_rule(letter, rule)
    words = body.strip()[:BODY_MAX]
    latest = letter.latest
    if latest is None or latest.body != words:
        number = latest.number + 1 if latest else 1
        db.session.add(
            LetterVersion(
                letter=letter,
                number=number,
                body=words,
                created_by_id=by.id,
                created_at=clock.now(),
            )
        )
    db.session.commit()


def set_rule(letter: Letter, rule: Rule) -> None:
    letter.rule = rule.rule
    letter.opens_on = rule.opens_on if rule.rule is ReleaseRule.DATE else None
    letter.opens_at_age = rule.opens_at_age if rule.rule is ReleaseRule.AGE else None


#: how many photos and documents one letter can carry
ATTACHMENTS_MAX = 10


def remove_attachment(item: MemoryItem, storage: Storage) -> None:
    """Take a photo or document off a letter that has not opened: the item and every file
    made from it are deleted, so nothing is left behind in storage."""
    if item.letter is None:
        raise ValueError("not in a letter")
    if is_open(item.letter):
        raise ValueError("an open letter stays as the child got it")
    memories.delete_for_ever(item, storage)


def keep_copy(item: MemoryItem, storage: Storage) -> tuple[MemoryItem, bool]:
    """A copy of an open letter's photo or document, kept in the child's box like anything
    else of theirs (its own stored objects: the letter keeps its own, as it got it). Kept
    once: asked again, the copy already in the box (not in the bin) is the answer. Returns
    (the copy, whether it was made now)."""
    from memorybox.memories.models import ItemStatus, Rendition
    from memorybox.storage import new_key

    already = db.session.scalar(
        select(MemoryItem).where(
            MemoryItem.child_id == item.child_id,
            MemoryItem.status == ItemStatus.KEPT,
            MemoryItem.deleted_at.is_(None),
            MemoryItem.sha256 == item.sha256,
            MemoryItem.title == item.title,
        )
    )
    if already is not None:
        return already, False
    made: list[str] = []

    def copy(key: str, content_type: str) -> str:
        fresh = new_key(key.rsplit(".", 1)[-1])
        with storage.open(key) as stream:
            storage.save(fresh, stream, content_type)
        made.append(fresh)
        return fresh

    skip = {"id", "storage_key", "status", "letter_id", "created_at", "updated_at", "decided_at"}
    columns = {
        a.key: getattr(item, a.key) for a in MemoryItem.__mapper__.column_attrs if a.key not in skip
    }
    try:
        kept = MemoryItem(
            **columns,
            status=ItemStatus.KEPT,
            storage_key=copy(item.storage_key, item.content_type),
            created_at=clock.now(),
            updated_at=clock.now(),
            decided_at=clock.now(),
        )
        for rendition in item.renditions:
            kept.renditions.append(
                Rendition(
                    name=rendition.name,
                    storage_key=copy(rendition.storage_key, rendition.content_type),
                    content_type=rendition.content_type,
                    size_bytes=rendition.size_bytes,
                    width=rendition.width,
                    height=rendition.height,
                )
            )
        db.session.add(kept)
        db.session.commit()
    except Exception:
        db.session.rollback()
        for key in made:
            storage.delete(key)
        raise
    return kept, True


def delete_draft(letter: Letter, storage: Storage) -> None:
    """A draft the child was never given goes, with every saved version of it and its
    photos and documents (the child never knew it existed, so nothing of theirs is lost).
    The caller audits it."""
    if letter.given:
        raise ValueError("a letter the child was given stays theirs")
    for item in list(letter.attachments):
        memories.delete_for_ever(item, storage)
    for version in list(letter.versions):
        db.session.delete(version)
    db.session.delete(letter)
    db.session.commit()


def give(letter: Letter, by: User) -> None:
    """The child can see it now: that it exists, who wrote it and when it opens."""
    letter.given_at = clock.now()
    letter.given_by_id = by.id
    db.session.commit()


def ask(letter: Letter, sender: Sender) -> list[User]:
    """The child asks to open a letter that opens when they ask. Their social workers are
    told; returns who (nobody: the asking is still recorded, for the next worker)."""
    from memorybox.leaving import services as leaving

    letter.asked_at = clock.now()
    if leaving.has_left_care(letter.child):
        # After care nobody is allocated to agree: it opens as they ask.
        letter.agreed_at = letter.asked_at
        db.session.commit()
        return []
    db.session.commit()
    return notifications.tell(
        sender,
        workers_of(letter.child),
        kind="letter_asked",
        message=Words(N_("%(name)s would like to open a letter."), name=letter.child.display_name),
        target=Target.LETTER_WRITTEN,
        target_id=letter.id,
        child=letter.child,
    )


def agree(letter: Letter, by: User, sender: Sender) -> None:
    """The letter opens now, and the child is told."""
    letter.agreed_at = clock.now()
    letter.agreed_by_id = by.id
    db.session.commit()
    announce(letter, sender)


def workers_of(child: Child) -> list[User]:
    return [w for w in relationships.social_workers_of(child.id) if w.is_active]


def announce(letter: Letter, sender: Sender) -> bool:
    """Tell the child (once) that a letter has opened."""
    if letter.announced_at is not None or not is_open(letter):
        return False
    letter.announced_at = clock.now()
    young_person = letter.child.user
    if young_person is None:
        db.session.commit()
        return True
    notifications.tell(
        sender,
        [young_person],
        kind="letter_open",
        message=Words(
            N_("A letter from %(name)s is open now. You can read it when you are ready."),
            name=letter.written_by.display_name,
        ),
        target=Target.LETTER,
        target_id=letter.id,
        child=letter.child,
    )
    return True


def announce_due(child: Child | None, sender: Sender) -> int:
    """Tell each child (or this one) of the letters that have opened since they were last
    told. Cheap when there is nothing to tell: one indexed query."""
    query = select(Letter).where(Letter.given_at.is_not(None), Letter.announced_at.is_(None))
    if child is not None:
        query = query.where(Letter.child_id == child.id)
    told = 0
    for letter in db.session.scalars(query).all():
        told += announce(letter, sender)
    return told


def mark_opened(letter: Letter) -> None:
    """The child read it for the first time (kept; the writer can see when)."""
    if letter.opened_at is None:
        letter.opened_at = clock.now()
        db.session.commit()


def read_note(letter: Letter) -> None:
    if letter.note_read_at is None:
        letter.note_read_at = clock.now()
    db.session.commit()


def with_someone(letter: Letter, choice: bool) -> None:
    letter.with_someone = choice
    db.session.commit()


def private_note(letter: Letter) -> LetterNote | None:
    return db.session.scalar(select(LetterNote).where(LetterNote.letter_id == letter.id))


def keep_private_note(letter: Letter, body: str) -> None:
    words = body.strip()[:PRIVATE_NOTE_MAX]
    note = private_note(letter)
    if note is None:
        db.session.add(LetterNote(letter_id=letter.id, body=words, updated_at=clock.now()))
    else:
        note.body = words
        note.updated_at = clock.now()
    db.session.commit()


def talk(letter: Letter, by: User, words: str, sender: Sender) -> tuple[TalkRequest, list[User]]:
    """ "I'd like to talk about this": recorded like a request about a memory, and the
    allocated social workers are told (with none, it waits for the next one to see)."""
    child = letter.child
    request = TalkRequest(
        child_id=child.id,
        letter_id=letter.id,
        requested_by_id=by.id,
        words=words.strip()[:TALK_WORDS_MAX],
        shows_item=False,
        created_at=clock.now(),
    )
    db.session.add(request)
    db.session.flush()
    told = notifications.tell(
        sender,
        workers_of(child),
        kind="talk",
        message=Words(
            N_("%(name)s would like to talk with you about a letter."), name=child.display_name
        ),
        target=Target.TALK,
        target_id=request.id,
        child=child,
    )
    return request, told


def talk_requests(letter: Letter) -> Sequence[TalkRequest]:
    return db.session.scalars(
        select(TalkRequest).where(TalkRequest.letter_id == letter.id).order_by(TalkRequest.id)
    ).all()
