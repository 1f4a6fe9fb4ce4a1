"""Benchmark: import a city's grid hierarchy (20,000 micro-grids + ancestors) with validation.

    python -m fixtures.city --scale city --out var/sample/city-1      # once, takes minutes
    .venv/bin/python bench/bench_import_grids.py var/sample/city-1 [--runs 3]

The five level layers of grids.gpkg are combined into one layer (one import, one transaction,
all or nothing, as a grid manager's file would be) and imported with --commit into a fresh,
throwaway database (bench_<name>), which is dropped afterwards. Prints the phases of each run:
read + per-feature validation, write, topology check of every family, total.
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
import pyogrio  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402

from importers.grids import GridImportParams, import_grids  # noqa: E402

LAYERS = ["district", "subdistrict", "community", "zone", "micro_grid"]


def combined_layer(city: Path, out: Path) -> int:
    frames = [pyogrio.read_dataframe(city / "grids.gpkg", layer=layer) for layer in LAYERS]
    frame = pd.concat(frames, ignore_index=True)[["code", "name", "geometry"]]
    pyogrio.write_dataframe(frame, out, layer="grids", driver="GPKG")
    return len(frame)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("city", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = (
        "bench_" + settings.DATABASES["default"]["NAME"]
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "city-grids.gpkg"
        n = combined_layer(args.city, path)
        print(f"{n:,} grids in {path.name} ({path.stat().st_size / 2**20:.0f} MB)")
        config = setup_databases(verbosity=0, interactive=False)
        try:
            totals = []
            for run in range(1, args.runs + 1):
                _empty()
                started = time.perf_counter()
                report = import_grids(GridImportParams(path=path, commit=True))
                total = time.perf_counter() - started
                assert report.ok, report.lines()[:20]
                totals.append(total)
                phases = ", ".join(f"{k} {v:.1f} s" for k, v in report.seconds.items())
                print(f"run {run}: {len(report.created):,} created in {total:.1f} s ({phases})")
            print(f"median {statistics.median(totals):.1f} s over {len(totals)} runs")
        finally:
            teardown_databases(config, verbosity=0)


def _empty() -> None:
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE geogrid_grid CASCADE")


if __name__ == "__main__":
    main()
