from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from memorybox import clock
from memorybox.accounts.models import User
from memorybox.children.models import Child
from memorybox.db import Base, UTCDateTime, string_enum
from memorybox.memories.models import MemoryItem
from memorybox.story.models import StorySection


class Audience(enum.StrEnum):
    CARERS = "carers"  # whoever has an active placement with the child now
    SOCIAL_WORKER = "social_worker"  # whoever holds the current allocation
    PERSON = "person"  # one named person with an account

    @property
    def label(self) -> str:
        return {
            "carers": _("your foster carers"),
            "social_worker": _("your social worker"),
            "person": _("one person"),
        }[self.value]


class Basis(enum.StrEnum):
    OWN_DECISION = "own_decision"  # the young person decided for themselves
    ON_BEHALF = "on_behalf"  # the social worker decided, with the child's wishes recorded

    @property
    def label(self) -> str:
        return {
            "own_decision": _("you decided"),
            "on_behalf": _("your social worker decided for you"),
        }[self.value]


class Collection(Base):
    """An album the child makes, such as "My first school" or "Nan"."""

    __tablename__ = "collections"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    child: Mapped[Child] = relationship()
    entries: Mapped[list[CollectionItem]] = relationship(
        back_populates="collection", cascade="all, delete-orphan"
    )


class CollectionItem(Base):
    __tablename__ = "collection_items"
    __table_args__ = (UniqueConstraint("collection_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    collection_id: Mapped[int] = mapped_column(ForeignKey("collections.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("memory_items.id"), index=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    collection: Mapped[Collection] = relationship(back_populates="entries")
    item: Mapped[MemoryItem] = relationship()


# Exactly one of the three subjects is set (portable SQL: SQLite and PostgreSQL).
ONE_SUBJECT = (
    "(CASE WHEN item_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN collection_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN story_section_id IS NULL THEN 0 ELSE 1 END) = 1"
)


class Consent(Base):
    """The child's permission for one audience to see one item, collection or story section.

    Never edited after it is given, except to record its withdrawal: the history of who
    decided what, when, for whom and why is kept for the child to read.
    """

    __tablename__ = "consents"
    __table_args__ = (
        CheckConstraint(ONE_SUBJECT, name="exactly_one_subject"),
        CheckConstraint(
            "(audience = 'person') = (person_id IS NOT NULL)", name="person_only_for_person"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("memory_items.id"), index=True)
    collection_id: Mapped[int | None] = mapped_column(ForeignKey("collections.id"), index=True)
    story_section_id: Mapped[int | None] = mapped_column(
        ForeignKey("story_sections.id"), index=True, default=None
    )
    audience: Mapped[Audience] = mapped_column(string_enum(Audience, "audience"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None, index=True)
    ends_on: Mapped[date | None] = mapped_column(Date(), default=None)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    basis: Mapped[Basis] = mapped_column(string_enum(Basis, "consent_basis"))
    childs_wishes: Mapped[str] = mapped_column(Text(), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)

    child: Mapped[Child] = relationship()
    item: Mapped[MemoryItem | None] = relationship()
    collection: Mapped[Collection | None] = relationship()
    story_section: Mapped[StorySection | None] = relationship()
    person: Mapped[User | None] = relationship(foreign_keys=[person_id])
    decided_by: Mapped[User] = relationship(foreign_keys=[decided_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])

    def is_active_on(self, day: date) -> bool:
        return self.revoked_at is None and (self.ends_on is None or day < self.ends_on)

    @property
    def is_active(self) -> bool:
        return self.is_active_on(clock.today())

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "stopped"
        if self.ends_on is not None and self.ends_on <= clock.today():
            return "ended"
        return "active"

    @property
    def subject_title(self) -> str:
        if self.item is not None:
            return self.item.title
        if self.story_section is not None:
            return self.story_section.title
        return self.collection.name if self.collection is not None else ""


class Visit(Base):
    """When a professional last looked at what a child shares with them ("new since")."""

    __tablename__ = "visits"
    __table_args__ = (UniqueConstraint("viewer_id", "child_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    viewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"))
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
