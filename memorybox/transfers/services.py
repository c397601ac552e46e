"""Moving a child to another authority on the same service.

The sending authority's manager asks; the receiving authority's manager accepts or declines;
the sender may withdraw while it waits. Accepting moves the child at once, in one
transaction:

* ``children.authority_id`` and the young person's own account move to the new authority;
* every placement and allocation at the old authority ends on the day of the move;
* every live consent of the child's ends (it was given to the old authority's people: a
  named person there, or "my carers" and "my social worker", who are now new people the
  child has not chosen): stopped, by the manager who accepted;
* the box, albums, story (with its versions), letters and tags hang off the child, so they
  move with them; story parts written under the old authority's own prompts keep their
  words (under the new authority's prompt with the same key, or as a part of the child's own
  with the old heading);
* letters not yet open stay for the child and still open on their rule; the old social
  worker who wrote them can no longer see them (letters follow the allocation), and the new
  one carries on;
* family and past carers sending things (the letterbox) were invited by the old
  authority's social worker: their access ends and their accounts are switched off (the new
  social worker can invite them again);
* the young person is told, in plain words, in their Messages.

Every step is audited against the child, so the trail stays with the child, and against the
transfer, which both managers can read.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import ColumnElement, or_, select

from memorybox import clock
from memorybox.accounts.models import Authority, Role, User
from memorybox.audit import service as audit
from memorybox.audit.models import AuditEvent
from memorybox.children.models import Allocation, Child, Placement
from memorybox.contributors import services as contributors
from memorybox.db import db
from memorybox.notifications import service as notifications
from memorybox.notifications.service import Target
from memorybox.sharing.models import Consent
from memorybox.story import services as story
from memorybox.story.models import StoryPrompt, StorySection
from memorybox.transfers.models import Transfer, TransferState
from memorybox.words import N_, Words

NOTE_MAX = 2000
REASON_MAX = 2000


class TransferError(ValueError):
    """The request can't be made or answered. The message is for the manager."""


def waiting_for(child: Child) -> Transfer | None:
    return db.session.scalar(
        select(Transfer).where(
            Transfer.child_id == child.id, Transfer.state == TransferState.WAITING
        )
    )


def other_authorities(authority: Authority) -> list[Authority]:
    """The authorities on this service a child could move to."""
    query = select(Authority).where(Authority.id != authority.id).order_by(Authority.name)
    return list(db.session.scalars(query))


def incoming(authority: Authority) -> list[Transfer]:
    return _of(Transfer.to_authority_id == authority.id)


def outgoing(authority: Authority) -> list[Transfer]:
    return _of(Transfer.from_authority_id == authority.id)


def _of(condition: ColumnElement[bool]) -> list[Transfer]:
    query = (
        select(Transfer)
        .where(condition)
        .order_by(
            (Transfer.state == TransferState.WAITING).desc(),
            Transfer.requested_at.desc(),
            Transfer.id.desc(),
        )
    )
    return list(db.session.scalars(query))


def trail(transfer: Transfer) -> list[AuditEvent]:
    """What was done to this request, oldest first (both managers read it; each opening of
    it is audited too, but not listed here)."""
    query = (
        select(AuditEvent)
        .where(
            AuditEvent.target_type == "transfer",
            AuditEvent.target_id == transfer.id,
            AuditEvent.action != "transfer:view",
            AuditEvent.outcome == "allowed",
        )
        .order_by(AuditEvent.occurred_at, AuditEvent.id)
    )
    return list(db.session.scalars(query))


def ended_by_move(consent_ids: Iterable[int]) -> set[int]:
    """Which of these consents ended because the child moved (read from the audit trail),
    so the child's sharing history can say so rather than name a manager they never met."""
    wanted = list(consent_ids)
    if not wanted:
        return set()
    query = select(AuditEvent.target_id).where(
        AuditEvent.action == "consent:end-by-transfer",
        AuditEvent.target_type == "consent",
        AuditEvent.target_id.in_(wanted),
    )
    return {i for i in db.session.scalars(query) if i is not None}


def managers_of(authority_id: int) -> list[User]:
    query = select(User).where(
        User.authority_id == authority_id,
        User.role == Role.MANAGER,
        User.disabled_at.is_(None),
    )
    return list(db.session.scalars(query))


def request(
    child: Child,
    to: Authority | None,
    planned_on: date | None,
    note: str,
    by: User,
) -> Transfer:
    if to is None or to.id == child.authority_id:
        raise TransferError(N_("Please choose another authority from the list."))
    if planned_on is None:
        raise TransferError(N_("Please give the date the move is planned for."))
    if waiting_for(child) is not None:
        raise TransferError(N_("A move for this child is already waiting for an answer."))
    transfer = Transfer(
        child_id=child.id,
        from_authority_id=child.authority_id,
        to_authority_id=to.id,
        planned_on=planned_on,
        note=note.strip()[:NOTE_MAX],
        requested_by_id=by.id,
    )
    db.session.add(transfer)
    db.session.flush()
    audit.record(by, "transfer:request", transfer)
    _tell_managers(
        transfer,
        transfer.to_authority_id,
        Words(
            N_("%(authority)s asks to move %(name)s to you. Please accept or decline."),
            authority=transfer.from_authority.name,
            name=child.display_name,
        ),
    )
    db.session.commit()
    return transfer


def withdraw(transfer: Transfer, by: User) -> None:
    _decide(transfer, by, TransferState.WITHDRAWN, "")
    audit.record(by, "transfer:withdraw", transfer)
    _tell_managers(
        transfer,
        transfer.to_authority_id,
        Words(
            N_("%(authority)s took back its request to move %(name)s."),
            authority=transfer.from_authority.name,
            name=transfer.child.display_name,
        ),
    )
    db.session.commit()


