"""Signing in, sessions, invitations and switching accounts off and on."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from memorybox import clock
from memorybox.accounts.models import Authority, Invitation, Role, User
from memorybox.accounts.passwords import Passwords
from memorybox.children.models import Child
from memorybox.db import db
from memorybox.pagination import Page, by_name
from memorybox.words import N_


class InvitationError(ValueError):
    """The invitation cannot be used. The message is for the person holding it."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def authenticate(passwords: Passwords, email: str, password: str) -> User | None:
    """The user when email and password match an active account; None otherwise.

    An unknown email still runs one Argon2 verification so timing does not reveal accounts.
    """
    user = find_user_by_email(email)
    ok = passwords.verify(user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active:
        return None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash(password)
    user.last_login_at = clock.now()
    db.session.commit()
    return user


def parse_session_id(session_id: str) -> tuple[int, int] | None:
    """(user id, session version) from Flask-Login's id, or None if it is not one of ours."""
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    return int(user_id), int(version)


def session_still_valid(user: User | None, version: int) -> bool:
    """A switched-off account, or a session from before a password change, is ended."""
    return user is not None and user.is_active and user.session_version == version


def end_other_sessions(user: User) -> None:
    user.session_version += 1


def change_password(passwords: Passwords, user: User, new_password: str) -> None:
    user.password_hash = passwords.hash(new_password)
    end_other_sessions(user)
    db.session.commit()


def disable(user: User) -> None:
    if user.disabled_at is None:
        user.disabled_at = clock.now()
    end_other_sessions(user)
    db.session.commit()


def enable(user: User) -> None:
    user.disabled_at = None
    db.session.commit()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class IssuedInvitation:
    invitation: Invitation
    token: str  # shown once to the manager; only its hash is stored


def invite(
    *,
    authority: Authority,
    email: str,
    display_name: str,
    role: Role,
    invited_by: User | None,
    days_valid: int,
    child: Child | None = None,
) -> IssuedInvitation:
    email = normalise_email(email)
    if find_user_by_email(email) is not None:
        raise InvitationError(N_("Someone already has an account with that email address."))
    if role is Role.YOUNG_PERSON:
        if child is None:
            raise InvitationError(N_("Choose which child this login is for."))
        if child.authority_id != authority.id:
            raise InvitationError(N_("Choose which child this login is for."))
        if child.user_id is not None:
            raise InvitationError(N_("That child already has a login."))
    elif child is not None:
        raise InvitationError(N_("Only a young person's login is linked to a child."))
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        authority_id=authority.id,
        email=email,
        display_name=display_name.strip(),
        role=role,
        child_id=child.id if child else None,
        token_hash=_token_hash(token),
        created_by_id=invited_by.id if invited_by else None,
        expires_at=clock.now() + timedelta(days=days_valid),
    )
    db.session.add(invitation)
    db.session.commit()
    return IssuedInvitation(invitation, token)


def find_invitation(token: str) -> Invitation | None:
    if not token or len(token) > 200:
        return None
    return db.session.scalar(select(Invitation).where(Invitation.token_hash == _token_hash(token)))


def accept_invitation(passwords: Passwords, token: str, password: str) -> User:
    """Create the account and use up the invitation, in one transaction."""
    invitation = find_invitation(token.strip())
    if invitation is None or not invitation.is_usable:
        raise InvitationError(
            N_(
                "That invite link has expired or has already been used. "
                "Please ask the person who invited you for a new one."
            )
        )
    if find_user_by_email(invitation.email) is not None:
        raise InvitationError(N_("Someone already has an account with that email address."))
    user = User(
        authority_id=invitation.authority_id,
        email=invitation.email,
        display_name=invitation.display_name,
        role=invitation.role,
        password_hash=passwords.hash(password),
    )
    db.session.add(user)
    db.session.flush()
    if invitation.child_id is not None:
        child = db.session.get(Child, invitation.child_id)
        if child is None or child.user_id is not None:
            db.session.rollback()
            raise InvitationError(N_("That child already has a login."))
        child.user_id = user.id
    invitation.accepted_at = clock.now()
    invitation.user_id = user.id
    if invitation.role is Role.CONTRIBUTOR:
        from memorybox.contributors import services as contributors

        contributors.link_account(invitation, user)  # the one child they may send to
    db.session.commit()
    return user


def revoke_invitation(invitation: Invitation) -> None:
    invitation.revoked_at = clock.now()
    db.session.commit()


def people(authority: Authority) -> list[User]:
    query = (
        select(User)
        .where(User.authority_id == authority.id)
        .order_by(func.lower(User.display_name), User.id)
    )
    return list(db.session.scalars(query))


def people_page(authority: Authority, cursor: str | None) -> Page[User]:
    """One page of the authority's accounts, by name."""
    return by_name(User, User.authority_id == authority.id, cursor)


INVITATIONS_SHOWN = 60


def pending_invitations(authority: Authority, limit: int = INVITATIONS_SHOWN) -> list[Invitation]:
    """The newest invitations not accepted (waiting, cancelled or run out)."""
    query = (
        select(Invitation)
        .where(Invitation.authority_id == authority.id, Invitation.accepted_at.is_(None))
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))
