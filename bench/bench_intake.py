"""POST /api/v1/appeals/ and GET /api/v1/locate in process: latency (p50/p99), throughput and
SQL statements per request, JSON without photos.

    .venv/bin/python bench/bench_intake.py [--requests 2000]          # synthetic city
    DATABASE_URL=…/copy_of_geogrid_city .venv/bin/python bench/bench_intake.py --city

Through Django's test client (full middleware, DRF, service, SQL; no HTTP socket, no server),
one process. Without --city: on the synthetic city of bench/_synthetic.py, inside a transaction
rolled back at the end. With --city: on the database's own grids (the city sample's 20,000
micro-grids, its 1 M appeals around for the duplicate search), committed like production
(per-process caches only keep what they read outside a transaction), points taken from the
stored appeals; the bench's appeals are deleted at the end. Anonymous requests come from a
different client address each, so the production rate limits apply unchanged; `--logged-in`
also measures a logged-in resident (session cookie + CSRF, as the mobile page sends).
bench/bench_intake_http.py runs the same requests against gunicorn.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geogrid.settings")

import django

django.setup()

import numpy as np  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench import _synthetic  # noqa: E402

CATEGORY = "C0104"  # a category of the shipped taxonomy (the synthetic mode uses E0102)


class Rollback(Exception):
    pass


def city_points(n: int, seed: int = 5) -> list[tuple[float, float]]:
    """`n` points near stored appeals (their hotspots), moved by ~20 m so none is identical."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [seed / 100])
        cursor.execute(
            "SELECT ST_X(location), ST_Y(location) FROM layers_appeal TABLESAMPLE SYSTEM (5)"
            " REPEATABLE (%s) WHERE location IS NOT NULL LIMIT %s", [seed, n])
        rows = np.array(cursor.fetchall(), dtype=float)
    rng = np.random.default_rng(seed)
    rows = rows[rng.permutation(len(rows))]
    rows = np.resize(rows, (n, 2)) + rng.normal(0, 0.0002, size=(n, 2))
    return [(round(x, 7), round(y, 7)) for x, y in rows]


def random_address() -> str:
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


def percentiles(ms: np.ndarray) -> dict:
    return {"n": len(ms), "p50": float(np.percentile(ms, 50)),
            "p95": float(np.percentile(ms, 95)), "p99": float(np.percentile(ms, 99)),
            "max": float(ms.max()), "per_s": float(1000 / ms.mean())}


def logged_in_client(username: str = "bench-resident") -> Client:
    """A client holding a logged-in resident's session (no role: the public channels)."""
    from django.contrib.auth.models import User

    user, _ = User.objects.get_or_create(username=username, defaults={"is_active": True})
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def measure_in_process(points: list[tuple[float, float]], mark: str, *,
                       logged_in: bool = False, warm: int = 50) -> dict:
    """Submit one appeal and locate one point per entry of `points`, committed (autocommit,
    like a gunicorn worker). Returns percentiles per request kind and statements per request."""
    client = logged_in_client() if logged_in else Client()
    extra: dict[str, str] = {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_HOST": "testserver"}
    if logged_in:
        csrf = "b" * 32
        client.cookies["csrftoken"] = csrf
        extra.update(HTTP_X_CSRFTOKEN=csrf, HTTP_REFERER="https://testserver/m/report/")
    timings: dict[str, list[float]] = {"post": [], "locate": []}
    queries: dict[str, list[int]] = {"post": [], "locate": []}
    for lon, lat in points:
        body = {"category": CATEGORY, "lon": lon, "lat": lat, "description": mark,
                "contact_phone": "13800000000"}
        address = {"REMOTE_ADDR": random_address()}
        connection.queries_log.clear()  # a full log (9,000 entries) would count 0
        with CaptureQueriesContext(connection) as captured:
            t = time.perf_counter()
            response = client.post("/api/v1/appeals/", body, content_type="application/json",
                                   **extra, **address)
            timings["post"].append(time.perf_counter() - t)
        assert response.status_code == 201, response.content
        queries["post"].append(len(captured))
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as captured:
            t = time.perf_counter()
            response = client.get("/api/v1/locate", {"lon": lon, "lat": lat}, **extra, **address)
            timings["locate"].append(time.perf_counter() - t)
        assert response.status_code == 200, response.content
        queries["locate"].append(len(captured))
    result = {}
    for name, values in timings.items():
        ms = np.array(values[warm:]) * 1000  # the first requests warm caches and the connection
        result[name] = {**percentiles(ms),
                        "queries": int(np.median(queries[name][warm:]))}
    return result


def delete_marked(mark: str) -> int:
    """Remove the bench's appeals and their timeline rows (the database is a bench copy)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM layers_appealevent WHERE appeal_id IN"
                       " (SELECT id FROM layers_appeal WHERE description = %s)", [mark])
        cursor.execute("DELETE FROM layers_appeal WHERE description = %s", [mark])
        return cursor.rowcount


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--grids", type=int, default=20_000)
    parser.add_argument("--city", action="store_true",
                        help="the database's own grids and appeals (a copy of geogrid_city)")
    parser.add_argument("--logged-in", action="store_true",
                        help="with --city: also a logged-in resident")
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = ["*"]
    if args.city:
        print(f"load average {os.getloadavg()}")
        points = city_points(args.requests)
        for logged_in in ([False, True] if args.logged_in else [False]):
            mark = f"bench-inprocess {uuid.uuid4().hex[:12]}"
            try:
                result = measure_in_process(points, mark, logged_in=logged_in)
            finally:
                delete_marked(mark)
            who = "logged-in" if logged_in else "anonymous"
            for name, r in result.items():
                print(f"{who:<10} {name:<7} n={r['n']} p50 {r['p50']:.1f} ms, p99 "
                      f"{r['p99']:.1f} ms, {r['per_s']:.0f} requests/s (one process), "
                      f"{r['queries']} SQL statements")
        print(f"load average {os.getloadavg()}")
        return
    settings.SECURE_SSL_REDIRECT = False
    settings.GEOGRID["APPEAL_ANON_RATE"] = (10**9, 3600)  # one address sends every request
    settings.GEOGRID["RATE_LIMITS"] = {**settings.GEOGRID["RATE_LIMITS"],
                                       "locate": (10**9, 3600)}
    codes, geoms = _synthetic.make_grids(args.grids)
    lon, lat = _synthetic.make_points(args.requests, seed=5)
    client = Client()
    timings: dict[str, list[float]] = {"post": [], "locate": []}
    try:
        with transaction.atomic():
            _synthetic.insert_hierarchy(codes, geoms)
            for i in range(args.requests):
                body = {"category": "E0102", "lon": float(lon[i]), "lat": float(lat[i]),
                        "description": "bench", "contact_phone": "13800000000"}
                t = time.perf_counter()
                response = client.post("/api/v1/appeals/", body, content_type="application/json")
                timings["post"].append(time.perf_counter() - t)
                assert response.status_code == 201, response.content
                t = time.perf_counter()
                client.get("/api/v1/locate", {"lon": lon[i], "lat": lat[i]})
                timings["locate"].append(time.perf_counter() - t)
            raise Rollback
    except Rollback:
        pass
    for name, values in timings.items():
        ms = np.array(values[50:]) * 1000  # first requests warm caches and the connection
        print(f"{name:<7} n={len(ms)} p50 {np.percentile(ms, 50):.1f} ms, p99 "
              f"{np.percentile(ms, 99):.1f} ms, {1000 / ms.mean():.0f} requests/s (one process)")


if __name__ == "__main__":
    main()
