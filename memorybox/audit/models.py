from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from memorybox import clock
from memorybox.accounts.models import User
from memorybox.db import Base, UTCDateTime


class AuditEvent(Base):
    """One recorded read or denial. Holds ids and an action name: never content or secrets."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_child_trail", "child_id", "occurred_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(10))  # "allowed" or "denied"
    target_type: Mapped[str] = mapped_column(String(30))
    target_id: Mapped[int | None] = mapped_column(Integer(), default=None)
    child_id: Mapped[int | None] = mapped_column(ForeignKey("children.id"), index=True)
    # No foreign key: the trail outlives an item deleted for ever from the bin.
    item_id: Mapped[int | None] = mapped_column(Integer(), default=None, index=True)

    actor: Mapped[User | None] = relationship()
