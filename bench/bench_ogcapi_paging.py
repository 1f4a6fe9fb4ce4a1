"""Paging the whole appeals collection of the city sample (1,000,000 appeals) through the OGC API
with GDAL, against the first page and deep pages, in one run.

    .venv/bin/python bench/bench_tiles.py --setup            # once: database geogrid_bench
    .venv/bin/python bench/bench_ogcapi_paging.py [--workers 2] [--page-size 1000]

What it does, on the bench database (bench/_analytics_db.py):
1. makes an API client with `read_appeals` over the whole city (rolled back at the end: the key
   is deleted again) and starts gunicorn (the production server) on a free port;
2. times single pages over HTTP: the first page, then pages reached by following `next`
   (keyset cursors) at depth 10 %, 50 % and 99 % of the collection, and — the obvious
   alternative — the same depths by `offset` (what OWSLib sends, and what pygeoapi does);
3. runs `ogr2ogr -f GPKG` of the whole collection through GDAL's OAPIF driver at the page size,
   with the key in GDAL_HTTP_HEADERS, and checks the GeoPackage's feature count.
Results are printed as a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._analytics_db import DB_NAME, ROOT, _env_url, use_bench_db

GUNICORN = Path(sys.executable).parent / "gunicorn"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str, key: str) -> tuple[float, dict]:
    request = urllib.request.Request(url, headers={"X-API-Key": key,
                                                   "Accept": "application/geo+json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=600) as answer:
        body = json.loads(answer.read())
    return time.perf_counter() - started, body


def timed(url: str, key: str, repeat: int = 3) -> float:
    return statistics.median(get(url, key)[0] for _ in range(repeat))


def cursor_at(base: str, key: str, depth: int, size: int) -> str:
    """The `next` link a client following links holds at feature number `depth` (found by one
    offset read of a one-feature page, not timed), for pages of `size`."""
    _, body = get(f"{base}?limit=1&offset={max(depth - 1, 0)}", key)
    link = next(x["href"] for x in body["links"] if x["rel"] == "next")
    return link.replace("limit=1&", f"limit={size}&")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--page-size", type=int, default=1000)
    args = parser.parse_args()
    use_bench_db()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("migrate", verbosity=0)  # the bench database may predate the newest apps

    from geogrid import apiclients
    from geogrid.models import ApiClient, Grid

    districts = list(Grid.objects.current().filter(level=1).values_list("code", flat=True))
    client, key = apiclients.create_client(f"bench paging {os.getpid()}",
                                           permissions=["read_appeals"], scopes=districts)
    port = free_port()
    # Plain HTTP on 127.0.0.1 (settings_test: no SSL redirect), the production server otherwise.
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "geogrid.settings_test",
           "SECURE_SSL_REDIRECT": "0"}
    env.pop("DEBUG", None)
    server = subprocess.Popen(
        [str(GUNICORN), "geogrid.wsgi", "-w", str(args.workers), "-b", f"127.0.0.1:{port}",
         "--preload", "--timeout", "600"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/ogcapi/collections/appeals/items"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        _, first = get(f"{base}?limit=1", key)
        total = int(first["numberMatched"])
        size = args.page_size
        print(f"database {DB_NAME} ({_env_url().rsplit('@', 1)[-1]}), {total:,} appeals, "
              f"gunicorn -w {args.workers}, page size {size}")
        print("| request | keyset cursor (`next`) | offset (the alternative) |")
        print("|---|---|---|")
        print(f"| first page | {timed(f'{base}?limit={size}', key) * 1000:.0f} ms | — |",
              flush=True)
        for share in (0.1, 0.5, 0.99):
            depth = int(total * share)
            keyset = timed(cursor_at(base, key, depth, size), key)
            offset = timed(f"{base}?limit={size}&offset={depth}", key)
            print(f"| page at {share:.0%} ({depth:,}) | {keyset * 1000:.0f} ms | "
                  f"{offset * 1000:.0f} ms |", flush=True)
        out = Path(tempfile.mkdtemp()) / "appeals.gpkg"
        gdal_env = {**os.environ, "GDAL_HTTP_HEADERS": f"X-API-Key: {key}"}
        started = time.perf_counter()
        subprocess.run(["ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:http://127.0.0.1:{port}/ogcapi",
                        "appeals", "-oo", f"PAGE_SIZE={size}"], check=True, env=gdal_env,
                       capture_output=True)
        whole = time.perf_counter() - started
        info = subprocess.run(["ogrinfo", "-so", "-al", str(out)], check=True,
                              capture_output=True, text=True).stdout
        count = next(int(line.split(":")[1]) for line in info.splitlines()
                     if line.startswith("Feature Count"))
        shutil.rmtree(out.parent)
    finally:
        server.terminate()
        server.wait(30)
        ApiClient.objects.filter(pk=client.pk).delete()
        get_user_model().objects.filter(pk=client.user_id).delete()
    print(f"ogr2ogr of the whole collection: {whole:.1f} s, {count:,} features "
          f"({count / whole:,.0f} features/s)")
    if count != total:
        raise SystemExit(f"the GeoPackage has {count:,} features, the collection {total:,}")


if __name__ == "__main__":
    main()
