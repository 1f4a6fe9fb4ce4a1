"""The analytics refresh per month on the city-scale sample (1,000,000 appeals): a full refresh
(every month rebuilt — the obvious alternative, and what every refresh did before) against an
incremental refresh after one day's new appeals (the common case: one month rebuilt), an
incremental refresh with nothing changed, and a status change in an old month (results:
docs/benchmarks.md, "Analytics refresh per month").

    GEOGRID_BENCH_DB=geogrid_hD_city .venv/bin/python bench/bench_tiles.py --setup   # once
    GEOGRID_BENCH_DB=geogrid_hD_city .venv/bin/python bench/bench_refresh.py [--runs 2]

The day's new appeals are copies of the sample's last day (2026-10-31) as new rows (new ids,
same places and categories); they are deleted at the end and October is rebuilt once more, so
the database is left as it was.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._analytics_db import use_bench_db

DAY = "2026-10-31"
OLD_MONTH = "2026-03"
TAG = "BENCHDAY"  # tracking prefix of the copies


def _load() -> str:
    return Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() \
        else f"{os.getloadavg()[0]:.2f}"


def _copy_day(cursor) -> int:
    """One day's new appeals: the last day's appeals again as new rows."""
    cursor.execute(
        """SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute
           WHERE attrelid = 'layers_appeal'::regclass AND attnum > 0 AND NOT attisdropped
             AND attname NOT IN ('id', 'tracking', 'public_id', 'source_ref', 'on_time')
             AND attgenerated = ''"""
    )
    cols = cursor.fetchone()[0]
    cursor.execute(
        f"""INSERT INTO layers_appeal (tracking, public_id, source_ref, {cols})
            SELECT %s || id, gen_random_uuid(), '', {cols} FROM layers_appeal
            WHERE reported_at >= %s::date AND reported_at < %s::date + 1
              AND tracking NOT LIKE %s""",
        [TAG, DAY, DAY, TAG + "%"],
    )
    return cursor.rowcount


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--skip-full", action="store_true")
    args = parser.parse_args()
    use_bench_db()
    from django.core.management import call_command
    from django.db import connection

    from layers.analytics.snapshot import parse_month, refresh

    call_command("migrate", "analytics", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM layers_appeal")
        appeals = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM analytics_month")
        months = cursor.fetchone()[0]
    print(f"{appeals:,} appeals; {months} months built; load {_load()}")

    def timed(label: str, **kw) -> float:
        report = refresh(**kw)
        rebuilt = ",".join(f"{m:%Y-%m}" for m in report.months) or "none"
        print(f"{label:<34} {report.seconds:7.2f} s  rebuilt {len(report.months):>2} "
              f"({rebuilt[:40]}) kept {report.kept:>2}; {report.facts:,} facts, "
              f"{report.cube_rows:,} bins; swap {report.swap_ms:.0f} ms; load {_load()}")
        sys.stdout.flush()
        return report.seconds

    if not args.skip_full:
        full = [timed("full refresh", full=True) for _ in range(args.runs)]
        print(f"full: median {statistics.median(full):.1f} s")
    timed("incremental, nothing changed")
    for _ in range(args.runs):
        with connection.cursor() as cursor:
            n = _copy_day(cursor)
        print(f"+ {n:,} new appeals on {DAY}")
        timed("incremental after one day's appeals")
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM layers_appeal WHERE tracking LIKE %s", [TAG + "%"])
        timed("incremental after deleting them")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE layers_appeal SET status = status WHERE id IN (SELECT id FROM layers_appeal"
            " WHERE reported_at >= %s AND reported_at < %s LIMIT 10)",
            [f"{OLD_MONTH}-10", f"{OLD_MONTH}-11"],
        )
    timed(f"incremental after 10 rewrites in {OLD_MONTH}")
    timed(f"--month {OLD_MONTH}", months=[parse_month(OLD_MONTH)])


if __name__ == "__main__":
    main()
