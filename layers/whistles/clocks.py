"""The whistle clocks: report-in per unit, completion per whistle (settings GEOGRID["WHISTLES"]).

An emergency's clocks run in wall-clock time — the 30 minutes to report in run through the
night and through holidays. Every other reason's clocks run in working time on the working
calendar (geogrid.calendar_db, with the deployment's overrides), like appeal deadlines. Each
clock also has a warning point at WARN_RATIO of its length.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from geogrid.calendar_db import working_calendar
from geogrid.workcalendar import WorkingCalendar
from layers.whistles.models import Reason


def _conf(key: str) -> float:
    return float(settings.GEOGRID["WHISTLES"][key])


def _span(start: dt.datetime, *, wall: dt.timedelta | None, working_minutes: float,
          ratio: float, cal: WorkingCalendar | None) -> tuple[dt.datetime, dt.datetime]:
    """(due, warn) from `start`: wall-clock when `wall` is given, else working minutes."""
    if wall is not None:
        return start + wall, start + wall * ratio
    cal = cal or working_calendar()
    return (cal.add_working_minutes(start, working_minutes),
            cal.add_working_minutes(start, working_minutes * ratio))


def report_clock(reason: str, notified_at: dt.datetime, cal: WorkingCalendar | None = None
                 ) -> tuple[dt.datetime, dt.datetime]:
    """(report_due_at, report_warn_at) of a unit notified at `notified_at` (`cal`: a working
    calendar already read, for bulk work)."""
    ratio = _conf("WARN_RATIO")
    if reason == Reason.EMERGENCY:
        return _span(notified_at, wall=dt.timedelta(minutes=_conf("EMERGENCY_REPORT_MINUTES")),
                     working_minutes=0, ratio=ratio, cal=cal)
    cal = cal or working_calendar()
    minutes = _conf("REPORT_WORKING_DAYS") * cal.minutes_per_day
    return _span(notified_at, wall=None, working_minutes=minutes, ratio=ratio, cal=cal)


def completion_clock(reason: str, blown_at: dt.datetime, cal: WorkingCalendar | None = None
                     ) -> tuple[dt.datetime, dt.datetime]:
    """(due_at, warn_at) of a whistle blown at `blown_at`."""
    ratio = _conf("WARN_RATIO")
    if reason == Reason.EMERGENCY:
        return _span(blown_at, wall=dt.timedelta(hours=_conf("EMERGENCY_COMPLETE_HOURS")),
                     working_minutes=0, ratio=ratio, cal=cal)
    cal = cal or working_calendar()
    minutes = _conf("COMPLETE_WORKING_DAYS") * cal.minutes_per_day
    return _span(blown_at, wall=None, working_minutes=minutes, ratio=ratio, cal=cal)
