"""Look-ups of one appeal on the month-partitioned layers_appeal (docs/partitioning.md) against
the same rows in one plain table, in the same run (results: docs/benchmarks.md, "Appeal
partitions").

    DATABASE_URL=postgres://…/geogrid_hC_city .venv/bin/python bench/bench_partitions.py \
        [--lookups 2000] [--runs 3]

By id alone (the tracking page and /api/v1/appeals/{id} go by tracking number or public id, the
workflow by id): the partitioned table has no index on id alone, so the plan probes every
partition's primary key (id, reported_at). By id through the side table layers_appeal_key (its
primary key gives reported_at, and run-time pruning then probes one partition). By tracking
number (a plain index per partition; the unique one is on the side table). The plain table
(`bench_appeal_plain`, made by CREATE TABLE AS with a primary key and a tracking index, dropped
at the end) is the obvious alternative: no partitioning. Every statement is prepared (as a
web worker's would be after five runs); medians of --runs of p50/p95 over --lookups random
appeals. Needs an appeals table that is already partitioned (migrate first).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time

import psycopg

QUERIES = {
    "partitioned, by id alone": ("SELECT * FROM layers_appeal WHERE id = %s", "id"),
    "partitioned, by id via layers_appeal_key": (
        "SELECT a.* FROM layers_appeal_key k JOIN layers_appeal a"
        " ON a.id = k.appeal_id AND a.reported_at = k.reported_at WHERE k.appeal_id = %s", "id"),
    "partitioned, by id and reported_at": (
        "SELECT * FROM layers_appeal WHERE id = %s AND reported_at = %s", "id+at"),
    "partitioned, by tracking": ("SELECT * FROM layers_appeal WHERE tracking = %s", "tracking"),
    "plain table, by id": ("SELECT * FROM bench_appeal_plain WHERE id = %s", "id"),
    "plain table, by tracking": ("SELECT * FROM bench_appeal_plain WHERE tracking = %s",
                                 "tracking"),
}


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        (parts,) = conn.execute("SELECT count(*) FROM pg_inherits"
                                " WHERE inhparent = 'layers_appeal'::regclass").fetchone()
        (rows,) = conn.execute("SELECT count(*) FROM layers_appeal").fetchone()
        started = time.perf_counter()
        conn.execute("DROP TABLE IF EXISTS bench_appeal_plain")
        conn.execute("CREATE TABLE bench_appeal_plain AS SELECT * FROM layers_appeal")
        conn.execute("ALTER TABLE bench_appeal_plain ADD PRIMARY KEY (id)")
        conn.execute("CREATE INDEX ON bench_appeal_plain (tracking)")
        conn.execute("VACUUM ANALYZE bench_appeal_plain")
        print(f"plain copy made in {time.perf_counter() - started:.1f} s")
        try:
            sample = conn.execute(
                "SELECT id, reported_at, tracking FROM layers_appeal ORDER BY random() LIMIT %s",
                [args.lookups]).fetchall()
            random.shuffle(sample)
            print(f"{rows:,} appeals in {parts} partitions; {len(sample)} look-ups;"
                  f" load {os.getloadavg()[0]:.2f}")
            for name, (sql, by) in QUERIES.items():
                p50s, p95s = [], []
                for _ in range(args.runs):
                    timings = []
                    for id_, at, tracking in sample:
                        params = {"id": [id_], "id+at": [id_, at], "tracking": [tracking]}[by]
                        t0 = time.perf_counter()
                        conn.execute(sql, params, prepare=True).fetchall()
                        timings.append((time.perf_counter() - t0) * 1e6)
                    p50s.append(pct(timings, 0.5))
                    p95s.append(pct(timings, 0.95))
                print(f"{name:<44} p50 {statistics.median(p50s):7.0f} µs"
                      f"   p95 {statistics.median(p95s):7.0f} µs")
            print(f"load after {os.getloadavg()[0]:.2f}")
        finally:
            conn.execute("DROP TABLE IF EXISTS bench_appeal_plain")


if __name__ == "__main__":
    main()
