"""Use cases for the memory box. Callers have already asked policy; these only do the work."""

from __future__ import annotations

import enum
import hashlib
import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, BinaryIO

from sqlalchemy import ColumnElement, Select, and_, delete, func, select, update
from sqlalchemy.orm import joinedload, selectinload

from memorybox import clock
from memorybox.accounts.models import Role, User
from memorybox.children.models import Child
from memorybox.db import db
from memorybox.media.inspect import Sniffed, UnsupportedFile, sniff
from memorybox.memories.models import (
    BIN_DAYS,
    Comment,
    ItemStatus,
    MemoryItem,
    Processing,
    UploadSession,
)
from memorybox.pagination import Order, Page, keyset
from memorybox.storage import Storage, StorageError, new_key
from memorybox.words import N_

log = logging.getLogger(__name__)

TITLE_MAX = 120
CAPTION_MAX = 2000
COMMENT_MAX = 1000


class TooLarge(ValueError):
    pass


@dataclass
class ItemDetails:
    title: str
    caption: str
    memory_date: date | None


class _HashingReader:
    """Wraps a stream: hashes and counts what passes through, and stops past a size limit."""

    def __init__(self, stream: BinaryIO, limit: int) -> None:
        self._stream = stream
        self._limit = limit
        self.count = 0
        self.sha256 = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self._stream.read(size)
        self.count += len(chunk)
        if self.count > self._limit:
            raise TooLarge
        self.sha256.update(chunk)
        return chunk


def display_name_for_upload(filename: str | None) -> str:
    """The uploaded file's name, kept only as display text: no paths, no control characters."""
    if not filename:
        return ""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    return name.strip()[:200]


def download_name(item: MemoryItem, extension: str | None = None) -> str:
    """A safe file name for downloads, built from the title (never the uploaded name)."""
    base = unicodedata.normalize("NFKD", item.title).encode("ascii", "ignore").decode()
    base = re.sub(r"[^A-Za-z0-9 _-]+", "", base).strip().replace(" ", "-")[:60] or "memory"
    extension = re.sub(r"[^a-z0-9]", "", (extension or item.extension).lower())[:8] or "bin"
    return f"{base}.{extension}"


def add_item(
    *,
    actor: User,
    child: Child,
    stream: BinaryIO,
    filename: str | None,
    details: ItemDetails,
    storage: Storage,
    max_bytes: int,
    letter_id: int | None = None,
) -> MemoryItem:
    """Check the upload's bytes, stream it to storage, then record it.

    The object is written before the row, and removed again if the row cannot be saved, so
    an item is never shown without its file.
    """
    sniffed = sniff(stream, filename)
    key = new_key(sniffed.extension)
    reader = _HashingReader(stream, max_bytes)
    try:
        size = storage.save(key, reader, sniffed.content_type)  # type: ignore[arg-type]
    except TooLarge:
        storage.delete(key)
        raise
    if size == 0:
        storage.delete(key)
        raise UnsupportedFile(N_("That file is empty. Please choose another one."))
    item = _new_item(
        actor, child, sniffed, details, storage, key, size, display_name_for_upload(filename)
    )
    if letter_id is not None:  # a letter's photo or document: never in the box's lists
        item.status = ItemStatus.IN_LETTER
        item.letter_id = letter_id
    item.sha256 = reader.sha256.hexdigest()
    db.session.add(item)
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        try:
            storage.delete(key)
        except StorageError:
            log.exception("could not remove an object after a failed save")
        raise
    return item


def _new_item(
    actor: User,
    child: Child,
    sniffed: Sniffed,
    details: ItemDetails,
    storage: Storage,
    key: str,
    size: int,
    original_name: str,
) -> MemoryItem:
    """A new item waiting for processing (its stored object may still carry location)."""
    return MemoryItem(
        child_id=child.id,
        added_by_id=actor.id,
        kind=sniffed.kind,
        status=status_for_new_item(actor, child),
        title=details.title.strip()[:TITLE_MAX],
        caption=details.caption.strip()[:CAPTION_MAX],
        memory_date=details.memory_date,
        content_type=sniffed.content_type,
        extension=sniffed.extension,
        size_bytes=size,
        sha256="",  # known for one-go uploads; resumable ones arrive in parts
        storage_backend=storage.backend_name,
        storage_key=key,
        original_name=original_name,
        processing=Processing.WAITING,
    )


