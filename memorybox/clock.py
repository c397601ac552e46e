"""Time in one place, so "today" means the same thing everywhere (and tests can move it)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

LOCAL_ZONE = ZoneInfo("Europe/London")


def now() -> datetime:
    """The current moment, timezone-aware, in UTC."""
    return datetime.now(UTC)


def today() -> date:
    """Today's date in England, which decides whether a placement or allocation is active."""
    return now().astimezone(LOCAL_ZONE).date()
