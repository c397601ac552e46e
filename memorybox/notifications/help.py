"""'I need help': the request, who is told at once, who acknowledges it, and escalation.

A request stays urgent for the allocated social worker until someone acknowledges it. If
nobody has after the authority's working hours (4 by default), it goes on to the duty inbox
and the social workers' team managers, and that is recorded. With no allocated social worker,
it goes there at once. Nothing here is an emergency service: the pages say so, and give 999
and Childline.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask_babel import gettext
from flask_babel.speaklater import LazyString
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from memorybox import clock, i18n
from memorybox.accounts.models import Authority, Role, User
from memorybox.audit import service as audit
from memorybox.children import relationships
from memorybox.children import services as children
from memorybox.children.models import Allocation, Child
from memorybox.db import db
from memorybox.notifications import service as notifications
from memorybox.notifications.models import HelpRequest
from memorybox.notifications.service import Sender, Target
from memorybox.notifications.working_hours import add_working_hours
from memorybox.words import N_, Words

log = logging.getLogger(__name__)

DUTY_TEAM = "the duty team"
#: stored when an unanswered "I need help" had nobody to go on to
NOBODY_ESCALATED = "nobody (no manager or duty inbox is set up)"


def ask(child: Child, by: User, sender: Sender) -> HelpRequest:
    """Record the request and tell the allocated social workers at once (or, with none,
    the duty inbox and managers). ``sent_to`` says who, in words for the child."""
    workers = [w for w in relationships.social_workers_of(child.id) if w.is_active]
    now = clock.now()
    request = HelpRequest(
        child_id=child.id,
        requested_by_id=by.id,
        created_at=now,
        escalate_at=add_working_hours(now, child.authority.help_escalation_hours)
        if workers
        else now,
    )
    db.session.add(request)
    db.session.flush()
    told = notifications.tell(
        sender,
        workers,
        kind="help",
        message=Words(
            N_("%(name)s pressed “I need help”. Please get in touch with them today."),
            name=child.display_name,
        ),
        target=Target.HELP,
        target_id=request.id,
        child=child,
        urgent=True,
    )
    if told:
        request.sent_to = ", ".join(p.display_name for p in told)
        db.session.commit()
    else:
        request.sent_to = DUTY_TEAM
        db.session.commit()
        escalate(request, sender)
    return request


def _team_managers(child: Child) -> list[User]:
    """Each allocated social worker's team manager; all the authority's managers where a
    worker has none (or the child has no worker)."""
    found: dict[int, User] = {}
    everyone = False
    workers = relationships.social_workers_of(child.id)
    for worker in workers:
        manager = db.session.get(User, worker.team_manager_id) if worker.team_manager_id else None
        if (
            manager is not None
            and manager.is_active
            and manager.role is Role.MANAGER
            and manager.authority_id == child.authority_id
        ):
            found[manager.id] = manager
        else:
            everyone = True
    if everyone or not workers:
        for manager in children.people_with_role(child.authority, Role.MANAGER):
            found[manager.id] = manager
    return list(found.values())


def escalate(request: HelpRequest, sender: Sender) -> bool:
    """Send the request on to the duty inbox and the team managers, once (a guarded update
    makes sure two workers never both send it). Returns whether this call sent it."""
    now = clock.now()
    claimed = db.session.execute(
        update(HelpRequest)
        .where(
            HelpRequest.id == request.id,
            HelpRequest.escalated_at.is_(None),
            HelpRequest.acknowledged_at.is_(None),
        )
        .values(escalated_at=now)
    )
    db.session.commit()
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    db.session.refresh(request)
    child = request.child
    no_worker = request.sent_to == DUTY_TEAM
    when = LazyString(i18n.moment_short, request.created_at)
    if no_worker:
        message = Words(
            N_(
                "%(name)s pressed “I need help” and has no social worker in Memory Box. "
                "Please make sure someone gets in touch with them today."
            ),
            name=child.display_name,
        )
    else:
        message = Words(
            N_(
                "%(name)s pressed “I need help” on %(when)s and nobody has said they have "
                "seen it yet. It was sent to %(who)s. Please make sure someone gets in touch "
                "with them."
            ),
            name=child.display_name,
            when=when,
            who=request.sent_to,
        )
    told = notifications.tell(
        sender,
        _team_managers(child),
        kind="help_escalated",
        message=message,
        target=Target.HELP,
        target_id=request.id,
        child=child,
        urgent=True,
    )
    sent_to = [p.display_name for p in told]
    duty = child.authority.duty_email
    if duty:
        first = child.display_name.split()[0] if child.display_name else ""
        link = f"{sender.base_url}/help/{request.id}"
        notifications.email(
            sender.mailer,
            duty,
            gettext("Urgent: a child has asked for help in Memory Box"),
            (
                gettext(
                    "A child (%(name)s) pressed “I need help” in Memory Box on %(when)s, and "
                    "has no allocated social worker.",
                    name=first,
                    when=str(when),
                )
                if no_worker
                else gettext(
                    "A child (%(name)s) pressed “I need help” in Memory Box on %(when)s, and "
                    "nobody has acknowledged it yet.",
                    name=first,
                    when=str(when),
                )
            )
            + "\n\n"
            + gettext("Sign in to see it and say it has been seen: %(link)s", link=link)
            + "\n"
            + gettext("If a child is in danger, call 999.")
            + "\n",
            sender.mail_from,
        )
        sent_to.append(f"the duty inbox ({duty})")
    request.escalated_to = ", ".join(sent_to) or NOBODY_ESCALATED
    audit.record(None, "help:escalated", request)
    db.session.commit()
    log.warning("help request %s escalated to %d people", request.id, len(told))
    return True


def due_for_escalation(now: datetime | None = None) -> list[int]:
    moment = now or clock.now()
    query = select(HelpRequest.id).where(
        HelpRequest.acknowledged_at.is_(None),
        HelpRequest.escalated_at.is_(None),
        HelpRequest.escalate_at.is_not(None),
        HelpRequest.escalate_at <= moment,
    )
    return list(db.session.scalars(query))


def escalate_due(sender: Sender) -> int:
    """Escalate every request whose time has come. Run by the worker every few minutes."""
    sent = 0
    for request_id in due_for_escalation():
        request = db.session.get(HelpRequest, request_id)
        if request is not None and escalate(request, sender):
            sent += 1
    return sent


def acknowledge(request: HelpRequest, by: User, sender: Sender) -> None:
    """'I've seen this, I'll be in touch': no longer urgent for anyone; the child is told
    who saw it."""
    notifications.acknowledge(
        request,
        by,
        sender,
        kind="help_seen",
        message=Words(
            N_("%(name)s has seen that you need help. They will be in touch."),
            name=by.display_name,
        ),
        target=Target.HELP,
    )


def requests_of(child: Child, limit: int = 10) -> list[HelpRequest]:
    query = (
        select(HelpRequest)
        .where(HelpRequest.child_id == child.id)
        .order_by(HelpRequest.created_at.desc(), HelpRequest.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def open_without_worker(authority: Authority) -> list[HelpRequest]:
    """Help nobody has acknowledged from the authority's children who have no social worker
    allocated today, oldest first."""
    allocated = select(Allocation.child_id).where(
        relationships.active_on(Allocation, clock.today())
    )
    query = (
        select(HelpRequest)
        .join(Child, Child.id == HelpRequest.child_id)
        .options(joinedload(HelpRequest.child))
        .where(
            Child.authority_id == authority.id,
            HelpRequest.acknowledged_at.is_(None),
            HelpRequest.child_id.not_in(allocated),
        )
        .order_by(HelpRequest.created_at, HelpRequest.id)
    )
    return list(db.session.scalars(query))


def open_requests(child_ids: list[int]) -> list[HelpRequest]:
    """Requests nobody has acknowledged yet, for these children, oldest first."""
    return notifications.open_requests(HelpRequest, child_ids)
