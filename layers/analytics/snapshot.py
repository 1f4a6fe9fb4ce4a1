"""Pre-aggregation for tiles and heat: a Morton-ordered fact table (one narrow row per appeal)
and a cube of bin counts per zoom for a few filter combinations ("cuboids"), both partitioned by
local calendar month (the appeals' own boundaries, layers.appeals.partitions.bounds) —
`analytics_fact` by `day`, `analytics_cube` by `month` (every cube row carries its month).

`refresh()` rebuilds only the months whose appeals changed since the last refresh: each changed
month's fact and cube partitions are built off to the side as plain tables (indexed, analysed
and vacuumed there), then one short transaction takes both parents ACCESS EXCLUSIVE, detaches
the old month partitions (dropped after the commit), attaches the new ones and moves the
watermark. A tile query
is one statement that re-reads the watermark (LIVE_SQL) with the partitions, so it sees every
month and the watermark all old or all new, never a mix or a gap; it waits for the swap (10–30 ms)
if it arrives during it. `refresh(full=True)` rebuilds every month the same way;
`refresh(months=[...])` rebuilds the given ones.

**What counts as changed.** Per month, `analytics_month` keeps the fingerprint seen at its last
build: the number of appeals with id <= the watermark and the sum of their `xmin` (the id of
the transaction that last wrote each row). Any insert, delete or update of a month's appeal —
raw SQL and bulk `.update()` included, whatever the order in which transactions commit —
changes it; `updated_at` would miss writes that do not set it and a write that commits after a
later one. The cost is one scan of (id, reported_at, xmin) of layers_appeal per refresh. A
VACUUM FREEZE or a table rewrite can change xmin without a change: that month is rebuilt once,
never missed. Not seen: a grid re-coded in geogrid_grid (the facts keep the micro-grid code) —
run `--full` after re-coding grids.

**The all-months cube.** The cuboids without a time dimension are also kept summed over every
month in `analytics_cube_all` (one row per bin, not per bin and month: a no-period tile reads
~15× fewer rows). A refresh changes it by difference — per key, the rebuilt months' new rows
minus their old partitions' rows, computed before the swap — applied with one MERGE inside the
swap transaction, so it always equals the sum over the attached partitions, old or new.

**The watermark.** Appeals with id > watermark are counted live from layers_appeal. Every month
with an appeal of id in (old, new watermark] has a new count, so it is rebuilt in the same
swap: the facts hold exactly the appeals up to the watermark. `refresh(months=...)` keeps the
watermark and builds those months up to it.

**Archived months.** A month whose appeals are gone from layers_appeal (its partition detached
for archiving, or every appeal deleted) loses its fact and cube partitions at the next refresh:
tiles, heat and per-grid counts equal a direct count over layers_appeal, which no longer has
them. Re-attaching the appeal partition brings the month back at the next refresh.

The fact table's indexes cover every column a filter reads (INCLUDE) and each new partition is
VACUUMed before it is attached (outside a transaction), so a fact read is an index-only scan:
without that, a "last 30 days" tile fetched every matching heap row at random (p95 0.17–0.5 s
at 1 M appeals against ~12 ms).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, connections, transaction
from django.utils import timezone

from layers.appeals.partitions import bounds as appeal_month_bounds

from .conf import conf
from .tilemath import HALF, KEY_LEVEL

# cuboid id → the dimensions its rows keep; every other dimension is summed over. One-dimension
# cuboids stay small at every zoom (≤ 1024 bins per tile × the dimension's values); the
# two-dimension ones fill up at fine zooms, where reading the facts costs about the same.
CUBOIDS: dict[int, tuple[str, ...]] = {
    0: (),
    1: ("category",),
    2: ("status",),
    3: ("month",),
    4: ("category", "month"),
    5: ("sub",),
    6: ("category", "status"),
    7: ("channel",),
    # Arbitrary day ranges ("the last 30 days") at coarse zooms, where a tile holds most of the
    # city: ~700 bins a day at z10 against ~2,200 appeals (DAY_CUBE_MAX_ZOOM; finer zooms read
    # the facts, whose rows per tile are then as few).
    8: ("day",),
    9: ("day", "status"),
}
DAY_CUBOIDS = tuple(c for c, dims in CUBOIDS.items() if "day" in dims)
# An appeal without a grid counts for its district, as in the appeal list and the statistics
# (every appeal has a fact row; one without a location has no key and shows in no tile).
FACT_GRID_CODE = "coalesce(g.code, a.district_code, '')"
# Fact indexes (name → key columns); each INCLUDEs the rest of FACT_COVER. A tile reads one key
# range per index (a day range: one descent per day, `day = ANY(days)`).
FACT_INDEXES = {
    "key": "key",
    "grid": "grid_code varchar_pattern_ops, key",
    "day": "day, key",
    "cat": "category_id, key",
    "status": "status, key",
}
FACT_COVER = ("key", "cx", "cy", "appeal_id", "category_id", "status", "channel", "day",
              "grid_code")
_DIM_COLUMNS = {"category": "category_id", "status": "status", "month": "month", "sub": "sub",
                "channel": "channel", "day": "day"}


FACT = "analytics_fact"
CUBE = "analytics_cube"
# The cuboids without a time dimension, summed over every month in one table kept exact by
# difference in the swap (_cube_all_delta, _swap_locked): a no-period tile read one row per bin
# and month from the partitions (~15,000 rows for a dense z13 tile of the city instead of
# ~1,000). The month partitions keep these cuboids too — each month's are the difference's
# "old" side when the month is rebuilt.
CUBE_ALL = "analytics_cube_all"
ALL_MONTH_CUBOIDS = tuple(c for c, dims in CUBOIDS.items() if not {"month", "day"} & set(dims))
_ALL_COLUMNS = "cuboid, z, key, cx, cy, category_id, status, sub, channel"
_ALL_MATCH = ("cuboid", "z", "key", "category_id", "status", "sub", "channel")
# The appeals counted live (alias `a`; one parameter: State.watermark as read before). The
# statement re-reads the watermark along with the partitions it reads, so that a swap committing
# between current_state() and the tile query cannot pair the old watermark with new months
# (appeals counted twice); the watermark never decreases, so `> both` is `> the statement's`.
# The literal stays for the planner: with only the subquery it assumed a third of the table was
# live and started parallel workers (~40 ms a tile instead of ~2).
LIVE_SQL = "a.id > %s AND a.id > (SELECT watermark FROM analytics_state WHERE id = 1)"
# Session advisory lock: one refresh at a time (they would build the same side tables).
REFRESH_LOCK = 0x6765_6F67_7269_64  # "geogrid"


@dataclass(frozen=True)
class State:
    version: int
    watermark: int
    fact: str = FACT
    cube: str = CUBE
    cube_all: str = CUBE_ALL


@dataclass
class RefreshReport:
    facts: int  # rows written (rebuilt months only)
    cube_rows: int
    seconds: float
    version: int
    months: list[dt.date] = field(default_factory=list)  # rebuilt
    dropped: list[dt.date] = field(default_factory=list)  # gone from layers_appeal
    kept: int = 0  # months left as they were
    swap_ms: float = 0.0  # readers of the partitions may wait for this (lock to commit)


class RefreshBusy(RuntimeError):
    """Another refresh holds the lock."""


def fetch(sql: str, params: list, one: bool = False):
    """Run a read query with JIT off: PostGIS functions carry high cost estimates, so the planner
    JIT-compiles queries that then run in milliseconds — compiling alone took ~300 ms."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        return cursor.fetchone() if one else cursor.fetchall()