def add_item_from_upload(
    *,
    actor: User,
    upload: UploadSession,
    details: ItemDetails,
    storage: Storage,
) -> MemoryItem:
    """Turn a finished resumable upload into an item, checking its bytes first."""
    with storage.open(upload.storage_key) as stream:
        try:
            sniffed = sniff(stream, upload.filename)
        except UnsupportedFile:
            storage.delete(upload.storage_key)
            db.session.delete(upload)
            db.session.commit()
            raise
    item = _new_item(
        actor,
        upload.child,
        sniffed,
        details,
        storage,
        upload.storage_key,
        upload.length,
        upload.filename,
    )
    upload.used_at = clock.now()
    db.session.add(item)
    db.session.commit()
    return item


def status_for_new_item(actor: User, child: Child) -> ItemStatus:
    """The child's own things go straight in. Anything from an adult waits for the child
    (and first for the social worker, where the authority asks for approval)."""
    if child.user_id == actor.id:
        return ItemStatus.KEPT
    # Family and past carers: always checked first, whatever the authority's setting.
    if child.authority.moderation_required or actor.role is Role.CONTRIBUTOR:
        return ItemStatus.AWAITING_APPROVAL
    return ItemStatus.SUGGESTED


def review(item: MemoryItem, reviewer: User, approve: bool) -> None:
    item.status = ItemStatus.SUGGESTED if approve else ItemStatus.NOT_APPROVED
    item.reviewed_by_id = reviewer.id
    item.reviewed_at = clock.now()
    db.session.commit()


def _awaiting(children: list[Child]) -> Select[Any]:
    return (
        card_query()
        .options(joinedload(MemoryItem.added_by), joinedload(MemoryItem.child))
        .where(
            MemoryItem.child_id.in_([c.id for c in children]),
            MemoryItem.status == ItemStatus.AWAITING_APPROVAL,
            MemoryItem.deleted_at.is_(None),
        )
    )


OLDEST_ADDED_FIRST = (Order(MemoryItem.created_at, False), Order(MemoryItem.id, False))


def awaiting_review(children: list[Child]) -> list[MemoryItem]:
    if not children:
        return []
    query = _awaiting(children).order_by(*(key.clause for key in OLDEST_ADDED_FIRST))
    return list(db.session.scalars(query))


def awaiting_review_page(children: list[Child], cursor: str | None) -> Page[MemoryItem]:
    """One page of what waits for a social worker's approval, oldest first."""
    if not children:
        return Page([])
    return keyset(_awaiting(children), OLDEST_ADDED_FIRST, cursor, values_of=by_added)


def comments_on(item: MemoryItem) -> list[Comment]:
    query = (
        select(Comment).where(Comment.item_id == item.id).order_by(Comment.created_at, Comment.id)
    )
    return list(db.session.scalars(query))


def add_comment(item: MemoryItem, author: User, body: str) -> Comment:
    comment = Comment(item_id=item.id, author_id=author.id, body=body.strip()[:COMMENT_MAX])
    db.session.add(comment)
    db.session.flush()
    return comment


#: never in the child's lists (the bin included): held back by moderation, or in a letter
NOT_IN_BOX = (ItemStatus.AWAITING_APPROVAL, ItemStatus.NOT_APPROVED, ItemStatus.IN_LETTER)


def card_query() -> Select[Any]:
    """Items as a list shows them: with their renditions (for the thumbnail) in one query."""
    return select(MemoryItem).options(selectinload(MemoryItem.renditions))


def _in_box(child: Child) -> Select[Any]:
    return card_query().where(
        MemoryItem.child_id == child.id,
        MemoryItem.status == ItemStatus.KEPT,
        MemoryItem.deleted_at.is_(None),
    )


