"""The deployment's working calendar: working hours from settings, China's holidays from
chinese_calendar (or, provisionally, `holidays`), and the deployment's own WorkingDayOverride
rows and imported HolidaySchedule years on top."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings

from geogrid.models import HolidaySchedule, WorkingDayOverride
from geogrid.workcalendar import DEFAULT_PERIODS, Period, WorkingCalendar


def working_periods() -> tuple[Period, ...]:
    """settings.GEOGRID["WORKING_PERIODS"]: (("08:30", "12:00"), ("14:00", "17:30")) style."""
    raw = settings.GEOGRID.get("WORKING_PERIODS")
    if not raw:
        return DEFAULT_PERIODS
    return tuple(
        (dt.time.fromisoformat(str(start)), dt.time.fromisoformat(str(end))) for start, end in raw
    )


def working_calendar() -> WorkingCalendar:
    """Two small queries (a few override rows per year); cheap enough per call."""
    overrides = dict(WorkingDayOverride.objects.values_list("date", "is_working"))
    imported = frozenset(HolidaySchedule.objects.values_list("year", flat=True))
    return WorkingCalendar(
        tz=ZoneInfo(settings.TIME_ZONE), periods=working_periods(), overrides=overrides,
        imported_years=imported,
    )
