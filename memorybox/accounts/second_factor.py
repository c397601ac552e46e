"""The staff second factor: a time-based code (TOTP, RFC 6238) from an authenticator app,
ten single-use recovery codes, and browsers remembered for up to 30 days.

Who must use one is policy's question (:func:`memorybox.policy.second_factor_required`).
A code is accepted one time step either side of now, and never twice: the last time step
used is remembered and a code from that step or before it is refused.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import pyotp
import segno
from sqlalchemy import delete, select, update

from memorybox import clock
from memorybox.accounts.models import RecoveryCode, RememberedDevice, User
from memorybox.accounts.passwords import Passwords
from memorybox.db import db

ISSUER = "Memory Box"
STEP_SECONDS = 30
RECOVERY_CODES = 10
#: a remembered device is never trusted for longer than this
REMEMBER_DAYS = 30
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


def new_secret() -> str:
    """A fresh base32 secret (160 bits)."""
    return pyotp.random_base32(32)


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The set-up link as an SVG QR code (a data URI for an <img>)."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=5, border=4, title=None))


def _step(at_seconds: float) -> int:
    return int(at_seconds // STEP_SECONDS)


def _clean(code: str) -> str:
    return "".join(ch for ch in code if not ch.isspace() and ch != "-")


def matching_step(secret: str, code: str, last_step: int | None) -> int | None:
    """The time step whose code this is (now, or one step either side), or None. A step at
    or before ``last_step`` never matches: each code works once."""
    code = _clean(code)
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now = _step(clock.now().timestamp())
    for step in (now, now - 1, now + 1):
        if last_step is not None and step <= last_step:
            continue
        if secrets.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def confirm_set_up(passwords: Passwords, user: User, secret: str, code: str) -> list[str] | None:
    """Set up the second factor when ``code`` comes from ``secret``: the ten new recovery
    codes (shown once), or None when the code is wrong. Every remembered device and other
    session of this person ends (a new factor is a new start). The caller commits."""
    step = matching_step(secret, code, None)
    if step is None:
        return None
    user.totp_secret = secret
    user.totp_last_step = step
    user.mfa_set_up_at = clock.now()
    user.mfa_version += 1
    user.session_version += 1
    _end_devices(user)
    return new_recovery_codes(passwords, user)


def new_recovery_codes(passwords: Passwords, user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [
        "-".join("".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(5)) for _ in range(2))
        for _ in range(RECOVERY_CODES)
    ]
    for code in codes:
        db.session.add(RecoveryCode(user_id=user.id, code_hash=passwords.hash(_clean(code))))
    return codes


def recovery_codes_left(user: User) -> int:
    return len(
        db.session.scalars(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )


def check_code(passwords: Passwords, user: User, code: str) -> str | None:
    """How ``code`` lets this person in ("totp" or "recovery"), using it up; None when it
    does not. The caller commits."""
    if user.totp_secret is None:
        return None
    step = matching_step(user.totp_secret, code, user.totp_last_step)
    if step is not None:
        # Only a later step may be stored: a concurrent request with the same code loses.
        done = db.session.execute(
            update(User)
            .where(User.id == user.id)
            .where((User.totp_last_step.is_(None)) | (User.totp_last_step < step))
            .values(totp_last_step=step)
            .execution_options(synchronize_session=False)
        )
        if done.rowcount == 1:  # type: ignore[attr-defined]
            user.totp_last_step = step
            return "totp"
        return None
    cleaned = _clean(code).lower()
    if len(cleaned) != 10:
        return None
    unused = db.session.scalars(
        select(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ).all()
    for row in unused:
        if passwords.verify(row.code_hash, cleaned):
            used = db.session.execute(
                update(RecoveryCode)
                .where(RecoveryCode.id == row.id, RecoveryCode.used_at.is_(None))
                .values(used_at=clock.now())
                .execution_options(synchronize_session=False)
            )
            return "recovery" if used.rowcount == 1 else None  # type: ignore[attr-defined]
    return None


# --- remembered devices -----------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def remember_device(user: User) -> str:
    """A new random token for this browser (its hash is stored): the cookie carries it.
    The caller commits."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    db.session.add(
        RememberedDevice(
            user_id=user.id,
            token_hash=_hash(token),
            mfa_version=user.mfa_version,
            created_at=now,
            expires_at=now + timedelta(days=REMEMBER_DAYS),
        )
    )
    return token


def device_remembered(user: User, token: str) -> bool:
    """True when ``token`` is a live remembered device of this person, made since their
    second factor was last set up or reset, and not yet 30 days old."""
    row = db.session.scalar(
        select(RememberedDevice).where(RememberedDevice.token_hash == _hash(token))
    )
    return (
        row is not None
        and row.user_id == user.id
        and row.mfa_version == user.mfa_version
        and row.ended_at is None
        and row.expires_at > clock.now()
        and row.expires_at - row.created_at <= timedelta(days=REMEMBER_DAYS)
    )


def _end_devices(user: User) -> None:
    db.session.execute(
        update(RememberedDevice)
        .where(RememberedDevice.user_id == user.id, RememberedDevice.ended_at.is_(None))
        .values(ended_at=clock.now())
        .execution_options(synchronize_session=False)
    )


def reset(user: User) -> None:
    """A manager's reset: the code app and recovery codes are forgotten, every remembered
    device and session ends, and the person sets a second factor up again when they next
    sign in. The caller audits and commits."""
    user.totp_secret = None
    user.totp_last_step = None
    user.mfa_set_up_at = None
    user.mfa_version += 1
    user.session_version += 1
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    _end_devices(user)
