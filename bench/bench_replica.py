"""Read throughput of tiles and statistics: the primary alone against a hot standby taking the
reads, in one run (results: docs/benchmarks.md, "Read replicas").

    DATABASE_URL=…/geogrid_hA .venv/bin/python bench/bench_replica.py \
        [--threads 4] [--seconds 20] [--writer]

DATABASE_URL: a migrated database of the private cluster holding the county sample
(`manage.py load_city --scale county`, then `manage.py analytics_refresh`). The bench starts its
own standby of the private cluster with geogrid/provision/replica.sh (temporary folder, free
port, its own slot; removed at the end) — the script copies the whole cluster, every database
on it.

Workloads, each for --seconds from --threads client threads through Django's WSGI handler (in
process, no sockets; every thread its own database connections, as gunicorn threads have):
- tiles: appeal vector tiles at z13–z15 where the county's appeals are, three filters, always
  computed (the tile cache is a dummy cache here);
- stats: /api/v1/stats/ of every subdistrict and community.
Each runs with routing off (primary), with routing on (standby), and on the primary again
(drift). `--writer` adds a thread that keeps writing to the primary meanwhile (batches of
inserts into a scratch table, i.e. WAL the standby must replay), the case replicas exist for.
Both servers and the client share one machine: see the caveat printed at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geogrid.settings")
os.environ.pop("DATABASE_REPLICA_URL", None)  # the bench adds its own standby

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connections  # noqa: E402
from django.test import Client  # noqa: E402

from geogrid import dbrouting  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "geogrid" / "provision" / "replica.sh"
FILTERS = ("", "status=open", "category=L0101")


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def standby_env() -> tuple[dict[str, str], Path, int]:
    tmp = Path(tempfile.mkdtemp(prefix="geogrid-bench-replica-", dir="/tmp"))
    tmp.chmod(0o755)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(GEOGRID_REPLICA_PORT=str(port), GEOGRID_REPLICA_DIR=str(tmp / "data"),
               GEOGRID_REPLICA_SOCKDIR=str(tmp / "run"), GEOGRID_REPLICA_LOG=str(tmp / "pg.log"),
               GEOGRID_REPLICA_SLOT=f"geogrid_bench_{port}", GEOGRID_REPLICA_ENV_FILE="")
    return env, tmp, port


def start_standby(env: dict[str, str]) -> None:
    started = time.perf_counter()
    subprocess.run(["bash", str(SCRIPT), "up"], env=env, check=True)
    print(f"standby up in {time.perf_counter() - started:.0f} s (pg_basebackup of the cluster)")


def wait_caught_up(timeout: float = 900) -> None:
    """A fresh standby first replays what the primary wrote during the copy."""
    started = time.perf_counter()
    while not dbrouting.replica_state(fresh=True).usable:
        if time.perf_counter() - started > timeout:
            raise SystemExit("the standby did not catch up within the lag bound")
        time.sleep(1)
    print(f"standby within the lag bound after {time.perf_counter() - started:.0f} s more")


# How many routed requests the standby answered (choose_read_alias is looked up per call).
_choices = {"replica": 0, "default": 0}
_choose = dbrouting.choose_read_alias


def _counting_choose(required_lsn: int = 0) -> str:
    alias = _choose(required_lsn)
    _choices[alias] += 1
    return alias


dbrouting.choose_read_alias = _counting_choose


def set_routing(port: int | None) -> None:
    """Add (port) or remove (None) the `replica` alias; the routing follows it."""
    if dbrouting.REPLICA_ALIAS in connections.settings:
        connections[dbrouting.REPLICA_ALIAS].close()
    for databases in {id(d): d for d in (connections.settings, settings.DATABASES)}.values():
        if port is None:
            databases.pop(dbrouting.REPLICA_ALIAS, None)
        else:
            databases[dbrouting.REPLICA_ALIAS] = {
                **connections["default"].settings_dict, "PORT": str(port)}
    dbrouting.forget_state()


def tile_urls(n: int) -> list[str]:
    """Tiles at z13–z15 under a sample of the appeals (where the dashboard looks)."""
    with connections["default"].cursor() as cursor:
        cursor.execute(
            """SELECT DISTINCT z, floor((ST_X(location) + 180) / 360 * 2 ^ z)::int,
                      floor((1 - ln(tan(radians(ST_Y(location)))
                             + 1 / cos(radians(ST_Y(location)))) / pi()) / 2 * 2 ^ z)::int
               FROM (SELECT location FROM layers_appeal WHERE location IS NOT NULL
                     ORDER BY id LIMIT 3000) a, generate_series(13, 15) z""")
        tiles = cursor.fetchall()
    rng = random.Random(1)
    rng.shuffle(tiles)
    urls = [f"/tiles/appeals/{z}/{x}/{y}.pbf" + (f"?{f}" if f else "")
            for z, x, y in tiles[:n] for f in FILTERS]
    rng.shuffle(urls)
    return urls


def stats_urls() -> list[str]:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT code FROM geogrid_grid WHERE valid_to IS NULL AND level IN (2, 3)")
        return [f"/api/v1/stats/?grid={code}" for (code,) in cursor.fetchall()]


def make_client(user) -> Client:
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    return client


def run(urls: list[str], threads: int, seconds: float, user) -> dict:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker(offset: int) -> None:
        client = make_client(user)
        mine: list[float] = []
        i = offset
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            response = client.get(urls[i % len(urls)], secure=True)
            mine.append(time.perf_counter() - t0)
            if response.status_code != 200:
                with lock:
                    errors[0] += 1
            i += threads
        with lock:
            latencies.extend(mine)
        for conn in connections.all(initialized_only=True):
            conn.close()

    pool = [threading.Thread(target=worker, args=(k * 7919,)) for k in range(threads)]
    started = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.perf_counter() - started
    latencies.sort()
    return {"rps": len(latencies) / wall, "n": len(latencies), "errors": errors[0],
            "p50": statistics.median(latencies) * 1000,
            "p95": latencies[int(len(latencies) * 0.95)] * 1000}


def writer(stop: threading.Event, counter: list[int]) -> None:
    with connections["default"].cursor() as cursor:
        while not stop.is_set():
            cursor.execute("INSERT INTO bench_replica_writes (payload) "
                           "SELECT md5(g::text) FROM generate_series(1, 500) g")
            counter[0] += 500
        cursor.execute("TRUNCATE bench_replica_writes")
    connections["default"].close()


def where_it_ran(url: str, user) -> bool:
    """pg_is_in_recovery() of the connection that ran the request's appeal/snapshot queries."""
    used = []

    def record(execute, sql, params, many, context):
        if "analytics_" in sql or "layers_appeal" in sql:
            used.append(context["connection"])
        return execute(sql, params, many, context)

    conns = [connections[a] for a in ("default", dbrouting.REPLICA_ALIAS)]
    for c in conns:
        c.execute_wrappers.append(record)
    try:
        assert make_client(user).get(url, secure=True).status_code == 200
    finally:
        for c in conns:
            c.execute_wrappers.remove(record)
    flags = []
    for c in used:
        with c.cursor() as cursor:
            cursor.execute("SELECT pg_is_in_recovery()")
            flags.append(cursor.fetchone()[0])
    return bool(flags) and all(flags)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--tiles", type=int, default=150, help="distinct tiles (× 3 filters)")
    parser.add_argument("--writer", action="store_true")
    args = parser.parse_args()

    # Tiles computed every time: a dummy cache instead of the ETag cache.
    settings.CACHES = {**settings.CACHES, "bench_none": {
        "BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    settings.GEOGRID_ANALYTICS = {**settings.GEOGRID_ANALYTICS, "TILE_CACHE": "bench_none"}
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(
        username="bench_replica", defaults={"is_superuser": True, "is_staff": True})
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM layers_appeal")
        appeals = cursor.fetchone()[0]
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_replica_writes "
                       "(id bigserial PRIMARY KEY, payload text)")
    workloads = {"tiles": tile_urls(args.tiles), "stats": stats_urls()}
    print(f"database {settings.DATABASES['default']['NAME']}: {appeals:,} appeals; "
          f"{len(workloads['tiles'])} tile URLs, {len(workloads['stats'])} stats URLs; "
          f"{args.threads} threads × {args.seconds:.0f} s; writer: {args.writer}; "
          f"{os.cpu_count()} cores")
    env, tmp, port = standby_env()
    stop_writer = threading.Event()
    written = [0]
    try:
        start_standby(env)
        set_routing(port)
        wait_caught_up()
        assert where_it_ran(workloads["tiles"][0], user), "tiles did not run on the standby"
        assert where_it_ran(workloads["stats"][0], user), "stats did not run on the standby"
        set_routing(None)
        assert not where_it_ran(workloads["stats"][0], user)
        for with_writer in (False, True) if args.writer else (False,):
            if with_writer:
                print("-- with a writer on the primary --")
                threading.Thread(target=writer, args=(stop_writer, written), daemon=True).start()
            for name, urls in workloads.items():
                run(urls, args.threads, 3, user)  # warm both caches of the OS and PostgreSQL
                set_routing(port)
                run(urls, args.threads, 3, user)
                for mode in ("primary", "standby", "primary again"):
                    set_routing(port if mode == "standby" else None)
                    before = load()
                    _choices.update(replica=0, default=0)
                    result = run(urls, args.threads, args.seconds, user)
                    if mode == "standby":
                        result["lag"] = dbrouting.replica_state(fresh=True).lag_s
                        total = max(1, sum(_choices.values()))
                        result["on standby"] = f"{100 * _choices['replica'] / total:.0f} %"
                    print(f"{name:6} {mode:14} {result['rps']:7.1f} req/s"
                          f"  p50 {result['p50']:6.1f} ms  p95 {result['p95']:6.1f} ms"
                          f"  n={result['n']} errors={result['errors']}  lag={result.get('lag')}"
                          f"  on standby: {result.get('on standby', '-')}"
                          f"  load {before} -> {load()}", flush=True)
        if args.writer:
            print(f"writer: {written[0]:,} rows inserted on the primary meanwhile")
    finally:
        stop_writer.set()
        time.sleep(0.5)
        set_routing(None)
        subprocess.run(["bash", str(SCRIPT), "destroy"], env=env, check=False)
        shutil.rmtree(tmp, ignore_errors=True)
        with connections["default"].cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_replica_writes")
    print("caveat: the primary, the standby and the client threads share the same "
          f"{os.cpu_count()} cores; a standby adds capacity only on its own machine.")


if __name__ == "__main__":
    main()
