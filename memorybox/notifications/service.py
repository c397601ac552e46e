"""Sending notifications: in-app always, and an email that says only "you have a new message"
to those who want one.

A notification holds no content: no titles, no story words, no pictures, no places. It names
what it is about (``target_type`` and ``target_id``), and opening it asks policy again, so
what someone may no longer see stays hidden. Emails leave the app, so they carry even less:
the reader's first name and a link to sign in.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, TypeVar

from flask_babel import force_locale, gettext
from sqlalchemy import func, select, update

from memorybox import clock, i18n, memo
from memorybox.accounts.models import User
from memorybox.children.models import Child
from memorybox.db import db
from memorybox.notifications.mail import Mailer
from memorybox.notifications.models import HelpRequest, Notification, TalkRequest
from memorybox.pagination import Order, Page, keyset

log = logging.getLogger(__name__)


class Target(enum.StrEnum):
    """What a notification is about (each kind says which row ``target_id`` names)."""

    ITEM = "item"  # a memory item: its page
    COMMENTS = "comments"  # a memory item: its comments
    REVIEW = "review"  # a memory item waiting for the social worker's approval
    SECTION = "section"  # a story section someone reads (with what changed)
    OWN_SECTION = "own_section"  # a story section of the child's own (who read it)
    COLLECTION = "collection"  # an album
    HELP = "help"  # an "I need help" request
    TALK = "talk"  # an "I'd like to talk about this" request
    LETTER = "letter"  # a letter to the child: the child's page of it
    LETTER_WRITTEN = "letter_written"  # a letter to a child: its social worker's page of it
    TRANSFER = "transfer"  # a request to move a child to another authority
    SENT = "sent"  # what a contributor sent: their own page, where its state shows


@dataclass(frozen=True)
class Sender:
    """How to email people: built from the app's settings by whoever calls (a view or a job)."""

    mailer: Mailer
    base_url: str
    mail_from: str


def notify(
    user: User,
    *,
    kind: str,
    message: str,
    target: Target | None = None,
    target_id: int | None = None,
    child_id: int | None = None,
    urgent: bool = False,
) -> Notification:
    """Add a notification to the current transaction (the caller commits)."""
    note = Notification(
        user_id=user.id,
        kind=kind,
        message=in_their_words(message, user),
        target_type=target.value if target is not None else "",
        target_id=target_id,
        child_id=child_id,
        urgent=urgent,
    )
    db.session.add(note)
    return note


def tell(
    sender: Sender,
    people: Iterable[User | None],
    *,
    kind: str,
    message: str,
    target: Target | None = None,
    target_id: int | None = None,
    child: Child | None = None,
    urgent: bool = False,
) -> list[User]:
    """Notify each active person (once), commit, then email those who want emails.
    Returns who was told."""
    told: dict[int, tuple[User, Notification]] = {}
    for person in people:
        if person is not None and person.is_active and person.id not in told:
            note = notify(
                person,
                kind=kind,
                message=message,
                target=target,
                target_id=target_id,
                child_id=child.id if child else None,
                urgent=urgent,
            )
            told[person.id] = (person, note)
    db.session.commit()
    for person, note in told.values():
        if person.wants_email:
            email_new_message(sender, person, note, urgent=urgent)
    return [person for person, _ in told.values()]


def email_new_message(sender: Sender, person: User, note: Notification, *, urgent: bool) -> None:
    """The only email a person gets about a message: no names but theirs, no content."""
    with force_locale(i18n.language_of(person)):
        subject = (
            gettext("Urgent: You have a new message in Memory Box")
            if urgent
            else gettext("You have a new message in Memory Box")
        )
        body = (
            "\n\n".join(
                [
                    gettext("Hi %(name)s,", name=person.first_name),
                    gettext("You have a new message in Memory Box."),
                    gettext(
                        "Sign in to see it: %(link)s",
                        link=f"{sender.base_url}/notifications/{note.id}",
                    ),
                ]
            )
            + "\n"
        )
    email(sender.mailer, person.email, subject, body, sender.mail_from)


