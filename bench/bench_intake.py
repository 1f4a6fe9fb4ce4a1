"""POST /api/v1/appeals/ latency (p50/p99) and throughput, JSON without photos.

    .venv/bin/python bench/bench_intake.py [--requests 2000]

In-process through Django's test client (full middleware, DRF, service, SQL; no HTTP socket),
inside a transaction rolled back at the end, on the synthetic city of bench/_synthetic.py.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geogrid.settings")

import django

django.setup()

import numpy as np  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import transaction  # noqa: E402
from django.test import Client  # noqa: E402

from bench import _synthetic  # noqa: E402


class Rollback(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--grids", type=int, default=20_000)
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = ["*"]
    settings.SECURE_SSL_REDIRECT = False
    settings.GEOGRID["APPEAL_ANON_RATE"] = (10**9, 3600)  # one address sends every request
    settings.GEOGRID["RATE_LIMITS"] = {**settings.GEOGRID["RATE_LIMITS"],
                                       "locate": (10**9, 3600)}
    codes, geoms = _synthetic.make_grids(args.grids)
    lon, lat = _synthetic.make_points(args.requests, seed=5)
    client = Client()
    timings = {"post": [], "locate": []}
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
