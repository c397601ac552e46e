"""Keeping the search index in step with what it describes.

``refresh`` writes again the documents of some items and story sections from their rows (an
item or section that has gone, or a section with nothing saved, loses its document). The ORM
session calls it after every flush that changes searchable words (``_after_flush``), so
every service that writes through the session keeps the index in step without knowing it:

* an item added, its title or caption changed, or deleted for ever;
* the words of a voice note kept in a story (a transcript used), or dropped;
* a tag put on an item or taken off, or renamed;
* a story section saved (a new version), renamed, or its prompt renamed.

Moving an item to the bin, restoring it, keeping or declining a suggestion change no words:
a search joins the live item and asks policy, so those show at once without a write here.
Bulk writes that bypass the session (the scale seed, ``insert()`` in tests) are indexed by
``fill_missing``; ``rebuild`` (``flask reindex-search``) writes everything again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, delete, event, exists, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm import attributes as orm_attributes

from memorybox.memories.models import MemoryItem
from memorybox.search import backends
from memorybox.search.models import ItemTag, SearchDocument, Tag
from memorybox.search.text import document
from memorybox.story.models import (
    SectionVersion,
    StoryPrompt,
    StorySection,
    Transcript,
)

CHUNK = 500

_documents = cast(Table, SearchDocument.__table__)


def _chunks(ids: Iterable[int], size: int = CHUNK) -> Iterator[list[int]]:
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


def refresh(
    connection: Connection, *, items: Iterable[int] = (), sections: Iterable[int] = ()
) -> None:
    """Write again the documents of these items and sections, from their rows now."""
    backend = backends.for_connection(connection)
    for chunk in _chunks(items):
        _replace(
            connection, backend, _documents.c.item_id, chunk, _item_documents(connection, chunk)
        )
    for chunk in _chunks(sections):
        _replace(
            connection,
            backend,
            _documents.c.section_id,
            chunk,
            _section_documents(connection, chunk),
        )


def _item_documents(connection: Connection, ids: list[int]) -> list[dict[str, Any]]:
    items = MemoryItem.__table__
    # Locked (PostgreSQL) until this transaction ends, so two writers changing one thing's
    # words at once (a new title here, a tag there) write its document one after the other,
    # each from what is there by then: the second never writes words the first replaced.
    rows = connection.execute(
        select(items.c.id, items.c.child_id, items.c.title, items.c.caption)
        .where(items.c.id.in_(ids))
        .order_by(items.c.id)
        .with_for_update()
    ).all()
    heard: dict[int, list[str]] = {}
    for item_id, words in connection.execute(
        select(Transcript.item_id, Transcript.text).where(
            Transcript.item_id.in_(ids), Transcript.used_in_version_id.is_not(None)
        )
    ):
        heard.setdefault(item_id, []).append(words)
    tagged: dict[int, list[str]] = {}
    for item_id, name in connection.execute(
        select(ItemTag.item_id, Tag.name)
        .join(Tag, Tag.id == ItemTag.tag_id)
        .where(ItemTag.item_id.in_(ids))
    ):
        tagged.setdefault(item_id, []).append(name)
    return [
        {
            "child_id": row.child_id,
            "item_id": row.id,
            "section_id": None,
            "words": document([row.title, row.caption, *heard.get(row.id, [])]),
            "tags": document(tagged.get(row.id, [])),
        }
        for row in rows
    ]


def _section_documents(connection: Connection, ids: list[int]) -> list[dict[str, Any]]:
    """A section's title and newest saved words (none while nothing is saved)."""
    connection.execute(  # one writer at a time, as for items
        select(StorySection.id)
        .where(StorySection.id.in_(ids))
        .order_by(StorySection.id)
        .with_for_update()
    )
    newest = (
        select(SectionVersion.section_id, func.max(SectionVersion.number).label("number"))
        .where(SectionVersion.section_id.in_(ids))
        .group_by(SectionVersion.section_id)
        .subquery()
    )
    query = (
        select(
            StorySection.id,
            StorySection.child_id,
            func.coalesce(StoryPrompt.title, StorySection.own_title).label("title"),
            SectionVersion.body,
        )
        .join(newest, newest.c.section_id == StorySection.id)
        .join(
            SectionVersion,
            and_(
                SectionVersion.section_id == newest.c.section_id,
                SectionVersion.number == newest.c.number,
            ),
        )
        .outerjoin(StoryPrompt, StoryPrompt.id == StorySection.prompt_id)
    )
    return [
        {
            "child_id": row.child_id,
            "item_id": None,
            "section_id": row.id,
            "words": document([row.title, row.body]),
            "tags": "",
        }
        for row in connection.execute(query)
    ]


def _replace(
    connection: Connection,
    backend: backends.Backend,
    key: Any,
    keys: list[int],
    made: list[dict[str, Any]],
) -> None:
    """Write ``made`` (one document per key, or none for a key whose thing has gone or has
    no words saved). Written over what is there (an upsert), so two requests changing the
    same thing at once both succeed: the later one's words stay."""
    kept = {row[key.name] for row in made}
    old = list(
        connection.scalars(
            select(_documents.c.id).where(key.in_([k for k in keys if k not in kept]))
        )
    )
    if old:
        connection.execute(delete(_documents).where(_documents.c.id.in_(old)))
        backend.removed(connection, old)
    if made:
        stored = connection.execute(backends.upsert(connection, _documents, key.name, made))
        backend.stored(connection, [(row[0], row[1], row[2]) for row in stored])


