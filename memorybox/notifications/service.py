"""Sending notifications: in-app always, email too when the person has an address."""

from __future__ import annotations

import logging
from email.message import EmailMessage

from sqlalchemy import func, select, update

from memorybox import clock
from memorybox.accounts.models import User
from memorybox.db import db
from memorybox.notifications.mail import Mailer
from memorybox.notifications.models import Notification

log = logging.getLogger(__name__)


def notify(
    user: User,
    *,
    kind: str,
    message: str,
    link: str = "",
    child_id: int | None = None,
    urgent: bool = False,
) -> Notification:
    """Add a notification to the current transaction (the caller commits)."""
    note = Notification(
        user_id=user.id, kind=kind, message=message, link=link, child_id=child_id, urgent=urgent
    )
    db.session.add(note)
    return note


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


def for_user(user: User, limit: int = 100) -> list[Notification]:
    query = (
        select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def unread_count(user: User) -> int:
    query = select(func.count()).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    return db.session.scalar(query) or 0


def mark_all_read(user: User) -> None:
    db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=clock.now())
    )
    db.session.commit()
