"""Bulk point → micro-grid assignment, compared in one run (results: docs/benchmarks.md).

    .venv/bin/python bench/bench_assignment.py [--grids 20000] [--points 1000000] [--skip-update]

Uses a synthetic Voronoi city (bench/_synthetic.py) inserted into the database inside a
transaction that is rolled back at the end, so the database is left as it was.
Every approach ends with the results written to a table (grid id per point).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geogrid.settings")

import django

django.setup()

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import shapely  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from bench import _synthetic  # noqa: E402
from geogrid import locate as assignment  # noqa: E402


class Rollback(Exception):
    pass


def write_results(ids: np.ndarray, grid: np.ndarray, method: np.ndarray | None = None) -> None:
    """COPY (point id, grid id, method) into a results table: the 'writing' part of end to end."""
    with connection.cursor() as cursor:
        raw = cursor.cursor
        raw.execute("DROP TABLE IF EXISTS _bench_out")
        raw.execute("CREATE TEMP TABLE _bench_out (id int, grid_id bigint, method smallint)")
        m = method if method is not None else np.zeros(len(ids), dtype=np.uint8)
        with raw.copy("COPY _bench_out FROM STDIN") as copy:
            for row in zip(ids.tolist(), grid.tolist(), m.tolist(), strict=True):
                copy.write_row(row)


def timed(label: str, fn, n: int, results: list) -> None:
    started = time.perf_counter()
    fn()
    seconds = time.perf_counter() - started
    results.append((label, seconds, n / seconds))
    print(f"{label:<62} {seconds:7.2f} s {n / seconds:>12,.0f} points/s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--grids", type=int, default=20_000)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--skip-update", action="store_true", help="skip the slow plain UPDATE")
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores;"
          f" {args.grids:,} synthetic Voronoi micro-grids, {args.points:,} points (60 % hotspots)")
    t = time.perf_counter()
    codes, geoms = _synthetic.make_grids(args.grids)
    lon, lat = _synthetic.make_points(args.points)
    ids = np.arange(len(lon), dtype=np.int64)
    print(f"generated in {time.perf_counter() - t:.1f} s; mean vertices per grid "
          f"{shapely.get_num_coordinates(geoms).mean():.0f}")
    results: list = []
    n = len(lon)
    try:
        with transaction.atomic():
            _synthetic.insert_hierarchy(codes, geoms)

            def ours_cold():
                assignment._cached = None
                r = assignment.assign_many(lon, lat)
                write_results(ids, r.grid_id, r.method)
                print("   ", r.counts())

            timed("GeoGrid assign_many, cold (loads index) + COPY results", ours_cold, n, results)

            def ours_warm():
                r = assignment.assign_many(lon, lat)
                write_results(ids, r.grid_id, r.method)

            timed("GeoGrid assign_many, warm index + COPY results", ours_warm, n, results)
            timed("GeoGrid assign_many, warm index, no write",
                  lambda: assignment.assign_many(lon, lat), n, results)

            def sjoin():
                with connection.cursor() as cursor:
                    cursor.execute("SELECT id, code, ST_AsBinary(boundary) FROM geogrid_grid"
                                   " WHERE level = 5 AND valid_to IS NULL")
                    rows = cursor.fetchall()
                grids = gpd.GeoDataFrame(
                    {"id": [r[0] for r in rows], "code": [r[1] for r in rows]},
                    geometry=shapely.from_wkb([bytes(r[2]) for r in rows]), crs=4326)
                pts = gpd.GeoDataFrame({"pid": ids}, geometry=gpd.points_from_xy(lon, lat),
                                       crs=4326)
                joined = gpd.sjoin(pts, grids, predicate="within", how="left")
                joined = joined.sort_values(["pid", "code"]).drop_duplicates("pid")
                write_results(joined["pid"].to_numpy(),
                              joined["id"].fillna(-1).astype(np.int64).to_numpy())

            timed("geopandas.sjoin(within) incl. loading grids + COPY results", sjoin, n,
                  results)

            def load_points():
                with connection.cursor() as cursor:
                    raw = cursor.cursor
                    raw.execute("DROP TABLE IF EXISTS _bench_pts")
                    raw.execute("CREATE TEMP TABLE _bench_pts (id int, lon float8, lat float8,"
                                " grid_id bigint)")
                    with raw.copy("COPY _bench_pts (id, lon, lat) FROM STDIN") as copy:
                        for row in zip(ids.tolist(), lon.tolist(), lat.tolist(), strict=True):
                            copy.write_row(row)
                    raw.execute("ALTER TABLE _bench_pts ADD COLUMN g geometry(Point, 4326)")
                    raw.execute("UPDATE _bench_pts SET g = ST_SetSRID(ST_MakePoint(lon, lat),"
                                " 4326)")
                    raw.execute("CREATE INDEX ON _bench_pts USING gist (g)")
                    raw.execute("ANALYZE _bench_pts")

            def polygon_driven():
                load_points()
                with connection.cursor() as cursor:
                    cursor.execute(
                        """CREATE TEMP TABLE _bench_ctas AS
                           SELECT DISTINCT ON (p.id) p.id, g.id AS grid_id
                             FROM geogrid_grid g JOIN _bench_pts p ON ST_Covers(g.boundary, p.g)
                            WHERE g.level = 5 AND g.valid_to IS NULL
                            ORDER BY p.id, g.code""")
                    cursor.execute("DROP TABLE _bench_ctas")

            timed("PostGIS staging + GiST on points + polygon-driven CTAS", polygon_driven, n,
                  results)

            if not args.skip_update:
                def plain_update():
                    with connection.cursor() as cursor:
                        cursor.execute("UPDATE _bench_pts SET grid_id = NULL")
                        cursor.execute(
                            """UPDATE _bench_pts p SET grid_id = g.id FROM geogrid_grid g
                                WHERE g.level = 5 AND g.valid_to IS NULL
                                  AND ST_Covers(g.boundary, p.g)""")

                timed("PostGIS plain UPDATE … FROM … ST_Covers (points staged)", plain_update, n,
                      results)
            raise Rollback
    except Rollback:
        pass
    print("\n| approach | seconds | points/s |\n|---|---|---|")
    for label, seconds, rate in results:
        print(f"| {label} | {seconds:.2f} | {rate:,.0f} |")


if __name__ == "__main__":
    main()
