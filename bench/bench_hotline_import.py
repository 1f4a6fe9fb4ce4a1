"""Benchmark: a 12345 hotline export of 1,000,000 rows imported end to end (issue 16, item 2).

    .venv/bin/python bench/bench_hotline_import.py --truncate [--rows 1000000] [--runs 3]
        [--reference-rows 100000] [--csv var/sample/city-1/appeals.csv] [--xlsx-rows 0]
        [--keys 5402f6f]

Runs against the database of DATABASE_URL, which must hold the city's grids and buildings
(e.g. a copy of geogrid_city: `CREATE DATABASE mine TEMPLATE geogrid_city`, or one loaded with
fixtures.load.load_city(..., appeals=False)). --truncate is required because every run starts
from an empty appeals table: TRUNCATE layers_appeal, layers_trackingsequence CASCADE (the
appeals, their timeline and everything hanging off them are gone).

Each import runs in a fresh process, as `manage.py import_appeals FILE --commit` would, so the
per-process indexes (building register, micro-grid rasters) are built inside the measured time.
Measured, in one run, medians over --runs:

- the column-wise importer (importers.appeals.import_appeals) on --rows rows, committed, with
  its stages (read, validate, geocode, assign, districts, imported-before, tracking numbers, ids,
  COPY appeals, COPY timeline, commit = the deferred foreign-key checks);
- the same file again into the filled table (every row unchanged: the idempotent re-run);
- the reference importer (importers.hotline_reference, the row-wise one it replaced) and the
  column-wise one on --reference-rows rows — the reference takes minutes on 1 M rows;
- with --xlsx-rows N: the first N rows written as XLSX and read by the XLSX path;
- with --keep-indexes (or --only-indexes): the column-wise importer with the plain indexes
  dropped and rebuilt (what it does for a batch this large) against all indexes kept.
- with --keys COMMIT (only that): the importer as of COMMIT (its file from git) against the
  importer now (keys to layers_appeal checked set-based) and now with every key of both tables
  set-based (--exclusive), in rounds, --runs of them.

Prints the load average with each figure: the machine is shared, figures are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "var" / "sample" / "city-1" / "appeals.csv"

CHILD = r"""
import json, os, sys, time
sys.path.insert(0, {root!r})
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geogrid.settings")
started = time.perf_counter()
import django
django.setup()
from pathlib import Path
if {committed!r}:  # the importer as committed (git show), for before/after in one run
    import importlib.util
    spec = importlib.util.spec_from_file_location("appeals_committed", {committed!r})
    appeals = importlib.util.module_from_spec(spec)
    sys.modules["appeals_committed"] = appeals  # dataclasses look their module up
    spec.loader.exec_module(appeals)
else:
    from importers import appeals
AppealImportParams = appeals.AppealImportParams
params = AppealImportParams(path=Path({path!r}), commit=True)
if {all_keys!r}:
    params.exclusive = True
if {keep_indexes!r}:
    appeals.REBUILD_MIN_ROWS = 10**12
begun = time.perf_counter()
if {reference!r}:
    report = appeals.import_appeals_reference(params)
else:
    report = appeals.import_appeals(params)
done = time.perf_counter()
print(json.dumps({{"wall": done - begun, "setup": begun - started, "ok": report.ok,
                   "counts": report.counts(), "steps": report.seconds,
                   "stages": dict(appeals.last_stages), "failure": report.failure,
                   "errors": report.errors[:5]}}))
