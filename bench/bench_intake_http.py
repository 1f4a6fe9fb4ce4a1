"""Appeal intake under real HTTP load: gunicorn (geogrid/gunicorn.conf.py, production settings)
behind locust, against a copy of the city database.

    DATABASE_URL=…/copy_of_geogrid_city .venv/bin/python bench/bench_intake_http.py \
        [--duration 20] [--servers gthread:2x4,sync:5] [--ramp 100,150,250,…]

One run measures, in this order:
1. in process (bench/bench_intake.py: Django's test client, no socket, no server) — what HTTP
   and the server cost on top;
2. per server configuration: anonymous POSTs, logged-in POSTs (session cookie + CSRF) and
   GET /api/v1/locate, each at 200 requests/s offered; then anonymous POSTs at rising offered
   rates until the server falls behind (answers < 97 % of offered), errors appear, or p99
   passes 250 ms: the highest rate it kept up with is its sustained throughput.

The load generator is locust (FastHttpUser, each user on a fixed timetable, the users' slots
evenly spaced): a constant offered rate, each user's next request waits only for its own
answer. It is installed by this script into var/bench-venv (pinned; the project's own
virtualenv does not need it). Latency is the client's, per request, from the locustfile's own
records (not locust's rounded statistics); the first 2 s of each run are left out (start-up).

Every anonymous request has its own client address (X-Forwarded-For from the trusted proxy
127.0.0.1, as behind nginx): the production rate limits stay on and are counted, and no
resident exceeds them. After each run the bench checks in the database that every answered
submission was stored exactly once, under the tracking number it was answered with, and that
all tracking numbers are distinct. Each result line carries the load average and the CPU used by
the generator, the gunicorn processes and the PostgreSQL backends serving them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geogrid.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from bench.bench_intake import (  # noqa: E402
    city_points,
    delete_marked,
    logged_in_client,
    measure_in_process,
)

LOCUST_VERSION = "2.47.0"
BENCH_VENV = ROOT / "var" / "bench-venv"
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile_intake.py"
TICKS = os.sysconf("SC_CLK_TCK")
SKIP_S = 2.0  # start-up of each run, left out of the figures


def ensure_locust() -> Path:
    """locust in the bench's own virtualenv (installed on first use, pinned)."""
    locust = BENCH_VENV / "bin" / "locust"
    if not locust.exists():
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
        subprocess.run([str(BENCH_VENV / "bin" / "pip"), "install", "-q",
                        f"locust=={LOCUST_VERSION}"], check=True)
    return locust


