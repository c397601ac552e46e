"""The child's own tags: typed, or picked again from the ones they have made.

Callers have asked policy first (``item:tag``). A tag belongs to one child; taking a tag off
the last thing it was on forgets it, so a typing slip does not stay in the list for ever.
Tags are words the child chose: nothing here reads a file's metadata or location.
"""

from __future__ import annotations

import unicodedata

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from memorybox.children.models import Child
from memorybox.db import db
from memorybox.memories.models import MemoryItem
from memorybox.search.models import TAG_MAX, ItemTag, Tag
from memorybox.search.text import document
from memorybox.words import N_, Words

#: the most tags one thing can have
PER_ITEM = 20


class TagError(ValueError):
    """The tag can't be added. The message is for the child."""


def clean(raw: str) -> str:
    """The name as the child typed it, on one line, without control characters."""
    name = "".join(ch for ch in raw if unicodedata.category(ch)[0] != "C")
    return " ".join(name.split())


def key_of(name: str) -> str:
    """What makes two names one tag: the same words, whatever the case or accents."""
    return document([name])


def tags_of(child: Child) -> list[Tag]:
    """The child's tags, in the order of their names."""
    query = select(Tag).where(Tag.child_id == child.id).order_by(Tag.name_key, Tag.id)
    return list(db.session.scalars(query))


def tags_on(item: MemoryItem) -> list[Tag]:
    query = (
        select(Tag)
        .join(ItemTag, ItemTag.tag_id == Tag.id)
        .where(ItemTag.item_id == item.id)
        .order_by(Tag.name_key, Tag.id)
    )
    return list(db.session.scalars(query))


def _find(child_id: int, key: str) -> Tag | None:
    return db.session.scalar(select(Tag).where(Tag.child_id == child_id, Tag.name_key == key))


def add(item: MemoryItem, raw: str) -> Tag:
    """Put a tag on ``item``: one of the child's own if they have it already, else a new one."""
    name = clean(raw)
    key = key_of(name)
    if not key:
        raise TagError(N_("Please type a word for your tag."))
    if len(name) > TAG_MAX:
        raise TagError(
            Words(
                N_("A tag can be up to %(num)s letters long. Please make it shorter."), num=TAG_MAX
            )
        )
    tag = _find(item.child_id, key)
    if tag is None:
        tag = Tag(child_id=item.child_id, name=name, name_key=key)
        db.session.add(tag)
        try:
            db.session.flush()
        except IntegrityError:  # the same new tag, added at the same moment elsewhere
            db.session.rollback()
            tag = _find(item.child_id, key)
            assert tag is not None
    on = {t.id for t in tags_on(item)}
    if tag.id not in on:
        if len(on) >= PER_ITEM:
            db.session.rollback()
            raise TagError(
                Words(
                    N_("This has %(num)s tags already. You could take one off first."), num=PER_ITEM
                )
            )
        db.session.add(ItemTag(item_id=item.id, tag_id=tag.id))
    tag_id = tag.id
    try:
        db.session.commit()
    except IntegrityError:  # the same tag put on at the same moment (a double tap)
        db.session.rollback()
    found = db.session.get(Tag, tag_id)
    assert found is not None
    return found


def remove(item: MemoryItem, tag_id: int) -> str | None:
    """Take a tag off ``item`` (nothing happens if it is not on it). Returns its name."""
    entry = db.session.get(ItemTag, (item.id, tag_id))
    if entry is None:
        return None
    tag = entry.tag
    name = tag.name
    db.session.delete(entry)
    db.session.flush()
    still_used = db.session.scalar(
        select(func.count()).select_from(ItemTag).where(ItemTag.tag_id == tag.id)
    )
    if not still_used:
        db.session.delete(tag)
    db.session.commit()
    return name