"""


def load() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def psql(sql: str) -> None:
    subprocess.run(["psql", os.environ["DATABASE_URL"], "-qc", sql], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def empty() -> None:
    # The timeline is named: its reference to the (partitioned) appeals is a trigger, not a key
    # that CASCADE would follow (docs/partitioning.md).
    psql("TRUNCATE layers_appeal, layers_appealevent, layers_trackingsequence CASCADE")
    psql("VACUUM ANALYZE layers_appeal, layers_appealevent")


def run(path: Path, *, reference: bool = False, keep_indexes: bool = False,
        committed: str = "", all_keys: bool = False) -> dict:
    code = CHILD.format(root=str(ROOT), path=str(path), reference=reference,
                        keep_indexes=keep_indexes, committed=committed, all_keys=all_keys)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT)
    if out.returncode:
        raise SystemExit(f"import crashed: {out.stderr[-2000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if not result["ok"]:
        raise SystemExit(f"import failed: {result['failure']} {result['errors']}")
    result["load"] = load()
    return result


def head(source: Path, rows: int, out: Path) -> Path:
    with source.open(encoding="utf-8") as src, out.open("w", encoding="utf-8") as dst:
        for i, line in enumerate(src):
            if i > rows:
                break
            dst.write(line)
    return out


WRITE_STAGES = ("imported before", "tracking numbers", "drop foreign keys",
                "drop plain indexes", "ids", "COPY appeals", "foreign-key checks (appeals)",
                "index builds", "COPY timeline", "add foreign keys (set-based checks)")


def show(label: str, result: dict) -> None:
    found = result["stages"]
    if found and "write" in result["steps"]:  # what is left of the transaction: its COMMIT
        found["commit (deferred key checks)"] = result["steps"]["write"] - sum(
            found.get(k, 0.0) for k in WRITE_STAGES)
    stages = ", ".join(f"{k} {v:.2f}" for k, v in found.items())
    steps = ", ".join(f"{k} {v:.2f}" for k, v in result["steps"].items())
    print(f"  {label}: {result['wall']:.2f} s  [{steps}]  {result['counts']}  {result['load']}")
    if stages:
        print(f"      stages: {stages}")


def median_of(results: list[dict]) -> float:
    return statistics.median(r["wall"] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--truncate", action="store_true", help="required: empties the appeals")
    parser.add_argument("--csv", type=Path, default=SAMPLE)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--reference-rows", type=int, default=100_000)
    parser.add_argument("--xlsx-rows", type=int, default=0)
    parser.add_argument("--keep-indexes", action="store_true",
                        help="also: one run with every index kept (no drop and rebuild)")
    parser.add_argument("--keys", metavar="COMMIT",
                        help="only: --rows rows imported by the importer as of COMMIT (git), "
                             "as it is now, and as it is now with every foreign key of both "
                             "tables checked set-based (--exclusive), --runs rounds")
    parser.add_argument("--only-indexes", action="store_true",
                        help="only the rebuild against keep-indexes comparison on --rows rows")
    args = parser.parse_args()
    if not args.truncate:
        raise SystemExit("--truncate is required: every run empties layers_appeal (CASCADE)")
    print(f"database {os.environ['DATABASE_URL'].rsplit('/', 1)[-1]}, {os.cpu_count()} cores, "
          f"{load()}")
    with tempfile.TemporaryDirectory() as tmp:
        big = head(args.csv, args.rows, Path(tmp) / "hotline.csv")
        small = head(args.csv, args.reference_rows, Path(tmp) / "hotline_small.csv")

        if args.keys:
            keys(big, args.keys, args.runs, Path(tmp))
            return
        if args.keep_indexes or args.only_indexes:
            print(f"{args.rows:,} rows into an empty table, indexes rebuilt / kept, same run:")
            for _ in range(args.runs):
                for keep in (False, True):
                    empty()
                    show("indexes kept" if keep else "indexes rebuilt",
                         run(big, keep_indexes=keep))
            if args.only_indexes:
                empty()
                return
        print(f"column-wise importer, {args.rows:,} rows, committed into an empty table:")
        fast = []
        for i in range(args.runs):
            empty()
            fast.append(run(big))
            show(f"run {i + 1}", fast[-1])
        print(f"  median {median_of(fast):.2f} s")
        again = run(big)
        show("re-import of the same file (all unchanged)", again)

        print(f"{args.reference_rows:,} rows, committed into an empty table, same run:")
        ref, fast_small = [], []
        for _ in range(args.runs):
            empty()
            ref.append(run(small, reference=True))
            show("reference importer", ref[-1])
            empty()
            fast_small.append(run(small))
            show("column-wise importer", fast_small[-1])
        print(f"  median reference {median_of(ref):.2f} s, column-wise "
              f"{median_of(fast_small):.2f} s, ratio "
              f"{median_of(ref) / median_of(fast_small):.1f}x")
        if args.xlsx_rows:
            xlsx_read(small if args.xlsx_rows <= args.reference_rows else big,
                      args.xlsx_rows, Path(tmp))
        empty()


def keys(big: Path, commit: str, runs: int, tmp: Path) -> None:
    """Before (the importer as of `commit`) against after, in rounds, same run."""
    before = tmp / "appeals_committed.py"
    before.write_text(subprocess.run(["git", "show", f"{commit}:importers/appeals.py"],
                                     check=True, capture_output=True, text=True,
                                     cwd=ROOT).stdout)
    variants = {f"as of {commit}": {"committed": str(before)},
                "keys to layers_appeal set-based (default)": {},
                "every key set-based (--exclusive)": {"all_keys": True}}
    walls: dict[str, list[float]] = {k: [] for k in variants}
    print(f"{big.stat().st_size:,} bytes, committed into an empty table, rounds of 3:")
    for i in range(runs):
        for label, options in variants.items():
            empty()
            result = run(big, **options)
            walls[label].append(result["wall"])
            show(f"round {i + 1}, {label}", result)
    for label, values in walls.items():
        print(f"  median {label}: {statistics.median(values):.2f} s")
    empty()


def xlsx_read(csv: Path, rows: int, tmp: Path) -> None:
    """Write the first `rows` rows as XLSX and time the XLSX read path (openpyxl)."""
    import pandas as pd

    frame = pd.read_csv(csv, dtype=str, keep_default_na=False, nrows=rows)
    path = tmp / "hotline.xlsx"
    started = time.perf_counter()
    frame.to_excel(path, index=False, engine="openpyxl")
    written = time.perf_counter() - started
    code = (
        f"import os, sys, time; sys.path.insert(0, {str(ROOT)!r});"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'geogrid.settings');"
        "import django; django.setup();"
        "from pathlib import Path; from importers.appeals import AppealImportParams, COLUMNS,"
        " REQUIRED; from importers.hotline_read import open_table;"
        f"t = time.perf_counter(); table = open_table(AppealImportParams(path=Path({str(path)!r})),"
        " COLUMNS, REQUIRED); print(len(table), time.perf_counter() - t)"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True, cwd=ROOT).stdout.split()
    print(f"XLSX, {int(out[0]):,} rows: read {float(out[1]):.2f} s (writing it took "
          f"{written:.1f} s)  {load()}")


if __name__ == "__main__":
    main()
