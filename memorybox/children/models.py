from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from memorybox import clock
from memorybox.accounts.models import Authority, User
from memorybox.db import Base, UTCDateTime


class Child(Base):
    """A child in care. ``user_id`` is their own login, or None for a young child."""

    __tablename__ = "children"

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authorities.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(80))
    date_of_birth: Mapped[date | None] = mapped_column(Date(), default=None)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    # A social worker recorded that this child can decide about sharing, whatever their age.
    decides_sharing_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    decides_sharing_recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id"), default=None
    )
    # Someone the young person trusts to open hard memories with, and how to reach them (in
    # the young person's own words). Seen only by the young person.
    trusted_person_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    trusted_how: Mapped[str] = mapped_column(String(200), default="", server_default="")

    authority: Mapped[Authority] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    trusted_person: Mapped[User | None] = relationship(foreign_keys=[trusted_person_id])

    def age_on(self, day: date) -> int | None:
        if self.date_of_birth is None:
            return None
        dob = self.date_of_birth
        return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


class _Relationship:
    """Shared shape: active from ``start_date`` until (not including) ``end_date``."""

    start_date: Mapped[date]
    end_date: Mapped[date | None]

    def is_active_on(self, day: date) -> bool:
        return self.start_date <= day and (self.end_date is None or day < self.end_date)

    @property
    def is_active(self) -> bool:
        return self.is_active_on(clock.today())

    @property
    def state(self) -> str:
        today = clock.today()
        if self.start_date > today:
            return "starts later"
        if self.end_date is not None and self.end_date <= today:
            return "ended"
        return "active"


class Placement(_Relationship, Base):
    """A foster carer looking after a child."""

    __tablename__ = "placements"
    __table_args__ = (
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates_in_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    carer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    start_date: Mapped[date] = mapped_column(Date())
    end_date: Mapped[date | None] = mapped_column(Date(), default=None)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    child: Mapped[Child] = relationship()
    carer: Mapped[User] = relationship(foreign_keys=[carer_id])


class Allocation(_Relationship, Base):
    """A social worker allocated to a child."""

    __tablename__ = "allocations"
    __table_args__ = (
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates_in_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    social_worker_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    start_date: Mapped[date] = mapped_column(Date())
    end_date: Mapped[date | None] = mapped_column(Date(), default=None)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    child: Mapped[Child] = relationship()
    social_worker: Mapped[User] = relationship(foreign_keys=[social_worker_id])