def in_their_words(message: str, person: User) -> str:
    """A notification's words in the language ``person`` reads (it is stored as written)."""
    with force_locale(i18n.language_of(person)):
        return i18n.problem_words(message)


def email(mailer: Mailer, to: str, subject: str, body: str, sender: str) -> None:
    """Best effort: a failed email never loses the in-app notification."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    try:
        mailer.send(message)
    except Exception:  # noqa: BLE001 - any mail failure is logged, never shown to a child
        log.exception("could not send email %r", subject)


def for_user(user: User, cursor: str | None = None) -> Page[Notification]:
    """One page of someone's messages: anything still urgent (help nobody has acknowledged)
    on top, then newest first."""
    query = select(Notification).where(Notification.user_id == user.id)
    order = (
        Order(Notification.urgent),
        Order(Notification.created_at),
        Order(Notification.id),
    )
    return keyset(query, order, cursor, values_of=lambda n: (n.urgent, n.created_at, n.id))


def unread_count(user: User) -> int:
    return _unread(user.id)


@memo.remembered
def _unread(user_id: int) -> int:
    return db.session.scalar(unread_query(user_id)) or 0


def unread_query(user_id: Any) -> Any:
    """How many messages are unread (``user_id`` may be a column, for a subquery)."""
    return select(func.count(Notification.id)).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )


def prime_unread(user_id: int, count: int) -> None:
    memo.prime(_unread, (user_id,), count)


def mark_read(note: Notification) -> None:
    if note.read_at is None:
        note.read_at = clock.now()
        db.session.commit()


def mark_all_read(user: User) -> None:
    db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=clock.now())
    )
    db.session.commit()


def acknowledge(
    request: HelpRequest | TalkRequest,
    by: User,
    sender: Sender,
    *,
    kind: str,
    message: str,
    target: Target,
) -> None:
    """'I've seen this, I'll be in touch': recorded, no longer urgent for anyone, and the
    child is told who saw it (``message``)."""
    request.acknowledged_at = clock.now()
    request.acknowledged_by_id = by.id
    no_longer_urgent(target, request.id)
    db.session.commit()
    child = request.child
    tell(
        sender,
        [child.user],
        kind=kind,
        message=message,
        target=target,
        target_id=request.id,
        child=child,
    )


Request = TypeVar("Request", HelpRequest, TalkRequest)


def open_requests(model: type[Request], child_ids: list[int]) -> list[Request]:
    """Requests nobody has acknowledged yet, for these children, oldest first."""
    if not child_ids:
        return []
    query = (
        select(model)
        .where(model.child_id.in_(child_ids), model.acknowledged_at.is_(None))
        .order_by(model.created_at, model.id)
    )
    return list(db.session.scalars(query))


def no_longer_urgent(target: Target, target_id: int) -> None:
    """Someone acted on it: every notice about it stops being pinned as urgent."""
    db.session.execute(
        update(Notification)
        .where(Notification.target_type == target.value, Notification.target_id == target_id)
        .values(urgent=False)
    )


def unread_about(user: User, kind: str, target: Target, target_id: int) -> bool:
    """An unread notice of this kind about this thing is still waiting for them."""
    query = select(Notification.id).where(
        Notification.user_id == user.id,
        Notification.kind == kind,
        Notification.target_type == target.value,
        Notification.target_id == target_id,
        Notification.read_at.is_(None),
    )
    return db.session.scalar(query.limit(1)) is not None


def unread_for_child(user: User, child_id: int, kinds: Iterable[str]) -> list[Notification]:
    query = (
        select(Notification)
        .where(
            Notification.user_id == user.id,
            Notification.child_id == child_id,
            Notification.kind.in_(list(kinds)),
            Notification.read_at.is_(None),
        )
        .order_by(Notification.created_at.desc())
    )
    return list(db.session.scalars(query))