def decline(transfer: Transfer, by: User, reason: str) -> None:
    reason = reason.strip()
    if not reason:
        raise TransferError(N_("Please say why, so the other authority knows what to do next."))
    _decide(transfer, by, TransferState.DECLINED, reason[:REASON_MAX])
    audit.record(by, "transfer:decline", transfer)
    _tell_managers(
        transfer,
        transfer.from_authority_id,
        Words(
            N_("%(authority)s declined the move of %(name)s."),
            authority=transfer.to_authority.name,
            name=transfer.child.display_name,
        ),
    )
    db.session.commit()


def accept(transfer: Transfer, by: User) -> None:
    """Move the child now (see the module's docstring for everything that moves and ends)."""
    child = transfer.child
    if child.authority_id != transfer.from_authority_id:
        raise TransferError(N_("This child is no longer with that authority."))
    new_authority = transfer.to_authority
    story.prompts_of(new_authority)  # seeded first: seeding commits on its own
    today = clock.today()
    _decide(transfer, by, TransferState.ACCEPTED, "")
    transfer.moved_on = today
    for relationship in _still_running(child, today):
        relationship.end_date = max(today, relationship.start_date)
        audit.record(by, f"{type(relationship).__name__.lower()}:end-by-transfer", relationship)
    now = clock.now()
    for consent in _live_consents(child, today):
        consent.revoked_at = now
        consent.revoked_by_id = by.id
        audit.record(by, "consent:end-by-transfer", consent)
    # Family and past carers were invited by the old authority's social worker, and their
    # accounts belong there: their access ends too (the new social worker can invite again).
    for link in contributors.of_child(child):
        if link.ended_at is None:
            contributors.end_unsaved(link, by)
            audit.record(by, "contributor:end-by-transfer", link)
    _keep_story_words(child, new_authority)
    child.authority_id = new_authority.id
    child.authority = new_authority
    young_person = db.session.get(User, child.user_id) if child.user_id is not None else None
    if young_person is not None:
        young_person.authority_id = new_authority.id
        young_person.authority = new_authority
    audit.record(by, "transfer:accept", transfer)
    audit.record(by, "child:moved", child)
    if young_person is not None:
        notifications.notify(
            young_person,
            kind="moved",
            message=Words(
                N_(
                    "You have moved to %(new)s. %(old)s people can't see your things any"
                    " more. Your memories and your story are still here. You can share them"
                    " again with your new carers and social worker."
                ),
                new=new_authority.name,
                old=transfer.from_authority.name,
            ),
            child_id=child.id,
        )
    _tell_managers(
        transfer,
        transfer.from_authority_id,
        Words(
            N_("%(authority)s accepted the move of %(name)s. The child has moved."),
            authority=new_authority.name,
            name=child.display_name,
        ),
    )
    db.session.commit()


def _decide(transfer: Transfer, by: User, state: TransferState, reason: str) -> None:
    if not transfer.waiting:
        raise TransferError(N_("This request has already been answered."))
    transfer.state = state
    transfer.decided_by_id = by.id
    transfer.decided_at = clock.now()
    transfer.reason = reason


def _tell_managers(transfer: Transfer, authority_id: int, message: str) -> None:
    """A message for each manager of one side, leading to the request (where policy is
    asked again). Part of the caller's transaction."""
    for manager in managers_of(authority_id):
        notifications.notify(
            manager,
            kind="transfer",
            message=message,
            target=Target.TRANSFER,
            target_id=transfer.id,
            child_id=transfer.child_id,
        )


def _still_running(child: Child, day: date) -> list[Placement | Allocation]:
    running: list[Placement | Allocation] = []
    running.extend(
        db.session.scalars(
            select(Placement).where(
                Placement.child_id == child.id,
                or_(Placement.end_date.is_(None), Placement.end_date > day),
            )
        )
    )
    running.extend(
        db.session.scalars(
            select(Allocation).where(
                Allocation.child_id == child.id,
                or_(Allocation.end_date.is_(None), Allocation.end_date > day),
            )
        )
    )
    return running


def _live_consents(child: Child, day: date) -> list[Consent]:
    query = select(Consent).where(
        Consent.child_id == child.id,
        Consent.revoked_at.is_(None),
        or_(Consent.ends_on.is_(None), Consent.ends_on > day),
    )
    return list(db.session.scalars(query))


def _keep_story_words(child: Child, new_authority: Authority) -> None:
    """Parts of the story written under the old authority's prompts: under the new
    authority's prompt with the same key when it has one (the usual headings), otherwise as
    a part of the child's own with the same heading. Nothing the child wrote is lost."""
    new_prompts = {p.key: p for p in story.prompts_of(new_authority) if p.key is not None}
    sections = list(
        db.session.scalars(
            select(StorySection)
            .join(StoryPrompt, StoryPrompt.id == StorySection.prompt_id)
            .where(StorySection.child_id == child.id, StoryPrompt.authority_id != new_authority.id)
        )
    )
    taken = set(
        db.session.scalars(
            select(StorySection.prompt_id).where(
                StorySection.child_id == child.id, StorySection.prompt_id.is_not(None)
            )
        )
    )
    for section in sections:
        prompt = section.prompt
        assert prompt is not None
        match = new_prompts.get(prompt.key) if prompt.key is not None else None
        if match is not None and match.id not in taken:
            section.prompt_id = match.id
            section.prompt = match
            taken.add(match.id)
        else:
            section.own_title = prompt.title
            section.prompt_id = None
            section.prompt = None