def current_state() -> State:
    with connection.cursor() as cursor:
        cursor.execute("SELECT version, watermark FROM analytics_state WHERE id = 1")
        version, watermark = cursor.fetchone()
    return State(version, watermark)


def cuboid_for(dims: set[str], level: int) -> int | None:
    """The smallest cuboid keeping every dimension in `dims` at bin `level`, or None (read the
    facts)."""
    fits = [c for c, keep in CUBOIDS.items() if dims <= set(keep) and level in cube_levels(c)]
    return min(fits, key=lambda c: len(CUBOIDS[c])) if fits else None


def cube_levels(cuboid: int = 0) -> range:
    """Bin levels a cuboid holds: tile zooms 0..CUBE_MAX_ZOOM (CUBE_COMBO_MAX_ZOOM for
    two-dimension cuboids) plus BIN_SHIFT."""
    shift = int(conf("BIN_SHIFT"))
    top = conf("CUBE_MAX_ZOOM") if len(CUBOIDS[cuboid]) < 2 else conf("CUBE_COMBO_MAX_ZOOM")
    if cuboid in DAY_CUBOIDS:
        top = conf("DAY_CUBE_MAX_ZOOM")
    return range(shift, int(top) + shift + 1)


CUBE_INDEXES = {
    "key": "(cuboid, z, key)",
    # One descent per day and tile (index-only once vacuumed).
    "day": f"(cuboid, z, day, key) INCLUDE (cx, cy, status, n) "
           f"WHERE cuboid IN ({', '.join(map(str, DAY_CUBOIDS))})",
}
_FACT_COLUMNS = ("appeal_id, key, cx, cy, category_id, status, channel, day, grid_code, on_time, "
                 "x, y, tracking, reported_at")
