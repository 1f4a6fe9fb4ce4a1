"""Read replicas on a real hot standby (geogrid/dbrouting.py, geogrid/provision/replica.sh).

The module starts its own standby of the private cluster with the same script `make setup` uses
(pg_basebackup -R into a temporary folder, a free port, its own replication slot), points the
`replica` alias at the standby's copy of the test database, and removes both at the end. All
tests are transactional: only committed rows reach the standby. One xdist group, so that under
`make test` (--dist loadgroup) one worker runs them all against one standby.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connections
from django.test import Client

from geogrid import dbrouting
from geogrid.dbrouting import REPLICA_ALIAS, forget_state, parse_lsn
from tests.factories import make_user
from tests.layers.factories import SUB, A

pytestmark = [
    pytest.mark.xdist_group("replica"),
    pytest.mark.django_db(transaction=True, databases=["default", REPLICA_ALIAS]),
]
ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "geogrid" / "provision" / "replica.sh"
BBOX = "117.78,26.38,117.83,26.42"


@dataclass
class Standby:
    port: int
    env: dict[str, str]

    def run(self, command: str) -> str:
        done = subprocess.run(["bash", str(SCRIPT), command], env=self.env, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _private_cluster() -> bool:
    """The primary is the private cluster of db.sh (only that one can be copied here)."""
    db = connections["default"].settings_dict
    port = os.environ.get("GEOGRID_DB_PORT", "55432")
    var = Path(os.environ.get("GEOGRID_VAR_DIR", ROOT / "var"))
    return (db["HOST"] == "127.0.0.1" and str(db["PORT"]) == port
            and (var / "run" / f".s.PGSQL.{port}").exists())


@pytest.fixture(scope="module")
def standby(django_db_setup, django_db_blocker) -> Iterator[Standby]:
    if not _private_cluster():
        pytest.skip("the primary is not the private cluster (make setup): no standby to start")
    with django_db_blocker.unblock():
        _drop_stale_slots()
    # Not under pytest's 0700 temp root: the postgres OS user must reach the folder.
    tmp = Path(tempfile.mkdtemp(prefix="geogrid-replica-", dir="/tmp"))
    tmp.chmod(0o755)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATABASE_REPLICA_URL")}
    env.update(GEOGRID_REPLICA_PORT=str(port), GEOGRID_REPLICA_DIR=str(tmp / "data"),
               GEOGRID_REPLICA_SOCKDIR=str(tmp / "run"), GEOGRID_REPLICA_LOG=str(tmp / "pg.log"),
               GEOGRID_REPLICA_SLOT=f"geogrid_test_{port}",
               GEOGRID_REPLICA_ENV_FILE=str(tmp / "geogrid.env"),
               GEOGRID_REPLICA_SHARED_BUFFERS="128MB")
    # Like var/geogrid.env (db.sh writes it); the script adds DATABASE_REPLICA_URL.
    (tmp / "geogrid.env").write_text("DATABASE_URL=postgres://geogrid:pw@127.0.0.1:55432/geogrid\n")
    node = Standby(port, env)
    # The alias: the standby's copy of this run's test database (the primary's test settings,
    # another port). A mirror of default, so that transactional tests never flush it.
    saved = connections.settings.get(REPLICA_ALIAS)
    primary = connections["default"].settings_dict
    alias = {**primary, "PORT": str(port), "OPTIONS": {"connect_timeout": 2},
             "TEST": {**primary["TEST"], "MIRROR": "default"}}
    try:
        done = subprocess.run(["bash", str(SCRIPT), "up"], env=env, capture_output=True,
                              text=True, timeout=1800)
        if "not enough free disk" in done.stderr:
            pytest.skip(done.stderr.strip())  # a copy of the cluster would fill the disk
        assert done.returncode == 0, done.stdout + done.stderr
        for databases in {id(d): d for d in (connections.settings,
                                             django_settings.DATABASES)}.values():
            databases[REPLICA_ALIAS] = alias
        _drop_connection()
        forget_state()
        yield node
    finally:
        _drop_connection()
        for databases in {id(d): d for d in (connections.settings,
                                             django_settings.DATABASES)}.values():
            if saved is None:
                databases.pop(REPLICA_ALIAS, None)
            else:
                databases[REPLICA_ALIAS] = saved
        forget_state()
        subprocess.run(["bash", str(SCRIPT), "destroy"], env=env, capture_output=True,
                       timeout=120)
        shutil.rmtree(tmp, ignore_errors=True)


def _drop_stale_slots() -> None:
    """Slots of test standbys that are gone (a killed run): they would keep WAL on the primary."""
    with connections["default"].cursor() as cursor:
        cursor.execute("""SELECT slot_name FROM pg_replication_slots
                          WHERE slot_name LIKE 'geogrid\\_test\\_%' AND NOT active""")
        for (name,) in cursor.fetchall():
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", int(name.rsplit("_", 1)[1]))) == 0:
                    continue  # its standby is up (another run), merely between connections
            cursor.execute("SELECT pg_drop_replication_slot(%s)", [name])


def _drop_connection() -> None:
    if REPLICA_ALIAS in connections.settings:
        connections[REPLICA_ALIAS].close()
        del connections[REPLICA_ALIAS]


def _scalar(alias: str, sql: str):
    with connections[alias].cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def wait_replayed(timeout: float = 600.0) -> None:
    """Until the standby has replayed everything the primary has written so far."""
    target = parse_lsn(_scalar("default", "SELECT pg_current_wal_insert_lsn()::text"))
    deadline = time.monotonic() + timeout
    while parse_lsn(_scalar(REPLICA_ALIAS, "SELECT pg_last_wal_replay_lsn()::text")) < target:
        assert time.monotonic() < deadline, "the standby did not catch up"
        time.sleep(0.05)
    forget_state()


@contextmanager
def recovery_of_queries(pattern: str) -> Iterator[list[bool]]:
    """pg_is_in_recovery() of the connection that ran each query containing `pattern`."""
    used: list = []

    def record(execute, sql, params, many, context):
        if pattern in sql:
            used.append(context["connection"])
        return execute(sql, params, many, context)

    wrappers = [connections[a] for a in ("default", REPLICA_ALIAS)]
    for conn in wrappers:
        conn.execute_wrappers.append(record)
    flags: list[bool] = []
    try:
        yield flags
    finally:
        for conn in wrappers:
            conn.execute_wrappers.remove(record)
    for conn in used:
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_is_in_recovery()")
            flags.append(cursor.fetchone()[0])


@pytest.fixture(autouse=True)
def _generous_lag_bound(monkeypatch):
    # The standby replays the whole shared cluster's WAL; a burst elsewhere must not push these
    # tests' reads to the primary. The bound itself is tested with its own, tight value.
    monkeypatch.setenv("GEOGRID_REPLICA_MAX_LAG_S", "120")


@pytest.fixture
def city(standby):
    from layers.analytics.snapshot import refresh
    from layers.appeals.categories import load_categories
    from tests.analytics.helpers import city_with_appeals

    load_categories()  # flushed by the transactional tests before
    grids = city_with_appeals()
    refresh()
    wait_replayed()
    return grids


@pytest.fixture
def admin(city) -> Client:
    client = Client()
    client.force_login(make_user(username="root", is_superuser=True, is_staff=True))
    return client


def tile_total(client: Client) -> int:
    from tests.analytics.test_tiles import bin_total, tile_at

    z, x, y = tile_at(12)
    response = client.get(f"/tiles/appeals/{z}/{x}/{y}.pbf")
    assert response.status_code == 200
    return bin_total(response.content)


def stats_received(client: Client) -> int:
    response = client.get("/api/v1/stats/")
    assert response.status_code == 200, response.content
    return response.json()["totals"]["received"]


def test_tiles_statistics_ogc_and_exports_read_the_standby(admin, tmp_path):
    with recovery_of_queries("analytics_") as tile_flags:
        assert tile_total(admin) == 20
    assert tile_flags and all(tile_flags), tile_flags  # every snapshot read on the standby
    with recovery_of_queries("layers_appeal") as stats_flags:
        assert stats_received(admin) == 20
    assert stats_flags and all(stats_flags), stats_flags
    with recovery_of_queries("analytics_") as heat:
        assert admin.get("/api/v1/heat", {"bbox": BBOX, "zoom": 14}).status_code == 200
    assert heat and all(heat)
    with recovery_of_queries("geogrid_grid") as ogc:
        response = admin.get("/ogcapi/collections/micro-grids/items", {"limit": 5})
        assert response.status_code == 200 and response.json()["features"]
    assert ogc and all(ogc)
    with recovery_of_queries("geogrid_grid") as export:
        call_command("export_grids", str(tmp_path / "grids.geojson"))
    assert export and all(export)
    # Outside the marked views, reads stay on the primary (the appeal list, say).
    with recovery_of_queries("layers_appeal") as listing:
        assert admin.get("/api/v1/appeals/").status_code == 200
    assert listing and not any(listing)
    health = admin.get("/healthz").json()
    assert health["replica"]["state"] == "ok" and "warnings" not in health


def test_an_action_is_seen_by_the_page_after_it(admin, standby):
    _scalar(REPLICA_ALIAS, "SELECT pg_wal_replay_pause()")
    try:
        # The standby now stays behind: the reporter's new appeal exists only on the primary.
        body = {"category": "E0102", "lon": 117.7935, "lat": 26.3955}
        assert admin.post("/api/v1/appeals/", body,
                          content_type="application/json").status_code == 201
        assert admin.cookies["geogrid_lsn"].value
        with recovery_of_queries("layers_appeal") as flags:
            assert stats_received(admin) == 21
        assert flags and not any(flags)  # read from the primary
        assert tile_total(admin) == 21
        # Another client, which wrote nothing, still gets the (bounded) stale standby.
        other = Client()
        other.force_login(make_user(username="viewer", is_superuser=True))
        assert stats_received(other) == 20
    finally:
        _scalar(REPLICA_ALIAS, "SELECT pg_wal_replay_resume()")
    wait_replayed()
    # Once the standby has replayed the action, the same client reads it again.
    with recovery_of_queries("layers_appeal") as flags:
        assert stats_received(admin) == 21
    assert flags and all(flags)


def test_a_lagging_standby_is_not_used_past_the_bound(admin, monkeypatch):
    from tests.analytics.helpers import make_appeal

    monkeypatch.setenv("GEOGRID_REPLICA_MAX_LAG_S", "0.5")
    _scalar(REPLICA_ALIAS, "SELECT pg_wal_replay_pause()")
    try:
        make_appeal(117.794, 26.396)  # committed on the primary, not replayed
        time.sleep(1.0)
        forget_state()
        fresh = Client()  # no read-your-writes cookie: only the lag bound keeps it off
        fresh.force_login(make_user(username="viewer", is_superuser=True))
        with recovery_of_queries("layers_appeal") as flags:
            assert stats_received(fresh) == 21
        assert flags and not any(flags)
        health = fresh.get("/healthz")
        assert health.status_code == 200
        body = health.json()
        assert body["status"] == "ok" and body["replica"]["state"] == "lagging"
        assert body["replica"]["lag_s"] > 0.5 and body["warnings"]
    finally:
        _scalar(REPLICA_ALIAS, "SELECT pg_wal_replay_resume()")
    # Back within a bound it can keep while the shared cluster writes on: the standby again.
    monkeypatch.setenv("GEOGRID_REPLICA_MAX_LAG_S", "120")
    wait_replayed()
    with recovery_of_queries("layers_appeal") as flags:
        assert stats_received(fresh) == 21
    assert flags and all(flags)


def test_standby_stopped_every_page_answers_from_the_primary(admin, standby, monkeypatch):
    from tests.analytics.test_tiles import tile_at

    z, x, y = tile_at(12)
    pages = [f"/tiles/appeals/{z}/{x}/{y}.pbf", f"/tiles/grids/{z}/{x}/{y}.pbf",
             f"/api/v1/heat?bbox={BBOX}&zoom=14", f"/api/v1/heat/count?bbox={BBOX}",
             "/api/v1/heat/grids?level=5", "/api/v1/hotspots", "/api/v1/stats/",
             "/ogcapi/collections", "/ogcapi/collections/micro-grids/items?limit=5",
             "/ogcapi/collections/appeals/items?limit=5", "/maps/report.html",
             "/maps/dispatch/", f"/api/v1/care/stats/?grid={SUB}",
             f"/api/v1/shop/figures/?grid={SUB}", f"/api/v1/volunteering/figures/?grid={SUB}",
             "/api/v1/whistles/figures/?district=350427", f"/api/v1/wishes/figures/?grid={A}"]
    assert stats_received(admin) == 20  # the replica connection is open and in use
    # The cached probe still says "ok" for a minute: the first request meets a dead connection
    # mid-way and is answered again from the primary.
    monkeypatch.setenv("GEOGRID_REPLICA_CHECK_S", "60")
    standby.run("stop")
    try:
        for url in pages:
            response = admin.get(url)
            assert response.status_code == 200, (url, response.content[:300])
        health = admin.get("/healthz")
        assert health.status_code == 200
        body = health.json()
        assert body["status"] == "ok" and body["replica"]["state"] == "unavailable"
        assert "reads use the primary" in body["warnings"][0]
        with recovery_of_queries("layers_appeal") as flags:
            assert stats_received(admin) == 20
        assert flags and not any(flags)
    finally:
        standby.run("start")
    monkeypatch.setenv("GEOGRID_REPLICA_CHECK_S", "0")
    wait_replayed()
    with recovery_of_queries("analytics_") as flags:
        assert tile_total(admin) == 20
    assert flags and all(flags)
    assert admin.get("/healthz").json()["replica"]["state"] == "ok"


def test_setup_is_idempotent_and_writes_the_replica_url(standby):
    started = time.monotonic()
    out = standby.run("up")  # what a second `GEOGRID_REPLICAS=1 make setup` does
    assert time.monotonic() - started < 15
    assert "already running" in out and "copying" not in out
    lines = Path(standby.env["GEOGRID_REPLICA_ENV_FILE"]).read_text().splitlines()
    assert lines == ["DATABASE_URL=postgres://geogrid:pw@127.0.0.1:55432/geogrid",
                     f"DATABASE_REPLICA_URL=postgres://geogrid:pw@127.0.0.1:{standby.port}/geogrid"]
    assert "running on 127.0.0.1" in standby.run("status")


def test_router_never_migrates_or_writes_the_replica(standby):
    router = dbrouting.ReplicaRouter()
    assert router.allow_migrate(REPLICA_ALIAS, "layers") is False
    assert router.allow_migrate("default", "layers") is True
    assert router.db_for_write(object) == "default"
    assert router.db_for_read(object) == "default"  # outside a replica-eligible block
    assert dbrouting.format_lsn(parse_lsn("16/B374D848")) == "16/B374D848"
    assert parse_lsn("forged") == 0
