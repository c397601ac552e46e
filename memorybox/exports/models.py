from __future__ import annotations

import enum
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from memorybox import clock
from memorybox.accounts.models import User
from memorybox.children.models import Child
from memorybox.db import Base, UTCDateTime, string_enum

#: How long a finished export can be downloaded before it is deleted.
EXPORT_DAYS = 7


class ExportKind(enum.StrEnum):
    PDF = "pdf"  # the life-story book
    JSON = "json"  # for case-management systems (docs/export-schema.md)
    ZIP = "zip"  # "Take it with me": everything, with an offline index.html

    @property
    def label(self) -> str:
        return {
            "pdf": _("Life-story book (PDF)"),
            "json": _("Data file for case records (JSON)"),
            "zip": _("Everything in my box (ZIP)"),
        }[self.value]

    @property
    def content_type(self) -> str:
        return {
            "pdf": "application/pdf",
            "json": "application/json",
            "zip": "application/zip",
        }[self.value]


class ExportState(enum.StrEnum):
    WAITING = "waiting"
    WORKING = "working"
    READY = "ready"
    FAILED = "failed"


def _expires() -> datetime:
    return clock.now() + timedelta(days=EXPORT_DAYS)


class Export(Base):
    """One export asked for by one person. Only that person downloads it."""

    __tablename__ = "exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[ExportKind] = mapped_column(string_enum(ExportKind, "export_kind"))
    state: Mapped[ExportState] = mapped_column(
        string_enum(ExportState, "export_state"), default=ExportState.WAITING
    )
    progress: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(String(300), default="")
    storage_key: Mapped[str | None] = mapped_column(String(200), unique=True, default=None)
    size: Mapped[int | None] = mapped_column(BigInteger(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_expires)

    child: Mapped[Child] = relationship()
    requested_by: Mapped[User] = relationship()

    @property
    def expired(self) -> bool:
        return clock.now() >= self.expires_at

    @property
    def ready(self) -> bool:
        return self.state is ExportState.READY and self.storage_key is not None