# How long the swap waits for readers' locks before it gives up and tries again: a long reader
# (a report) must not hold every tile behind the swap's queued ACCESS EXCLUSIVE lock.
SWAP_LOCK_TIMEOUT = "2s"
SWAP_TRIES = 5

Fingerprint = tuple[int, Any]  # (appeals up to the watermark, sum of their xmin)


def _tz() -> str:
    return timezone.get_default_timezone_name()


# Months are dates (their first day). The boundaries are the appeals' partitions' own, defined
# once in layers.appeals.partitions: local midnight of the 1st in TIME_ZONE.
def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the local month as aware moments."""
    return appeal_month_bounds((month.year, month.month))


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def month_suffix(month: dt.date) -> str:
    """`pYYYYMM`, as the appeal partitions are named."""
    return f"p{month:%Y%m}"


def parse_month(raw: str) -> dt.date:
    """`YYYY-MM` → the month's first day; ValueError otherwise."""
    try:
        return dt.datetime.strptime(raw.strip(), "%Y-%m").date()
    except ValueError:
        raise ValueError(f"a month like 2026-06, not {raw[:20]!r}") from None


def _month_sql(column: str = "reported_at") -> str:
    # The local month (TIME_ZONE; the connection's zone is UTC), as month_bounds() bounds it.
    return f"date_trunc('month', {column} AT TIME ZONE %s)::date"


def _ranges_sql(months: list[dt.date], params: list) -> str:
    """reported_at within any of the months (prunes a layers_appeal partitioned by month)."""
    parts = []
    for month in months:
        parts.append("(a.reported_at >= %s AND a.reported_at < %s)")
        params.extend(month_bounds(month))
    return "(" + " OR ".join(parts) + ")" if parts else "false"


def fingerprints(watermark: int, months: list[dt.date] | None = None) -> dict[dt.date, Fingerprint]:
    """Per local month with appeals: (count, sum of xmin) of its appeals with id <= watermark."""
    params: list = [_tz(), watermark]
    scope = "true" if months is None else _ranges_sql(months, params)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT {_month_sql('a.reported_at')}, count(*),
                       coalesce(sum(a.xmin::text::bigint), 0)
                FROM layers_appeal a WHERE a.id <= %s AND {scope} GROUP BY 1""",
            params,
        )
        return {m: (n, x) for m, n, x in cursor.fetchall()}


def refresh(*, full: bool = False, months: Iterable[dt.date] | None = None) -> RefreshReport:
    """Rebuild the months whose appeals changed (all of them with `full`, the given ones with
    `months`) and swap them in; see the module docstring."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [REFRESH_LOCK])
        if not cursor.fetchone()[0]:
            raise RefreshBusy("another analytics refresh is running; wait for it to finish")
    try:
        return _refresh(full, None if months is None else sorted(set(months)), started)
    finally:
        if not connection.needs_rollback:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [REFRESH_LOCK])


