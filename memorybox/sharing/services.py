"""Granting, withdrawing and reading consents; collections. Callers have asked policy first."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, or_, select, union_all
from sqlalchemy.orm import joinedload, selectinload

from memorybox import clock, memo
from memorybox.accounts.models import User
from memorybox.children.models import Allocation, Child, Placement
from memorybox.db import db
from memorybox.leaving.models import NamedPerson
from memorybox.memories.models import ItemStatus, MemoryItem
from memorybox.pagination import Order, Page, keyset
from memorybox.sharing.models import Audience, Basis, Collection, CollectionItem, Consent
from memorybox.story.models import StorySection
from memorybox.words import N_


class SharingError(ValueError):
    """The share can't be made. The message is for the person sharing."""


def decides_for_self(child: Child, day: date | None = None) -> bool:
    """A young person decides about sharing from the authority's age (default 12), or once
    their social worker has recorded that they can; a child without a login never does."""
    if child.user_id is None:
        return False
    if child.decides_sharing_since is not None:
        return True
    age = child.age_on(day or clock.today())
    return age is not None and age >= child.authority.self_sharing_age


def record_decides_for_self(child: Child, recorded_by: User) -> None:
    child.decides_sharing_since = clock.now()
    child.decides_sharing_recorded_by_id = recorded_by.id
    db.session.commit()


def people_in_childs_life(child: Child) -> list[User]:
    """Everyone who has looked after or worked with the child, now or before: the only
    people a child can name when sharing (a child never browses the authority's accounts).
    Only people of the child's authority now: after a move, nobody at the old one."""
    carers = select(Placement.carer_id).where(Placement.child_id == child.id)
    workers = select(Allocation.social_worker_id).where(Allocation.child_id == child.id)
    # and anyone a manager has added for them by name (a personal adviser after care)
    named = select(NamedPerson.user_id).where(NamedPerson.child_id == child.id)
    query = (
        select(User)
        .where(
            or_(User.id.in_(carers), User.id.in_(workers), User.id.in_(named)),
            User.disabled_at.is_(None),
            User.authority_id == child.authority_id,
        )
        .order_by(User.display_name)
    )
    return list(db.session.scalars(query))


def grant(
    *,
    child: Child,
    decided_by: User,
    on_behalf: bool,
    audience: Audience,
    item: MemoryItem | None = None,
    collection: Collection | None = None,
    story_section: StorySection | None = None,
    person: User | None = None,
    ends_on: date | None = None,
    childs_wishes: str = "",
) -> Consent:
    subjects = [s for s in (item, collection, story_section) if s is not None]
    if len(subjects) != 1:
        raise SharingError(N_("Choose one thing to share."))
    subject_child_id = subjects[0].child_id
    if subject_child_id != child.id:
        raise SharingError(N_("Choose one thing to share."))
    if item is not None and (item.status is not ItemStatus.KEPT or item.in_bin):
        raise SharingError(N_("Only things kept in the box can be shared."))
    if story_section is not None and not story_section.versions:
        raise SharingError(N_("Save some writing in this part first, then you can share it."))
    if audience is Audience.PERSON:
        if person is None or person.id not in {p.id for p in people_in_childs_life(child)}:
            raise SharingError(N_("Please choose someone from the list."))
    else:
        person = None
    if ends_on is not None and ends_on <= clock.today():
        raise SharingError(N_("The end date needs to be after today."))
    if on_behalf and not childs_wishes.strip():
        raise SharingError(N_("Please write down what the child wants, in their words."))
    consent = Consent(
        child_id=child.id,
        item_id=item.id if item else None,
        collection_id=collection.id if collection else None,
        story_section_id=story_section.id if story_section else None,
        audience=audience,
        person_id=person.id if person else None,
        ends_on=ends_on,
        decided_by_id=decided_by.id,
        basis=Basis.ON_BEHALF if on_behalf else Basis.OWN_DECISION,
        childs_wishes=childs_wishes.strip()[:2000],
    )
    db.session.add(consent)
    db.session.flush()
    return consent


def revoke(consent: Consent, by: User) -> None:
    """Withdraw exactly this consent, nothing else."""
    consent.revoked_at = clock.now()
    consent.revoked_by_id = by.id
    db.session.commit()


# --- which live consents cover what (read once per request; lists read them in bulk) ----


def _live(day: date) -> Any:
    return and_(Consent.revoked_at.is_(None), or_(Consent.ends_on.is_(None), Consent.ends_on > day))


