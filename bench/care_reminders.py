"""The care reminders (layers.care.reminders.remind) over every open due of the county sample,
with the obvious alternative measured in the same run (results: docs/benchmarks.md, "Care
visits").

    DATABASE_URL=… .venv/bin/python bench/care_reminders.py [--runs 5] [--days-after 10]

Needs the county sample loaded (bench/care_common.py). "Now" is 09:00 local time on the
sample's last day + --days-after days, so that red subjects' weekly dues (and the few behind)
fall due or overdue and a share of the others is warned. Each run is one transaction rolled back
at the end (the database is left as it was; the notification backend, which runs on commit,
is not measured):

- first call of remind(now): the three set-based UPDATE … RETURNING steps, timeline rows and
  notifications stored;
- second call at the same now: idempotent, nothing left to stamp (0 notifications).

Alternative: a per-due loop with the ORM doing the same selection — every open due of an active
subject, its home's micro-grid, each step's condition and its recipients counted — select and
count only, no writes (so it does less than remind()). Both must find the same dues and the same
number of recipients.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.care_common import LAST_DAY, at, django_setup, header, ms, p50_p95, timings


@dataclass
class Selection:
    warned: int = 0
    due: int = 0
    escalated: int = 0
    recipients: int = 0
    queries: int = 0


def naive(now: dt.datetime) -> Selection:
    """What remind(now) would do, due by due with the ORM: select and count, no writes."""
    from django.db.models import Q
    from django.utils import timezone

    from geogrid.models import StaffAssignment
    from layers.care import plan
    from layers.care.models import CareVisitor, VisitDue
    from layers.care.notices import CARE_STAFF_POSTS, GRID_POSTS
    from layers.care.plan import care_setting
    from layers.people.models import Residence

    today = timezone.localdate(now)
    warn = dt.timedelta(days=care_setting("WARN_DAYS_BEFORE"))
    late = dt.timedelta(days=care_setting("ESCALATE_DAYS_AFTER"))
    late_necessary = dt.timedelta(hours=care_setting("NECESSARY_ESCALATE_HOURS"))
    staff = StaffAssignment.objects.current(today).filter(user__is_active=True)
    visitors = CareVisitor.objects.filter(until__isnull=True, user__is_active=True)
    out = Selection()
    dues = (VisitDue.objects.filter(plan.OPEN, subject__status="active")
            .select_related("subject").order_by("id"))
    for due in dues:
        home = (Residence.objects.filter(person_id=due.subject.person_id, valid_to__isnull=True)
                .select_related("household__dwelling__building__grid").first())
        grid = home.household.dwelling.building.grid if home else None
        if grid is None:
            continue
        mine = visitors.filter(subject_id=due.subject_id)
        if (due.warned_at is None and due.kind != VisitDue.Kind.NECESSARY
                and now < due.due_at <= now + warn):
            out.warned += 1
            out.recipients += len(set(mine.values_list("user_id", flat=True)))
        if due.notified_at is None and due.due_at <= now:
            out.due += 1
            users = set(staff.filter(post__in=GRID_POSTS, grid__code=grid.code)
                        .values_list("user_id", flat=True))
            users |= set(mine.filter(role=CareVisitor.Role.GRID_WORKER)
                         .values_list("user_id", flat=True))
            out.recipients += len(users)
        wait = late_necessary if due.kind == VisitDue.Kind.NECESSARY else late
        if due.escalated_at is None and due.due_at + wait <= now:
            out.escalated += 1
            above = [grid.code[:n] for n in range(1, len(grid.code) + 1)]  # LIKE code || '%'
            out.recipients += len(set(staff.filter(Q(grid__code__in=above),
                                                   post__in=CARE_STAFF_POSTS)
                                      .values_list("user_id", flat=True)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--days-after", type=int, default=10,
                        help="now = the sample's last day + this many days, 09:00 local")
    parser.add_argument("--loop-runs", type=int, default=2,
                        help="runs of the per-due alternative (about a minute each)")
    args = parser.parse_args()
    django_setup()
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from layers.care.reminders import ReminderReport, remind

    header("care reminders (bench/care_reminders.py)")
    now = at(LAST_DAY + dt.timedelta(days=args.days_after))
    print(f"now = {now.isoformat()}, {args.runs} runs after a warm-up, each rolled back\n")

    @dataclass
    class Run:
        first: ReminderReport
        second: ReminderReport
        first_s: float
        second_s: float
        queries: int

    def both() -> Run:
        with transaction.atomic(), CaptureQueriesContext(connection) as queries:
            first, first_s = _timed(lambda: remind(now))
            second, second_s = _timed(lambda: remind(now))
            transaction.set_rollback(True)
        return Run(first, second, first_s, second_s, len(queries))

    runs = [both() for _ in range(args.runs + 1)][1:]  # the first is the warm-up
    first, second = runs[-1].first, runs[-1].second
    f50, f95 = p50_p95([r.first_s for r in runs])
    s50, s95 = p50_p95([r.second_s for r in runs])
    print(f"remind(now), set-based         p50 {ms(f50)}, p95 {ms(f95)}; "
          f"warned {len(first.warned):,}, due {len(first.due):,}, "
          f"escalated {len(first.escalated):,} dues, {first.notifications:,} notifications")
    print(f"remind(now) again (idempotent) p50 {ms(s50)}, p95 {ms(s95)}; "
          f"{second.notifications} notifications")
    print(f"  SQL statements for both calls: {runs[-1].queries}")

    def loop() -> Selection:
        counted = [0]

        def count(execute: Callable[..., Any], *a: Any) -> Any:
            counted[0] += 1
            return execute(*a)

        # A wrapper counts: CaptureQueriesContext keeps only the last 9,000 statements.
        with transaction.atomic(), connection.execute_wrapper(count):
            out = naive(now)
            transaction.set_rollback(True)
        out.queries = counted[0]
        return out

    times, sel = timings(loop, args.loop_runs, warmup=0)
    n50, n95 = p50_p95(times)
    print(f"alternative: per-due ORM loop   p50 {ms(n50)}, p95 {ms(n95)}; warned {sel.warned:,}, "
          f"due {sel.due:,}, escalated {sel.escalated:,} dues, {sel.recipients:,} recipients, "
          f"{sel.queries:,} SQL statements (select and count only, no writes)")
    same = (sel.warned, sel.due, sel.escalated, sel.recipients) == (
        len(first.warned), len(first.due), len(first.escalated), first.notifications)
    print(f"  same dues and recipients as remind(): {'yes' if same else 'NO'}; "
          f"set-based is {n50 / f50:.0f}× faster (p50)")


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


if __name__ == "__main__":
    main()
