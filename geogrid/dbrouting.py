"""Read replicas: which database connection a read uses (docs/replicas.md).

Rules, and why:
- Writes always go to `default` (the primary); the `replica` alias is never migrated.
- A read goes to the replica only inside a block marked replica-eligible: a view wrapped in
  `replica_reads` (tiles, heat, statistics, OGC API reads, exports; GET/HEAD only) or a job run
  in `reading_replica()`. Everything else — pages after an action, forms, workflow — reads the
  primary, so ordinary code never sees a stale row.
- Inside such a block the ORM is routed by `ReplicaRouter`; raw SQL takes its cursor from
  `read_connection()`. Code that cannot be changed and uses `django.db.connection` directly (the
  analytics snapshot) runs under `bind_default=True`, which points this thread's `default` alias
  at the replica for the duration of the view: only for views that never write (a write there
  fails on the read-only standby and the view is answered again from the primary).
- The replica is used only while it is reachable, in recovery and at most
  GEOGRID_REPLICA_MAX_LAG_S behind. One probe (a trivial query on each server) measures that; its
  answer is kept per process for GEOGRID_REPLICA_CHECK_S, so a busy server probes once a second,
  not once a request.
- Read-your-writes: after an unsafe request (POST, PUT, PATCH, DELETE) the primary's WAL insert
  position is remembered for the client, in a cookie (anonymous reporters too) and in the session;
  an eligible request from that client reads the replica only once the replica has replayed past
  it, else the primary.
- Replica unreachable, or a query on it fails with a connection error: the request is answered from
  the primary, a warning is logged, and /healthz shows the replica's state (status stays 200).
"""

from __future__ import annotations

import contextvars
import functools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.utils import InterfaceError, InternalError, OperationalError
from django.http import HttpRequest, HttpResponse

log = logging.getLogger(__name__)

REPLICA_ALIAS = "replica"
LSN_COOKIE = "geogrid_lsn"
LSN_SESSION_KEY = "geogrid_lsn"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# The alias reads use in the current request/job; None outside replica-eligible blocks.
_read_alias: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "geogrid_read_alias", default=None)


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def max_lag_s() -> float:
    return _env_float("GEOGRID_REPLICA_MAX_LAG_S", 5.0)


def check_interval_s() -> float:
    return _env_float("GEOGRID_REPLICA_CHECK_S", 1.0)


def parse_lsn(text: str | None) -> int:
    """'16/B374D848' → an integer (0 for anything else: a forged cookie only costs freshness)."""
    if not text or "/" not in text:
        return 0
    high, _, low = text.partition("/")
    try:
        return (int(high, 16) << 32) + int(low, 16)
    except ValueError:
        return 0


def format_lsn(value: int) -> str:
    return f"{value >> 32:X}/{value & 0xFFFFFFFF:X}"


def replica_configured() -> bool:
    return REPLICA_ALIAS in connections.settings


# --- the probe ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplicaState:
    configured: bool
    usable: bool  # reachable, in recovery, within the lag bound
    reachable: bool = False
    in_recovery: bool = False
    replay_lsn: int = 0
    lag_s: float | None = None
    error: str = ""
    checked_at: float = 0.0

    def as_json(self) -> dict[str, Any]:
        if not self.configured:
            return {"state": "off"}
        state = "ok" if self.usable else ("lagging" if self.reachable and self.in_recovery
                                          else "unavailable")
        body: dict[str, Any] = {"state": state, "max_lag_s": max_lag_s()}
        if self.lag_s is not None:
            body["lag_s"] = round(self.lag_s, 3)
        if self.error:
            body["error"] = self.error
        return body


_lock = threading.Lock()
_cached: ReplicaState | None = None
_last_logged: str = "ok"


def _probe() -> ReplicaState:
    replica = connections[REPLICA_ALIAS]
    try:
        with replica.cursor() as cursor:
            # Replay position, and how old the last replayed transaction is (the lag when the
            # primary has moved on; meaningless when it has not, hence the comparison below).
            cursor.execute(
                """SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text,
                          extract(epoch FROM now() - pg_last_xact_replay_timestamp())""")
            in_recovery, replay_text, age = cursor.fetchone()
    except Exception as exc:  # any failure (refused, timeout, auth, test guard) = not usable
        replica.close()  # a broken connection would otherwise be reused for CONN_MAX_AGE
        return ReplicaState(True, False, error=_short(exc), checked_at=time.monotonic())
    if not in_recovery:
        # A promoted (or mis-configured) server is another primary: reading it could miss writes.
        return ReplicaState(True, False, reachable=True, error="not a standby (not in recovery)",
                            checked_at=time.monotonic())
    replay = parse_lsn(replay_text)
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        primary = parse_lsn(cursor.fetchone()[0])
    lag = 0.0 if replay >= primary else float(age if age is not None else float("inf"))
    usable = lag <= max_lag_s()
    return ReplicaState(True, usable, reachable=True, in_recovery=True, replay_lsn=replay,
                        lag_s=lag, error="" if usable else "replication lag above the bound",
                        checked_at=time.monotonic())