def _refresh(full: bool, only: list[dt.date] | None, started: float) -> RefreshReport:
    state = current_state()
    with connection.cursor() as cursor:
        cursor.execute("SELECT month, appeals, xmin_sum FROM analytics_month")
        stored: dict[dt.date, Fingerprint] = {m: (n, x) for m, n, x in cursor.fetchall()}
        if only is None:
            cursor.execute("SELECT coalesce(max(id), 0) FROM layers_appeal")
            # Never lower (readers rely on it, LIVE_SQL): ids above max(id) are new ones anyway.
            watermark = max(cursor.fetchone()[0], state.watermark)
    if only is not None:
        # Other months may hold appeals above the watermark that their partitions lack, so the
        # watermark stays; the given months are rebuilt up to it.
        watermark = state.watermark
        seen = fingerprints(watermark, only)
        rebuild = [m for m in only if m in seen]
        drop = [m for m in only if m not in seen and m in stored]
    else:
        seen = fingerprints(watermark)
        rebuild = sorted(m for m in seen if full or stored.get(m) != seen[m])
        drop = sorted(m for m in stored if m not in seen)
    if not rebuild and not drop and watermark == state.watermark:
        return RefreshReport(0, 0, time.perf_counter() - started, state.version,
                             kept=len(stored))
    facts = cube_rows = 0
    built: dict[dt.date, tuple[int, int]] = {}
    stage = _stage(rebuild, watermark) if len(rebuild) > 1 else None
    try:
        for month in rebuild:
            built[month] = _build_month(month, watermark, stage)
            facts += built[month][0]
            cube_rows += built[month][1]
    finally:
        if stage:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {stage}")
    _cube_all_delta(rebuild, drop)
    try:
        version, swap_ms = _swap(rebuild, drop, {m: seen[m] for m in rebuild}, built,
                                 watermark, time.perf_counter() - started)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {DELTA}")
    return RefreshReport(facts, cube_rows, time.perf_counter() - started, version, rebuild, drop,
                         kept=len(set(stored) - set(rebuild) - set(drop)), swap_ms=swap_ms)


def _fact_select(where: str) -> str:
    """Fact rows (in _FACT_COLUMNS order) of the appeals `a` matching `where`."""
    n = 2**KEY_LEVEL
    return f"""
        SELECT id, analytics_morton(cx, cy), cx, cy, category_id, status, channel, day,
               grid_code, on_time, x, y, tracking, reported_at
        FROM (
            SELECT a.id, a.category_id, a.status, a.channel, a.on_time, a.day, a.grid_code,
                   ST_X(a.p) AS x, ST_Y(a.p) AS y, a.tracking, a.reported_at,
                   CASE WHEN a.p IS NOT NULL THEN
                   least(greatest(floor((ST_X(a.p) + {HALF}) / {2 * HALF} * {n}), 0),
                         {n - 1})::bigint END AS cx,
                   CASE WHEN a.p IS NOT NULL THEN
                   least(greatest(floor(({HALF} - ST_Y(a.p)) / {2 * HALF} * {n}), 0),
                         {n - 1})::bigint END AS cy
            FROM (
                SELECT a.id, a.category_id, a.status, a.channel, a.on_time, a.tracking,
                       a.reported_at,
                       -- the local day (TIME_ZONE; the connection's zone is UTC)
                       (a.reported_at AT TIME ZONE %s)::date AS day,
                       {FACT_GRID_CODE} AS grid_code,
                       ST_Transform(a.location, 3857) AS p
                FROM layers_appeal a LEFT JOIN geogrid_grid g ON g.id = a.grid_id
                WHERE {where}
            ) a
        ) s"""


def _stage(months: list[dt.date], watermark: int) -> str:
    """The fact rows of several months in one pass over layers_appeal (a temporary table,
    indexed by day), so that a full refresh reads the appeals once rather than once a month."""
    stage = "analytics_stage"
    params: list = [_tz(), watermark]
    scope = _ranges_sql(months, params)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {stage}")
        cursor.execute(f"CREATE TEMP TABLE {stage} (LIKE {FACT})")
        cursor.execute(f"INSERT INTO {stage} ({_FACT_COLUMNS}) "
                       + _fact_select(f"a.id <= %s AND {scope}"), params)
        cursor.execute(f"CREATE INDEX ON {stage} (day)")
        cursor.execute(f"ANALYZE {stage}")
    return stage


def _side(parent: str, month: dt.date) -> tuple[str, str]:
    """(partition, the table it is built in off to the side) of `parent` for `month`."""
    name = f"{parent}_{month_suffix(month)}"
    return name, f"{name}_n"


