"""The deployment's working calendar: working hours from settings, China's holidays from
chinese_calendar, and the deployment's own WorkingDayOverride rows on top."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings

from geogrid.models import WorkingDayOverride
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
    """One query for the override table (a few rows per year); cheap enough per call."""
    overrides = dict(WorkingDayOverride.objects.values_list("date", "is_working"))
    return WorkingCalendar(
        tz=ZoneInfo(settings.TIME_ZONE), periods=working_periods(), overrides=overrides
    )
