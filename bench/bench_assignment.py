"""Bulk point → micro-grid assignment, compared in one run (results: docs/benchmarks.md).

    DATABASE_URL=…/geogrid_h1_city .venv/bin/python bench/bench_assignment.py \
        [--grids-from db|gpkg|synthetic] [--points 1000000] [--outside 0.02,0.30] [--skip-update]

Grids: `db` uses the current grids already in the database (a copy of the city sample,
`CREATE DATABASE x TEMPLATE geogrid_city`); `gpkg` inserts var/sample/city-1/grids.gpkg, and
`synthetic` a Voronoi city (bench/_synthetic.py), inside a transaction that is rolled back.
Points: the city sample's appeal coordinates (hotspots as the generator made them), with the
given share replaced by points spread over the grids' bounding box and outside every micro-grid.
Every approach ends with its results written to a table (point id, grid id, method).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geogrid.settings")

import django

django.setup()

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import shapely  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from bench import _synthetic  # noqa: E402
from geogrid import copybin  # noqa: E402
from geogrid import locate as assignment  # noqa: E402

SAMPLE = Path(settings.BASE_DIR) / "var" / "sample" / "city-1"


class Rollback(Exception):
    pass


def results_table() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS _bench_out")
        cursor.execute("CREATE TEMP TABLE _bench_out (id bigint, grid_id bigint, method smallint)")


def write_results(ids: np.ndarray, grid: np.ndarray, method: np.ndarray | None = None) -> None:
    """Binary COPY of (point id, grid id, method): the 'writing' part of end to end."""
    results_table()
    m = method if method is not None else np.zeros(len(ids), dtype=np.int16)
    with connection.cursor() as cursor:
        copybin.copy_columns(cursor, "COPY _bench_out FROM STDIN (FORMAT BINARY)",
                             [(ids, "int8"), (grid, "int8"), (m.astype(np.int16), "int2")],
                             nulls=[None, grid < 0, None])


def load() -> str:
    print(f"uptime: {os.popen('uptime').read().strip()}", flush=True)
    return os.popen("uptime").read().split("load average:")[-1].strip()


def timed(label: str, fn, n: int, results: list, repeat: int = 1):
    runs, value = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        value = fn()
        runs.append(time.perf_counter() - started)
    seconds = statistics.median(runs)
    results.append((label, seconds, n / seconds, load()))
    spread = f" (runs {', '.join(f'{r:.3f}' for r in runs)})" if repeat > 1 else ""
    print(f"{label:<66} {seconds:7.3f} s {n / seconds:>12,.0f} points/s{spread}", flush=True)
    return value


def city_points(n: int) -> tuple[np.ndarray, np.ndarray]:
    import pandas as pd

    frame = pd.read_csv(SAMPLE / "appeals.csv", usecols=["lon", "lat"]).dropna()
    lon, lat = frame["lon"].to_numpy(), frame["lat"].to_numpy()
    take = np.resize(np.arange(len(lon)), n)
    return lon[take].copy(), lat[take].copy()


def with_outside(lon: np.ndarray, lat: np.ndarray, share: float, geoms: np.ndarray,
                 seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Replace `share` of the points (and every point already outside) so that exactly that
    share lies outside every micro-grid, spread over the grids' bounding box."""
    tree = shapely.STRtree(geoms)
    rng = np.random.default_rng(seed)
    covered = np.zeros(len(lon), dtype=bool)
    covered[np.unique(tree.query(shapely.points(lon, lat), predicate="covered_by")[0])] = True
    inside_lon, inside_lat = lon[covered], lat[covered]
    need = round(len(lon) * share)
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
    out_lon, out_lat = np.zeros(0), np.zeros(0)
    while len(out_lon) < need:
        x, y = rng.uniform(xmin, xmax, need * 4), rng.uniform(ymin, ymax, need * 4)
        hit = np.zeros(len(x), dtype=bool)
        hit[np.unique(tree.query(shapely.points(x, y), predicate="covered_by")[0])] = True
        out_lon, out_lat = np.append(out_lon, x[~hit]), np.append(out_lat, y[~hit])
    keep = np.resize(np.arange(len(inside_lon)), len(lon) - need)
    lon2 = np.concatenate([inside_lon[keep], out_lon[:need]])
    lat2 = np.concatenate([inside_lat[keep], out_lat[:need]])
    order = rng.permutation(len(lon2))
    return lon2[order], lat2[order]


def current_micro_grids() -> np.ndarray:
    with connection.cursor() as cursor:
        cursor.execute("SELECT ST_AsBinary(boundary) FROM geogrid_grid"
                       " WHERE level = 5 AND valid_to IS NULL ORDER BY code")
        return shapely.from_wkb([bytes(r[0]) for r in cursor.fetchall()])