def cpu_by_pid(pids: list[int]) -> dict[int, float]:
    """CPU seconds (user + system) used so far by each of `pids` that still runs."""
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime
    return found


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two readings: processes started in between count in full; those
    that ended in between (a worker recycled, a connection past CONN_MAX_AGE) lose their last
    stretch, so this can only under-count."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(FileNotFoundError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def backend_pids() -> list[int]:
    """PostgreSQL backends connected to this database (the workers'), except this process's."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                       " AND backend_type = 'client backend' AND pid <> pg_backend_pid()")
        return [r[0] for r in cursor.fetchall()]


@dataclass
class Server:
    name: str
    args: list[str]
    process: subprocess.Popen | None = None
    port: int = 0

    def start(self, log_dir: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "geogrid.settings",
               "GEOGRID_TRUSTED_PROXIES": "127.0.0.1"}
        env.pop("DEBUG", None)
        command = [str(Path(sys.executable).parent / "gunicorn"), "-c",
                   str(ROOT / "geogrid" / "gunicorn.conf.py"), "geogrid.wsgi",
                   "--bind", f"127.0.0.1:{self.port}",
                   "--access-logfile", str(log_dir / f"access-{self.name}.log"),
                   "--error-logfile", str(log_dir / f"error-{self.name}.log"), *self.args]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn {self.name} exited: see {log_dir}")
            try:
                if self.get("/healthz") == 200:
                    return
            except OSError:
                time.sleep(0.3)
        raise SystemExit(f"gunicorn {self.name} did not start")

    def get(self, path: str) -> int:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}",
                                         headers={"X-Forwarded-Proto": "https"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status

    def pids(self) -> list[int]:
        assert self.process is not None
        return [self.process.pid, *children(self.process.pid)]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@dataclass
class Context:
    locust: Path
    points_file: Path
    cookie: str
    csrf: str
    work: Path
    duration: float


def run_load(ctx: Context, server: Server, mode: str, rate: float,
             duration: float | None = None) -> dict:
    """One locust run at a constant offered `rate`; latency percentiles, achieved rate, errors,
    CPU, load, and (for submissions) the database check."""
    duration = duration or ctx.duration
    users = max(20, int(rate / 4))  # each user every 250 ms: answers may take that long
    mark = f"bench-http {uuid.uuid4().hex[:12]}"
    out = ctx.work / f"{mode}-{int(rate)}-{mark[-12:]}.jsonl"
    env = {**os.environ, "BENCH_MODE": mode, "BENCH_RATE": str(rate),
           "BENCH_USERS": str(users), "BENCH_POINTS": str(ctx.points_file), "BENCH_MARK": mark,
           "BENCH_COOKIE": ctx.cookie, "BENCH_CSRF": ctx.csrf, "BENCH_OUT": str(out)}
    command = [str(ctx.locust), "-f", str(LOCUSTFILE), "--headless", "--only-summary",
               "--host", f"http://127.0.0.1:{server.port}", "-u", str(users),
               # all users start within one interval (users / rate s): evenly spread
               "-r", str(rate),
               "-t", f"{int(duration)}s", "--stop-timeout", "10", "--loglevel", "ERROR"]
    load_before = os.getloadavg()[0]
    server_before, pg_before = cpu_by_pid(server.pids()), cpu_by_pid(backend_pids())
    generator_before = os.times()
    t0 = time.time()
    subprocess.run(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    wall = time.time() - t0
    generator_after = os.times()
    server_cpu = cpu_used(server_before, cpu_by_pid(server.pids()))
    pg_cpu = cpu_used(pg_before, cpu_by_pid(backend_pids()))
    load_after = os.getloadavg()[0]
    records = [json.loads(line) for line in out.read_text().splitlines()]
    start = min(r[0] for r in records)
    steady = [r for r in records if r[0] >= start + SKIP_S]
    span = max(r[0] for r in steady) - min(r[0] for r in steady)
    ok_status = 200 if mode == "locate" else 201
    ms = np.array([r[1] for r in steady])
    errors = sum(1 for r in records if r[2] != ok_status)
    result = {
        "mode": mode, "offered": rate, "sent": len(records),
        "achieved": len(steady) / span if span else 0.0,
        "p50": float(np.percentile(ms, 50)), "p95": float(np.percentile(ms, 95)),
        "p99": float(np.percentile(ms, 99)), "max": float(ms.max()),
        "errors": errors,
        "statuses": sorted({r[2] for r in records}),
        "load": (round(load_before, 2), round(load_after, 2)),
        "cpu_ms_per_request": {
            "generator": 1000 * ((generator_after.children_user + generator_after.children_system)
                                 - (generator_before.children_user
                                    + generator_before.children_system)) / len(records),
            "gunicorn": 1000 * server_cpu / len(records),
            "postgres": 1000 * pg_cpu / len(records),
        },
        "wall_s": round(wall, 1),
    }
    if mode != "locate":
        result["stored"] = check_stored(mark, [r[3] for r in records if r[2] == 201])
        delete_marked(mark)
    return result


def check_stored(mark: str, answered: list[str]) -> dict:
    """Every answered submission stored exactly once under its number; numbers distinct."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT tracking FROM layers_appeal WHERE description = %s", [mark])
        stored = [r[0] for r in cursor.fetchall()]
    return {"answered_201": len(answered), "rows": len(stored),
            "distinct_tracking": len(set(stored)),
            "ok": sorted(stored) == sorted(answered) and len(set(stored)) == len(stored)}


