"""The child's own tags, and the search index.

Tags belong to one child (people, pets, places, feelings: whatever they type or pick again);
they are never made from a photo's location. ``SearchDocument`` holds the words of one item
or one story section as ``memorybox.search.text`` cuts them; PostgreSQL indexes them with GIN
expression indexes and SQLite copies them into an FTS5 table (``search_fts``), both made by
migration 0010 and kept in step by ``memorybox.search.index``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from memorybox import clock
from memorybox.db import Base, UTCDateTime

TAG_MAX = 40


class Tag(Base):
    """One of a child's tags, such as "Nan", "Biscuit" or "Happy"."""

    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("child_id", "name_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"))
    name: Mapped[str] = mapped_column(String(TAG_MAX))
    # The name folded (case and accents), so "nan" and "Nan" are one tag.
    name_key: Mapped[str] = mapped_column(String(TAG_MAX * 2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class ItemTag(Base):
    """A tag on an item."""

    __tablename__ = "item_tags"

    item_id: Mapped[int] = mapped_column(ForeignKey("memory_items.id"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id"), primary_key=True, index=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    tag: Mapped[Tag] = relationship()


class SearchDocument(Base):
    """The searchable words of one item (``item_id``) or one story section (``section_id``).

    ``words`` is what anyone who may see the thing may search: an item's title, caption and
    the words the child kept from it as a voice note; a section's title and newest saved
    words. ``tags`` is the child's tags on an item, searched by the child only.

    Derived from other tables and rebuilt by ``flask reindex-search``, so it holds no foreign
    keys: a row that outlives its item or section (a bulk delete the index did not see) is
    never shown, because every search joins the live item or section and asks policy.
    """

    __tablename__ = "search_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(index=True)
    item_id: Mapped[int | None] = mapped_column(unique=True)
    section_id: Mapped[int | None] = mapped_column(unique=True)
    words: Mapped[str] = mapped_column(Text())
    tags: Mapped[str] = mapped_column(Text())
