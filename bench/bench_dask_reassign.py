"""Dask re-assignment at province scale: one process vs a LocalCluster (results:
docs/benchmarks.md, "Batch re-assignment on Dask").

    .venv/bin/python bench/bench_dask_reassign.py [--points 10000000] [--nx 500 --ny 400]
        [--districts 5] [--months 12] [--changed 0.1] [--workers 2] [--keep]

Creates its own database (geogrid_hB_bench; dropped at the end unless --keep), migrates it,
inserts a lattice province of nx × ny irregular micro-grids (bench/_province.py) and the points
as appeals — assigned already by the service's rules except a share `--changed`, left
unassigned as a boundary change would leave them — then times, in one run:

  A. one process (`run_job` without Dask): the `--changed` share re-assigned;
  B. one process again: nothing to change (read + assign + check only);
  C. LocalCluster(workers), grid index broadcast from the client: nothing to change;
  D. LocalCluster(workers), each worker loads the index itself (disk cache): nothing to change;
  E. the share reset to unassigned, LocalCluster(workers), broadcast: the share re-assigned.

Per partition it records read, assign and write seconds, and projects the time on N machines:
the reads and the assignment spread over the workers; the writes go to the one primary, so
their sum stays serial (the model's floor).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB = "geogrid_hB_bench"


def _env() -> None:
    if "DATABASE_URL" not in os.environ:
        for line in (ROOT / "var" / "geogrid.env").read_text().split():
            key, _, value = line.partition("=")
            os.environ.setdefault(key, value)
    base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    os.environ["GEOGRID_BENCH_ADMIN_URL"] = base + "/postgres"
    os.environ["DATABASE_URL"] = f"{base}/{DB}"
    # Its own index cache folder: the shared one keeps only the newest few files.
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench._bench_settings"


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(os.environ["GEOGRID_BENCH_ADMIN_URL"], autocommit=True) as conn:
        conn.execute(sql)


def load() -> str:
    return open("/proc/loadavg").read().split()[:3].__str__()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=10_000_000)
    parser.add_argument("--nx", type=int, default=500)
    parser.add_argument("--ny", type=int, default=400)
    parser.add_argument("--districts", type=int, default=5)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--changed", type=float, default=0.1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--reuse", action="store_true", help="database is there: skip the load")
    args = parser.parse_args()
    _env()
    if not args.reuse:
        _admin(f'DROP DATABASE IF EXISTS "{DB}"')
        _admin(f'CREATE DATABASE "{DB}"')
    import django

    django.setup()
    import numpy as np
    from django.core.management import call_command
    from django.db import connection, transaction

    from bench import _province
    from geogrid import locate
    from layers.appeals.categories import load_categories
    from layers.batch.cluster import client_for
    from layers.batch.reassign import run_job, start_job

    print(f"load at start {load()}", flush=True)
    try:
        if not args.reuse:
            with connection.cursor() as cursor:
                cursor.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            call_command("migrate", verbosity=0)
            load_categories()
            t = time.perf_counter()
            rows, v = _province.grids(args.nx, args.ny, districts=args.districts, holes=20)
            with transaction.atomic():
                _province.insert_grids(rows)
            print(f"grids: {sum(r[0] == 5 for r in rows):,} micro-grids, {len(rows):,} in all,"
                  f" {time.perf_counter() - t:.1f} s", flush=True)
            t = time.perf_counter()
            index = locate.micro_grid_index()
            print(f"index build {time.perf_counter() - t:.1f} s, rasters "
                  f"{index.nbytes / 2**20:.0f} MiB, load {load()}", flush=True)
            lon, lat = _province.points(args.points, v)
            t = time.perf_counter()
            pre = locate.assign_many(lon, lat)
            print(f"pre-assignment of {len(lon):,} points {time.perf_counter() - t:.1f} s",
                  flush=True)
            rng = np.random.default_rng(5)
            unassigned = rng.random(len(lon)) < args.changed
            grid = np.where(unassigned, -1, pre.grid_id)
            method = np.where(unassigned, locate.METHOD_CODE["unlocated"], pre.method)
            t = time.perf_counter()
            with transaction.atomic():
                n = _province.insert_appeals(
                    lon, lat, _province.district_codes(lon, v, args.districts),
                    months=args.months, grid=grid, method=method)
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE layers_appeal")
            print(f"appeals: {n:,} inserted in {time.perf_counter() - t:.1f} s "
                  f"({int(unassigned.sum()):,} unassigned), load {load()}", flush=True)

        results = []

        def timed(label: str, client=None, index_mode: str = "broadcast") -> None:
            job, parts = start_job(scheduler="local" if client else "")
            before = load()
            report = run_job(job, parts, client=client, index_mode=index_mode)
            times = np.array(report.part_times) if report.part_times else np.zeros((0, 3))
            line = (f"{label:<58} {report.seconds:7.1f} s  {report.rows / report.seconds:>10,.0f}"
                    f" pts/s  changed {report.changed:>9,}  partitions {report.done}"
                    f" failed {len(report.failed)}  load {before} -> {load()}")
            print(line, flush=True)
            if len(times):
                read, assign, write = times.sum(axis=0)
                longest = times.sum(axis=1).max()
                print(f"    per partition: read {read:.1f} s, assign {assign:.1f} s, write "
                      f"{write:.1f} s in all; longest partition {longest:.2f} s", flush=True)
                results.append((label, report.seconds, read, assign, write, longest))

        timed(f"A one process, {args.changed:.0%} changed")
        timed("B one process, nothing changed")
        # A fresh cluster for each index mode: a worker keeps the index it was sent.
        with client_for(None, args.workers) as client:
            timed(f"C LocalCluster({args.workers}) broadcast index, nothing changed", client)
        with client_for(None, args.workers) as client:
            timed(f"D LocalCluster({args.workers}) index per worker, nothing changed", client,
                  "worker")
            timed(f"D2 LocalCluster({args.workers}) index per worker (warm), nothing changed",
                  client, "worker")
            t = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE layers_appeal SET grid_id = NULL, assignment = 'unlocated'"
                    " WHERE id IN (SELECT appeal_id FROM layers_reassignment)")
                reset = cursor.rowcount
                cursor.execute("VACUUM ANALYZE layers_appeal")
            print(f"reset {reset:,} appeals in {time.perf_counter() - t:.1f} s", flush=True)
        with client_for(None, args.workers) as client:
            timed(f"E LocalCluster({args.workers}) broadcast index, {args.changed:.0%} changed",
                  client)
        print("\nprojection to N machines of 2 workers (compute spread, writes serial on the "
              "primary):")
        for label, total, read, assign, write, longest in results:
            for machines in (1, 2, 4, 8, 16):
                workers = 2 * machines
                projected = max((read + assign) / workers + write, longest)
                print(f"  {label[:40]:<40} N={machines:>2}: {projected:7.1f} s "
                      f"(measured {total:.1f} s)")
    finally:
        connection.close()
        if not args.keep:
            _admin(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
            print(f"dropped {DB}")


if __name__ == "__main__":
    main()
