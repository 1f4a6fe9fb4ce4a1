"""The deadline watcher (`manage.py escalate_overdue`, every minute from cron).

It finds running appeals past their warning point or their deadline and takes the internal
actions `warn` and `overdue` (layers.appeals.transitions) on each, through the same
transition frame as a person's action: row lock, state check, version, timeline row,
notifications. Each appeal is its own transaction; the action re-checks its condition under
the lock, so two runs at once, or a run racing a dispatcher's extension, act at most once per
deadline (the loser finds NothingToDo and writes nothing).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone

from layers.appeals.actors import SYSTEM
from layers.appeals.models import CLOCK_STATUSES, Appeal, AppealEvent
from layers.appeals.transitions import NothingToDo, escalate_as_overdue, warn

# Sent after the appeals are swept, with `now` and `lines` (a list receivers append their
# report lines to): other layers' clocks (layers.whistles) ride on the same cron job.
deadline_sweep = Signal()


@dataclass
class OverdueReport:
    warned: list[str] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)
    overdue_at_top: list[str] = field(default_factory=list)
    others: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [f"warned: {len(self.warned)} {' '.join(self.warned[:20])}".rstrip(),
                f"escalated: {len(self.escalated)} {' '.join(self.escalated[:20])}".rstrip(),
                f"overdue, nothing above to escalate to: {len(self.overdue_at_top)}",
                *self.others]


def escalate_overdue(now: dt.datetime | None = None) -> OverdueReport:
    """Warn at the warning ratio, escalate overdue appeals one grid level — each once per
    deadline (warned_at / overdue_escalated_at), so running it every minute is safe."""
    now = now or timezone.now()
    report = OverdueReport()
    due = (
        Appeal.objects.filter(status__in=CLOCK_STATUSES, due_at__isnull=False)
        .filter(Q(due_at__lte=now, overdue_escalated_at__isnull=True)
                | Q(warn_at__lte=now, warned_at__isnull=True, due_at__gt=now))
        .order_by("due_at", "id").values_list("id", "due_at")
    )
    for appeal_id, due_at in list(due):
        ref = Appeal(pk=appeal_id)  # the frame locks and reloads it
        try:
            if due_at <= now:
                appeal = escalate_as_overdue(ref, SYSTEM, at=now)
                moved = appeal.events.filter(kind=AppealEvent.Kind.OVERDUE).latest("id")
                target = report.escalated if moved.data.get("escalated") else \
                    report.overdue_at_top
                target.append(appeal.tracking)
            else:
                report.warned.append(warn(ref, SYSTEM, at=now).tracking)
        except NothingToDo:
            continue
    deadline_sweep.send(sender=OverdueReport, now=now, lines=report.others)
    return report