def index_build(results: list) -> None:
    """Build from scratch (no disk cache), then from the disk cache, with peak memory."""
    had, cache_dir = ("ASSIGN_INDEX_CACHE_DIR" in settings.GEOGRID,
                      settings.GEOGRID.get("ASSIGN_INDEX_CACHE_DIR"))
    settings.GEOGRID["ASSIGN_INDEX_CACHE_DIR"] = ""
    assignment._cached = None
    tracemalloc.start()
    started = time.perf_counter()
    index = assignment.micro_grid_index()
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    r = index.raster
    print(f"index build (no disk cache): {seconds:.2f} s; rasters {index.nbytes / 2**20:.0f} MiB"
          f" (micro: {r.nx}x{r.ny} cells of {assignment.raster_cell_m():.0f} m, "
          f"{r.edge_share:.1%} edge cells, {len(r.cand):,} candidates); peak Python memory "
          f"during the build {peak / 2**20:.0f} MiB", flush=True)
    results.append(("index build from the database (no disk cache)", seconds, 0, load()))
    if had:
        settings.GEOGRID["ASSIGN_INDEX_CACHE_DIR"] = cache_dir
    else:
        del settings.GEOGRID["ASSIGN_INDEX_CACHE_DIR"]
    assignment._cached = None
    assignment.micro_grid_index()  # writes the disk cache
    assignment._cached = None
    started = time.perf_counter()
    assignment.micro_grid_index()
    seconds = time.perf_counter() - started
    print(f"index load in a new process (disk cache, grids read from the database): "
          f"{seconds:.2f} s", flush=True)
    results.append(("index load with the disk cache", seconds, 0, load()))


def verify(lon: np.ndarray, lat: np.ndarray, got: assignment.BulkAssignment,
           sample: int) -> None:
    """The new path against the SQL rules: every non-covers point and a random sample."""
    rng = np.random.default_rng(3)
    other = np.flatnonzero(got.method != assignment.METHOD_CODE["covers"])
    covers = np.flatnonzero(got.method == assignment.METHOD_CODE["covers"])
    other = rng.choice(other, min(len(other), sample), replace=False)
    pick = np.concatenate([other, rng.choice(covers, min(len(covers), sample), replace=False)])
    started = time.perf_counter()
    ids, method, dist = assignment.assign_sql(lon[pick], lat[pick])
    bad = int(((ids != got.grid_id[pick]) | (method != got.method[pick])).sum())
    near = method == assignment.METHOD_CODE["nearest"]
    gap = float(np.nanmax(np.abs(dist[near] - got.distance_m[pick][near]))) if near.any() else 0
    print(f"verify against assign_sql on {len(pick):,} points ({len(other):,} not covers): "
          f"{bad} differ; max distance difference {gap * 1000:.2f} mm "
          f"({time.perf_counter() - started:.1f} s)", flush=True)


def single_points(lon: np.ndarray, lat: np.ndarray, n: int = 2000) -> None:
    rng = np.random.default_rng(11)
    pick = rng.choice(len(lon), n, replace=False)
    for label, warm in (("SQL", False), ("in-process index", True)):
        saved = assignment._cached
        if not warm:
            assignment._cached = None
        else:
            assignment.warm_index()  # lets assign_point answer from the index
        for details in (False, True):
            times = []
            for i in pick.tolist():
                started = time.perf_counter()
                assignment.assign_point(float(lon[i]), float(lat[i]), details=details)
                times.append(time.perf_counter() - started)
            times.sort()
            print(f"assign_point ({label}, details={details}): p50 {times[n // 2] * 1e3:.3f} ms,"
                  f" p99 {times[int(n * 0.99)] * 1e3:.3f} ms; load {load()}", flush=True)
        assignment._cached = saved
    assignment._single_point = False


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--grids-from", choices=("db", "gpkg", "synthetic"), default=None)
    parser.add_argument("--grids", type=int, default=20_000, help="synthetic grids")
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--outside", default="0.02,0.30", help="shares; empty: single points only")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--verify", type=int, default=20_000, help="points checked per kind")
    parser.add_argument("--skip-update", action="store_true", help="skip the slow plain UPDATE")
    parser.add_argument("--skip-sql", action="store_true", help="skip the SQL alternatives")
    args = parser.parse_args()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM geogrid_grid WHERE level = 5 AND valid_to IS NULL")
        in_db = cursor.fetchone()[0]
    source = args.grids_from or ("db" if in_db else "gpkg" if SAMPLE.exists() else "synthetic")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"database {connection.settings_dict['NAME']}; grids from {source}", flush=True)
    results: list = []
    try:
        with transaction.atomic():
            if source == "synthetic":
                codes, geoms = _synthetic.make_grids(args.grids)
                _synthetic.insert_hierarchy(codes, geoms)
                base_lon, base_lat = _synthetic.make_points(args.points)
            else:
                if source == "gpkg":
                    _synthetic.insert_gpkg(SAMPLE / "grids.gpkg")
                base_lon, base_lat = city_points(args.points)
            geoms = current_micro_grids()
            print(f"{len(geoms):,} micro-grids, mean vertices "
                  f"{shapely.get_num_coordinates(geoms).mean():.0f}; {args.points:,} points",
                  flush=True)
            index_build(results)
            for share in [float(s) for s in args.outside.split(",") if s]:
                lon, lat = with_outside(base_lon, base_lat, share, geoms)
                print(f"\n--- {share:.0%} of the points outside every micro-grid", flush=True)
                run(args, lon, lat, share, results)
            single_points(base_lon, base_lat)
            raise Rollback
    except Rollback:
        pass
    print("\n| approach | seconds | points/s | load |\n|---|---|---|---|")
    for label, seconds, rate, avg in results:
        print(f"| {label} | {seconds:.3f} | {rate:,.0f} | {avg} |")


