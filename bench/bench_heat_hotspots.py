"""Heat API, counts, per-grid rates, hotspot detection and the pre-aggregation refresh on the
city-scale sample (1,000,000 appeals; results: docs/benchmarks.md, "Tiles, heat and hotspots").

    .venv/bin/python bench/bench_tiles.py --setup   # once
    .venv/bin/python bench/bench_heat_hotspots.py [--runs 3] [--skip-refresh]

Each measurement is repeated --runs times; medians are reported (other work shares the cores).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._analytics_db import use_bench_db


def timed(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-refresh", action="store_true")
    args = parser.parse_args()
    use_bench_db()
    import datetime as dt

    from django.http import QueryDict

    from layers.analytics.filters import parse_filter
    from layers.analytics.heat import appeal_count, grid_stats, heat_bins
    from layers.analytics.hotspots import HotspotParams, detect
    from layers.analytics.snapshot import refresh

    runs = args.runs
    if not args.skip_refresh:
        secs, report = timed(refresh, runs)
        print(f"refresh (facts + cube): {secs:.1f} s  ({report.facts:,} facts, "
              f"{report.cube_rows:,} cube rows)")
    # Viewports of a 1280×900 screen around the city centre.
    centre = (117.63, 26.26)
    for zoom in (11, 13, 15):
        half_w = 1280 / 2 / 256 * 360 / 2**zoom
        half_h = 900 / 2 / 256 * 360 / 2**zoom * 0.9
        bbox = (centre[0] - half_w, centre[1] - half_h, centre[0] + half_w, centre[1] + half_h)
        for name, query in (("none", ""), ("category", "category=L0101"),
                            ("30 days", "from=2026-10-02&to=2026-10-31")):
            filt = parse_filter(QueryDict(query))
            secs, result = timed(lambda f=filt, b=bbox, z=zoom: heat_bins(f, b, z), runs)
            print(f"heat z{zoom} {name:<9} {secs * 1000:7.1f} ms  {len(result['bins']):,} bins, "
                  f"{result['total']:,} appeals")
        secs, n = timed(lambda b=bbox, z=zoom: appeal_count(parse_filter(QueryDict("")), b, z),
                        runs)
        print(f"count z{zoom}            {secs * 1000:7.1f} ms  ({n:,})")
    for level in (2, 3, 5):
        secs, rows = timed(lambda lv=level: grid_stats(parse_filter(QueryDict("")), lv), runs)
        print(f"grid rates level {level}      {secs * 1000:7.1f} ms  ({len(rows):,} grids)")
    for days in (90, 365):
        params = HotspotParams(date_from=dt.date(2026, 10, 31) - dt.timedelta(days=days - 1),
                               date_to=dt.date(2026, 10, 31))
        secs, found = timed(lambda p=params: detect(p), runs)
        print(f"hotspots {days} days      {secs:7.1f} s   ({len(found)} hotspots, "
              f"largest {max((f.count for f in found), default=0):,})")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
