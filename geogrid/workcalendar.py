"""Working time: China's public holidays and make-up working days, and working hours.

Deadlines count working time only. China moves weekends around its holidays, so a calendar
that skips Saturdays and Sundays is wrong several weeks a year. A day's status comes from the
first source that knows it:

1. the deployment's overrides (local exceptions, and the State Council's schedule for a year
   once it is imported — `geogrid.holiday_schedule`), which always win;
2. `chinese_calendar`, which knows the State Council's schedule for the years it was released
   for (2004–2026 in 1.11);
3. for later years, the statutory public holidays from `holidays` (it knows 2027's New Year,
   Spring Festival, … but not the make-up working days the State Council announces each
   November), weekends off otherwise.

Answers from 3 are *provisional*: a make-up Saturday counts as a day off and a bridging weekday
as worked until the year's schedule is imported. `is_authoritative` and `provisional_years`
say so, so callers can warn.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import chinese_calendar
import holidays

log = logging.getLogger(__name__)

Period = tuple[dt.time, dt.time]
DEFAULT_PERIODS: tuple[Period, ...] = (
    (dt.time(8, 30), dt.time(12, 0)),
    (dt.time(14, 0), dt.time(17, 30)),
)
# Guard against a calendar with no working days at all (a misconfigured override table).
MAX_DAYS_SCANNED = 3660


@dataclass(frozen=True)
class WorkingCalendar:
    """Working days and hours. Datetimes must be aware; they are handled in `tz`."""

    tz: dt.tzinfo
    periods: Sequence[Period] = DEFAULT_PERIODS
    overrides: Mapping[dt.date, bool] = field(default_factory=dict)
    # Years whose whole schedule the deployment has imported: authoritative from the overrides.
    imported_years: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        last = dt.time.min
        for start, end in self.periods:
            if not (last <= start < end):
                raise ValueError(f"working periods must be ordered and not overlap: {self.periods}")
            last = end

    # -- days -------------------------------------------------------------------------------
    def is_working_day(self, day: dt.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        if chinese_calendar_knows(day.year):
            return chinese_calendar.is_workday(day)
        return day.weekday() < 5 and day not in statutory_holidays(day.year)

    def is_authoritative(self, day: dt.date) -> bool:
        """False when this date's status is only the provisional statutory-holiday guess."""
        return day in self.overrides or self.knows_year(day.year)

    def knows_year(self, year: int) -> bool:
        """True when the State Council's schedule for `year` is known (imported or bundled)."""
        return year in self.imported_years or chinese_calendar_knows(year)

    def provisional_years(self, start: dt.datetime | dt.date,
                          end: dt.datetime | dt.date) -> list[int]:
        """Years between `start` and `end` (inclusive) whose schedule is not known yet."""
        first, last = _local_date(start, self.tz), _local_date(end, self.tz)
        return [y for y in range(first.year, last.year + 1) if not self.knows_year(y)]

    @property
    def minutes_per_day(self) -> int:
        return sum(_minutes(start, end) for start, end in self.periods)

    # -- arithmetic -------------------------------------------------------------------------
    def add_working_minutes(self, start: dt.datetime, minutes: float) -> dt.datetime:
        """The moment `minutes` of working time after `start` (which may be outside hours)."""
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        if minutes < 0:
            raise ValueError("minutes must not be negative")
        local = start.astimezone(self.tz)
        remaining = dt.timedelta(minutes=minutes)
        day = local.date()
        for _ in range(MAX_DAYS_SCANNED):
            if self.is_working_day(day):
                for p_start, p_end in self.periods:
                    begin = max(local, self._at(day, p_start))
                    end = self._at(day, p_end)
                    if begin >= end:
                        continue
                    if begin + remaining <= end:
                        return (begin + remaining).astimezone(start.tzinfo)
                    remaining -= end - begin
            day += dt.timedelta(days=1)
            local = self._at(day, dt.time.min)
        raise ValueError("no working time found within ten years; check the calendar overrides")

    def add_working_hours(self, start: dt.datetime, hours: float) -> dt.datetime:
        return self.add_working_minutes(start, hours * 60)

    def add_working_days(self, start: dt.datetime, days: float) -> dt.datetime:
        """`days` full working days of working time: dispatched at 10:00, due at 10:00."""
        return self.add_working_minutes(start, days * self.minutes_per_day)

    def working_minutes_between(self, start: dt.datetime, end: dt.datetime) -> float:
        """Working time from `start` to `end` in minutes (0 when end is not after start)."""
        if end <= start:
            return 0.0
        local_start, local_end = start.astimezone(self.tz), end.astimezone(self.tz)
        total = dt.timedelta()
        day = local_start.date()
        while day <= local_end.date():
            if self.is_working_day(day):
                for p_start, p_end in self.periods:
                    begin = max(local_start, self._at(day, p_start))
                    stop = min(local_end, self._at(day, p_end))
                    if stop > begin:
                        total += stop - begin
            day += dt.timedelta(days=1)
        return total.total_seconds() / 60

    def _at(self, day: dt.date, time: dt.time) -> dt.datetime:
        # Asia/Shanghai has no DST, but combine through the zone anyway for other deployments.
        return dt.datetime.combine(day, time, tzinfo=self.tz)


@lru_cache(maxsize=64)
def chinese_calendar_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


@lru_cache(maxsize=64)
def statutory_holidays(year: int) -> frozenset[dt.date]:
    """China's statutory public holidays in `year` according to the `holidays` package."""
    return frozenset(holidays.country_holidays("CN", years=year).keys())


def _local_date(value: dt.datetime | dt.date, tz: dt.tzinfo) -> dt.date:
    return value.astimezone(tz).date() if isinstance(value, dt.datetime) else value


def _minutes(start: dt.time, end: dt.time) -> int:
    return (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