def line(r: dict) -> str:
    cpu = r["cpu_ms_per_request"]
    stored = r.get("stored")
    check = "" if stored is None else (
        f", stored {stored['rows']}/{stored['answered_201']} distinct "
        f"{stored['distinct_tracking']} {'OK' if stored['ok'] else 'MISMATCH'}")
    return (f"  {r['mode']:<7} offered {r['offered']:>4.0f}/s achieved {r['achieved']:6.1f}/s "
            f"p50 {r['p50']:6.1f} p95 {r['p95']:6.1f} p99 {r['p99']:7.1f} max {r['max']:7.1f} ms"
            f", errors {r['errors']} {r['statuses']}, load {r['load'][0]}->{r['load'][1]}, "
            f"CPU ms/request generator {cpu['generator']:.2f} gunicorn {cpu['gunicorn']:.2f} "
            f"postgres {cpu['postgres']:.2f}{check}")


def warm_up(ctx: Context, server: Server) -> None:
    """Every worker loads the code, opens its connection and fills its caches."""
    for mode in ("anon", "locate"):
        run_load(ctx, server, mode, 50, duration=4)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--servers", default="gthread:2x4,sync:5",
                        help="comma-separated: sync:WORKERS or gthread:WORKERSxTHREADS")
    parser.add_argument("--ramp", default="50,100,150,250,300,400,500")
    parser.add_argument("--ramp-duration", type=float, default=15)
    parser.add_argument("--in-process", type=int, default=1000,
                        help="requests for the in-process figures (0: skip)")
    parser.add_argument("--json", type=Path, help="write every result here too")
    args = parser.parse_args()
    results: dict = {"machine": {"cores": os.cpu_count()}, "runs": []}
    print(f"database {settings.DATABASES['default']['NAME']}, "
          f"load average {os.getloadavg()}", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM geogrid_grid WHERE level = 5 AND valid_to IS NULL")
        micro = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM layers_appeal")
        appeals = cursor.fetchone()[0]
    print(f"{micro} micro-grids, {appeals} appeals stored", flush=True)
    locust = ensure_locust()
    work = Path(tempfile.mkdtemp(prefix="bench-intake-http-"))
    points = city_points(50_000)
    points_file = work / "points.json"
    points_file.write_text(json.dumps(points))

    if args.in_process:
        settings.ALLOWED_HOSTS = ["*"]
        for logged_in in (False, True):
            mark = f"bench-inprocess {uuid.uuid4().hex[:12]}"
            try:
                r = measure_in_process(points[: args.in_process], mark, logged_in=logged_in)
            finally:
                delete_marked(mark)
            who = "logged-in" if logged_in else "anonymous"
            for name, v in r.items():
                print(f"in process {who:<9} {name:<6} p50 {v['p50']:.1f} p95 {v['p95']:.1f} "
                      f"p99 {v['p99']:.1f} ms, {v['per_s']:.0f}/s one process, "
                      f"{v['queries']} SQL statements, load {os.getloadavg()[0]:.2f}",
                      flush=True)
            results["runs"].append({"server": "in-process", "who": who, **r})

    client = logged_in_client()
    csrf = "c" * 32
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    cookie += f"; {settings.CSRF_COOKIE_NAME}={csrf}"
    ctx = Context(locust, points_file, cookie, csrf, work, args.duration)
    for spec in args.servers.split(","):
        kind, _, size = spec.partition(":")
        if kind == "sync":
            server = Server(spec, ["--workers", size, "--worker-class", "sync"])
        else:
            workers, _, threads = size.partition("x")
            server = Server(spec, ["--workers", workers, "--worker-class", "gthread",
                                   "--threads", threads])
        server.start(work)
        try:
            warm_up(ctx, server)
            print(f"gunicorn {spec}:", flush=True)
            for mode in ("anon", "user", "locate"):
                r = run_load(ctx, server, mode, 200)
                print(line(r), flush=True)
                results["runs"].append({"server": spec, **r})
            best = 0.0
            for rate in [float(x) for x in args.ramp.split(",")]:
                r = run_load(ctx, server, "anon", rate, duration=args.ramp_duration)
                print(line(r), flush=True)
                results["runs"].append({"server": spec, "ramp": True, **r})
                if r["achieved"] < 0.97 * rate or r["errors"] or r["p99"] > 250:
                    break
                best = rate
            print(f"  sustained: {best:.0f} appeals/s (highest offered rate kept up with)",
                  flush=True)
            results["runs"].append({"server": spec, "sustained": best})
        finally:
            server.stop()
    print(f"load average {os.getloadavg()}; work files in {work}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