def _build_month(month: dt.date, watermark: int, stage: str | None) -> tuple[int, int]:
    """Fill the month's side tables (facts, cube), with their indexes, statistics and
    visibility map; readers do not see them until the swap. Returns (facts, cube rows)."""
    end = next_month(month)
    fact_new = _side(FACT, month)[1]
    cube_new = _side(CUBE, month)[1]
    with transaction.atomic(), connection.cursor() as cursor:
        for table, parent, column in ((fact_new, FACT, "day"), (cube_new, CUBE, "month")):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")  # left by an interrupted refresh
            # The CHECK lets ATTACH skip scanning the table for rows outside the month.
            cursor.execute(
                f"CREATE TABLE {table} (LIKE {parent} INCLUDING DEFAULTS, "
                f"CONSTRAINT {table}_month CHECK ({column} >= %s AND {column} < %s))",
                [month, end],
            )
        if stage:
            cursor.execute(
                f"INSERT INTO {fact_new} ({_FACT_COLUMNS}) SELECT {_FACT_COLUMNS} FROM {stage} "
                "WHERE day >= %s AND day < %s ORDER BY key",
                [month, end],
            )
        else:
            start, stop = month_bounds(month)
            cursor.execute(
                f"INSERT INTO {fact_new} ({_FACT_COLUMNS}) "
                + _fact_select("a.id <= %s AND a.reported_at >= %s AND a.reported_at < %s")
                + " ORDER BY 2",
                [_tz(), watermark, start, stop],
            )
        facts = cursor.rowcount
        for index, columns in FACT_INDEXES.items():
            keys = {c.split()[0] for c in columns.split(",")}
            cursor.execute(f"CREATE INDEX {fact_new}_{index} ON {fact_new} ({columns}) "
                           f"INCLUDE ({', '.join(c for c in FACT_COVER if c not in keys)})")
        cube_rows = _build_cube(cursor, fact_new, cube_new, month)
        for index, columns in CUBE_INDEXES.items():
            cursor.execute(f"CREATE INDEX {cube_new}_{index} ON {cube_new} {columns}")
        cursor.execute(f"ANALYZE {fact_new}")
        cursor.execute(f"ANALYZE {cube_new}")
    if not connection.in_atomic_block:
        # Sets the visibility map before readers see the partition, so that fact reads are
        # index-only from the first tile (VACUUM cannot run inside a transaction: a refresh
        # inside one — tests — reads the heap, with the same answers).
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM {fact_new}")
            cursor.execute(f"VACUUM {cube_new}")
    return facts, cube_rows


DELTA = "analytics_cube_delta"


def _cube_all_delta(rebuild: list[dt.date], drop: list[dt.date]) -> None:
    """The change to CUBE_ALL as a temporary table DELTA: per key of the all-months cuboids,
    the rebuilt months' new rows minus the rows of their partitions now attached (a dropped
    month: minus only); keys whose sum is unchanged are left out. Computed before the swap —
    the partitions change only under the refresh lock — so that the swap only applies it (one
    MERGE of the changed keys: a month's rebuild with one changed appeal changes a few hundred
    rows, not the month's ~10⁵)."""
    cuboids = ", ".join(map(str, ALL_MONTH_CUBOIDS))
    parts = []
    with transaction.atomic(), connection.cursor() as cursor:
        for month in [*rebuild, *drop]:
            old, new = _side(CUBE, month)
            if month in rebuild:
                parts.append(f"SELECT {_ALL_COLUMNS}, n FROM {new} WHERE cuboid IN ({cuboids})")
            if _attached(cursor, CUBE, old):
                parts.append(f"SELECT {_ALL_COLUMNS}, -n AS n FROM {old} "
                             f"WHERE cuboid IN ({cuboids})")
        rows = " UNION ALL ".join(parts) or f"SELECT {_ALL_COLUMNS}, n FROM {CUBE_ALL} WHERE false"
        cursor.execute(f"DROP TABLE IF EXISTS {DELTA}")
        cursor.execute(
            f"CREATE TEMP TABLE {DELTA} AS SELECT {_ALL_COLUMNS}, sum(n)::int AS n "
            f"FROM ({rows}) d GROUP BY {_ALL_COLUMNS} HAVING sum(n) <> 0"
        )


