from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from memorybox import clock
from memorybox.db import Base, UTCDateTime, string_enum
from memorybox.words import N_


class Role(enum.StrEnum):
    YOUNG_PERSON = "young_person"
    CARER = "carer"
    SOCIAL_WORKER = "social_worker"
    MANAGER = "manager"
    # Family or a past carer who sends things to one child (see memorybox.contributors).
    CONTRIBUTOR = "contributor"

    @property
    def label(self) -> str:
        return {
            Role.YOUNG_PERSON: _("Young person"),
            Role.CARER: _("Foster carer"),
            Role.SOCIAL_WORKER: _("Social worker"),
            Role.MANAGER: _("Manager"),
            Role.CONTRIBUTOR: _("Sends things to a child"),
        }[self]


class Authority(Base):
    """A local authority: it runs the accounts and records the care relationships."""

    __tablename__ = "authorities"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    # From this age a young person decides about sharing for themselves.
    self_sharing_age: Mapped[int] = mapped_column(Integer, default=12, server_default="12")
    # When on, items from adults wait for the allocated social worker's approval.
    moderation_required: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    # Where "I need help" goes when a child has no allocated social worker.
    duty_email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    # An "I need help" nobody has acknowledged after this many working hours goes on to
    # the duty inbox and the team managers.
    help_escalation_hours: Mapped[int] = mapped_column(Integer, default=4, server_default="4")
    # How many years the record that a deleted account existed, and the audit of
    # professional reads of it, are kept before they are deleted too.
    retention_years: Mapped[int] = mapped_column(Integer, default=6, server_default="6")
    # Carers set up and use a second factor too (social workers and managers always do).
    carer_second_factor: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )


#: colour themes a person can choose: name -> words for it (each has white text on its
#: colour at a contrast of at least 4.5:1, see static/css/site.css)
THEMES: dict[str, str] = {
    "purple": N_("Purple"),
    "blue": N_("Blue"),
    "green": N_("Green"),
    "teal": N_("Sea green"),
    "brown": N_("Brown"),
}


class User(Base):
    """A login. Flask-Login's id carries ``session_version`` so bumping it ends other sessions."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authorities.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    role: Mapped[Role] = mapped_column(string_enum(Role, "role"))
    password_hash: Mapped[str] = mapped_column(String(255))
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # Email when a new message arrives: None means the default for the role (on for adults,
    # off for young people, who choose it for themselves).
    email_messages: Mapped[bool | None] = mapped_column(Boolean, default=None)
    # A young person is told when someone reads part of their story for the first time.
    tell_me_reads: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # A social worker's team manager: told when help they were sent is not acknowledged.
    team_manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    # The colours of their own pages (see THEMES).
    theme: Mapped[str] = mapped_column(String(20), default="purple", server_default="purple")
    # The language of their pages (a code of memorybox.i18n.LANGUAGES); None until they
    # choose: then the one picked before signing in, their browser's, or English.
    language: Mapped[str | None] = mapped_column(String(10), default=None)
    # The second factor (memorybox.accounts.second_factor). ``mfa_version`` goes up when it
    # is set up or reset, which ends every remembered device and "passed" mark before it.
    mfa_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    totp_secret: Mapped[str | None] = mapped_column(String(64), default=None)
    # The last time step whose code was used: a code is never accepted twice.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, default=None)
    mfa_set_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    authority: Mapped[Authority] = relationship()

    # Flask-Login protocol
    @property
    def is_active(self) -> bool:
        return self.disabled_at is None

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def first_name(self) -> str:
        return (self.display_name.split() or ["there"])[0]

    @property
    def wants_email(self) -> bool:
        if self.email_messages is not None:
            return self.email_messages
        return self.role is not Role.YOUNG_PERSON

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role.value}>"


class Invitation(Base):
    """A single-use, expiring invitation. Only a hash of the token is stored."""

    __tablename__ = "invitations"
    __table_args__ = (UniqueConstraint("token_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authorities.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    display_name: Mapped[str] = mapped_column(String(80))
    role: Mapped[Role] = mapped_column(string_enum(Role, "role"))
    child_id: Mapped[int | None] = mapped_column(ForeignKey("children.id"), default=None)
    token_hash: Mapped[str] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)

    authority: Mapped[Authority] = relationship()

    @property
    def is_usable(self) -> bool:
        return (
            self.accepted_at is None and self.revoked_at is None and self.expires_at > clock.now()
        )

    @property
    def state(self) -> str:
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "cancelled"
        if self.expires_at <= clock.now():
            return "expired"
        return "waiting"


class RecoveryCode(Base):
    """One of the ten single-use codes for when the phone is not to hand (Argon2 hashed)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class RememberedDevice(Base):
    """A browser where the second factor is not asked again until ``expires_at`` (at most
    30 days). Only a hash of the cookie's random token is stored."""

    __tablename__ = "remembered_devices"
    __table_args__ = (UniqueConstraint("token_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    mfa_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
