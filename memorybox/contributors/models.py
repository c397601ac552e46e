from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from memorybox import clock
from memorybox.accounts.models import Invitation, User
from memorybox.children.models import Child
from memorybox.db import Base, UTCDateTime


class Contributor(Base):
    """Someone from a child's past or birth family who may send things to that one child.

    Invited by the allocated social worker: ``user_id`` is set once they accept the
    invitation. ``relation`` is who they are to the child, in plain words ("birth mum").
    ``blocked_at``: the child said "no more from this person" (they may undo it).
    ``ended_at``: a social worker ended their access (their account is switched off).
    """

    __tablename__ = "contributors"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True, default=None)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitations.id"), unique=True)
    relation: Mapped[str] = mapped_column(String(60))
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)

    child: Mapped[Child] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    invitation: Mapped[Invitation] = relationship()

    @property
    def blocked(self) -> bool:
        return self.blocked_at is not None

    @property
    def ended(self) -> bool:
        return self.ended_at is not None

    @property
    def name(self) -> str:
        return self.user.display_name if self.user else self.invitation.display_name
