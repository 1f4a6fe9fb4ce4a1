"""Vector tile latency at z10, z13 and z16 on the city-scale sample (1,000,000 appeals), with
the pre-aggregated path and, in the same run, raw ST_AsMVT on the fly (results:
docs/benchmarks.md, "Tiles, heat and hotspots").

    .venv/bin/python bench/bench_tiles.py --setup      # once: database geogrid_bench
    .venv/bin/python bench/bench_tiles.py [--runs 3] [--tiles 30]

Tiles are the densest ones of each zoom (where the appeals are) plus a spread of others; every
request is cold (the tile cache is cleared). Each measurement is repeated --runs times and the
medians of p50/p95 are reported, because other work shares the 2 cores.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._analytics_db import setup, use_bench_db

FILTERS = {
    "none": "",
    "category": "category=L0101",
    "open": "status=open",
    "month": "from=2026-06-01&to=2026-06-30",
    "30 days": "from=2026-10-02&to=2026-10-31",
    "channel": "channel=hotline_12345",
    "subdistrict": None,  # filled with a real code
}


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def densest_tiles(z: int, k: int) -> list[tuple[int, int, int]]:
    from django.db import connection

    from layers.analytics.snapshot import current_state
    from layers.analytics.tilemath import KEY_LEVEL

    state = current_state()
    shift = KEY_LEVEL - z
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT cx >> {shift}, cy >> {shift}, count(*) FROM {state.fact} "
            "WHERE key IS NOT NULL GROUP BY 1, 2 ORDER BY 3 DESC LIMIT %s",
            [k],
        )
        return [(z, x, y) for x, y, _ in cursor.fetchall()]


def raw_tile(z: int, x: int, y: int) -> bytes:
    """The obvious alternative: aggregate (or list) the appeals of the tile on the fly."""
    from django.db import connection

    from layers.analytics.conf import conf
    from layers.analytics.tilemath import HALF

    with connection.cursor() as cursor:
        if z >= conf("POINTS_MIN_ZOOM"):
            cursor.execute(
                """SELECT ST_AsMVT(t, 'appeals', 4096, 'geom') FROM (
                     SELECT ST_AsMVTGeom(ST_Transform(a.location, 3857),
                                         ST_TileEnvelope(%s, %s, %s), 4096, 64, true) geom,
                            a.id, a.status FROM layers_appeal a
                     WHERE a.location && ST_Transform(ST_TileEnvelope(%s, %s, %s), 4326)) t""",
                [z, x, y, z, x, y],
            )
        else:
            level = z + int(conf("BIN_SHIFT"))
            w = 2 * HALF / 2**level
            cursor.execute(
                f"""SELECT ST_AsMVT(t, 'bins', 4096, 'geom') FROM (
                     SELECT ST_AsMVTGeom(ST_MakeEnvelope({-HALF} + bx * {w},
                              {HALF} - (by + 1) * {w}, {-HALF} + (bx + 1) * {w},
                              {HALF} - by * {w}, 3857),
                            ST_TileEnvelope(%s, %s, %s), 4096, 0, true) geom, n AS count
                     FROM (SELECT floor((ST_X(p) + {HALF}) / {w})::int bx,
                                  floor(({HALF} - ST_Y(p)) / {w})::int by, count(*) n
                           FROM (SELECT ST_Transform(location, 3857) p FROM layers_appeal
                                 WHERE location && ST_Transform(ST_TileEnvelope(%s, %s, %s),
                                                                4326)) s
                           GROUP BY 1, 2) b) t""",
                [z, x, y, z, x, y],
            )
        return bytes(cursor.fetchone()[0] or b"")


def measure(fn, tiles) -> tuple[list[float], int]:
    times, size = [], 0
    for tile in tiles:
        t = time.perf_counter()
        data = fn(*tile)
        times.append((time.perf_counter() - t) * 1000)
        size = max(size, len(data))
    return times, size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--setup", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tiles", type=int, default=30)
    parser.add_argument("--zooms", default="10,13,16")
    parser.add_argument("--no-raw", action="store_true")
    args = parser.parse_args()
    if args.setup:
        setup()
        return
    use_bench_db()
    from django.core.cache import caches
    from django.db import connection
    from django.http import QueryDict

    from layers.analytics.conf import conf
    from layers.analytics.filters import parse_filter
    from layers.analytics.tiles import appeals_tile, grids_tile

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM layers_appeal")
        appeals = cursor.fetchone()[0]
        cursor.execute("SELECT code FROM geogrid_grid WHERE level = 2 ORDER BY code LIMIT 1")
        FILTERS["subdistrict"] = "grid=" + cursor.fetchone()[0]
    print(f"{appeals:,} appeals; {args.runs} runs, {args.tiles} densest tiles per zoom; "
          "medians of the runs' p50/p95 (ms), largest tile (bytes)")
    cache = caches[conf("TILE_CACHE")]
    for z in (int(v) for v in args.zooms.split(",")):
        tiles = densest_tiles(z, args.tiles)
        for name, query in FILTERS.items():
            filt = parse_filter(QueryDict(query))
            p50s, p95s = [], []
            for _ in range(args.runs):
                cache.clear()
                times, size = measure(lambda z, x, y, f=filt: appeals_tile(z, x, y, f).data,
                                      tiles)
                p50s.append(pct(times, 0.5))
                p95s.append(pct(times, 0.95))
            print(f"z{z:<3} appeals {name:<12} p50 {statistics.median(p50s):7.1f}  "
                  f"p95 {statistics.median(p95s):7.1f}  max size {size:,}")
        if not args.no_raw:
            p50s, p95s = [], []
            for _ in range(args.runs):
                times, size = measure(raw_tile, tiles)
                p50s.append(pct(times, 0.5))
                p95s.append(pct(times, 0.95))
            print(f"z{z:<3} RAW     {'none':<12} p50 {statistics.median(p50s):7.1f}  "
                  f"p95 {statistics.median(p95s):7.1f}  max size {size:,}")
        p50s, p95s = [], []
        for _ in range(args.runs):
            cache.clear()
            times, size = measure(lambda z, x, y: grids_tile(z, x, y).data, tiles)
            p50s.append(pct(times, 0.5))
            p95s.append(pct(times, 0.95))
        print(f"z{z:<3} grids   {'by zoom':<12} "
              f"p50 {statistics.median(p50s):7.1f}  p95 {statistics.median(p95s):7.1f}  "
              f"max size {size:,}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
