"""Care figures per grid and month (layers.care.stats.care_stats) on the county sample, with
the obvious alternative measured in the same run (results: docs/benchmarks.md, "Care visits").

    DATABASE_URL=… .venv/bin/python bench/care_stats.py [--runs 10] [--months 12]

Needs the county sample loaded (bench/care_common.py). The period is the --months months up to
the sample's last month, "now" its last day + 1; each figure is p50/p95 of --runs calls after a
warm-up:

- the whole county by community (by=3): every community × month in one statement;
- the community with the most subjects by micro-grid (by=5);
- alternative: one care_stats call per month (the loop a per-month report would write), whose
  rows must equal the single statement's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from operator import attrgetter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.care_common import LAST_DAY, at, django_setup, header, ms, p50_p95, timings


def month_add(day: dt.date, months: int) -> dt.date:
    n = day.year * 12 + day.month - 1 + months
    return dt.date(n // 12, n % 12 + 1, 1)


def busiest_community() -> tuple[str, int]:
    """The community (code) with the most care subjects living in it, and that number."""
    from django.db import connection

    from geogrid.hierarchy import code_lengths

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT left(g.code, %s), count(*) FROM care_caresubject s
                 JOIN people_residence r ON r.person_id = s.person_id AND r.valid_to IS NULL
                 JOIN people_household h ON h.id = r.household_id
                 JOIN people_dwelling d ON d.id = h.dwelling_id
                 JOIN layers_building b ON b.id = d.building_id
                 JOIN geogrid_grid g ON g.id = b.grid_id
                GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1""", [code_lengths()[3]])
        code, n = cursor.fetchone()
    return code, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--loop-runs", type=int, default=3,
                        help="runs of the per-month alternative (a minute each on the county)")
    args = parser.parse_args()
    django_setup()
    from django.db import connection

    from geogrid.models import Grid
    from layers.care.stats import care_stats

    header("care figures (bench/care_stats.py)")
    last = LAST_DAY.replace(day=1)
    first = month_add(last, 1 - args.months)
    now = at(LAST_DAY + dt.timedelta(days=1), 0)
    county = Grid.objects.current().filter(level=1).order_by("code").first()
    assert county is not None, "no district loaded"
    community, subjects = busiest_community()
    print(f"{first:%Y-%m} … {last:%Y-%m} ({args.months} months), now = {now.isoformat()}; "
          f"p50 / p95 of {args.runs} runs after a warm-up\n")
    cases = [(f"county {county.code} by community (by=3)", county.code, 3),
             (f"community {community} ({subjects} subjects) by micro-grid (by=5)", community, 5)]
    for title, prefix, by in cases:
        def one(p: str = prefix, b: int = by) -> list:
            return care_stats(p, b, first, last, now=now).rows

        def per_month(p: str = prefix, b: int = by) -> list:
            rows = []
            for k in range(args.months):
                month = month_add(first, k)
                rows += care_stats(p, b, month, month, now=now).rows
            return sorted(rows, key=attrgetter("code", "month"))

        def without_jit() -> list:
            with connection.cursor() as cursor:
                cursor.execute("SET jit = off")
                try:
                    return one()
                finally:
                    cursor.execute("RESET jit")

        one_t, rows = timings(one, args.runs)
        nojit_t, _ = timings(without_jit, args.runs)
        loop_t, loop_rows = timings(per_month, args.loop_runs, warmup=0)
        assert [(r.code, r.month, r.figures) for r in rows] == [
            (r.code, r.month, r.figures) for r in loop_rows], "the two ways differ"
        grids = len({r.code for r in rows})
        visits = sum(r.figures.visits["total"] for r in rows)
        o50, o95 = p50_p95(one_t)
        l50, l95 = p50_p95(loop_t)
        j50, j95 = p50_p95(nojit_t)
        print(f"{title}: {grids} grids × {args.months} months = {len(rows):,} rows, "
              f"{visits:,} visits")
        print(f"  care_stats, one statement        p50 {ms(o50)}, p95 {ms(o95)}")
        print(f"  alternative: one call per month  p50 {ms(l50)}, p95 {ms(l95)}"
              f"  ({l50 / o50:.1f}× the time, {args.loop_runs} runs; same rows)")
        print(f"  one statement, SET jit = off     p50 {ms(j50)}, p95 {ms(j95)}"
              f"  (the server's JIT compiles the statement on every call)")


if __name__ == "__main__":
    main()
