"""Finding things in a child's box and story: by words, kind, year, album and tags.

Callers have asked policy whether this person may search this child's things at all, and
pass policy's SQL for what they may see (``policy.viewable_items``,
``policy.readable_sections``): every result is something ``can`` would let them open. The
child searches their box (kept, not in the bin) and the words of their tags too; anyone
else searches what is shared with them, by its words only (a child's tags are theirs).

Results are pages like every other list: things in the box newest memory first, by keyset;
parts of the story in the story's order, a slice at a time (a story has tens of parts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import joinedload

from memorybox.children.models import Child
from memorybox.db import db
from memorybox.memories import services as memories
from memorybox.memories.models import ItemKind, ItemStatus, MemoryItem
from memorybox.pagination import Page, keyset, slice_of
from memorybox.search import backends
from memorybox.search.models import ItemTag, SearchDocument
from memorybox.sharing.models import CollectionItem
from memorybox.story import services as story
from memorybox.story.models import StoryPrompt, StorySection

#: the longest search a person may type
QUERY_MAX = 100


@dataclass(frozen=True)
class Search:
    """What someone is looking for: ``terms`` from ``memorybox.search.text.terms``; a kind
    of thing, or only the story (``story_only``); a year, an album and tags (all of them)."""

    terms: tuple[str, ...] = ()
    kind: ItemKind | None = None
    story_only: bool = False
    year: int | None = None
    album_id: int | None = None
    tag_ids: tuple[int, ...] = ()

    @property
    def box_only(self) -> bool:
        """Asks for something only things in the box have (a story part has no kind, year,
        album or tags)."""
        return bool(self.kind or self.year or self.album_id or self.tag_ids)

    @property
    def asks(self) -> bool:
        return bool(self.terms or self.story_only or self.box_only)


def _backend() -> backends.Backend:
    return backends.for_dialect(db.session.get_bind().dialect.name)


def in_box() -> ColumnElement[bool]:
    """What the child's own search looks through: their box, not suggestions or the bin."""
    return and_(MemoryItem.status == ItemStatus.KEPT, MemoryItem.deleted_at.is_(None))


def items_page(
    child: Child,
    search: Search,
    visible: ColumnElement[bool],
    cursor: str | None,
    *,
    with_tags: bool,
) -> Page[MemoryItem]:
    """One page of the child's things that match, of those ``visible`` allows, newest memory
    first."""
    if search.story_only or not search.asks:
        return Page([])
    query = memories.card_query().where(MemoryItem.child_id == child.id, visible)
    if search.terms:
        query = query.join(SearchDocument, SearchDocument.item_id == MemoryItem.id).where(
            _backend().matching(search.terms, with_tags=with_tags)
        )
    if search.kind is not None:
        query = query.where(MemoryItem.kind == search.kind)
    if search.year is not None:
        query = query.where(
            MemoryItem.sort_date >= date(search.year, 1, 1),
            MemoryItem.sort_date <= date(search.year, 12, 31),
        )
    if search.album_id is not None:
        query = query.where(
            MemoryItem.id.in_(
                select(CollectionItem.item_id).where(
                    CollectionItem.collection_id == search.album_id
                )
            )
        )
    for tag_id in search.tag_ids:
        query = query.where(
            MemoryItem.id.in_(select(ItemTag.item_id).where(ItemTag.tag_id == tag_id))
        )
    return keyset(query, memories.NEWEST_MEMORY_FIRST, cursor, values_of=memories.by_memory_date)


def sections_page(
    child: Child, search: Search, readable: ColumnElement[bool], cursor: str | None
) -> Page[StorySection]:
    """The parts of the child's story whose title or newest words match, of those
    ``readable`` allows, in the story's order (with their newest versions read)."""
    if search.box_only or not (search.terms or search.story_only):
        return Page([])
    query = (
        select(StorySection)
        .options(joinedload(StorySection.prompt))
        .join(SearchDocument, SearchDocument.section_id == StorySection.id)
        .outerjoin(StoryPrompt, StoryPrompt.id == StorySection.prompt_id)
        .where(StorySection.child_id == child.id, readable)
        .order_by(
            StorySection.prompt_id.is_(None),
            StoryPrompt.position,
            StorySection.created_at,
            StorySection.id,
        )
    )
    if search.terms:
        query = query.where(_backend().matching(search.terms, with_tags=False))
    page = slice_of(list(db.session.scalars(query)), cursor)
    story.prime_latest(page.rows)
    return page


def years(child: Child, visible: ColumnElement[bool]) -> list[int]:
    """The years the child's things (of those ``visible`` allows) are from, newest first."""
    year: Any = func.extract("year", MemoryItem.sort_date)
    query = (
        select(year)
        .where(MemoryItem.child_id == child.id, visible)
        .group_by(year)
        .order_by(year.desc())
    )
    return [int(y) for y in db.session.scalars(query)]