def _item_consent_rows(item_ids: list[int], day: date) -> dict[int, list[Consent]]:
    """The live consents covering each item, directly or through an album it is in now."""
    found: dict[int, list[Consent]] = {i: [] for i in item_ids}
    # One query: each consent with the item it covers, directly or through an album (two
    # branches, each read from its own index).
    direct = select(Consent.item_id.label("item_id"), Consent.id.label("consent_id")).where(
        Consent.item_id.in_(item_ids), _live(day)
    )
    through_album = (
        select(CollectionItem.item_id.label("item_id"), Consent.id.label("consent_id"))
        .join(Consent, Consent.collection_id == CollectionItem.collection_id)
        .where(CollectionItem.item_id.in_(item_ids), _live(day))
    )
    covering = union_all(direct, through_album).subquery()
    query = select(covering.c.item_id, Consent).join(Consent, Consent.id == covering.c.consent_id)
    for item_id, consent in db.session.execute(query):
        covered = found[item_id]
        if consent not in covered:
            covered.append(consent)
    return found


@memo.remembered
def _item_consents(item_id: int, day: date) -> list[Consent]:
    return _item_consent_rows([item_id], day)[item_id]


def prime_item_consents(item_ids: Iterable[int]) -> None:
    """Read the live consents covering each of these items, two queries for them all (a
    list asks policy about every card)."""
    day = clock.today()
    wanted = [i for i in set(item_ids) if not memo.known(_item_consents, (i, day))]
    if wanted:
        for item_id, consents in _item_consent_rows(wanted, day).items():
            memo.prime(_item_consents, (item_id, day), consents)


def active_consents_for_item(item: MemoryItem) -> list[Consent]:
    """Live consents that cover the item, directly or through a collection it is in now."""
    return [c for c in _item_consents(item.id, clock.today()) if c.child_id == item.child_id]


@memo.remembered
def _collection_consents(collection_id: int, day: date) -> list[Consent]:
    query = select(Consent).where(Consent.collection_id == collection_id, _live(day))
    return list(db.session.scalars(query.order_by(Consent.created_at, Consent.id)))


def prime_collection_consents(collection_ids: Iterable[int]) -> None:
    """Read the live consents of each of these albums, one query for them all."""
    day = clock.today()
    wanted = [c for c in set(collection_ids) if not memo.known(_collection_consents, (c, day))]
    if not wanted:
        return
    found: dict[int, list[Consent]] = {c: [] for c in wanted}
    query = select(Consent).where(Consent.collection_id.in_(wanted), _live(day))
    for consent in db.session.scalars(query.order_by(Consent.created_at, Consent.id)):
        found[consent.collection_id or 0].append(consent)
    for collection_id, consents in found.items():
        memo.prime(_collection_consents, (collection_id, day), consents)


def active_consents_for_collection(collection: Collection) -> list[Consent]:
    return list(_collection_consents(collection.id, clock.today()))


@memo.remembered
def _section_consents(section_id: int, day: date) -> list[Consent]:
    query = select(Consent).where(Consent.story_section_id == section_id, _live(day))
    return list(db.session.scalars(query.order_by(Consent.created_at, Consent.id)))


def prime_section_consents(child_ids: Iterable[int], section_ids: Iterable[int]) -> None:
    """Read the live consents of each of these children's story sections, one query."""
    day = clock.today()
    wanted = [s for s in set(section_ids) if not memo.known(_section_consents, (s, day))]
    if not wanted:
        return
    found: dict[int, list[Consent]] = {s: [] for s in wanted}
    query = select(Consent).where(
        Consent.child_id.in_(list(set(child_ids))),
        Consent.story_section_id.in_(wanted),
        _live(day),
    )
    for consent in db.session.scalars(query.order_by(Consent.created_at, Consent.id)):
        found[consent.story_section_id or 0].append(consent)
    for section_id, consents in found.items():
        memo.prime(_section_consents, (section_id, day), consents)


def active_consents_for_section(section: StorySection) -> list[Consent]:
    return list(_section_consents(section.id, clock.today()))


def _with_subjects(query: Select[Any]) -> Select[Any]:
    """Consents as a list shows them: what each covers and who is named, read with them."""
    return query.options(
        joinedload(Consent.item),
        joinedload(Consent.collection),
        joinedload(Consent.story_section).joinedload(StorySection.prompt),
        joinedload(Consent.person),
        joinedload(Consent.decided_by),
        joinedload(Consent.revoked_by),
    )