def run(args, lon: np.ndarray, lat: np.ndarray, share: float, results: list) -> None:
    n = len(lon)
    ids = np.arange(n, dtype=np.int64)
    tag = f"[{share:.0%} out]"

    def ours_end_to_end():
        results_table()
        return assignment.assign_into("_bench_out", ids, lon, lat)

    got = timed(f"{tag} GeoGrid assign_into: assign + binary COPY (warm index)",
                ours_end_to_end, n, results, args.repeat)
    print("   ", got.counts(), flush=True)
    timed(f"{tag} GeoGrid assign_many, no write (warm index)",
          lambda: assignment.assign_many(lon, lat), n, results, args.repeat)
    index = assignment.micro_grid_index()
    timed(f"{tag}   of which raster covers lookup only",
          lambda: index.covers(lon, lat), n, results, args.repeat)

    def write_only():
        write_results(ids, got.grid_id, got.method)

    timed(f"{tag}   binary COPY of the results only", write_only, n, results, args.repeat)

    def strtree_then_sql():  # what assign_many did before the raster index (2026-12-01)
        point_idx, tree_idx = index.tree.query(shapely.points(lon, lat), predicate="covered_by")
        best = np.full(n, len(index.ids), dtype=np.int64)
        np.minimum.at(best, point_idx, tree_idx)
        grid = np.append(index.ids, -1)[best]
        rest = np.flatnonzero(best == len(index.ids))
        if len(rest):
            grid[rest] = assignment.assign_sql(lon[rest], lat[rest])[0]
        write_results(ids, grid)

    if share <= 0.05 and not args.skip_sql:
        timed(f"{tag} previous assign_many (STRtree covers + SQL rest) + COPY",
              strtree_then_sql, n, results)

    def sjoin():
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, code, ST_AsBinary(boundary) FROM geogrid_grid"
                           " WHERE level = 5 AND valid_to IS NULL")
            rows = cursor.fetchall()
        grids = gpd.GeoDataFrame(
            {"id": [r[0] for r in rows], "code": [r[1] for r in rows]},
            geometry=shapely.from_wkb([bytes(r[2]) for r in rows]), crs=4326)
        pts = gpd.GeoDataFrame({"pid": ids}, geometry=gpd.points_from_xy(lon, lat), crs=4326)
        joined = gpd.sjoin(pts, grids, predicate="within", how="left")
        joined = joined.sort_values(["pid", "code"]).drop_duplicates("pid")
        write_results(joined["pid"].to_numpy(),
                      joined["id"].fillna(-1).astype(np.int64).to_numpy())

    timed(f"{tag} geopandas.sjoin(within), covers only, incl. loading grids + COPY", sjoin, n,
          results)
    if args.skip_sql:
        verify(lon, lat, got, args.verify)
        return

    def load_points():
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS _bench_pts")
            cursor.execute("CREATE TEMP TABLE _bench_pts (id bigint, lon float8, lat float8,"
                           " grid_id bigint)")
            copybin.copy_columns(cursor, "COPY _bench_pts (id, lon, lat) FROM STDIN"
                                 " (FORMAT BINARY)",
                                 [(ids, "int8"), (lon, "float8"), (lat, "float8")])
            cursor.execute("ALTER TABLE _bench_pts ADD COLUMN g geometry(Point, 4326)")
            cursor.execute("UPDATE _bench_pts SET g = ST_SetSRID(ST_MakePoint(lon, lat), 4326)")
            cursor.execute("CREATE INDEX ON _bench_pts USING gist (g)")
            cursor.execute("ANALYZE _bench_pts")

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

    timed(f"{tag} PostGIS staging + GiST on points + polygon-driven CTAS, covers only",
          polygon_driven, n, results)
    if not args.skip_update:
        def plain_update():
            with connection.cursor() as cursor:
                cursor.execute(
                    """UPDATE _bench_pts p SET grid_id = g.id FROM geogrid_grid g
                        WHERE g.level = 5 AND g.valid_to IS NULL
                          AND ST_Covers(g.boundary, p.g)""")

        timed(f"{tag} PostGIS plain UPDATE … FROM … ST_Covers (points staged)", plain_update,
              n, results)
    verify(lon, lat, got, args.verify)


if __name__ == "__main__":
    main()
