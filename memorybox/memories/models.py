from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from memorybox import clock
from memorybox.accounts.models import User
from memorybox.children.models import Child
from memorybox.db import Base, UTCDateTime, string_enum
from memorybox.i18n import gettext as _

if TYPE_CHECKING:
    from memorybox.letters.models import Letter

BIN_DAYS = 30  # how long a deleted item waits in the bin before it is gone for ever


class ItemKind(enum.StrEnum):
    PHOTO = "photo"
    DOCUMENT = "document"
    AUDIO = "audio"
    VIDEO = "video"

    @property
    def label(self) -> str:
        # one word looked up, not four (a gallery asks it of every card)
        if self is ItemKind.PHOTO:
            return _("Photo")
        if self is ItemKind.DOCUMENT:
            return _("Document")
        if self is ItemKind.AUDIO:
            return _("Sound")
        return _("Video")


class ItemStatus(enum.StrEnum):
    KEPT = "kept"  # in the child's box
    SUGGESTED = "suggested"  # added by someone else, waiting for the child to decide
    DECLINED = "declined"  # the child chose not to keep it
    AWAITING_APPROVAL = "awaiting_approval"  # moderation: waiting for the social worker
    NOT_APPROVED = "not_approved"  # moderation: the social worker did not pass it on
    # A photo or document in a later-life letter (``letter_id``): never in the box's lists;
    # seen by the child only on the letter's page, once the letter is open.
    IN_LETTER = "in_letter"


class Processing(enum.StrEnum):
    WAITING = "waiting"  # stored, waiting for the worker
    WORKING = "working"  # the worker has it
    READY = "ready"  # location removed, renditions made: safe to show
    FAILED = "failed"  # could not process; processing_error says why, for people

    @property
    def done(self) -> bool:
        return self in {Processing.READY, Processing.FAILED}


def local_day(moment: datetime | None) -> date:
    """The day a moment fell on where the children live (today, for a moment not set yet)."""
    return (moment or clock.now()).astimezone(clock.LOCAL_ZONE).date()


def _sort_date_default(context: Any) -> date:
    """For rows inserted without one (bulk inserts too): the memory's date, else the day it
    was added."""
    row = context.get_current_parameters()
    return row.get("memory_date") or local_day(row.get("created_at"))