NEWEST_CONSENT_FIRST = (Order(Consent.created_at), Order(Consent.id))


def all_consents(child: Child) -> list[Consent]:
    """Every consent ever given for this child, newest first: the child can read all of it."""
    query = _with_subjects(select(Consent).where(Consent.child_id == child.id)).order_by(
        *(key.clause for key in NEWEST_CONSENT_FIRST)
    )
    return list(db.session.scalars(query))


def consents_page(child: Child, cursor: str | None, *, live: bool = False) -> Page[Consent]:
    """One page of the consents given for this child (only those live today, if asked),
    newest first."""
    query = select(Consent).where(Consent.child_id == child.id)
    if live:
        query = query.where(_live(clock.today()))
    return keyset(
        _with_subjects(query),
        NEWEST_CONSENT_FIRST,
        cursor,
        values_of=lambda c: (c.created_at, c.id),
    )


def consents_of_subject(
    item: MemoryItem | None = None,
    collection: Collection | None = None,
    story_section: StorySection | None = None,
) -> list[Consent]:
    query = select(Consent).order_by(Consent.created_at.desc(), Consent.id.desc())
    if item is not None:
        query = query.where(Consent.item_id == item.id)
    elif story_section is not None:
        query = query.where(Consent.story_section_id == story_section.id)
    else:
        assert collection is not None
        query = query.where(Consent.collection_id == collection.id)
    return list(db.session.scalars(query))


# --- collections -----------------------------------------------------------------------


def collections_of(child: Child) -> list[Collection]:
    query = select(Collection).where(Collection.child_id == child.id).order_by(Collection.name)
    return list(db.session.scalars(query))


def create_collection(child: Child, name: str) -> Collection:
    collection = Collection(child_id=child.id, name=name.strip()[:80])
    db.session.add(collection)
    db.session.commit()
    return collection


def add_to_collection(collection: Collection, item: MemoryItem) -> None:
    if item.child_id != collection.child_id:
        raise SharingError(N_("That isn't in your box."))
    exists = db.session.scalar(
        select(CollectionItem).where(
            CollectionItem.collection_id == collection.id, CollectionItem.item_id == item.id
        )
    )
    if exists is None:
        db.session.add(CollectionItem(collection_id=collection.id, item_id=item.id))
    db.session.commit()


def remove_from_collection(collection: Collection, item: MemoryItem) -> None:
    entry = db.session.scalar(
        select(CollectionItem).where(
            CollectionItem.collection_id == collection.id, CollectionItem.item_id == item.id
        )
    )
    if entry is not None:
        db.session.delete(entry)
        db.session.commit()


def _album_items(collection: Collection) -> Select[Any]:
    return (
        select(MemoryItem)
        .options(selectinload(MemoryItem.renditions))
        .join(CollectionItem, CollectionItem.item_id == MemoryItem.id)
        .where(
            CollectionItem.collection_id == collection.id,
            MemoryItem.status == ItemStatus.KEPT,
            MemoryItem.deleted_at.is_(None),
        )
    )


NEWEST_MEMORY_FIRST = (Order(MemoryItem.sort_date), Order(MemoryItem.id))


def items_in(collection: Collection) -> list[MemoryItem]:
    query = _album_items(collection).order_by(*(k.clause for k in NEWEST_MEMORY_FIRST))
    return list(db.session.scalars(query))


def album_page(collection: Collection, cursor: str | None) -> Page[MemoryItem]:
    """One page of what is in an album (kept, not in the bin), newest memory first."""
    return keyset(
        _album_items(collection),
        NEWEST_MEMORY_FIRST,
        cursor,
        values_of=lambda item: (item.sort_date, item.id),
    )


def collections_containing(item: MemoryItem) -> list[Collection]:
    query = (
        select(Collection)
        .join(CollectionItem, CollectionItem.collection_id == Collection.id)
        .where(CollectionItem.item_id == item.id)
        .order_by(Collection.name)
    )
    return list(db.session.scalars(query))


def candidate_consents(child: Child) -> list[Consent]:
    """Live consents of a child (for finding what is shared with someone)."""
    query = select(Consent).where(Consent.child_id == child.id, _live(clock.today()))
    return list(db.session.scalars(query.order_by(Consent.created_at, Consent.id)))
