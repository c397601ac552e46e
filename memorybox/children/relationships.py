"""Queries about who is in a child's life today. Policy reads these facts; it never caches them."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, and_, exists, or_, select

from memorybox import clock
from memorybox.accounts.models import User
from memorybox.children.models import Allocation, Child, Placement
from memorybox.db import db


def _active(model: type[Placement] | type[Allocation], day: date) -> ColumnElement[bool]:
    return and_(
        model.start_date <= day,
        or_(model.end_date.is_(None), model.end_date > day),
    )


def has_active_placement(carer_id: int, child_id: int, day: date | None = None) -> bool:
    day = day or clock.today()
    query = select(
        exists().where(
            Placement.carer_id == carer_id,
            Placement.child_id == child_id,
            _active(Placement, day),
        )
    )
    return bool(db.session.scalar(query))


def has_active_allocation(social_worker_id: int, child_id: int, day: date | None = None) -> bool:
    day = day or clock.today()
    query = select(
        exists().where(
            Allocation.social_worker_id == social_worker_id,
            Allocation.child_id == child_id,
            _active(Allocation, day),
        )
    )
    return bool(db.session.scalar(query))


def children_placed_with(carer_id: int) -> list[Child]:
    query = (
        select(Child)
        .join(Placement, Placement.child_id == Child.id)
        .where(Placement.carer_id == carer_id, _active(Placement, clock.today()))
        .order_by(Child.display_name)
        .distinct()
    )
    return list(db.session.scalars(query))


def children_allocated_to(social_worker_id: int) -> list[Child]:
    query = (
        select(Child)
        .join(Allocation, Allocation.child_id == Child.id)
        .where(Allocation.social_worker_id == social_worker_id, _active(Allocation, clock.today()))
        .order_by(Child.display_name)
        .distinct()
    )
    return list(db.session.scalars(query))


def child_of_user(user_id: int) -> Child | None:
    return db.session.scalar(select(Child).where(Child.user_id == user_id))


def current_carers(child_id: int) -> list[Placement]:
    query = (
        select(Placement)
        .where(Placement.child_id == child_id, _active(Placement, clock.today()))
        .order_by(Placement.start_date)
    )
    return list(db.session.scalars(query))


def current_allocations(child_id: int) -> list[Allocation]:
    query = (
        select(Allocation)
        .where(Allocation.child_id == child_id, _active(Allocation, clock.today()))
        .order_by(Allocation.start_date)
    )
    return list(db.session.scalars(query))


def social_workers_of(child_id: int) -> list[User]:
    """The social workers allocated to the child today."""
    return [a.social_worker for a in current_allocations(child_id)]
