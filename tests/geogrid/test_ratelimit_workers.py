"""The rate limit holds across processes: gunicorn with 4 workers against the test database,
120 concurrent anonymous submissions from one address under a limit of 20 → exactly 20 are
accepted (201) and stored, 100 are refused (429 with Retry-After).

A per-process counter (Django's local-memory cache, as before) lets up to 4 × 20 through."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from layers.appeals.categories import load_categories
from layers.appeals.models import Appeal
from tests.layers.factories import make_city

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"
START_TIMEOUT_S = 45
REQUESTS, LIMIT = 120, 20


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _test_database_url() -> str:
    """The test database (test_<name>), which this test's data is committed to."""
    db = connection.settings_dict
    auth = f"{quote(db['USER'], safe='')}:{quote(db['PASSWORD'], safe='')}@"
    return f"postgres://{auth}{db['HOST']}:{db['PORT']}/{quote(db['NAME'], safe='')}"


def _get(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


def _warm_up(port: int, workers: int) -> None:
    """One request on each worker before the burst (its database connection, the URLconf), so
    that no cold worker leaves the burst to a warm one: each of `workers` connections sends half
    a request, which holds the sync worker that accepted it, then all of them finish."""
    held = []
    for _ in range(workers):
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        held.append(sock)
    time.sleep(0.5)
    for sock in held:
        sock.sendall(b"Connection: close\r\n\r\n")
    for sock in held:
        with sock:
            while sock.recv(65536):
                pass


@pytest.fixture
def gunicorn(transactional_db, tmp_path):
    """gunicorn -w 4 on a free port, serving the test database; stopped before the flush."""
    port = _free_port()
    access_log, error_log = tmp_path / "access.log", tmp_path / "error.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "geogrid.settings_test",  # plain HTTP, no SSL redirect
        "DATABASE_URL": _test_database_url(),
        "SECRET_KEY": settings.SECRET_KEY,
        "SECURE_SSL_REDIRECT": "0",
        "GEOGRID_RATE_INTAKE": f"{LIMIT}/3600",
    }
    env.pop("DEBUG", None)
    command = [
        str(GUNICORN), "geogrid.wsgi", "-w", "4", "-b", f"127.0.0.1:{port}",
        # The application is loaded once, before the fork: all four workers are ready together
        # (loading it four times over on a busy 2-core machine takes much longer).
        "--preload", "--timeout", "60", "--graceful-timeout", "2",
        "--access-logfile", str(access_log), "--access-logformat", "%(p)s %(s)s %(m)s %(U)s",
        "--error-logfile", str(error_log),
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"gunicorn exited with {process.returncode}:\n"
                            f"{error_log.read_text(errors='replace')[-3000:]}")
            try:
                if _get(port, "/healthz") == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not answer /healthz within {START_TIMEOUT_S} s:\n"
                            f"{error_log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)
        _warm_up(port, 4)
        yield port, access_log
    finally:
        process.send_signal(signal.SIGINT)  # quick shutdown; the workers' connections close
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _submit(port: int, i: int) -> tuple[int, str | None, dict]:
    body = json.dumps({"category": "E0102", "lon": 117.805, "lat": 26.405,
                       "description": f"路灯不亮 #{i}"})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("POST", "/api/v1/appeals/", body=body.encode(),
                     headers={"Content-Type": "application/json", "Accept": "application/json"})
        response = conn.getresponse()
        return response.status, response.getheader("Retry-After"), json.loads(response.read())
    finally:
        conn.close()


def test_four_workers_let_exactly_the_limit_through(gunicorn):
    load_categories()  # transactional tests flush what the data migration loaded
    make_city(with_staff=False)
    port, access_log = gunicorn

    with ThreadPoolExecutor(max_workers=24) as pool:
        results = list(pool.map(lambda i: _submit(port, i), range(REQUESTS)))

    statuses = Counter(status for status, _retry, _body in results)
    assert statuses == {201: LIMIT, 429: REQUESTS - LIMIT}, statuses
    for status, retry_after, body in results:
        if status == 429:
            assert retry_after is not None and 1 <= int(retry_after) <= 3600
            assert body["code"] == "rate_limited"
    assert Appeal.objects.count() == LIMIT
    # The submissions were served by more than one process (the point of the test).
    served_by = {line.split()[0] for line in access_log.read_text().splitlines()
                 if " POST /api/v1/appeals/" in line}
    assert len(served_by) >= 2, served_by
