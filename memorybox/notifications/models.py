from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from memorybox import clock
from memorybox.accounts.models import User
from memorybox.children.models import Child
from memorybox.db import Base, UTCDateTime


class Notification(Base):
    """One message in someone's notification centre. Holds no content (no titles, no story
    words, no pictures), only a pointer to what it is about: ``target_type`` and
    ``target_id``. Opening it asks policy again, so a notice about something its reader may
    no longer see (a share stopped, a placement ended) opens to nothing of it.
    ``link`` is kept for notices made before targets existed."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_target", "target_type", "target_id"),
        Index("ix_notifications_inbox", "user_id", "urgent", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    message: Mapped[str] = mapped_column(Text())
    link: Mapped[str] = mapped_column(String(200), default="")
    target_type: Mapped[str] = mapped_column(String(20), default="", server_default="")
    target_id: Mapped[int | None] = mapped_column(default=None)
    urgent: Mapped[bool] = mapped_column(default=False)
    child_id: Mapped[int | None] = mapped_column(ForeignKey("children.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now, index=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class _Acknowledged:
    """Someone said "I've seen this, I'll be in touch": who, and when."""

    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)

    @declared_attr
    def acknowledged_by(cls) -> Mapped[User | None]:  # noqa: N805 - SQLAlchemy's declared_attr
        return relationship(foreign_keys=f"{cls.__name__}.acknowledged_by_id")  # type: ignore[attr-defined]

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None


class HelpRequest(_Acknowledged, Base):
    """A child pressed "I need help". Kept so nobody can say they were not told.

    It stays urgent until someone acknowledges it ("I've seen this, I'll be in touch"); if
    nobody has by ``escalate_at`` (the authority's working hours after it was made) it is
    sent on to the duty inbox and the team managers, and that is recorded here."""

    __tablename__ = "help_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    sent_to: Mapped[str] = mapped_column(Text(), default="")
    escalate_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    escalated_to: Mapped[str] = mapped_column(Text(), default="", server_default="")

    child: Mapped[Child] = relationship()


class TalkRequest(_Acknowledged, Base):
    """A child pressed "I'd like to talk about this" on one of their memories, or on a letter.

    ``shows_item`` is the child's answer to "may your social worker see it?". When the child
    decides about sharing for themselves, a yes is also a consent for that item and each
    worker told, recorded like any other, which the child can stop; otherwise it is their
    wish, for the worker to act on. ``item_id`` is cleared if the item is deleted for ever."""

    __tablename__ = "talk_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("memory_items.id"), default=None)
    # Or a letter the child was given (then ``item_id`` is None and ``shows_item`` False).
    letter_id: Mapped[int | None] = mapped_column(ForeignKey("letters.id"), default=None)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    words: Mapped[str] = mapped_column(Text(), default="")
    shows_item: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    child: Mapped[Child] = relationship()
