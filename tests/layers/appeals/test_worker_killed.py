"""A gunicorn worker is SIGKILLed in the middle of appeal submissions: no appeal is lost or
duplicated.

GeoGrid runs as in production (`gunicorn geogrid.wsgi`, 3 sync workers, production settings
with plain HTTP allowed) against the test database; 6 clients POST /api/v1/appeals/ with a
unique marker in each description. The clients are a logged-in dispatcher (sessions live in the
database, so every worker knows them), which the per-address limit of anonymous submissions
does not count. Each request ends one of three ways, and the test holds all three to this:

- **answered 201**: the answer's tracking number is stored, exactly once, with this request's
  marker;
- **answered otherwise**: nothing is stored (none is expected here);
- **no answer** (its worker died): stored once or not at all — the worker may have died before
  or after the transaction committed — never twice.

So: stored = answered 201 + (no answer, but committed), no marker stored twice, nothing stored
that was not sent, and every stored appeal is complete (both of its timeline rows). Phase 1
kills one worker, then another, at whatever moment they are in. Phase 2 makes the worst moment
certain: a row lock held by the test makes the workers' commit wait (the deferred foreign-key
check on the category, at COMMIT or at the end of the one-statement write of
layers/appeals/intake_sql.py), the workers are killed while at least one of them waits there,
and then the lock is released — those appeals commit although nobody received their tracking
numbers ("no answer, stored" requests). Phase 3: the service answers 201 again.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from layers.appeals.categories import load_categories
from layers.appeals.models import Appeal
from tests.layers.appeals.workflow_fixtures import POINT, A, B, C, build_city

pytestmark = pytest.mark.django_db(transaction=True)

WORKERS = 3
CLIENTS = 6
PHASE1 = 60  # requests
WAIT = 45.0  # seconds any one step may take on a busy machine
MARK = "worker-kill #"


@dataclass
class Outcome:
    marker: str
    status: int | None = None  # None: no answer (the connection died)
    tracking: str = ""
    error: str = ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _db() -> psycopg.Connection:
    s = connection.settings_dict
    return psycopg.connect(dbname=s["NAME"], user=s["USER"], password=s["PASSWORD"],
                           host=s["HOST"], port=s["PORT"], autocommit=True)


def _until(check: Callable[[], object], what: str, timeout: float = WAIT) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Server:
    """gunicorn with production settings on a free port, against the test database."""

    def __init__(self, tmp_path: Path) -> None:
        s = connection.settings_dict
        self.port = _free_port()
        env = {k: v for k, v in os.environ.items() if k != "DEBUG"}
        env.update({
            "DJANGO_SETTINGS_MODULE": "geogrid.settings",
            "DATABASE_URL": (f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST']}:{s['PORT']}"
                             f"/{s['NAME']}"),
            "SECRET_KEY": settings.SECRET_KEY,  # the session cookie was signed with it
            "SECURE_SSL_REDIRECT": "0",  # plain HTTP on 127.0.0.1; nothing else relaxed
            "GEOGRID_VAR_DIR": str(tmp_path / "var"),  # media and state away from var/
        })
        self.log = (tmp_path / "gunicorn.log").open("w")
        gunicorn = Path(sys.executable).parent / "gunicorn"
        self.proc = subprocess.Popen(
            [str(gunicorn), "geogrid.wsgi", "--workers", str(WORKERS), "--timeout", "30",
             "--graceful-timeout", "5", "--bind", f"127.0.0.1:{self.port}"],
            env=env, cwd=settings.BASE_DIR, stdout=self.log, stderr=subprocess.STDOUT)
        _until(self.healthy, "gunicorn to answer /healthz", timeout=90)

    def healthy(self) -> bool:
        assert self.proc.poll() is None, f"gunicorn exited; see {self.log.name}"
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            conn.request("GET", "/healthz")
            return conn.getresponse().status == 200
        except OSError:
            return False

    def workers(self) -> list[int]:
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def kill_worker(self, pid: int) -> None:
        os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()


@pytest.fixture
def server(tmp_path):
    with _db() as conn:
        started = conn.execute("SELECT now()").fetchone()[0]
    srv = Server(tmp_path)
    yield srv
    srv.stop()
    # Killed workers' database sessions end when their backends notice; end them for sure, so
    # the test's flush and the test database's removal find no one else connected. Only the
    # sessions opened since the server started are gunicorn's (other tests' may linger).
    ours = connection.connection.info.backend_pid if connection.connection else 0
    gunicorns = ("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                 "AND backend_type = 'client backend' AND pid <> pg_backend_pid() "
                 "AND pid <> %s AND backend_start >= %s")
    with _db() as conn:
        for (pid,) in conn.execute(gunicorns, [ours, started]).fetchall():
            conn.execute("SELECT pg_terminate_backend(%s)", [pid])
        _until(lambda: not conn.execute(gunicorns, [ours, started]).fetchone(),
               "gunicorn's sessions to end")


@pytest.fixture
def dispatcher_cookies():
    load_categories()
    city = build_city()
    client = Client()
    client.force_login(city.users["dispatcher"])
    csrf = secrets.token_hex(16)
    return {"cookie": f"sessionid={client.cookies['sessionid'].value}; csrftoken={csrf}",
            "csrf": csrf}


def submit(port: int, auth: dict, marker: str, where: str) -> Outcome:
    lon, lat = POINT[where]
    body = json.dumps({"category": "E0102", "lon": lon, "lat": lat, "description": marker,
                       "contact_phone": "13812345678"})
    out = Outcome(marker)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
        conn.request("POST", "/api/v1/appeals/", body=body, headers={
            "Content-Type": "application/json", "Cookie": auth["cookie"],
            "X-CSRFToken": auth["csrf"], "Accept-Language": "en"})
        response = conn.getresponse()
        data = response.read()
        out.status = response.status
        if response.status == 201:
            out.tracking = json.loads(data)["tracking"]
        else:
            out.error = data[:300].decode(errors="replace")
    except (OSError, http.client.HTTPException) as exc:
        out.error = repr(exc)  # no answer: reset, closed without a response, …
    return out


def test_killed_workers_lose_and_duplicate_no_appeal(server, dispatcher_cookies):
    auth, port = dispatcher_cookies, server.port
    places = [A, B, C]
    outcomes: list[Outcome] = []
    killed: list[int] = []

    # --- phase 1: SIGKILL a worker at ~1/4 and another at ~1/2 of the submissions -------------
    done = threading.Semaphore(0)

    def one(i: int) -> Outcome:
        try:
            return submit(port, auth, f"{MARK}1-{i}", places[i % 3])
        finally:
            done.release()

    def killer() -> None:
        for share in (4, 2):
            for _ in range(PHASE1 // share - (PHASE1 // 4 if share == 2 else 0)):
                done.acquire(timeout=WAIT)
            pid = server.workers()[0]
            server.kill_worker(pid)
            killed.append(pid)

    started = time.monotonic()
    kill_thread = threading.Thread(target=killer)
    kill_thread.start()
    with ThreadPoolExecutor(CLIENTS) as pool:
        outcomes += list(pool.map(one, range(PHASE1)))
    kill_thread.join(WAIT)
    assert len(killed) == 2
    phase1 = time.monotonic() - started

    # --- phase 2: kill every worker while one of them waits inside COMMIT ---------------------
    _until(lambda: len(server.workers()) == WORKERS and server.healthy(), "workers to respawn")
    category_id = Appeal._meta.get_field("category").related_model.objects.get(code="E0102").pk
    with _db() as watch, _db() as holder:
        holder.autocommit = False
        holder.execute("SELECT 1 FROM layers_category WHERE id = %s FOR UPDATE", [category_id])
        with ThreadPoolExecutor(WORKERS) as pool:
            futures = [pool.submit(submit, port, auth, f"{MARK}2-{i}", places[i])
                       for i in range(WORKERS)]
            # A submission without photos is one statement in autocommit (intake_sql): its
            # commit, and the deferred check with it, is at the end of that statement.
            _until(lambda: watch.execute(
                "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND (upper(trim(query)) = 'COMMIT' "
                "OR query LIKE 'WITH seq AS (%%')").fetchone(),
                "a submission to wait inside COMMIT")
            victims = server.workers()
            for pid in victims:
                server.kill_worker(pid)
            # Submissions whose write had reached PostgreSQL before their worker died: each
            # commits once the lock goes, with nobody to answer.
            waiting = watch.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND (upper(trim(query)) = 'COMMIT' "
                "OR query LIKE 'WITH seq AS (%%')").fetchone()[0]
            killed += victims
            _until(lambda: sum(f.done() for f in futures) >= 1, "a client to lose its worker")
            holder.rollback()  # the lock goes; the orphaned COMMIT completes
            phase2 = [f.result(timeout=WAIT) for f in futures]
    outcomes += phase2

    # --- phase 3: the service answers again --------------------------------------------------
    _until(lambda: len(server.workers()) == WORKERS and server.healthy(), "workers to respawn")
    after = [submit(port, auth, f"{MARK}3-{i}", places[i % 3]) for i in range(3)]
    assert [o.status for o in after] == [201, 201, 201], [o.error for o in after]
    outcomes += after

    # --- what is stored ----------------------------------------------------------------------
    with _db() as conn:
        stored = conn.execute(
            """SELECT a.description, a.tracking,
                      (SELECT array_agg(e.kind ORDER BY e.id) FROM layers_appealevent e
                        WHERE e.appeal_id = a.id)
                 FROM layers_appeal a WHERE a.description LIKE %s""", [MARK + "%"]).fetchall()
    by_marker: dict[str, list[str]] = {}
    for marker, tracking, kinds in stored:
        by_marker.setdefault(marker, []).append(tracking)
        assert kinds == ["received", "assigned"], (marker, kinds)  # nothing half-stored
    sent = {o.marker for o in outcomes}
    assert set(by_marker) <= sent, set(by_marker) - sent
    duplicated = {m: t for m, t in by_marker.items() if len(t) > 1}
    assert not duplicated

    answered = [o for o in outcomes if o.status is not None]
    assert all(o.status == 201 for o in answered), [(o.status, o.error) for o in answered
                                                    if o.status != 201]
    for o in answered:
        assert by_marker.get(o.marker) == [o.tracking], o  # every 201 is stored, as answered
    unanswered = [o for o in outcomes if o.status is None]
    stored_unanswered = [o for o in unanswered if o.marker in by_marker]
    assert len(stored) == len(answered) + len(stored_unanswered)
    # Phase 2 made it certain: the submissions whose write was waiting in PostgreSQL when their
    # workers died are stored without an answer — at least one, each once (PostgreSQL does not
    # notice a vanished client while a backend waits for a lock, with the default
    # client_connection_check_interval = 0); those that had not reached it are not stored.
    phase2_lost = [o for o in phase2 if o.status is None]
    assert phase2_lost, [o.status for o in phase2]
    assert 1 <= waiting <= sum(o.marker in by_marker for o in phase2_lost)

    print(f"\nworkers killed: {len(killed)}; requests: {len(outcomes)}; answered 201: "
          f"{len(answered)}; no answer: {len(unanswered)} (stored: {len(stored_unanswered)});"
          f" phase 1 took {phase1:.1f} s")
