"""Working hours in England: Monday to Friday, 9:00 to 17:00 local time, not on bank
holidays. An unacknowledged "I need help" escalates after a number of these hours."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cache

import holidays

from memorybox.clock import LOCAL_ZONE

DAY_STARTS = time(9, 0)
DAY_ENDS = time(17, 0)


@cache
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def add_working_hours(start: datetime, hours: float) -> datetime:
    """The moment ``hours`` working hours after ``start`` (an aware datetime), in UTC.

    Time outside working hours does not count: asked at 16:00 on a Friday with 4 hours to
    go, the answer is 12:00 on Monday (or Tuesday after a bank holiday). Zero hours means
    at once."""
    if hours <= 0:
        return start.astimezone(LOCAL_ZONE).astimezone(start.tzinfo)
    remaining = timedelta(hours=hours)
    moment = start.astimezone(LOCAL_ZONE)
    while True:
        day = moment.date()
        opens = datetime.combine(day, DAY_STARTS, LOCAL_ZONE)
        closes = datetime.combine(day, DAY_ENDS, LOCAL_ZONE)
        if is_working_day(day) and moment < closes:
            moment = max(moment, opens)
            left_today = closes - moment
            if remaining <= left_today:
                return (moment + remaining).astimezone(start.tzinfo)
            remaining -= left_today
        # the start of the next day, in local time (so a change of clocks is respected)
        moment = datetime.combine(day + timedelta(days=1), time(0, 0), LOCAL_ZONE)
