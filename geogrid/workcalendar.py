"""Working time: China's public holidays and make-up working days, and working hours.

Deadlines count working time only. China moves weekends around its holidays, so a calendar
that skips Saturdays and Sundays is wrong several weeks a year: `chinese_calendar` knows the
State Council's schedule for the years it was released for; a deployment adds the years it does
not know yet (or local exceptions) as overrides, which always win. For a date neither knows,
Monday–Friday is assumed and `is_authoritative` says so, so callers can warn.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import chinese_calendar

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
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:
            return day.weekday() < 5

    def is_authoritative(self, day: dt.date) -> bool:
        """False when neither the overrides nor chinese_calendar know this date's status."""
        if day in self.overrides:
            return True
        try:
            chinese_calendar.is_workday(day)
        except NotImplementedError:
            return False
        return True

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


def _minutes(start: dt.time, end: dt.time) -> int:
    return (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
