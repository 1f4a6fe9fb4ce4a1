"""The database connection dies in the middle of an import: nothing is written and the command
fails with a message (not a traceback); run again, the same import goes through.

The import runs as `manage.py import_grids … --commit` / `import_appeals … --commit` in this
thread; another connection terminates its backend (`pg_terminate_backend`) at one of these
points, every one inside the import's single transaction:

- *staged* (grids): COPY and classification done, held before the new versions are written,
  killed there — the next statement runs on the raw psycopg cursor;
- *numbered* (hotline): held before the tracking numbers are reserved (a Django cursor);
- *copying* (hotline): inside the COPY of the staged rows (the raw psycopg cursor);
- *written*: every row is written (grids: the new versions; hotline: the appeals), held before
  the next statement (the topology check; the timeline rows) and killed there;
- *commit*: the import has sent COMMIT, and the deferred foreign-key check of COMMIT waits for
  a row lock this test holds on a referenced row (the grids' parent zone; the appeals'
  category); the backend is killed while it waits inside COMMIT, with everything written
  (grids: the new versions and the open appeal reassigned to one of them).

"Unchanged" is judged on every table: row count and an md5 over all rows as text.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
import pyproj
import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import CommandError, call_command
from django.db import connection

from fixtures.samples.make_samples import EAST, ORIGIN_E, ORIGIN_N, WEST, write_all
from geogrid.models import Grid
from layers.appeals.categories import load_categories
from layers.appeals.intake import AppealInput, submit_appeal
from layers.appeals.models import Appeal, Category
from tests.importers.test_grids import box_m, write_variant
from tests.layers.factories import make_city

# The import must really commit (or not) on its own connection.
pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 30.0  # seconds any step may take on a busy machine before the test gives up


def _connect() -> psycopg.Connection:
    s = connection.settings_dict
    return psycopg.connect(dbname=s["NAME"], user=s["USER"], password=s["PASSWORD"],
                           host=s["HOST"], port=s["PORT"], autocommit=True)


def state() -> dict[str, tuple[int, str]]:
    """Every table's row count and md5 of its rows (as text, sorted), on a fresh connection."""
    with _connect() as conn:
        tables = [r[0] for r in conn.execute(
            """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'public' AND c.relkind = 'r'
                  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid
                                    AND d.classid = 'pg_class'::regclass AND d.deptype = 'e')
                ORDER BY 1""")]
        out = {}
        for table in tables:
            count, digest = conn.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text),"
                f" '')) FROM {table} t").fetchone()
            out[table] = (count, digest)
        return out


class Kill:
    """Terminates the import's backend at one point; `killed` says it happened."""

    def __init__(self) -> None:
        self.pid = 0
        self.killed = False
        self.error: BaseException | None = None
        self.done = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        connection.ensure_connection()
        self.pid = connection.connection.info.backend_pid
        self._thread = threading.Thread(target=self._guarded, daemon=True)
        self._thread.start()

    def finish(self) -> None:
        self.done.set()
        if self._thread is not None:
            self._thread.join(WAIT)
        if self.error is not None:
            raise self.error

    def _guarded(self) -> None:
        try:
            with _connect() as conn:
                self.run(conn)
        except BaseException as exc:  # re-raised in the test's thread by finish()
            self.error = exc

    def run(self, conn: psycopg.Connection) -> None:
        raise NotImplementedError

    def terminate(self, conn: psycopg.Connection) -> None:
        conn.execute("SELECT pg_terminate_backend(%s)", [self.pid])
        deadline = time.monotonic() + WAIT
        while conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s",
                           [self.pid]).fetchone():
            if time.monotonic() > deadline:
                raise AssertionError(f"backend {self.pid} still alive after terminate")
            time.sleep(0.02)
        self.killed = True


