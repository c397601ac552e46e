from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from memorybox import clock
from memorybox.db import Base, UTCDateTime


class Notification(Base):
    """One message in someone's notification centre. Holds no item content, only a pointer."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    message: Mapped[str] = mapped_column(Text())
    link: Mapped[str] = mapped_column(String(200), default="")
    urgent: Mapped[bool] = mapped_column(default=False)
    child_id: Mapped[int | None] = mapped_column(ForeignKey("children.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now, index=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class HelpRequest(Base):
    """A child pressed "I need help". Kept so nobody can say they were not told."""

    __tablename__ = "help_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    sent_to: Mapped[str] = mapped_column(Text(), default="")
