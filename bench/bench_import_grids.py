"""Benchmark: import a city's grid hierarchy (20,000 micro-grids + ancestors) with validation.

    python -m fixtures.city --scale city --out var/sample/city-1      # once, takes minutes
    .venv/bin/python bench/bench_import_grids.py var/sample/city-1 [--runs 3]
    .venv/bin/python bench/bench_import_grids.py var/sample/city-1 --resurvey geogrid_city

The five level layers of grids.gpkg are combined into one layer (one import, one transaction,
all or nothing, as a grid manager's file would be) and imported with --commit.

- Default: a first import into a fresh, throwaway database (bench_<name>, dropped afterwards),
  emptied before each run.
- --resurvey TEMPLATE: a re-survey of the whole city into a copy of TEMPLATE (a database that
  already holds the same city's grids, buildings and appeals, e.g. one built by
  `bench_tiles.py --setup`): every boundary moved by --shift metres (default 1 cm, so the
  hierarchy stays consistent), so all grids get new versions and the `boundaries_changed`
  receivers re-assign every building and open appeal near a changed edge. Each run is rolled
  back afterwards; the copy (bench_resurvey_<name>) is dropped at the end.

Prints the phases of each run (read, validate, write, topology, announce = the receivers of
boundaries_changed), the total and the load average. Run it from another checkout
(`git worktree add`) to measure that checkout's code: the script imports the package it sits in.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geogrid.settings")

import django  # noqa: E402

django.setup()

import pandas as pd  # noqa: E402
import psycopg  # noqa: E402
import pyogrio  # noqa: E402
import shapely  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402

from importers.grids import GridImportParams, import_grids  # noqa: E402

LAYERS = ["district", "subdistrict", "community", "zone", "micro_grid"]


def combined_layer(city: Path, out: Path, shift_deg: float = 0.0) -> int:
    frames = [pyogrio.read_dataframe(city / "grids.gpkg", layer=layer) for layer in LAYERS]
    frame = pd.concat(frames, ignore_index=True)[["code", "name", "geometry"]]
    if shift_deg:
        frame["geometry"] = shapely.transform(frame.geometry.values, lambda xy: xy + shift_deg)
    pyogrio.write_dataframe(frame, out, layer="grids", driver="GPKG")
    return len(frame)


class _Rollback(Exception):
    pass


def timed_import(path: Path, rollback: bool) -> tuple[float, object]:
    """One committed import; with `rollback` undone afterwards (an outer transaction)."""
    started = time.perf_counter()
    report = None
    try:
        with transaction.atomic():
            report = import_grids(GridImportParams(path=path, commit=True))
            total = time.perf_counter() - started
            if rollback:
                raise _Rollback
    except _Rollback:
        pass
    return total, report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("city", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--resurvey", metavar="TEMPLATE", help="database holding the city")
    parser.add_argument("--shift", type=float, default=0.01, help="metres, with --resurvey")
    args = parser.parse_args()
    shift_deg = args.shift / 111_000 if args.resurvey else 0.0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "city-grids.gpkg"
        n = combined_layer(args.city, path, shift_deg)
        print(f"{n:,} grids in {path.name} ({path.stat().st_size / 2**20:.0f} MB), code in {ROOT}")
        if args.resurvey:
            _resurvey(args, path)
        else:
            _first_import(args, path)


def _first_import(args: argparse.Namespace, path: Path) -> None:
    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = (
        "bench_" + settings.DATABASES["default"]["NAME"]
    )
    config = setup_databases(verbosity=0, interactive=False)
    try:
        _runs(args.runs, path, rollback=False)
    finally:
        teardown_databases(config, verbosity=0)


def _resurvey(args: argparse.Namespace, path: Path) -> None:
    db = settings.DATABASES["default"]
    copy = "bench_resurvey_" + db["NAME"]
    admin = psycopg.connect(
        dbname="postgres", user=db["USER"], password=db["PASSWORD"], host=db["HOST"],
        port=db["PORT"], autocommit=True,
    )
    admin.execute(f'DROP DATABASE IF EXISTS "{copy}"')
    admin.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{args.resurvey}"')
    connection.close()
    db["NAME"] = copy
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT (SELECT count(*) FROM layers_building),"
                " (SELECT count(*) FROM layers_appeal),"
                " (SELECT count(*) FROM layers_appeal WHERE status NOT IN ('closed'))"
            )
            buildings, appeals, not_closed = cursor.fetchone()
            print(f"{buildings:,} buildings, {appeals:,} appeals ({not_closed:,} not closed)")
        _runs(args.runs, path, rollback=True)
    finally:
        connection.close()
        admin.execute(f'DROP DATABASE IF EXISTS "{copy}"')
        admin.close()


def _runs(runs: int, path: Path, *, rollback: bool) -> None:
    totals = []
    for run in range(1, runs + 1):
        if not rollback:
            _empty()
        total, report = timed_import(path, rollback)
        assert report.ok, report.lines()[:20]
        totals.append(total)
        phases = ", ".join(f"{k} {v:.1f} s" for k, v in report.seconds.items())
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        print(
            f"run {run}: {len(report.created):,} created, {len(report.updated):,} updated in "
            f"{total:.1f} s ({phases}); load {load}"
        )
    print(f"median {statistics.median(totals):.1f} s over {len(totals)} runs")


def _empty() -> None:
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE geogrid_grid CASCADE")


if __name__ == "__main__":
    main()
