"""The analytics benchmarks' own database (geogrid_bench on the private cluster), loaded with
the city-scale sample: 20,000 micro-grids and 1,000,000 appeals. Separate from the dev and test
databases so that a benchmark never collides with other work.

    .venv/bin/python bench/bench_tiles.py --setup   # create, migrate, load (once, ~minutes)
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "var" / "sample" / "city-1"
DB_NAME = os.environ.get("GEOGRID_BENCH_DB", "geogrid_bench")


def _env_url() -> str:
    if "DATABASE_URL" in os.environ:
        return os.environ["DATABASE_URL"]
    for line in (ROOT / "var" / "geogrid.env").read_text().splitlines():
        if line.startswith("DATABASE_URL="):
            return line.split("=", 1)[1].strip()
    raise SystemExit("DATABASE_URL not set and var/geogrid.env missing (run make setup)")


def use_bench_db() -> None:
    """Point Django at the bench database (before django.setup())."""
    parts = urlsplit(_env_url())
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + DB_NAME))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geogrid.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def setup(sample: Path = SAMPLE) -> None:
    import psycopg

    parts = urlsplit(_env_url())
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
        if exists:
            print(f"dropping {DB_NAME}")
            conn.execute(f"DROP DATABASE {DB_NAME}")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    use_bench_db()
    from django.core.management import call_command

    from fixtures.load import LoadParams, load_city
    from layers.analytics.sample import load_sample_appeals
    from layers.analytics.snapshot import refresh

    if not (sample / "appeals.csv").is_file():
        raise SystemExit(
            f"{sample} missing: .venv/bin/python -m fixtures.city --scale city --seed 1 "
            f"--out {sample}"
        )
    call_command("migrate", verbosity=0)
    t = time.perf_counter()
    # Appeals by COPY below (the generator's grid codes, no geocoding): fastest for 1 M rows.
    print(load_city(LoadParams(sample, progress=False, appeals=False, people=False,
                               participation=False)).lines())
    print(f"grids/buildings/staff loaded in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    print(f"appeals: {load_sample_appeals(sample):,} in {time.perf_counter() - t:.1f} s")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE layers_appeal")
    report = refresh()
    print(f"analytics refresh: {report}")
