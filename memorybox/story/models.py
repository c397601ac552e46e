"""Story prompts (per authority), the child's sections, their saved versions, drafts and
read receipts.

Saved versions are never changed or deleted: restoring an old one makes a new version.
A version's ``source`` says where its words came from: ``"typed"``, ``"voice-note"`` (the
child recorded a voice note, which the version attaches as a memory item) or ``"voice"`` (words
made from a voice note by offline speech recognition, which the child checked before saving).
A ``Transcript`` holds those draft words until the child keeps or drops them.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, String, Table, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from memorybox import clock, memo
from memorybox.accounts.models import Authority, User
from memorybox.children.models import Child
from memorybox.db import Base, UTCDateTime, string_enum
from memorybox.memories.models import MemoryItem

TITLE_MAX = 80
HINT_MAX = 300
BODY_MAX = 20_000


class StoryPrompt(Base):
    """A heading a local authority offers every child, such as "About me"."""

    __tablename__ = "story_prompts"
    __table_args__ = (UniqueConstraint("authority_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authorities.id"), index=True)
    # Set for the defaults we seed (so seeding twice never doubles them); empty for the
    # authority's own prompts.
    key: Mapped[str | None] = mapped_column(String(40), default=None)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    hint: Mapped[str] = mapped_column(String(HINT_MAX), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    authority: Mapped[Authority] = relationship()

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None


_NOT_READ = object()  # no newest version primed for this section in this request


def latest_key(section_id: int) -> tuple[str, int]:
    return ("story.latest", section_id)


class StorySection(Base):
    """One part of one child's story: from a prompt, or a heading the child made up."""

    __tablename__ = "story_sections"
    __table_args__ = (UniqueConstraint("child_id", "prompt_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    prompt_id: Mapped[int | None] = mapped_column(ForeignKey("story_prompts.id"), default=None)
    own_title: Mapped[str] = mapped_column(String(TITLE_MAX), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    # The child's own choices (never shown to an adult): kept out of sight in their story
    # until they are ready, or opened only with someone they trust.
    hide_until_ready: Mapped[bool] = mapped_column(default=False, server_default=false())
    with_someone: Mapped[bool] = mapped_column(default=False, server_default=false())

    child: Mapped[Child] = relationship()
    prompt: Mapped[StoryPrompt | None] = relationship()
    versions: Mapped[list[SectionVersion]] = relationship(
        back_populates="section", order_by="SectionVersion.number"
    )

    @property
    def title(self) -> str:
        return self.prompt.title if self.prompt is not None else self.own_title

    @property
    def hint(self) -> str:
        return self.prompt.hint if self.prompt is not None else ""

    @property
    def latest(self) -> SectionVersion | None:
        """The newest version, or None while nothing is saved. A list reads the newest
        versions of all its sections at once (``story.services.prime_latest``)."""
        primed = memo.facts().get(latest_key(self.id), _NOT_READ)
        if primed is not _NOT_READ:
            return primed
        return self.versions[-1] if self.versions else None


version_items = Table(
    "story_version_items",
    Base.metadata,
    Column("version_id", ForeignKey("story_versions.id"), primary_key=True),
    Column("item_id", ForeignKey("memory_items.id"), primary_key=True),
)


class SectionVersion(Base):
    """One save of a section. Immutable: never updated, never deleted."""

    __tablename__ = "story_versions"
    __table_args__ = (UniqueConstraint("section_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("story_sections.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text())  # plain text, never HTML
    source: Mapped[str] = mapped_column(String(20), default="typed")
    restored_from: Mapped[int | None] = mapped_column(Integer, default=None)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    section: Mapped[StorySection] = relationship(back_populates="versions")
    items: Mapped[list[MemoryItem]] = relationship(secondary=version_items)


class SectionDraft(Base):
    """What the child is writing now, kept every few seconds; separate from saved versions."""

    __tablename__ = "story_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("story_sections.id"), unique=True)
    body: Mapped[str] = mapped_column(Text())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class ReadReceipt(Base):
    """Someone the child shared a section with opened this version (first time, kept)."""

    __tablename__ = "story_read_receipts"
    __table_args__ = (UniqueConstraint("version_id", "reader_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("story_sections.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("story_versions.id"))
    reader_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    section: Mapped[StorySection] = relationship()
    version: Mapped[SectionVersion] = relationship()
    reader: Mapped[User] = relationship()


class TranscriptState(enum.StrEnum):
    WAITING = "waiting"
    WORKING = "working"
    READY = "ready"  # draft words ready for the child to check
    FAILED = "failed"


class Transcript(Base):
    """Draft words heard in a voice note, for the child to check. Never part of the story
    until the child saves them (then ``used_in_version`` says where they went)."""

    __tablename__ = "story_transcripts"
    __table_args__ = (UniqueConstraint("section_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("story_sections.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("memory_items.id"))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    state: Mapped[TranscriptState] = mapped_column(
        string_enum(TranscriptState, "transcript_state"), default=TranscriptState.WAITING
    )
    text: Mapped[str] = mapped_column(Text(), default="")
    reason: Mapped[str] = mapped_column(String(300), default="")
    used_in_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("story_versions.id"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    section: Mapped[StorySection] = relationship()
    item: Mapped[MemoryItem] = relationship()
