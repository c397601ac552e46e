"""Inviting a contributor, linking their account, what they sent, and the child's and the
social worker's say over them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from memorybox import clock
from memorybox.accounts import services as accounts
from memorybox.accounts.models import Invitation, Role, User
from memorybox.children import relationships
from memorybox.children.models import Child
from memorybox.contributors.models import Contributor
from memorybox.db import db
from memorybox.memories.models import ItemStatus, MemoryItem
from memorybox.words import N_

RELATION_MAX = 60


class ContributorError(ValueError):
    """The message is for the social worker."""


def invite(
    *,
    child: Child,
    email: str,
    display_name: str,
    relation: str,
    invited_by: User,
    days_valid: int,
) -> tuple[Contributor, str]:
    """An invitation (the same single-use, expiring kind as every account's) for someone
    who may send things to ``child`` only. Returns the link row and the token (shown once)."""
    relation = " ".join(relation.split())[:RELATION_MAX]
    if not relation:
        raise ContributorError(N_("Please say who they are to the child."))
    issued = accounts.invite(
        authority=child.authority,
        email=email,
        display_name=display_name,
        role=Role.CONTRIBUTOR,
        invited_by=invited_by,
        days_valid=days_valid,
    )
    link = Contributor(
        child_id=child.id,
        invitation_id=issued.invitation.id,
        relation=relation,
        invited_by_id=invited_by.id,
    )
    db.session.add(link)
    db.session.commit()
    return link, issued.token


def link_account(invitation: Invitation, user: User) -> None:
    """Called when a contributor's invitation is accepted (in its transaction)."""
    link = db.session.scalar(select(Contributor).where(Contributor.invitation_id == invitation.id))
    if link is not None:
        link.user_id = user.id


def of_user(user_id: int) -> Contributor | None:
    return db.session.scalar(select(Contributor).where(Contributor.user_id == user_id))


def of_child(child: Child) -> list[Contributor]:
    """Everyone invited to send things to ``child``, newest first."""
    query = (
        select(Contributor)
        .where(Contributor.child_id == child.id)
        .order_by(Contributor.created_at.desc(), Contributor.id.desc())
    )
    return list(db.session.scalars(query))


def accepted_of_child(child: Child) -> list[Contributor]:
    return [c for c in of_child(child) if c.user_id is not None]


def for_sender(child_id: int, user_id: int) -> Contributor | None:
    return db.session.scalar(
        select(Contributor).where(Contributor.child_id == child_id, Contributor.user_id == user_id)
    )


def senders_of(items: list[MemoryItem]) -> dict[int, Contributor]:
    """For a list of items: item id -> the contributor who sent it, for those that family or
    past carers sent (one query, however long the list)."""
    adders = {item.added_by_id for item in items}
    if not adders:
        return {}
    links = db.session.scalars(
        select(Contributor)
        .options(joinedload(Contributor.user))
        .where(Contributor.user_id.in_(adders))
    )
    by_sender = {(link.child_id, link.user_id): link for link in links}
    return {
        item.id: by_sender[(item.child_id, item.added_by_id)]
        for item in items
        if (item.child_id, item.added_by_id) in by_sender
    }


def has_checker(link: Contributor) -> bool:
    """Someone is there to check what they send: a social worker allocated to the child."""
    return bool(relationships.social_workers_of(link.child_id))


def sent(link: Contributor) -> list[MemoryItem]:
    """What they sent to the child, newest first (whatever the child did with it since)."""
    if link.user_id is None:
        return []
    query = (
        select(MemoryItem)
        .where(MemoryItem.child_id == link.child_id, MemoryItem.added_by_id == link.user_id)
        .order_by(MemoryItem.created_at.desc(), MemoryItem.id.desc())
    )
    return list(db.session.scalars(query))


#: what a contributor may know about something they sent: waiting, passed on, not passed on
WAITING = "waiting"
PASSED_ON = "passed_on"
NOT_PASSED_ON = "not_passed_on"


def state_of(item: MemoryItem) -> str:
    """Never more than that: not whether the child kept it, nor whether it is in their bin."""
    if item.status is ItemStatus.AWAITING_APPROVAL:
        return WAITING
    if item.status is ItemStatus.NOT_APPROVED:
        return NOT_PASSED_ON
    return PASSED_ON


def block(link: Contributor) -> None:
    if link.blocked_at is None:
        link.blocked_at = clock.now()
    db.session.commit()


def unblock(link: Contributor) -> None:
    link.blocked_at = None
    db.session.commit()


def end(link: Contributor, by: User) -> None:
    """A social worker ends their access: the invitation (if still waiting) is cancelled
    and the account switched off, ending its sessions."""
    end_unsaved(link, by)
    db.session.commit()


def end_unsaved(link: Contributor, by: User) -> None:
    """As :func:`end`, inside the caller's transaction (a move to another authority)."""
    now = clock.now()
    if link.ended_at is None:
        link.ended_at = now
        link.ended_by_id = by.id
    invitation = link.invitation
    if invitation.is_usable:
        invitation.revoked_at = now
    if link.user is not None:
        if link.user.disabled_at is None:
            link.user.disabled_at = now
        accounts.end_other_sessions(link.user)