def _apply_cube_all_delta(cursor: Any) -> None:
    """CUBE_ALL += DELTA, a row whose count reaches 0 removed (CHECK n > 0: a count going
    below 0 — CUBE_ALL out of step with the partitions — fails the swap instead)."""
    on = " AND ".join(f"c.{col} = d.{col}" for col in _ALL_MATCH)
    values = ", ".join(f"d.{col.strip()}" for col in _ALL_COLUMNS.split(","))
    cursor.execute(
        f"""MERGE INTO {CUBE_ALL} c USING {DELTA} d ON {on}
            WHEN MATCHED AND c.n + d.n = 0 THEN DELETE
            WHEN MATCHED THEN UPDATE SET n = c.n + d.n
            WHEN NOT MATCHED THEN INSERT ({_ALL_COLUMNS}, n) VALUES ({values}, d.n)"""
    )


def _attached(cursor, parent: str, table: str) -> bool:
    cursor.execute(
        "SELECT EXISTS (SELECT FROM pg_inherits WHERE inhparent = %s::regclass "
        "AND inhrelid = to_regclass(%s))",
        [parent, table],
    )
    return bool(cursor.fetchone()[0])


def _swap(rebuild: list[dt.date], drop: list[dt.date], seen: dict[dt.date, Fingerprint],
          built: dict[dt.date, tuple[int, int]], watermark: int,
          seconds: float) -> tuple[int, float]:
    """One short transaction: both parents ACCESS EXCLUSIVE (a reader arriving now waits for
    the commit, one already reading finishes first), old month partitions out, new ones in,
    the fingerprints and the watermark updated. The old partitions are only renamed there and
    dropped after the commit: dropping a full refresh's 30 tables (GBs of files) inside the
    swap held readers for 6.8 s. Returns the new version and the ms readers may have waited
    (from the lock to the commit)."""
    for attempt in range(SWAP_TRIES):
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                # In the same transaction as the partitions and the watermark (a reader's
                # statement sees CUBE_ALL and them all old or all new: one MVCC snapshot), but
                # before the lock: it needs none, and readers of the partitions need not wait
                # for it (a day's appeals change ~10⁵ keys: 2–2.8 s at load 5–6).
                _apply_cube_all_delta(cursor)
                cursor.execute(f"SET LOCAL lock_timeout = '{SWAP_LOCK_TIMEOUT}'")
                locked = time.perf_counter()
                cursor.execute(f"LOCK TABLE {FACT}, {CUBE} IN ACCESS EXCLUSIVE MODE")
                version, retired = _swap_locked(cursor, rebuild, drop, seen, built, watermark,
                                                seconds)
            locked_ms = (time.perf_counter() - locked) * 1000
            break
        except OperationalError as exc:
            if "lock timeout" not in str(exc) or attempt == SWAP_TRIES - 1:
                raise
    with connection.cursor() as cursor:
        for table in retired:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
    return version, locked_ms


def _swap_locked(cursor: Any, rebuild: list[dt.date], drop: list[dt.date],
                 seen: dict[dt.date, Fingerprint], built: dict[dt.date, tuple[int, int]],
                 watermark: int, seconds: float) -> tuple[int, list[str]]:
    retired = []
    for month in [*rebuild, *drop]:
        for parent, indexes in ((FACT, FACT_INDEXES), (CUBE, CUBE_INDEXES)):
            old, _new = _side(parent, month)
            if _attached(cursor, parent, old):
                cursor.execute(f"ALTER TABLE {parent} DETACH PARTITION {old}")
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [old])
            if cursor.fetchone()[0]:
                cursor.execute(f"DROP TABLE IF EXISTS {old}_o")  # left by a failed drop
                cursor.execute(f"ALTER TABLE {old} RENAME TO {old}_o")
                for index in indexes:  # the new partition's indexes take these names
                    cursor.execute(f"ALTER INDEX IF EXISTS {old}_{index} "
                                   f"RENAME TO {old}_o_{index}")
                retired.append(f"{old}_o")
    for month in rebuild:
        for parent, indexes in ((FACT, FACT_INDEXES), (CUBE, CUBE_INDEXES)):
            name, new = _side(parent, month)
            cursor.execute(f"ALTER TABLE {new} RENAME TO {name}")
            cursor.execute(f"ALTER TABLE {name} RENAME CONSTRAINT {new}_month TO {name}_month")
            for index in indexes:
                cursor.execute(f"ALTER INDEX {new}_{index} RENAME TO {name}_{index}")
            cursor.execute(f"ALTER TABLE {parent} ATTACH PARTITION {name} "
                           "FOR VALUES FROM (%s) TO (%s)", [month, next_month(month)])
        cursor.execute(
            """INSERT INTO analytics_month (month, appeals, xmin_sum, facts, cube_rows, built_at)
               VALUES (%s, %s, %s, %s, %s, now())
               ON CONFLICT (month) DO UPDATE SET appeals = excluded.appeals,
                   xmin_sum = excluded.xmin_sum, facts = excluded.facts,
                   cube_rows = excluded.cube_rows, built_at = excluded.built_at""",
            [month, *seen[month], *built[month]],
        )
    if drop:
        cursor.execute("DELETE FROM analytics_month WHERE month = ANY(%s)", [drop])
    cursor.execute(
        """UPDATE analytics_state SET version = version + 1, watermark = %s,
               refreshed_at = now(), seconds = %s WHERE id = 1 RETURNING version""",
        [watermark, seconds],
    )
    return int(cursor.fetchone()[0]), retired