class MemoryItem(Base):
    """One photo, document, sound or video in a child's box.

    The stored object is named by ``storage_backend`` + ``storage_key`` (a generated key,
    never the uploaded file name). ``deleted_at`` set means the item is in the bin.
    ``sort_date`` (the memory's date, else the day it was added) is stored so that a box of
    thousands is listed a page at a time from an index.
    """

    __tablename__ = "memory_items"
    __table_args__ = (
        # What is in each box, in date order: the gallery's and timeline's pages and the
        # timeline's years are read from this index alone.
        Index(
            "ix_memory_items_box",
            "child_id",
            "sort_date",
            "id",
            postgresql_where=text("status = 'kept' AND deleted_at IS NULL"),
            sqlite_where=text("status = 'kept' AND deleted_at IS NULL"),
        ),
        # Suggestions, and what waits for a social worker's approval, newest or oldest first.
        Index("ix_memory_items_waiting", "child_id", "status", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    added_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[ItemKind] = mapped_column(string_enum(ItemKind, "item_kind"))
    status: Mapped[ItemStatus] = mapped_column(string_enum(ItemStatus, "item_status"))
    title: Mapped[str] = mapped_column(String(120))
    caption: Mapped[str] = mapped_column(Text(), default="")
    memory_date: Mapped[date | None] = mapped_column(Date(), default=None)
    sort_date: Mapped[date] = mapped_column(Date(), default=_sort_date_default)
    content_type: Mapped[str] = mapped_column(String(80))
    extension: Mapped[str] = mapped_column(String(10))
    size_bytes: Mapped[int] = mapped_column(BigInteger())
    sha256: Mapped[str] = mapped_column(String(64))
    storage_backend: Mapped[str] = mapped_column(String(20))
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    original_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # Media processing. Until READY, ``storage_key`` names the upload as it arrived (which may
    # carry location data) and nothing but the processor reads it.
    processing: Mapped[Processing] = mapped_column(
        string_enum(Processing, "processing"), default=Processing.READY, server_default="ready"
    )
    processing_error: Mapped[str] = mapped_column(String(300), default="", server_default="")
    processing_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    width: Mapped[int | None] = mapped_column(default=None)
    height: Mapped[int | None] = mapped_column(default=None)
    duration_seconds: Mapped[float | None] = mapped_column(default=None)
    page_count: Mapped[int | None] = mapped_column(default=None)
    # Gentle with hard memories. A content note ("this photo shows your birth mum") is shown
    # to the child before the item, by whoever added it; ``note_opened_at`` is when the child
    # first chose to open it. The child's own choices: blurred everywhere until they are
    # ready, or opened only with someone they trust. No adult sees these choices, and only
    # its writer (and the child) sees a note.
    content_note: Mapped[str] = mapped_column(Text(), default="", server_default="")
    content_note_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    note_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    hide_until_ready: Mapped[bool] = mapped_column(default=False, server_default=false())
    with_someone: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Set (with status IN_LETTER) for a letter's photo or document.
    letter_id: Mapped[int | None] = mapped_column(
        ForeignKey("letters.id"), default=None, index=True
    )

    child: Mapped[Child] = relationship()
    added_by: Mapped[User] = relationship(foreign_keys=[added_by_id])
    letter: Mapped[Letter | None] = relationship(foreign_keys=[letter_id])
    renditions: Mapped[list[Rendition]] = relationship(
        back_populates="item", cascade="all, delete-orphan"
    )

    def rendition(self, name: str) -> Rendition | None:
        return next((r for r in self.renditions if r.name == name), None)

    @property
    def is_ready(self) -> bool:
        return self.processing is Processing.READY

    @property
    def in_bin(self) -> bool:
        return self.deleted_at is not None

    @property
    def waits_for_the_child(self) -> bool:
        """Its picture is not shown in lists until the child chooses: hidden until they are
        ready, or a note they have not opened yet."""
        return self.hide_until_ready or (bool(self.content_note) and self.note_opened_at is None)


@event.listens_for(MemoryItem.memory_date, "set")
def _memory_date_set(item: MemoryItem, value: date | None, _old: Any, _initiator: Any) -> None:
    item.sort_date = value or local_day(item.created_at)


@event.listens_for(MemoryItem.created_at, "set")
def _created_at_set(item: MemoryItem, value: datetime | None, _old: Any, _initiator: Any) -> None:
    if item.memory_date is None:
        item.sort_date = local_day(value)


class Comment(Base):
    """A child's comment on an item, or the adder's reply."""

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("memory_items.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    author: Mapped[User] = relationship()


class Rendition(Base):
    """Something made from an item for the web: "thumb" and "large" (WebP), "poster" (a
    video's frame), "preview" (a PDF's first page), "web" (H.264 MP4 or AAC audio)."""

    __tablename__ = "renditions"
    __table_args__ = (UniqueConstraint("item_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("memory_items.id"), index=True)
    name: Mapped[str] = mapped_column(String(20))
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    content_type: Mapped[str] = mapped_column(String(80))
    size_bytes: Mapped[int] = mapped_column(BigInteger())
    width: Mapped[int | None] = mapped_column(default=None)
    height: Mapped[int | None] = mapped_column(default=None)

    item: Mapped[MemoryItem] = relationship(back_populates="renditions")


class UploadSession(Base):
    """A resumable upload in progress (the tus protocol): parts go straight to storage as a
    multipart upload, so a dropped connection or a closed tab carries on where it stopped."""

    __tablename__ = "upload_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"))
    length: Mapped[int] = mapped_column(BigInteger())
    offset: Mapped[int] = mapped_column(BigInteger(), default=0)
    parts: Mapped[int] = mapped_column(default=0)
    filename: Mapped[str] = mapped_column(String(200), default="")
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    storage_upload_id: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    child: Mapped[Child] = relationship()

    @property
    def complete(self) -> bool:
        return self.completed_at is not None
