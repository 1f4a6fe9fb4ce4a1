"""The whistle clocks' watcher: warnings and escalation to the district (docs/whistles.md).

Runs inside the existing deadline watcher (`manage.py escalate_overdue`, every minute from
cron: the appeals layer sends `deadline_sweep`, connected below) and alone as
`manage.py whistle_overdue`. Four set-based steps, each one `SELECT … FOR UPDATE WHERE <mark>
IS NULL` and one UPDATE setting the mark, so a row is marked exactly once however many runs
overlap (the second run's SELECT waits for the first's row locks, re-checks the row, and no
longer matches it), and only the rows it marked get a timeline row and a notice:

- a unit still only notified at its warning point → warned (its members are told);
- a unit still only notified at its report-in limit → escalated to the district's dispatchers;
- a running whistle at its warning point → the blowing office is told;
- a running whistle past its completion limit → escalated to the district's dispatchers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F
from django.dispatch import receiver
from django.utils import timezone

from layers.appeals.escalation import deadline_sweep
from layers.whistles import notices
from layers.whistles.models import Whistle, WhistleEvent, WhistleUnit

SYSTEM_ROLE = "system"


@dataclass
class SweepReport:
    units_warned: list[int] = field(default_factory=list)
    units_late: list[int] = field(default_factory=list)
    whistles_warned: list[int] = field(default_factory=list)
    whistles_overdue: list[int] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [f"whistle units warned: {len(self.units_warned)}",
                f"whistle units late, escalated to the district: {len(self.units_late)}",
                f"whistles warned: {len(self.whistles_warned)}",
                f"whistles overdue, escalated to the district: {len(self.whistles_overdue)}"]


def _mark_units(now: dt.datetime, due: str, mark: str) -> list[WhistleUnit]:
    rows = list(WhistleUnit.objects.select_for_update(of=("self",))
                .select_related("whistle__subdistrict", "department").filter(
                    status=WhistleUnit.Status.NOTIFIED, whistle__status__in=Whistle.RUNNING,
                    **{f"{due}__lte": now, f"{mark}__isnull": True}))
    WhistleUnit.objects.filter(pk__in=[u.pk for u in rows]).update(**{mark: now})
    return rows


def _mark_whistles(now: dt.datetime, due: str, mark: str) -> list[Whistle]:
    rows = list(Whistle.objects.select_for_update(of=("self",)).select_related("subdistrict")
                .filter(
        status__in=Whistle.RUNNING, **{f"{due}__lte": now, f"{mark}__isnull": True}))
    Whistle.objects.filter(pk__in=[w.pk for w in rows]).update(**{mark: now})
    return rows


def _record(whistle: Whistle, unit: WhistleUnit | None, kind: str, at: dt.datetime,
            data: dict) -> None:
    WhistleEvent.objects.create(whistle=whistle, unit=unit, kind=kind, at=at,
                                actor_role=SYSTEM_ROLE, data=data)


def sweep(now: dt.datetime | None = None) -> SweepReport:
    """Warn and escalate; each unit and whistle at most once per mark (idempotent)."""
    now = now or timezone.now()
    report = SweepReport()
    with transaction.atomic():
        for unit in _mark_units(now, "report_warn_at", "report_warned_at"):
            _record(unit.whistle, unit, "warn", now, {"department": unit.department.code,
                                                      "due": unit.report_due_at.isoformat()})
            notices.send(notices.unit_members([unit]), unit.whistle, event="warn",
                         what="report-in", due=unit.report_due_at.isoformat())
            report.units_warned.append(unit.pk)
        for unit in _mark_units(now, "report_due_at", "report_overdue_at"):
            _record(unit.whistle, unit, "late", now, {"department": unit.department.code,
                                                      "due": unit.report_due_at.isoformat()})
            notices.send(notices.district_dispatchers(unit.whistle.district_code)
                         + notices.blowing_office(unit.whistle.subdistrict.code),
                         unit.whistle, event="overdue", department=unit.department.code,
                         what=f"report-in of {unit.department.code}",
                         due=unit.report_due_at.isoformat())
            report.units_late.append(unit.pk)
        for whistle in _mark_whistles(now, "warn_at", "warned_at"):
            _record(whistle, None, "warn", now, {"due": _iso(whistle.due_at)})
            notices.send(notices.blowing_office(whistle.subdistrict.code), whistle,
                         event="warn", what="completion", due=_iso(whistle.due_at))
            report.whistles_warned.append(whistle.pk)
        for whistle in _mark_whistles(now, "due_at", "overdue_at"):
            _record(whistle, None, "overdue", now, {"due": _iso(whistle.due_at)})
            notices.send(notices.district_dispatchers(whistle.district_code), whistle,
                         event="overdue", what="completion", due=_iso(whistle.due_at))
            report.whistles_overdue.append(whistle.pk)
        Whistle.objects.filter(pk__in=report.whistles_overdue).update(version=F("version") + 1)
    return report


def _iso(moment: dt.datetime | None) -> str:
    return moment.isoformat() if moment else ""


@receiver(deadline_sweep)
def _on_sweep(sender: object, *, now: dt.datetime, lines: list[str], **kwargs: object) -> None:
    lines.extend(sweep(now).lines())