class KillAtHook(Kill):
    """Holds the import when it calls `module.name` and kills it there, between statements."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> None:
        super().__init__()
        self.reached = threading.Event()
        self.go = threading.Event()
        real: Callable[..., Any] = getattr(module, name)

        def held(*args: Any, **kwargs: Any) -> Any:
            self.reached.set()
            self.go.wait(WAIT)
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, held)

    def run(self, conn: psycopg.Connection) -> None:
        try:
            if not self.reached.wait(WAIT):
                raise AssertionError("the import never reached the hook")
            self.terminate(conn)
        finally:
            self.go.set()


class KillInCommit(Kill):
    """Holds a row lock that the import's COMMIT (deferred foreign-key check) waits for, and
    kills the import while it waits."""

    def __init__(self, lock_sql: str, params: list[Any]) -> None:
        super().__init__()
        self.lock_sql, self.params = lock_sql, params
        self.locked = threading.Event()

    def start(self) -> None:
        # The lock must be held before the import starts, or a fast import commits first.
        super().start()
        if not self.locked.wait(WAIT):
            self.finish()
            raise AssertionError("the row lock was never taken")

    def run(self, conn: psycopg.Connection) -> None:
        with _connect() as holder:
            holder.autocommit = False
            assert holder.execute(self.lock_sql, self.params).fetchone(), "nothing locked"
            self.locked.set()
            try:
                deadline = time.monotonic() + WAIT
                while True:
                    row = conn.execute("SELECT wait_event_type, query FROM pg_stat_activity "
                                       "WHERE pid = %s", [self.pid]).fetchone()
                    if row and row[0] == "Lock" and row[1].strip().upper() == "COMMIT":
                        break
                    if self.done.is_set() or time.monotonic() > deadline:
                        raise AssertionError(f"the import never waited in COMMIT: {row}")
                    time.sleep(0.02)
                self.terminate(conn)
            finally:
                holder.rollback()


class EscapedTraceback(AssertionError):
    """The command ended in an exception other than CommandError: a traceback for the user."""


def interrupted(kill: Kill, command: str, *args: str) -> str:
    """Run the command with `kill` armed; check the database is unchanged; the CommandError's
    message."""
    before = state()
    kill.start()
    raised: Exception | None = None
    try:
        call_command(command, *args, "--commit", stdout=_Sink())
    except Exception as exc:
        raised = exc
    finally:
        kill.finish()
    assert kill.killed
    connection.close()  # the import's connection is gone; the next query opens a new one
    assert state() == before
    assert raised is not None, "the killed import reported success"
    if not isinstance(raised, CommandError):
        raise EscapedTraceback(f"{command} ended in {raised!r}, not a CommandError")
    return str(raised)


def assert_clean_failure(message: str) -> None:
    assert "nothing was written" in message, message
    assert "Traceback" not in message and "\n" not in message.strip()


# --- grids ------------------------------------------------------------------------------------


@pytest.fixture
def grids_moved(tmp_path):
    """The sample hierarchy imported, an appeal in the west zone, and a file moving the edge
    between the two west micro-grids 100 m north (two new versions, the appeal reassigned)."""
    load_categories()
    samples = write_all(tmp_path / "samples")
    call_command("import_grids", str(samples["geojson"]), "--commit", stdout=_Sink())
    lon, lat = pyproj.Transformer.from_crs(4548, 4326, always_xy=True).transform(
        ORIGIN_E + 500, ORIGIN_N + 1050)  # in WEST002 once the edge has moved north
    submit_appeal(AppealInput(category="E0102", lon=lon, lat=lat, description="路灯不亮"),
                  actor=AnonymousUser())
    return write_variant(tmp_path / "moved.geojson", {
        WEST + "001": box_m(0, 1100, 1000, 900),
        WEST + "002": box_m(0, 0, 1000, 1100),
    })


GRID_POINTS = {
    "staged": ("importers.grids", "replace_boundaries"),
    "written": ("importers.grids", "check_codes"),
}


@pytest.mark.parametrize("point", ["staged", "written", "commit"])
def test_grid_import_killed_midway_changes_nothing(monkeypatch, grids_moved, point):
    kill: Kill
    if point == "commit":
        kill = KillInCommit("SELECT 1 FROM geogrid_grid WHERE code = %s AND valid_to IS NULL "
                            "FOR UPDATE", [WEST])
    else:
        import importlib

        module, name = GRID_POINTS[point]
        kill = KillAtHook(monkeypatch, importlib.import_module(module), name)
    message = interrupted(kill, "import_grids", str(grids_moved))
    assert_clean_failure(message)
    monkeypatch.undo()
    # Nothing half-done is left behind: the same import goes through now.
    appeal = Appeal.objects.get()
    call_command("import_grids", str(grids_moved), "--commit", stdout=_Sink())
    assert Grid.objects.filter(code=WEST + "001").count() == 2
    assert Grid.objects.current().filter(code__startswith=EAST).count() == 3
    moved = Appeal.objects.get()
    assert moved.grid_id != appeal.grid_id  # reassigned to the new version of WEST002
    assert moved.grid.code == WEST + "002" and moved.grid.valid_to is None


# --- hotline ----------------------------------------------------------------------------------


@pytest.fixture
def hotline(tmp_path):
    load_categories()
    make_city(with_staff=False)
    submit_appeal(AppealInput(category="E0102", lon=117.805, lat=26.405), actor=AnonymousUser())
    path = tmp_path / "12345.csv"
    path.write_text(
        "appeal_id,category_code,status,lon,lat,description,reported_at\n"
        "H1,E0102,submitted,117.805,26.405,垃圾,2025-06-01 09:00\n"
        "H2,E0102,closed,117.795,26.40,垃圾,2025-06-01 10:00\n"
        "H3,E0102,accepted,117.805,26.395,垃圾,2025-06-02 08:00\n",
        encoding="utf-8")
    return path


HOTLINE_POINTS = {
    "numbered": ("importers.appeals", "_tracking_numbers"),
    "copying": ("importers.appeals", "_copy_rows"),
    "written": ("layers.appeals.timeline", "insert_from_select"),
}


@pytest.mark.parametrize(
    "point", ["numbered", "copying", "written", "commit"])
def test_hotline_import_killed_midway_changes_nothing(monkeypatch, hotline, point):
    kill: Kill
    if point == "commit":
        kill = KillInCommit("SELECT 1 FROM layers_category WHERE id = %s FOR UPDATE",
                            [Category.objects.get(code="E0102").pk])
    else:
        import importlib

        module, name = HOTLINE_POINTS[point]
        kill = KillAtHook(monkeypatch, importlib.import_module(module), name)
    message = interrupted(kill, "import_appeals", str(hotline))
    assert_clean_failure(message)
    monkeypatch.undo()
    call_command("import_appeals", str(hotline), "--commit", stdout=_Sink())
    assert Appeal.objects.filter(source_ref__in=["H1", "H2", "H3"]).count() == 3


class _Sink:
    """stdout for the commands: their report lines are not what these tests look at."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass

