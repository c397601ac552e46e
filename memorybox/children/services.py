"""Recording children, placements and allocations (done by an authority's managers)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from memorybox import clock, memo
from memorybox.accounts.models import Authority, Role, User
from memorybox.children.models import Allocation, Child, Placement
from memorybox.db import db
from memorybox.pagination import Page, by_name
from memorybox.words import N_


class RelationshipError(ValueError):
    """The relationship can't be recorded. The message is for the manager."""


def children_of(authority: Authority) -> list[Child]:
    query = (
        select(Child)
        .where(Child.authority_id == authority.id)
        .order_by(func.lower(Child.display_name), Child.id)
    )
    return list(db.session.scalars(query))


def children_page(authority: Authority, cursor: str | None) -> Page[Child]:
    """One page of the authority's children, by name."""
    return by_name(Child, Child.authority_id == authority.id, cursor)


def children_by_id(ids: Iterable[int]) -> list[Child]:
    wanted = list(ids)
    if not wanted:
        return []
    return list(db.session.scalars(select(Child).where(Child.id.in_(wanted))))


def children_without_login(authority: Authority) -> list[Child]:
    return [c for c in children_of(authority) if c.user_id is None]


def people_with_role(authority: Authority, role: Role) -> list[User]:
    query = (
        select(User)
        .where(User.authority_id == authority.id, User.role.in_([role]), User.disabled_at.is_(None))
        .order_by(func.lower(User.display_name))
    )
    return list(db.session.scalars(query))


def add_child(authority: Authority, display_name: str, date_of_birth: date | None) -> Child:
    child = Child(
        authority_id=authority.id, display_name=display_name.strip(), date_of_birth=date_of_birth
    )
    db.session.add(child)
    db.session.commit()
    return child


def _check_dates(start: date, end: date | None) -> None:
    if end is not None and end < start:
        raise RelationshipError(N_("The end date must be on or after the start date."))


def _check_person(child: Child, person: User | None, role: Role, refusal: str) -> User:
    if (
        person is None
        or person.authority_id != child.authority_id
        or person.role is not role
        or not person.is_active
    ):
        raise RelationshipError(refusal)
    return person


def place(
    child: Child,
    carer: User | None,
    start: date,
    end: date | None,
    recorded_by: User,
) -> Placement:
    carer = _check_person(
        child, carer, Role.CARER, N_("Please choose a foster carer from your authority.")
    )
    _check_dates(start, end)
    placement = Placement(
        child_id=child.id,
        carer_id=carer.id,
        start_date=start,
        end_date=end,
        created_by_id=recorded_by.id,
    )
    db.session.add(placement)
    db.session.commit()
    return placement


def allocate(
    child: Child,
    social_worker: User | None,
    start: date,
    end: date | None,
    recorded_by: User,
) -> Allocation:
    social_worker = _check_person(
        child,
        social_worker,
        Role.SOCIAL_WORKER,
        N_("Please choose a social worker from your authority."),
    )
    _check_dates(start, end)
    allocation = Allocation(
        child_id=child.id,
        social_worker_id=social_worker.id,
        start_date=start,
        end_date=end,
        created_by_id=recorded_by.id,
    )
    db.session.add(allocation)
    db.session.commit()
    return allocation


def end_now(relationship: Placement | Allocation) -> None:
    """End today: access stops on the very next request."""
    today = clock.today()
    relationship.end_date = max(today, relationship.start_date)
    db.session.commit()


def placements_of(child: Child) -> list[Placement]:
    return _placements_of(child.id)


def allocations_of(child: Child) -> list[Allocation]:
    return _allocations_of(child.id)


@memo.remembered
def _placements_of(child_id: int) -> list[Placement]:
    query = (
        select(Placement)
        .options(joinedload(Placement.carer))
        .where(Placement.child_id == child_id)
        .order_by(Placement.start_date.desc(), Placement.id.desc())
    )
    return list(db.session.scalars(query))


@memo.remembered
def _allocations_of(child_id: int) -> list[Allocation]:
    query = (
        select(Allocation)
        .options(joinedload(Allocation.social_worker))
        .where(Allocation.child_id == child_id)
        .order_by(Allocation.start_date.desc(), Allocation.id.desc())
    )
    return list(db.session.scalars(query))
