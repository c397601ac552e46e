"""A letter to a child, its saved versions, and the child's own private note about it.

A letter is a draft until its writer gives it to the child; from then on the child can see
that it exists, who wrote it and when it opens (never its words). Whether it is open is
worked out on each request from the release rule and today's date (see
:mod:`memorybox.letters.services`), so nothing needs to run at midnight. Once open it is never
changed again: the child keeps the version that was current when it opened.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from memorybox import clock
from memorybox.accounts.models import User
from memorybox.children.models import Child
from memorybox.db import Base, UTCDateTime, string_enum
from memorybox.memories.models import MemoryItem

TITLE_MAX = 80
BODY_MAX = 20_000
NOTE_MAX = 500
PRIVATE_NOTE_MAX = 5_000


class ReleaseRule(enum.StrEnum):
    DATE = "date"  # on ``opens_on``
    AGE = "age"  # on the child's birthday at ``opens_at_age``
    ASKED = "asked"  # when the child asks and a social worker agrees


class Letter(Base):
    __tablename__ = "letters"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    written_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # For the writer's own list, and the child's heading once it is open.
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    # Read by the child before the letter, once it is open; written like an item's note.
    content_note: Mapped[str] = mapped_column(Text(), default="", server_default="")
    rule: Mapped[ReleaseRule] = mapped_column(
        string_enum(ReleaseRule, "release_rule"), default=ReleaseRule.ASKED
    )
    opens_on: Mapped[date | None] = mapped_column(default=None)
    opens_at_age: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    given_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    given_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    agreed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    agreed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    # The child was told it is open (a message), and first read it.
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # The child's own gentle choices (never shown to an adult): read the note, and chose to
    # open it only with someone they trust.
    note_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    with_someone: Mapped[bool] = mapped_column(default=False, server_default=false())

    child: Mapped[Child] = relationship()
    written_by: Mapped[User] = relationship(foreign_keys=[written_by_id])
    agreed_by: Mapped[User | None] = relationship(foreign_keys=[agreed_by_id])
    versions: Mapped[list[LetterVersion]] = relationship(
        back_populates="letter", order_by="LetterVersion.number"
    )
    # Its photos and documents (items with status IN_LETTER), in the order they were added.
    attachments: Mapped[list[MemoryItem]] = relationship(
        primaryjoin="Letter.id == MemoryItem.letter_id",
        foreign_keys="MemoryItem.letter_id",
        order_by="MemoryItem.id",
        viewonly=True,
    )

    @property
    def latest(self) -> LetterVersion | None:
        return self.versions[-1] if self.versions else None

    @property
    def given(self) -> bool:
        return self.given_at is not None


class LetterVersion(Base):
    """One save of a letter's words. Never changed, never deleted."""

    __tablename__ = "letter_versions"
    __table_args__ = (UniqueConstraint("letter_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letters.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text())  # plain text, never HTML
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    letter: Mapped[Letter] = relationship(back_populates="versions")
    created_by: Mapped[User] = relationship()


class LetterNote(Base):
    """What the child writes back, to themselves. No adult ever reads it: no route for an
    adult reads this table."""

    __tablename__ = "letter_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letters.id"), unique=True)
    body: Mapped[str] = mapped_column(Text())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