NEWEST_MEMORY_FIRST = (Order(MemoryItem.sort_date), Order(MemoryItem.id))
OLDEST_MEMORY_FIRST = (Order(MemoryItem.sort_date, False), Order(MemoryItem.id, False))


def by_memory_date(item: MemoryItem) -> tuple[date, int]:
    return (item.sort_date, item.id)


def box_items(child: Child) -> list[MemoryItem]:
    """Everything in the child's box, newest memory first (for exports: pages use
    :func:`box_page`)."""
    query = _in_box(child).order_by(*(key.clause for key in NEWEST_MEMORY_FIRST))
    return list(db.session.scalars(query))


def box_page(child: Child, cursor: str | None) -> Page[MemoryItem]:
    """One page of what is in the child's box: kept and not in the bin, newest memory first."""
    return keyset(_in_box(child), NEWEST_MEMORY_FIRST, cursor, values_of=by_memory_date)


def newest_added(child: Child, count: int) -> list[MemoryItem]:
    """The memories most recently put in the box."""
    query = _in_box(child).order_by(MemoryItem.created_at.desc(), MemoryItem.id.desc())
    return list(db.session.scalars(query.limit(count)))


def on_this_day(child: Child, day: date, count: int) -> list[MemoryItem]:
    """Memories from this day of the year in earlier years, newest year first."""
    query = _in_box(child).where(
        func.extract("month", MemoryItem.sort_date) == day.month,
        func.extract("day", MemoryItem.sort_date) == day.day,
        MemoryItem.sort_date < date(day.year, 1, 1),
    )
    query = query.order_by(MemoryItem.sort_date.desc(), MemoryItem.id.desc()).limit(count)
    return list(db.session.scalars(query))


def _year(column: Any) -> Any:
    return func.extract("year", column)


def timeline_years(child: Child) -> list[tuple[int, int]]:
    """Each year the box has memories from, oldest first, with how many."""
    year = _year(MemoryItem.sort_date)
    query = (
        select(year, func.count())
        .where(
            MemoryItem.child_id == child.id,
            MemoryItem.status == ItemStatus.KEPT,
            MemoryItem.deleted_at.is_(None),
        )
        .group_by(year)
        .order_by(year)
    )
    return [(int(y), int(count)) for y, count in db.session.execute(query)]


def timeline_page(child: Child, cursor: str | None, from_year: int | None) -> Page[MemoryItem]:
    """One page of the box in date order, oldest first, from a year if asked."""
    query = _in_box(child)
    if from_year is not None:
        query = query.where(MemoryItem.sort_date >= date(from_year, 1, 1))
    return keyset(query, OLDEST_MEMORY_FIRST, cursor, values_of=by_memory_date)


def _suggested(child: Child) -> Select[Any]:
    return card_query().where(
        MemoryItem.child_id == child.id,
        MemoryItem.status == ItemStatus.SUGGESTED,
        MemoryItem.deleted_at.is_(None),
    )


NEWEST_ADDED_FIRST = (Order(MemoryItem.created_at), Order(MemoryItem.id))


def by_added(item: MemoryItem) -> tuple[datetime, int]:
    return (item.created_at, item.id)


def suggestions(child: Child) -> list[MemoryItem]:
    query = _suggested(child).order_by(*(key.clause for key in NEWEST_ADDED_FIRST))
    return list(db.session.scalars(query))


def suggestions_page(child: Child, cursor: str | None) -> Page[MemoryItem]:
    query = _suggested(child).options(joinedload(MemoryItem.added_by))
    return keyset(query, NEWEST_ADDED_FIRST, cursor, values_of=by_added)


def suggestion_count(child: Child) -> int:
    query = select(func.count()).where(
        MemoryItem.child_id == child.id,
        MemoryItem.status == ItemStatus.SUGGESTED,
        MemoryItem.deleted_at.is_(None),
    )
    return db.session.scalar(query) or 0


