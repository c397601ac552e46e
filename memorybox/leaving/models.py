"""Leaving care and deleting an account.

``CareLeaving``: the day a young person left care (a manager records it; every placement
and allocation ends that day, so staff access ends through the usual relationship rules).
``NamedPerson``: someone a manager adds for a young person to share with by name (a
personal adviser), beside the carers and social workers they have had.
``AccountDeletion``: a young person asked to delete their account. It waits
:data:`CHANGE_OF_MIND_DAYS` (they can cancel); then everything of theirs is deleted and
this row, with the child row emptied of every personal detail, is the record that an
account existed, kept for the authority's retention period with the audit of professional
reads, and then deleted too.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from memorybox import clock
from memorybox.accounts.models import User
from memorybox.children.models import Child
from memorybox.db import Base, UTCDateTime

#: a young person can add their own email, choose a password and delete their account
OWN_ACCOUNT_AGE = 16
#: days between asking to delete an account and its deletion (they can cancel until then)
CHANGE_OF_MIND_DAYS = 30


class CareLeaving(Base):
    __tablename__ = "care_leavings"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), unique=True)
    left_on: Mapped[date] = mapped_column(Date())
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class NamedPerson(Base):
    __tablename__ = "named_people"
    __table_args__ = (UniqueConstraint("child_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    person: Mapped[User] = relationship(foreign_keys=[user_id])


class AccountDeletion(Base):
    __tablename__ = "account_deletions"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), unique=True)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    #: everything of theirs is deleted from this moment (they can cancel until then)
    delete_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: when it was deleted; None while they can still change their mind
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    #: the authority's record of it (this row, the emptied child row and the audit of
    #: professional reads) is deleted on this day
    keep_until: Mapped[date | None] = mapped_column(Date(), default=None)

    child: Mapped[Child] = relationship()
