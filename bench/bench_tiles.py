"""Vector tile latency at z10, z13 and z16 on the city-scale sample (1,000,000 appeals), with
the pre-aggregated path and, in the same run, raw ST_AsMVT on the fly (results:
docs/benchmarks.md, "Tiles, heat and hotspots").

    .venv/bin/python bench/bench_tiles.py --setup      # once: database geogrid_bench
    .venv/bin/python bench/bench_tiles.py [--runs 3] [--tiles 30] [--filters none,30 days]
    .venv/bin/python bench/bench_tiles.py --compare   # against the month partitions' reading

(GEOGRID_BENCH_DB names another database, e.g. a copy of geogrid_city; one built before the
analytics migrations 0005/0006 needs `manage.py migrate` and `manage.py analytics_refresh`.)

Tiles are the --tiles densest of each zoom that hold appeals (the city covers only 4 at z10, so
there p95 is the densest tile); every request is cold (the tile cache is cleared). Each
measurement is repeated --runs times and the medians of p50/p95 are reported, because other work
shares the 2 cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._analytics_db import setup, use_bench_db

# Every filter the dispatcher dashboard offers (maps/templates/maps/dispatch.html: status open /
# all / closed — open is the default —, category, channel, the last 1/7/30/90 days, a grid of any
# level) alone and with the default status=open, plus a whole month (the API's from/to). The
# sample's last day is 2026-10-31, so "the last N days" end there.
LAST = "2026-10-31"
FILTERS = {
    "none": "",
    "open": "status=open",
    "closed": "status=closed",
    "category": "category=L0101",
    "open+category": "status=open&category=L0101",
    "channel": "channel=hotline_12345",
    "open+channel": "status=open&channel=hotline_12345",
    "today": f"days=1&to={LAST}",
    "7 days": f"days=7&to={LAST}",
    "30 days": f"days=30&to={LAST}",
    "90 days": f"days=90&to={LAST}",
    "open+30 days": f"status=open&days=30&to={LAST}",
    "month": "from=2026-06-01&to=2026-06-30",
    "subdistrict": "grid={sub}",
    "open+subdistrict": "status=open&grid={sub}",
    "community": "grid={community}",
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


def raw_tile(z: int, x: int, y: int, filt) -> bytes:
    """The obvious alternative: aggregate (or list) the appeals of the tile on the fly."""
    from django.db import connection

    from layers.analytics.conf import conf
    from layers.analytics.tilemath import HALF

    where, params = filt.appeal_sql("a")
    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")
        if z >= conf("POINTS_MIN_ZOOM"):
            cursor.execute(
                f"""SELECT ST_AsMVT(t, 'appeals', 4096, 'geom') FROM (
                     SELECT ST_AsMVTGeom(ST_Transform(a.location, 3857),
                                         ST_TileEnvelope(%s, %s, %s), 4096, 64, true) geom,
                            a.id, a.status FROM layers_appeal a
                     WHERE a.location && ST_Transform(ST_TileEnvelope(%s, %s, %s), 4326)
                       AND {where}) t""",
                [z, x, y, z, x, y, *params],
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
                           FROM (SELECT ST_Transform(location, 3857) p FROM layers_appeal a
                                 WHERE location && ST_Transform(ST_TileEnvelope(%s, %s, %s),
                                                                4326) AND {where}) s
                           GROUP BY 1, 2) b) t""",
                [z, x, y, z, x, y, *params],
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


def stats(fn, tiles, runs: int, cache=None) -> tuple[float, float, int]:
    """Medians over the runs of each run's p50 and p95 (ms), and the largest tile (bytes)."""
    p50s, p95s, size = [], [], 0
    for _ in range(runs):
        if cache is not None:
            cache.clear()
        times, size = measure(fn, tiles)
        p50s.append(pct(times, 0.5))
        p95s.append(pct(times, 0.95))
    return statistics.median(p50s), statistics.median(p95s), size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--setup", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tiles", type=int, default=30)
    parser.add_argument("--zooms", default="10,13,16")
    parser.add_argument("--filters", default=",".join(FILTERS), help="comma-separated names")
    parser.add_argument("--no-raw", action="store_true")
    parser.add_argument("--compare", action="store_true",
                        help="also the month-partitions reading (no all-months cube, key ranges "
                             "as OR-ed literals) in the same run, instead of raw")
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
        # The densest subdistrict and community (the first by code may be nearly empty).
        cursor.execute(
            "SELECT g.code FROM geogrid_grid g JOIN layers_appeal a ON a.grid_id = g.id "
            "WHERE g.level = 5 GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
        micro = cursor.fetchone()[0]
        codes = {}
        for name, level in (("sub", 2), ("community", 3)):
            cursor.execute("SELECT code FROM geogrid_grid WHERE level = %s AND %s LIKE code || '%%'"
                           " AND valid_to IS NULL", [level, micro])
            codes[name] = cursor.fetchone()[0]
    print(f"{appeals:,} appeals; {args.runs} runs, {args.tiles} densest tiles per zoom; "
          "medians of the runs' p50/p95 (ms), largest tile (bytes); "
          f"load {os.getloadavg()[0]:.2f}")
    cache = caches[conf("TILE_CACHE")]
    names = args.filters.split(",")
    for z in (int(v) for v in args.zooms.split(",")):
        tiles = densest_tiles(z, args.tiles)
        for name in names:
            filt = parse_filter(QueryDict(FILTERS[name].format(**codes)))
            p50, p95, size = stats(
                lambda z, x, y, f=filt: appeals_tile(z, x, y, f).data, tiles, args.runs, cache)
            line = (f"z{z:<3} {name:<17} new p50 {p50:6.1f} p95 {p95:6.1f} "
                    f"({size // 1024:,} KB)")
            if args.compare:
                from layers.analytics import bins
                from layers.analytics import tiles as tiles_mod

                bins.USE_CUBE_ALL = tiles_mod.RANGES_AS_ARRAY = False
                try:
                    p50, p95, size = stats(
                        lambda z, x, y, f=filt: appeals_tile(z, x, y, f).data, tiles, args.runs,
                        cache)
                finally:
                    bins.USE_CUBE_ALL = tiles_mod.RANGES_AS_ARRAY = True
                line += f" | per-month p50 {p50:6.1f} p95 {p95:6.1f}"
            elif not args.no_raw:
                p50, p95, size = stats(lambda z, x, y, f=filt: raw_tile(z, x, y, f), tiles,
                                       args.runs)
                line += f" | raw p50 {p50:6.1f} p95 {p95:6.1f} ({size // 1024:,} KB)"
            print(f"{line}  load {os.getloadavg()[0]:.2f}")
            sys.stdout.flush()
        p50, p95, size = stats(lambda z, x, y: grids_tile(z, x, y).data, tiles, args.runs, cache)
        print(f"z{z:<3} {'grids (by zoom)':<17} p50 {p50:6.1f} p95 {p95:6.1f} "
              f"({size // 1024:,} KB)")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
