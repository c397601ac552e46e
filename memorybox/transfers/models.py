"""A request to move a child from one authority to another, and what became of it."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from memorybox import clock
from memorybox.accounts.models import Authority, User
from memorybox.children.models import Child
from memorybox.db import Base, UTCDateTime, string_enum


class TransferState(enum.StrEnum):
    WAITING = "waiting"  # the receiving authority has not answered yet
    ACCEPTED = "accepted"  # the child moved
    DECLINED = "declined"  # the receiving authority said no, with a reason
    WITHDRAWN = "withdrawn"  # the sending authority took the request back


class Transfer(Base):
    """The sending authority's manager asks; the receiving authority's manager accepts (the
    child moves then, with everything that hangs off them) or declines; the sender may
    withdraw while it waits. Kept for ever, on both sides, with the child's audit trail."""

    __tablename__ = "transfers"
    __table_args__ = (
        Index("ix_transfers_from_authority", "from_authority_id", "state"),
        Index("ix_transfers_to_authority", "to_authority_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    from_authority_id: Mapped[int] = mapped_column(ForeignKey("authorities.id"))
    to_authority_id: Mapped[int] = mapped_column(ForeignKey("authorities.id"))
    planned_on: Mapped[date] = mapped_column(Date())
    note: Mapped[str] = mapped_column(Text(), default="", server_default="")
    state: Mapped[TransferState] = mapped_column(
        string_enum(TransferState, "transfer_state"), default=TransferState.WAITING
    )
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # The day the child moved (placements and allocations at the old authority end on it).
    moved_on: Mapped[date | None] = mapped_column(Date(), default=None)
    reason: Mapped[str] = mapped_column(Text(), default="", server_default="")

    child: Mapped[Child] = relationship()
    from_authority: Mapped[Authority] = relationship(foreign_keys=[from_authority_id])
    to_authority: Mapped[Authority] = relationship(foreign_keys=[to_authority_id])
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    @property
    def waiting(self) -> bool:
        return self.state is TransferState.WAITING
