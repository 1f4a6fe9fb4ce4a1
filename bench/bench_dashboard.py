"""The dispatcher dashboard's first render at city scale (1,000,000 appeals, 20,000 micro-grids)
in Chromium, driven by Playwright against gunicorn on the analytics bench database (results:
docs/benchmarks.md, "Dashboard").

    .venv/bin/python bench/bench_tiles.py --setup        # once: database geogrid_bench
    .venv/bin/python bench/bench_dashboard.py [--runs 5]

A dispatcher posted on every district of the city opens /maps/dispatch/ with an empty browser
cache; the page records (window.GeoGridTimings, from the script's start) when the heat map has
drawn (`firstHeat`), when the map's layers — heat, appeals (points or tiles) and the grid
choropleth — have drawn (`firstRender`, reported from the navigation's start: the target, < 2 s)
and when every side panel of the first refresh has answered too (`firstRefresh`).
The slowest requests of each run are listed so that a regression names its endpoint.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._analytics_db import DB_NAME, ROOT, use_bench_db

CHROMIUM = os.environ.get("GEOGRID_CHROMIUM", "/usr/bin/chromium")
USERNAME = "bench_dispatcher"
PASSWORD = "pw-for-bench-only"


def ensure_dispatcher() -> None:
    from django.contrib.auth.models import Group, User

    from geogrid.models import Grid, Post, StaffAssignment

    user, _ = User.objects.get_or_create(username=USERNAME)
    user.set_password(PASSWORD)
    user.save()
    user.groups.add(Group.objects.get_or_create(name="dispatcher")[0])
    for district in Grid.objects.current().filter(level=1):
        StaffAssignment.objects.get_or_create(user=user, grid=district, post=Post.DISPATCHER)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, "DEBUG": "1", "ALLOWED_HOSTS": "127.0.0.1,localhost",
           "DJANGO_SETTINGS_MODULE": "geogrid.settings"}
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "geogrid.wsgi", "-w", str(workers),
         "-b", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not start")


def one_run(browser, base: str) -> dict:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/accounts/login/?next=/")
    page.fill("#id_username", USERNAME)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    requests: list[tuple[float, str, int]] = []

    def done(request) -> None:
        size = request.sizes()["responseBodySize"]  # as sent (compressed, if it was)
        requests.append((request.timing["responseEnd"], request.url.replace(base, ""), size))

    page.on("requestfinished", done)
    pending: dict[str, float] = {}
    page.on("request", lambda r: pending.__setitem__(r.url, time.monotonic()))
    page.on("requestfinished", lambda r: pending.pop(r.url, None))
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    started = time.monotonic()
    page.goto(f"{base}/maps/dispatch/")
    try:
        page.wait_for_function(
            "() => window.GeoGridTimings && window.GeoGridTimings.firstRefresh", timeout=60_000)
    except Exception:
        print("timed out:", page.evaluate("window.GeoGridTimings"), "errors:", errors,
              "pending:", [(u.replace(base, ""), round(time.monotonic() - t, 1))
                           for u, t in pending.items()],
              "done:", [(round(ms), u[:100]) for ms, u, _ in sorted(requests, reverse=True)[:8]])
        raise
    timings = page.evaluate("window.GeoGridTimings")
    wall = time.monotonic() - started
    context.close()
    # GeoGridTimings are from the dashboard script's start; `start` is that start since the
    # navigation began, so start + firstRender is the first render since the click.
    return {"heat": timings.get("firstHeat"), "render": timings["start"] + timings["firstRender"],
            "refresh": timings.get("firstRefresh"), "wall": wall,
            "requests": sorted(requests, reverse=True)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--slowest", type=int, default=6)
    args = parser.parse_args()
    use_bench_db()
    ensure_dispatcher()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM layers_appeal")
        appeals = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM geogrid_grid WHERE level = 5 AND valid_to IS NULL")
        micro = cursor.fetchone()[0]
    connection.close()
    print(f"{DB_NAME}: {appeals:,} appeals, {micro:,} micro-grids; gunicorn -w {args.workers}; "
          f"load {os.getloadavg()[0]:.2f}")
    from playwright.sync_api import sync_playwright

    port = free_port()
    server = start_server(port, args.workers)
    runs = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            for i in range(args.runs):
                run = one_run(browser, f"http://127.0.0.1:{port}")
                runs.append(run)
                slow = ", ".join(f"{path.split('?')[0]} {ms:.0f} ms ({size // 1024} KB)"
                                 for ms, path, size in run["requests"][: args.slowest])
                print(f"run {i + 1}: first render {run['render']:.0f} ms since navigation, "
                      f"first heat {run['heat']:.0f} ms, first refresh "
                      f"{run['refresh']:.0f} ms, page+refresh {run['wall']:.2f} s; "
                      f"load {os.getloadavg()[0]:.2f}\n  slowest: {slow}")
            browser.close()
    finally:
        server.terminate()
        server.wait(10)
    print(f"median of {args.runs}: first render {statistics.median(r['render'] for r in runs):.0f}"
          f" ms since navigation, first heat {statistics.median(r['heat'] for r in runs):.0f} ms,"
          f" first refresh {statistics.median(r['refresh'] for r in runs):.0f} ms, page+refresh "
          f"{statistics.median(r['wall'] for r in runs):.2f} s")


if __name__ == "__main__":
    main()