def clear(using: str = DEFAULT_DB_ALIAS) -> None:
    """Drop every month's partitions (and side tables left by an interrupted refresh), the
    fingerprints and CUBE_ALL, and set the watermark to 0 (everything is then counted live
    until the next refresh). For tests, `manage.py flush` (which calls it: these tables are not
    Django's, so its TRUNCATE misses them) and repairs: the one place the watermark goes down,
    so a tile read during it may miss the appeals between."""
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute(f"LOCK TABLE {FACT}, {CUBE} IN ACCESS EXCLUSIVE MODE")
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace "
            "AND relkind = 'r' AND relname ~ '^analytics_(fact|cube)_p[0-9]{6}(_n|_o)?$'"
        )
        for (table,) in cursor.fetchall():
            cursor.execute(f"DROP TABLE {table}")
        cursor.execute(f"TRUNCATE analytics_month, {CUBE_ALL}")
        cursor.execute("UPDATE analytics_state SET version = version + 1, watermark = 0, "
                       "refreshed_at = now(), seconds = 0 WHERE id = 1")


def _build_cube(cursor, fact: str, cube: str, month: dt.date) -> int:
    """Every cuboid of one month from its fact table; each row carries the month (the cube's
    partition key), so cuboids without a month dimension sum over the partitions they read."""
    sub_len = int(conf("SUBTREE_CODE_LEN"))
    exprs = {
        "category": "category_id",
        "status": "status",
        "sub": f"left(grid_code, {sub_len})",
        "channel": "channel",
        "day": "day",
    }
    rows = 0
    for cuboid, all_dims in CUBOIDS.items():
        dims = [d for d in all_dims if d != "month"]  # the month is every row's
        levels = cube_levels(cuboid)
        top = levels[-1]
        shift = KEY_LEVEL - top
        cols = "".join(f", {_DIM_COLUMNS[d]}" for d in dims)
        sel = "".join(f", {exprs[d]}" for d in dims)
        group = "".join(f", {i}" for i in range(6, 6 + len(dims)))
        # The finest level from the facts, each coarser level from the one below it; rows in
        # key order, so that a tile's rows sit on a few neighbouring heap pages (in hash order
        # a dense z13 tile's ~15,000 category rows were as many random page reads).
        cursor.execute(
            f"""INSERT INTO {cube} (cuboid, z, key, cx, cy{cols}, month, n)
                SELECT {cuboid}, {top}, key >> {2 * shift}, cx >> {shift}, cy >> {shift}{sel},
                       %s::date, count(*)
                FROM {fact} WHERE key IS NOT NULL GROUP BY 3, 4, 5{group} ORDER BY 3""",
            [month],
        )
        rows += cursor.rowcount
        for level in range(top - 1, levels[0] - 1, -1):
            cursor.execute(
                f"""INSERT INTO {cube} (cuboid, z, key, cx, cy{cols}, month, n)
                    SELECT {cuboid}, {level}, key >> 2, cx >> 1, cy >> 1{cols}, %s::date,
                           sum(n)
                    FROM {cube} WHERE cuboid = {cuboid} AND z = {level + 1}
                    GROUP BY 3, 4, 5{group} ORDER BY 3""",
                [month],
            )
            rows += cursor.rowcount
    return rows
