"""The visit plan: which visits a subject is owed and when (the rules of docs/care.md).

- A regular visit is due one colour interval after the last visit that counts (red 7 days,
  yellow 30, blue 90 ⚙ CARE["INTERVAL_DAYS"]); at enrolment, one interval after approval.
- A 必要访 is due within CARE["NECESSARY_HOURS"] (24) of a trigger.
- An extra round is due when community staff said.
- A visit counts — meets the open dues and restarts the regular clock — only when its mode
  counts for the subject's colour (⚙ CARE["COUNTING_MODES"]: a phone call does not count for
  red). Visits that do not count are recorded and change nothing in the plan.

Each function runs inside the caller's transaction, with the subject row locked.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Q

from layers.care.models import CareSubject, Visit, VisitDue

OPEN = Q(met_at__isnull=True, cancelled_at__isnull=True)


def care_setting(key: str):
    return settings.GEOGRID["CARE"][key]


def interval(colour: str) -> dt.timedelta:
    return dt.timedelta(days=care_setting("INTERVAL_DAYS")[colour])


def counts(mode: str, colour: str) -> bool:
    return mode in care_setting("COUNTING_MODES")[colour]


def necessary_due(at: dt.datetime) -> dt.datetime:
    return at + dt.timedelta(hours=care_setting("NECESSARY_HOURS"))


def schedule_regular(subject: CareSubject, at: dt.datetime, user=None) -> VisitDue:
    """Replace the open regular due by one interval after the last counting visit (or after
    `at` when there is none); a due that would already be past is set one 必要访 window after
    `at` instead, so a new colour never makes a subject overdue on the spot."""
    VisitDue.objects.filter(OPEN, subject=subject, kind=VisitDue.Kind.REGULAR).update(
        cancelled_at=at)
    start = subject.last_visit_at or at
    due = start + interval(subject.colour)
    if due < at:
        due = necessary_due(at)
    return VisitDue.objects.create(subject=subject, kind=VisitDue.Kind.REGULAR, due_at=due,
                                   created_at=at, created_by=user)


def add_necessary(subject: CareSubject, trigger: str, at: dt.datetime, user=None,
                  note: str = "") -> VisitDue:
    # Already warned: the visitors are told at once (services.trigger), not two days before.
    return VisitDue.objects.create(subject=subject, kind=VisitDue.Kind.NECESSARY,
                                   trigger=trigger, due_at=necessary_due(at), created_at=at,
                                   created_by=user, note=note[:200], warned_at=at)


def meet(subject: CareSubject, visit: Visit) -> list[int]:
    """A counting visit meets the open regular due and every 必要访 or extra due ordered
    before it ended (a visit before a trigger does not answer it), and restarts the clock."""
    answered = VisitDue.objects.filter(OPEN, subject=subject).filter(
        Q(kind=VisitDue.Kind.REGULAR) | Q(created_at__lte=visit.ended_at))
    met = list(answered.select_for_update().values_list("pk", flat=True))
    VisitDue.objects.filter(pk__in=met).update(met_at=visit.ended_at, met_by=visit)
    if subject.last_visit_at is None or visit.started_at > subject.last_visit_at:
        subject.last_visit_at = visit.started_at
        subject.save(update_fields=["last_visit_at"])
    schedule_regular(subject, visit.ended_at, visit.recorded_by)
    return met  # the ids of the dues it met


def close_all(subject: CareSubject, at: dt.datetime) -> int:
    """On exit: nothing is owed any more."""
    return VisitDue.objects.filter(OPEN, subject=subject).update(cancelled_at=at)


def next_due(subject: CareSubject) -> VisitDue | None:
    return VisitDue.objects.filter(OPEN, subject=subject).order_by("due_at", "id").first()
