"""Queries about who is in a child's life today. Policy reads these facts; they are read from
the database once per request (see :mod:`memorybox.memo`), never kept longer."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import joinedload

from memorybox import clock, memo
from memorybox.accounts.models import User
from memorybox.children.models import Allocation, Child, Placement
from memorybox.db import db


def active_on(model: type[Placement] | type[Allocation], day: date) -> ColumnElement[bool]:
    """SQL: the placement or allocation holds on ``day``."""
    return _active(model, day)


def _active(model: type[Placement] | type[Allocation], day: date) -> ColumnElement[bool]:
    return and_(
        model.start_date <= day,
        or_(model.end_date.is_(None), model.end_date > day),
    )


@memo.remembered
def _children_placed_ids(carer_id: int, day: date) -> frozenset[int]:
    query = select(Placement.child_id).where(
        Placement.carer_id == carer_id, _active(Placement, day)
    )
    return frozenset(db.session.scalars(query))


@memo.remembered
def _children_allocated_ids(social_worker_id: int, day: date) -> frozenset[int]:
    query = select(Allocation.child_id).where(
        Allocation.social_worker_id == social_worker_id, _active(Allocation, day)
    )
    return frozenset(db.session.scalars(query))


def children_placed_ids(carer_id: int, day: date) -> frozenset[int]:
    return _children_placed_ids(carer_id, day)


def children_allocated_ids(social_worker_id: int, day: date) -> frozenset[int]:
    return _children_allocated_ids(social_worker_id, day)


def has_active_placement(carer_id: int, child_id: int, day: date | None = None) -> bool:
    return child_id in _children_placed_ids(carer_id, day or clock.today())


def has_active_allocation(social_worker_id: int, child_id: int, day: date | None = None) -> bool:
    return child_id in _children_allocated_ids(social_worker_id, day or clock.today())


def _children(ids: Iterable[int]) -> list[Child]:
    wanted = list(ids)
    if not wanted:
        return []
    query = select(Child).where(Child.id.in_(wanted)).order_by(Child.display_name, Child.id)
    return list(db.session.scalars(query))


def children_placed_with(carer_id: int) -> list[Child]:
    return _children(_children_placed_ids(carer_id, clock.today()))


def children_allocated_to(social_worker_id: int) -> list[Child]:
    return _children(_children_allocated_ids(social_worker_id, clock.today()))


@memo.remembered
def child_of_user(user_id: int) -> Child | None:
    return db.session.scalar(select(Child).where(Child.user_id == user_id))


def user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


@memo.remembered
def _current_carers(child_id: int, day: date) -> list[Placement]:
    query = (
        select(Placement)
        .options(joinedload(Placement.carer))
        .where(Placement.child_id == child_id, _active(Placement, day))
        .order_by(Placement.start_date, Placement.id)
    )
    return list(db.session.scalars(query))


@memo.remembered
def _current_allocations(child_id: int, day: date) -> list[Allocation]:
    query = (
        select(Allocation)
        .options(joinedload(Allocation.social_worker))
        .where(Allocation.child_id == child_id, _active(Allocation, day))
        .order_by(Allocation.start_date, Allocation.id)
    )
    return list(db.session.scalars(query))


def current_carers(child_id: int) -> list[Placement]:
    return _current_carers(child_id, clock.today())


def current_allocations(child_id: int) -> list[Allocation]:
    return _current_allocations(child_id, clock.today())


def social_workers_of(child_id: int) -> list[User]:
    """The social workers allocated to the child today."""
    return [a.social_worker for a in current_allocations(child_id)]


def prime_current(child_ids: Iterable[int]) -> None:
    """Read who looks after and works with each of these children today, two queries for
    them all (a list of children asks these for every row)."""
    day = clock.today()
    wanted = [c for c in set(child_ids) if not memo.known(_current_carers, (c, day))]
    if not wanted:
        return
    placements: dict[int, list[Placement]] = {c: [] for c in wanted}
    for placement in db.session.scalars(
        select(Placement)
        .options(joinedload(Placement.carer))
        .where(Placement.child_id.in_(wanted), _active(Placement, day))
        .order_by(Placement.start_date, Placement.id)
    ):
        placements[placement.child_id].append(placement)
    allocations: dict[int, list[Allocation]] = {c: [] for c in wanted}
    for allocation in db.session.scalars(
        select(Allocation)
        .options(joinedload(Allocation.social_worker))
        .where(Allocation.child_id.in_(wanted), _active(Allocation, day))
        .order_by(Allocation.start_date, Allocation.id)
    ):
        allocations[allocation.child_id].append(allocation)
    for child_id in wanted:
        memo.prime(_current_carers, (child_id, day), placements[child_id])
        memo.prime(_current_allocations, (child_id, day), allocations[child_id])


def prime_people(user_ids: Iterable[int]) -> None:
    """Read whom each of these people looks after or works with today, two queries for them
    all (a manager's page asks it for every social worker)."""
    day = clock.today()
    wanted = [u for u in set(user_ids) if not memo.known(_children_allocated_ids, (u, day))]
    if not wanted:
        return
    placed: dict[int, set[int]] = {u: set() for u in wanted}
    query = select(Placement.carer_id, Placement.child_id).where(
        Placement.carer_id.in_(wanted), _active(Placement, day)
    )
    for carer_id, child_id in db.session.execute(query):
        placed[carer_id].add(child_id)
    allocated: dict[int, set[int]] = {u: set() for u in wanted}
    query = select(Allocation.social_worker_id, Allocation.child_id).where(
        Allocation.social_worker_id.in_(wanted), _active(Allocation, day)
    )
    for worker_id, child_id in db.session.execute(query):
        allocated[worker_id].add(child_id)
    for user_id in wanted:
        memo.prime(_children_placed_ids, (user_id, day), frozenset(placed[user_id]))
        memo.prime(_children_allocated_ids, (user_id, day), frozenset(allocated[user_id]))
