"""Deadlines of appeals in working time (geogrid.workcalendar + the deployment's overrides).

The clock starts at dispatch (派单): due = clock start + the category's limit + extensions +
the working time spent suspended (挂账). Everything is kept in working minutes on the appeal,
so the deadline can be recomputed exactly after a pause or an extension:

    limit_minutes      the category's limit when the clock started (hours × 60, days × a day)
    extension_minutes  added by approved extensions (延期)
    paused_minutes     working time spent suspended, added when the appeal resumes
    due_at, warn_at    derived: clock start + budget (+ pauses); warn_at at the warning ratio

These helpers only change fields of the (locked) appeal object; layers.appeals.workflow saves it.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from geogrid.calendar_db import working_calendar
from geogrid.workcalendar import WorkingCalendar
from layers.appeals.models import CLOCK_STATUSES, Appeal, AppealEvent, Category, DeadlineUnit


def warning_ratio() -> float:
    return float(settings.GEOGRID.get("DEADLINE_WARNING_RATIO", 0.8))


def category_limit_minutes(category: Category, cal: WorkingCalendar) -> int:
    """The category's time limit in working minutes (a working day = the day's working hours)."""
    if category.deadline_unit == DeadlineUnit.WORKING_HOURS:
        return int(category.deadline_value) * 60
    return int(category.deadline_value) * cal.minutes_per_day


def start_clock(appeal: Appeal, at: dt.datetime, cal: WorkingCalendar | None = None) -> None:
    """(Re)start the clock at `at` with the category's limit: dispatch, re-dispatch, reopen."""
    cal = cal or working_calendar()
    appeal.clock_started_at = at
    appeal.limit_minutes = category_limit_minutes(appeal.category, cal)
    appeal.extension_minutes = 0
    appeal.paused_minutes = 0
    appeal.paused_at = None
    appeal.warned_at = None
    appeal.overdue_escalated_at = None
    appeal.resolved_at = None
    appeal.handling_minutes = None
    recompute(appeal, at, cal)


def recompute(appeal: Appeal, now: dt.datetime, cal: WorkingCalendar | None = None) -> None:
    """Derive due_at/warn_at; a deadline moved past `now` may warn and escalate again."""
    if appeal.clock_started_at is None or appeal.limit_minutes is None:
        appeal.due_at = appeal.warn_at = None
        return
    cal = cal or working_calendar()
    budget = appeal.limit_minutes + appeal.extension_minutes
    start = appeal.clock_started_at
    appeal.due_at = cal.add_working_minutes(start, budget + appeal.paused_minutes)
    appeal.warn_at = cal.add_working_minutes(start, budget * warning_ratio()
                                             + appeal.paused_minutes)
    if appeal.warn_at > now:
        appeal.warned_at = None
    if appeal.due_at > now:
        appeal.overdue_escalated_at = None


def pause(appeal: Appeal, at: dt.datetime) -> None:
    appeal.paused_at = at


def resume(appeal: Appeal, at: dt.datetime, cal: WorkingCalendar | None = None) -> float:
    """Add the working time spent suspended to the budget; returns those minutes."""
    cal = cal or working_calendar()
    paused = cal.working_minutes_between(appeal.paused_at, at) if appeal.paused_at else 0.0
    appeal.paused_minutes += paused
    appeal.paused_at = None
    recompute(appeal, at, cal)
    return paused


def extend(appeal: Appeal, minutes: int, at: dt.datetime,
           cal: WorkingCalendar | None = None) -> None:
    appeal.extension_minutes += minutes
    recompute(appeal, at, cal)


def stop_clock(appeal: Appeal, at: dt.datetime, cal: WorkingCalendar | None = None) -> None:
    """Resolution: record the working time used, pauses excluded."""
    cal = cal or working_calendar()
    appeal.resolved_at = at
    if appeal.clock_started_at is not None:
        used = cal.working_minutes_between(appeal.clock_started_at, at) - appeal.paused_minutes
        appeal.handling_minutes = round(max(used, 0.0), 2)


def is_overdue(appeal: Appeal, now: dt.datetime | None = None) -> bool:
    """Late: still running past its deadline, or resolved after it."""
    if appeal.due_at is None:
        return False
    if appeal.resolved_at is not None:
        return appeal.resolved_at > appeal.due_at
    if appeal.status in CLOCK_STATUSES:
        return (now or timezone.now()) > appeal.due_at
    return False


def backfill(appeals: list[Appeal], cal: WorkingCalendar | None = None) -> list[Appeal]:
    """Deadlines and handling times for imported history that carries dispatch/resolution
    times but no workflow columns (demo data, 12345 exports). Caller saves (bulk_update)."""
    cal = cal or working_calendar()
    for appeal in appeals:
        if appeal.dispatched_at is None:
            continue
        resolved = appeal.resolved_at
        appeal.clock_started_at = appeal.dispatched_at
        appeal.limit_minutes = category_limit_minutes(appeal.category, cal)
        appeal.paused_minutes = appeal.paused_minutes or 0
        recompute(appeal, appeal.dispatched_at, cal)
        if resolved is not None:
            stop_clock(appeal, resolved, cal)
    return appeals


BACKFILL_FIELDS = ["clock_started_at", "limit_minutes", "due_at", "warn_at", "resolved_at",
                   "handling_minutes"]


def recompute_running(sender=None, *, dates: frozenset[dt.date], actor=None, **kwargs) -> int:
    """Receiver of geogrid.signals.working_calendar_changed: re-derive the deadlines of running
    appeals that reach a changed day, with a timeline row for each one that moved. Returns how
    many moved. A deadline before the first changed day cannot depend on it."""
    if not dates:
        return 0
    cal = working_calendar()
    first = dt.datetime.combine(min(dates), dt.time.min, tzinfo=cal.tz)
    now = timezone.now()
    moved: list[Appeal] = []
    events: list[AppealEvent] = []
    with transaction.atomic():
        rows = (Appeal.objects.select_for_update().select_related("category")
                .filter(status__in=CLOCK_STATUSES, clock_started_at__isnull=False,
                        due_at__gte=first)
                .order_by("id"))
        for appeal in rows:
            old_due = appeal.due_at
            recompute(appeal, now, cal)
            if appeal.due_at == old_due:
                continue
            moved.append(appeal)
            events.append(AppealEvent(
                appeal=appeal, kind=AppealEvent.Kind.RECALENDARED, at=now, actor=actor,
                actor_role="system", from_status=appeal.status, to_status=appeal.status,
                data={"from_due_at": old_due.isoformat() if old_due else None,
                      "due_at": appeal.due_at.isoformat() if appeal.due_at else None},
            ))
        Appeal.objects.bulk_update(
            moved, ["due_at", "warn_at", "warned_at", "overdue_escalated_at"], batch_size=1000)
        AppealEvent.objects.bulk_create(events, batch_size=1000)
    return len(moved)


def provisional_years(appeal: Appeal, cal: WorkingCalendar | None = None) -> list[int]:
    """Years between the clock start and the deadline whose holiday schedule is not known."""
    if appeal.clock_started_at is None or appeal.due_at is None:
        return []
    return (cal or working_calendar()).provisional_years(appeal.clock_started_at, appeal.due_at)