def _ids(connection: Connection, query: Any) -> list[int]:
    return list(connection.scalars(query))


def _in_batches(connection: Connection, model: Any, condition: Any) -> Iterator[list[int]]:
    """Ids of ``model`` rows meeting ``condition``, a batch at a time, in id order."""
    last = 0
    while True:
        batch = _ids(
            connection,
            select(model.id).where(condition, model.id > last).order_by(model.id).limit(5000),
        )
        if not batch:
            return
        yield batch
        last = batch[-1]


def _nothing() -> None:
    return None


def fill_missing(connection: Connection, each_batch: Callable[[], None] = _nothing) -> int:
    """Index every item and saved section that has no document yet (rows added in bulk).
    ``each_batch`` runs after every few thousand (a command commits there, so it never holds
    many rows at once). Returns how many were indexed."""
    done = 0
    no_document = ~exists().where(_documents.c.item_id == MemoryItem.id)
    for batch in _in_batches(connection, MemoryItem, no_document):
        refresh(connection, items=batch)
        each_batch()
        done += len(batch)
    saved = exists().where(SectionVersion.section_id == StorySection.id)
    unindexed = ~exists().where(_documents.c.section_id == StorySection.id)
    for batch in _in_batches(connection, StorySection, and_(saved, unindexed)):
        refresh(connection, sections=batch)
        each_batch()
        done += len(batch)
    return done


def rebuild(
    connection: Connection, child_id: int | None = None, each_batch: Callable[[], None] = _nothing
) -> int:
    """Write the whole index again (or one child's part of it), then drop the documents of
    things that have gone. Searches keep working meanwhile: each document is written over.
    Returns how many documents there are."""
    mine: Any = True if child_id is None else MemoryItem.child_id == child_id
    for batch in _in_batches(connection, MemoryItem, mine):
        refresh(connection, items=batch)
        each_batch()
    mine = True if child_id is None else StorySection.child_id == child_id
    for batch in _in_batches(connection, StorySection, mine):
        refresh(connection, sections=batch)
        each_batch()
    theirs: Any = True if child_id is None else _documents.c.child_id == child_id
    gone = select(_documents.c.id).where(
        theirs,
        or_(
            and_(
                _documents.c.item_id.is_not(None),
                ~exists().where(MemoryItem.id == _documents.c.item_id),
            ),
            and_(
                _documents.c.section_id.is_not(None),
                ~exists().where(
                    StorySection.id == _documents.c.section_id,
                    exists().where(SectionVersion.section_id == StorySection.id),
                ),
            ),
        ),
    )
    backend = backends.for_connection(connection)
    for chunk in _chunks(_ids(connection, gone)):
        connection.execute(delete(_documents).where(_documents.c.id.in_(chunk)))
        backend.removed(connection, chunk)
    each_batch()
    count = select(func.count()).select_from(_documents).where(theirs)
    return int(connection.scalar(count) or 0)


# --- following the session ----------------------------------------------------------------


def _changed(obj: Any, *names: str) -> bool:
    state = orm_attributes.instance_state(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


class _Changes:
    """What a flush changes that the index holds words of."""

    def __init__(self) -> None:
        self.items: set[int] = set()
        self.sections: set[int] = set()
        self.prompts: set[int] = set()
        self.tags: set[int] = set()

    def __bool__(self) -> bool:
        return bool(self.items or self.sections or self.prompts or self.tags)

    def saw(self, obj: Any, *, new: bool = False, gone: bool = False) -> None:
        whole = new or gone  # a row added or going: everything it holds counts
        if isinstance(obj, MemoryItem) and (whole or _changed(obj, "title", "caption")):
            self.items.add(obj.id)
        elif isinstance(obj, ItemTag | Transcript) and (
            whole or isinstance(obj, ItemTag) or _changed(obj, "used_in_version_id", "text")
        ):
            self.items.add(obj.item_id)
        elif isinstance(obj, SectionVersion):
            self.sections.add(obj.section_id)
        elif isinstance(obj, StorySection) and (gone or (not new and _changed(obj, "own_title"))):
            self.sections.add(obj.id)
        elif isinstance(obj, Tag) and not whole and _changed(obj, "name"):
            self.tags.add(obj.id)
        elif isinstance(obj, StoryPrompt) and not whole and _changed(obj, "title"):
            self.prompts.add(obj.id)

    def apply(self, connection: Connection) -> None:
        items, sections = set(self.items), set(self.sections)
        if self.tags:
            items.update(
                _ids(connection, select(ItemTag.item_id).where(ItemTag.tag_id.in_(self.tags)))
            )
        if self.prompts:
            sections.update(
                _ids(
                    connection,
                    select(StorySection.id).where(StorySection.prompt_id.in_(self.prompts)),
                )
            )
        refresh(connection, items=items, sections=sections)


_GONE = "memorybox.search.gone"


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    """What is about to be deleted, read while its rows are still there."""
    gone = _Changes()
    for obj in session.deleted:
        gone.saw(obj, gone=True)
    session.info[_GONE] = gone


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    """Index again what the flush changed, in the same transaction."""
    changes = session.info.pop(_GONE, None) or _Changes()
    for obj in session.new:
        changes.saw(obj, new=True)
    for obj in session.dirty:
        changes.saw(obj)
    if changes:
        changes.apply(session.connection())
