"""Working hours for escalating help: weekdays 9 to 5 in England, bank holidays off."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from memorybox.clock import LOCAL_ZONE
from memorybox.notifications.working_hours import add_working_hours, is_working_day


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=LOCAL_ZONE)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        # inside one working day
        (local(2026, 12, 2, 10, 0), 4, local(2026, 12, 2, 14, 0)),
        # runs past 5pm into the next morning
        (local(2026, 12, 2, 15, 0), 4, local(2026, 12, 3, 11, 0)),
        # Friday afternoon: over the weekend to Monday
        (local(2026, 12, 4, 16, 0), 4, local(2026, 12, 7, 12, 0)),
        # asked at night or at the weekend: the clock starts at 9 on the next working day
        (local(2026, 12, 2, 22, 30), 4, local(2026, 12, 3, 13, 0)),
        (local(2026, 12, 5, 11, 0), 4, local(2026, 12, 7, 13, 0)),
        (local(2026, 12, 2, 6, 0), 1, local(2026, 12, 2, 10, 0)),
        # Christmas 2026: Friday 25th and Monday 28th (Boxing Day's substitute) are off
        (local(2026, 12, 24, 16, 0), 4, local(2026, 12, 29, 12, 0)),
        # the clocks go back on Sunday 25 October 2026: working hours are local hours
        (local(2026, 10, 23, 16, 0), 2, local(2026, 10, 26, 10, 0)),
        # a whole working week
        (local(2026, 12, 7, 9, 0), 40, local(2026, 12, 11, 17, 0)),
    ],
)
def test_working_hours_skip_nights_weekends_and_bank_holidays(
    start: datetime, hours: int, expected: datetime
) -> None:
    assert add_working_hours(start.astimezone(UTC), hours) == expected


def test_zero_hours_means_at_once() -> None:
    moment = datetime(2026, 12, 5, 23, 0, tzinfo=UTC)
    assert add_working_hours(moment, 0) == moment


def test_bank_holidays_are_englands() -> None:
    assert not is_working_day(local(2026, 8, 31).date())  # Summer bank holiday (England)
    assert is_working_day(local(2026, 8, 3).date())  # Scotland's, not England's
    assert not is_working_day(local(2026, 12, 26).date())  # a Saturday anyway