def bin_items(child: Child) -> list[MemoryItem]:
    query = (
        select(MemoryItem)
        .where(
            MemoryItem.child_id == child.id,
            MemoryItem.deleted_at.is_not(None),
            MemoryItem.status.not_in(NOT_IN_BOX),
        )
        .order_by(MemoryItem.deleted_at.desc(), MemoryItem.id.desc())
    )
    return list(db.session.scalars(query))


def bin_page(child: Child, cursor: str | None) -> Page[MemoryItem]:
    query = select(MemoryItem).where(
        MemoryItem.child_id == child.id,
        MemoryItem.deleted_at.is_not(None),
        MemoryItem.status.not_in(NOT_IN_BOX),
    )
    order = (Order(MemoryItem.deleted_at), Order(MemoryItem.id))
    return keyset(query, order, cursor, values_of=lambda i: (i.deleted_at, i.id))


def added_by(actor: User, child: Child, limit: int | None = None) -> list[MemoryItem]:
    """What this adult added for this child (not in the child's bin), newest first."""
    query = (
        card_query()
        .where(
            MemoryItem.child_id == child.id,
            MemoryItem.added_by_id == actor.id,
            MemoryItem.deleted_at.is_(None),
            MemoryItem.status != ItemStatus.IN_LETTER,
        )
        .order_by(MemoryItem.created_at.desc(), MemoryItem.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def sent_by(
    actor: User, children: list[Child], per_child: int
) -> dict[int, tuple[list[MemoryItem], int]]:
    """For each child: the newest things this adult sent them (not in the child's bin), and
    how many there are in all. Two queries, however many children and things."""
    found: dict[int, tuple[list[MemoryItem], int]] = {c.id: ([], 0) for c in children}
    if not children:
        return found
    mine = and_(
        MemoryItem.child_id.in_([c.id for c in children]),
        MemoryItem.added_by_id == actor.id,
        MemoryItem.deleted_at.is_(None),
        MemoryItem.status != ItemStatus.IN_LETTER,
    )
    counts = select(MemoryItem.child_id, func.count()).where(mine).group_by(MemoryItem.child_id)
    totals = {child_id: count for child_id, count in db.session.execute(counts)}
    rank = (
        func.row_number()
        .over(
            partition_by=MemoryItem.child_id,
            order_by=(MemoryItem.created_at.desc(), MemoryItem.id.desc()),
        )
        .label("rank")
    )
    ranked = select(MemoryItem.id, rank).where(mine).subquery()
    query = (
        select(MemoryItem)
        .join(ranked, ranked.c.id == MemoryItem.id)
        .where(ranked.c.rank <= per_child)
        .order_by(MemoryItem.created_at.desc(), MemoryItem.id.desc())
    )
    for item in db.session.scalars(query):
        found[item.child_id][0].append(item)
    return {child_id: (items, totals.get(child_id, 0)) for child_id, (items, _) in found.items()}


def added_by_page(actor: User, child: Child, cursor: str | None) -> Page[MemoryItem]:
    query = card_query().where(
        MemoryItem.child_id == child.id,
        MemoryItem.added_by_id == actor.id,
        MemoryItem.deleted_at.is_(None),
        MemoryItem.status != ItemStatus.IN_LETTER,
    )
    return keyset(query, NEWEST_ADDED_FIRST, cursor, values_of=by_added)


def items_page(
    child: Child, condition: ColumnElement[bool], cursor: str | None
) -> Page[MemoryItem]:
    """One page of the child's items that meet ``condition`` (policy's, for what someone may
    open), newest memory first."""
    query = card_query().where(MemoryItem.child_id == child.id, condition)
    return keyset(query, NEWEST_MEMORY_FIRST, cursor, values_of=by_memory_date)


NOTE_MAX = 300


def set_content_note(item: MemoryItem, note: str, by: User) -> None:
    """A note shown to the child before the item ("this photo shows your birth mum")."""
    note = " ".join(note.split())[:NOTE_MAX]
    item.content_note = note
    item.content_note_by_id = by.id if note else None
    item.note_opened_at = None
    db.session.commit()


class Gentle(enum.StrEnum):
    """What the child chose on a gentle page."""

    OPEN = "open"  # open it now (a note is read: its picture shows from now on)
    LATER_WITH_SOMEONE = "someone"  # open it later, with someone I trust
    ALONE = "alone"  # no need to wait for someone any more
    HIDE = "hide"  # hide it until I'm ready
    SHOW = "show"  # stop hiding it


def choose(item: MemoryItem, choice: Gentle) -> None:
    if choice is Gentle.OPEN and item.note_opened_at is None:
        item.note_opened_at = clock.now()
    elif choice is Gentle.LATER_WITH_SOMEONE:
        item.with_someone = True
    elif choice is Gentle.ALONE:
        item.with_someone = False
    elif choice is Gentle.HIDE:
        item.hide_until_ready = True
    elif choice is Gentle.SHOW:
        item.hide_until_ready = False
    db.session.commit()


def update_details(item: MemoryItem, details: ItemDetails) -> None:
    item.title = details.title.strip()[:TITLE_MAX]
    item.caption = details.caption.strip()[:CAPTION_MAX]
    item.memory_date = details.memory_date
    item.updated_at = clock.now()
    db.session.commit()


def decide(item: MemoryItem, keep: bool) -> None:
    item.status = ItemStatus.KEPT if keep else ItemStatus.DECLINED
    item.decided_at = clock.now()
    db.session.commit()


def move_to_bin(item: MemoryItem) -> None:
    item.deleted_at = clock.now()
    db.session.commit()


def restore(item: MemoryItem) -> None:
    item.deleted_at = None
    db.session.commit()


def bin_expires_on(item: MemoryItem) -> date | None:
    if item.deleted_at is None:
        return None
    return (item.deleted_at + timedelta(days=BIN_DAYS)).astimezone(clock.LOCAL_ZONE).date()


def delete_for_ever(item: MemoryItem, storage: Storage) -> None:
    """Remove the row first, then the object: a failure in between leaves an orphan object
    (logged with its key, for clean-up), never a row without its file."""
    keys = [item.storage_key, *(r.storage_key for r in item.renditions)]
    from memorybox.notifications.models import TalkRequest
    from memorybox.search.models import ItemTag
    from memorybox.sharing.models import CollectionItem, Consent
    from memorybox.story.models import Transcript, version_items

    # Gone for ever means gone: its album places, its shares, its comments, its tags, its
    # place in story versions and any words heard in it go with it (and its words leave the
    # search index as the item goes). (The audit trail keeps the item's id, so "who looked"
    # still reads "something you deleted".)
    db.session.execute(delete(Transcript).where(Transcript.item_id == item.id))
    db.session.execute(delete(ItemTag).where(ItemTag.item_id == item.id))
    db.session.execute(delete(version_items).where(version_items.c.item_id == item.id))
    db.session.execute(delete(CollectionItem).where(CollectionItem.item_id == item.id))
    db.session.execute(delete(Consent).where(Consent.item_id == item.id))
    db.session.execute(delete(Comment).where(Comment.item_id == item.id))
    # A request to talk about it stays (the worker still needs to talk), naming no item.
    db.session.execute(
        update(TalkRequest).where(TalkRequest.item_id == item.id).values(item_id=None)
    )
    db.session.delete(item)
    db.session.commit()
    for key in keys:
        try:
            storage.delete(key)
        except (StorageError, OSError):
            log.warning("could not delete stored object %s; it is now an orphan", key)


def purge_expired_bin(storage: Storage) -> int:
    """Delete for ever everything that has been in a bin longer than ``BIN_DAYS``."""
    cutoff = clock.now() - timedelta(days=BIN_DAYS)
    expired = list(
        db.session.scalars(
            select(MemoryItem).where(
                MemoryItem.deleted_at.is_not(None), MemoryItem.deleted_at < cutoff
            )
        )
    )
    for item in expired:
        delete_for_ever(item, storage)
    return len(expired)
