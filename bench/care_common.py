"""What the care benchmarks (bench/care_*.py) share: Django on the database of DATABASE_URL,
the county sample loaded into it, its dates, and p50/p95 timing.

Load the sample once into a database of its own (migrated, empty):

    .venv/bin/python -m fixtures.city --scale county --seed 1 --out DIR
    DATABASE_URL=… .venv/bin/python manage.py load_city --dir DIR
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
# The sample's last day is 2026-10-31 (fixtures.city.people.TODAY); "now" in the benchmarks is
# fixed relative to it, so every run sees the same dues whatever the wall clock says.
LAST_DAY = dt.date(2026, 10, 31)


def django_setup() -> None:
    if "DATABASE_URL" not in os.environ:
        raise SystemExit("set DATABASE_URL to the database holding the county sample")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geogrid.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    """`hour` o'clock local time on `day`."""
    return dt.datetime.combine(day, dt.time(hour), SHANGHAI)


def timings(fn: Callable[[], Any], runs: int, warmup: int = 1) -> tuple[list[float], Any]:
    """Seconds of `runs` calls after `warmup` untimed ones (plans and caches), and the last
    result."""
    result = None
    for _ in range(warmup):
        result = fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return times, result


def p50_p95(times: list[float]) -> tuple[float, float]:
    """Median and 95th percentile (inclusive method: with few runs, near the maximum)."""
    if len(times) == 1:
        return times[0], times[0]
    return statistics.median(times), statistics.quantiles(times, n=20, method="inclusive")[18]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def sample_sizes() -> dict[str, int]:
    """Row counts of the tables the care benchmarks read (printed with every result)."""
    from django.db import connection

    sql = {
        "residents (open residences)":
            "SELECT count(*) FROM people_residence WHERE valid_to IS NULL",
        "care subjects": "SELECT count(*) FROM care_caresubject",
        "care visits": "SELECT count(*) FROM care_visit",
        "visit dues": "SELECT count(*) FROM care_visitdue",
        "open dues": "SELECT count(*) FROM care_visitdue WHERE met_at IS NULL"
                     " AND cancelled_at IS NULL",
        "care events": "SELECT count(*) FROM care_careevent",
        "micro-grids": "SELECT count(*) FROM geogrid_grid WHERE level = 5"
                       " AND valid_to IS NULL",
    }
    out = {}
    with connection.cursor() as cursor:
        for name, query in sql.items():
            cursor.execute(query)
            out[name] = cursor.fetchone()[0]
    if not out["care subjects"]:
        raise SystemExit("no care subjects: load the county sample first (see bench/care_common)")
    return out


def header(title: str) -> None:
    """What ran where: the machine and the data (docs/benchmarks.md records both)."""
    try:
        load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        load = "?"
    print(f"{title}\n{platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, load average {load}")
    for name, n in sample_sizes().items():
        print(f"  {name:<28} {n:>9,}")