def _short(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def replica_state(*, fresh: bool = False) -> ReplicaState:
    """The replica's state, probed at most every GEOGRID_REPLICA_CHECK_S per process."""
    global _cached, _last_logged
    if not replica_configured():
        return ReplicaState(False, False)
    cached = _cached
    if not fresh and cached and time.monotonic() - cached.checked_at < check_interval_s():
        return cached
    state = _probe()
    with _lock:
        _cached = state
        label = "ok" if state.usable else state.error
        if label != _last_logged:  # log changes, not every probe
            if state.usable:
                log.warning("read replica back in use")
            else:
                log.warning("read replica not used, reads go to the primary: %s", state.error)
            _last_logged = label
    return state


def mark_replica_failed(exc: BaseException) -> None:
    """A query on the replica failed: stop using it until the next probe says otherwise."""
    global _cached
    connections[REPLICA_ALIAS].close()
    with _lock:
        _cached = ReplicaState(True, False, error=_short(exc), checked_at=time.monotonic())
    log.warning("read replica failed, reads go to the primary: %s", _short(exc))


def forget_state() -> None:
    """Drop the cached probe (tests, and after `replica.sh start`)."""
    global _cached
    with _lock:
        _cached = None


def choose_read_alias(required_lsn: int = 0) -> str:
    """`replica` when it is usable and has replayed `required_lsn`, else `default`."""
    state = replica_state()
    if not state.usable:
        return DEFAULT_DB_ALIAS
    if required_lsn and state.replay_lsn < required_lsn:
        # The cached position may be a second old: ask once more before giving up on it.
        state = replica_state(fresh=True)
        if not state.usable or state.replay_lsn < required_lsn:
            return DEFAULT_DB_ALIAS
    return REPLICA_ALIAS


# --- where reads go -------------------------------------------------------------------------


def read_alias() -> str:
    """The alias a read uses here: the replica inside an eligible block that chose it."""
    return _read_alias.get() or DEFAULT_DB_ALIAS


def read_connection() -> BaseDatabaseWrapper:
    """The connection raw read-only SQL takes its cursor from: `read_connection().cursor()`."""
    return connections[read_alias()]


class ReplicaRouter:
    """DATABASE_ROUTERS entry: ORM reads follow `read_alias()`; writes, migrations: primary."""

    def db_for_read(self, model: type, **hints: Any) -> str:
        return read_alias()

    def db_for_write(self, model: type, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the same rows on both servers

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db != REPLICA_ALIAS


@contextmanager
def _bound_default(alias: str) -> Iterator[None]:
    """Point this thread's `default` alias at `alias`'s connection, then put it back."""
    if alias == DEFAULT_DB_ALIAS:
        yield
        return
    # `connections[...]` is per thread (asgiref Local): other threads keep their own `default`.
    saved = connections[DEFAULT_DB_ALIAS]
    connections[DEFAULT_DB_ALIAS] = connections[alias]
    try:
        yield
    finally:
        connections[DEFAULT_DB_ALIAS] = saved


@contextmanager
def reading_replica(*, required_lsn: int = 0, bind_default: bool = False) -> Iterator[str]:
    """Run a read-only block (a job, an export) on the replica when it is usable; yields the alias.
    A connection failure inside the block is not retried here (a job restarts itself)."""
    alias = choose_read_alias(required_lsn)
    token = _read_alias.set(alias)
    try:
        with _bound_default(alias) if bind_default else _nothing():
            yield alias
    finally:
        _read_alias.reset(token)


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def _replica_failure(exc: BaseException) -> bool:
    """Errors that mean "the replica cannot answer": connection loss, or the standby refusing a
    write / cancelling a query for recovery (InternalError/OperationalError from psycopg)."""
    return isinstance(exc, (OperationalError, InterfaceError, InternalError))


def replica_reads(view: Callable[..., HttpResponse] | None = None, *,
                  bind_default: bool = False) -> Any:
    """Mark a view replica-eligible (GET/HEAD). `bind_default=True` also moves code that reads
    through `django.db.connection`; use it only for views that never write.

    A replica failure during the view answers it again from the primary (reads are repeatable)."""

    def decorate(func: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(func)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in SAFE_METHODS or not replica_configured():
                return func(request, *args, **kwargs)
            user = getattr(request, "user", None)
            if user is not None:
                # Session and user from the primary, before any binding (a fresh login or a
                # role just granted must count).
                bool(user.is_authenticated)
            required = _lsn_from_request(request)  # read-your-writes (ReplicaMiddleware)
            alias = DEFAULT_DB_ALIAS
            try:
                with reading_replica(required_lsn=required, bind_default=bind_default) as alias:
                    return func(request, *args, **kwargs)
            except Exception as exc:
                if alias != REPLICA_ALIAS or not _replica_failure(exc):
                    raise
                mark_replica_failed(exc)
            return func(request, *args, **kwargs)  # on the primary

        return wrapper

    return decorate(view) if view is not None else decorate


# --- read-your-writes -----------------------------------------------------------------------


def _lsn_from_request(request: HttpRequest) -> int:
    lsn = parse_lsn(request.COOKIES.get(LSN_COOKIE))
    session = getattr(request, "session", None)
    if session is not None and session.session_key:
        lsn = max(lsn, parse_lsn(session.get(LSN_SESSION_KEY)))
    return lsn


class ReplicaMiddleware:
    """After an unsafe request, remember the primary's WAL position for this client (cookie and
    session) so that its next eligible reads wait for the replica to catch up or use the primary.
    Placed after SessionMiddleware (it writes the session before that saves it)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (request.method not in SAFE_METHODS and response.status_code < 400
                and replica_configured()):
            self._remember(request, response)
        return response

    @staticmethod
    def _remember(request: HttpRequest, response: HttpResponse) -> None:
        try:
            with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
                # The insert position is at or past this request's commit records, even with
                # synchronous_commit off (the flush position may still be behind them).
                cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
                lsn = cursor.fetchone()[0]
        except OperationalError:
            return
        # Short-lived: past the lag bound the replica has caught up or is not used anyway.
        max_age = max(60, int(max_lag_s() * 4))
        response.set_cookie(LSN_COOKIE, lsn, max_age=max_age, httponly=True, samesite="Lax",
                            secure=request.is_secure())
        session = getattr(request, "session", None)
        if session is not None and session.session_key:
            session[LSN_SESSION_KEY] = lsn
