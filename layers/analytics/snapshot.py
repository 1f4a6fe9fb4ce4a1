"""Pre-aggregation for tiles and heat: a Morton-ordered fact table (one narrow row per located
appeal) and a cube of bin counts per zoom for a few filter combinations ("cuboids").

`refresh()` rebuilds the idle copy (a/b) and flips `analytics_state` in one transaction, so
readers keep using the old copy until the new one is complete. Appeals newer than the refresh
(id > watermark) are counted live from layers_appeal; status changes of older appeals show up at
the next refresh (run it every few minutes: `manage.py analytics_refresh --every 120`), so a
count is at most one refresh interval (plus the refresh's own ~45 s at 1 M appeals) behind on
statuses and never behind on new appeals.

The fact table's indexes cover every column a filter reads (INCLUDE), and the refresh VACUUMs
it after the flip, so a fact read is an index-only scan: without that, a "last 30 days" tile
fetched every matching heap row at random (p95 0.17–0.5 s at 1 M appeals against ~12 ms).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

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


@dataclass(frozen=True)
class State:
    active: str
    version: int
    watermark: int

    @property
    def fact(self) -> str:
        return f"analytics_fact_{self.active}"

    @property
    def cube(self) -> str:
        return f"analytics_cube_{self.active}"


@dataclass
class RefreshReport:
    facts: int
    cube_rows: int
    seconds: float
    version: int


def fetch(sql: str, params: list, one: bool = False):
    """Run a read query with JIT off: PostGIS functions carry high cost estimates, so the planner
    JIT-compiles queries that then run in milliseconds — compiling alone took ~300 ms."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        return cursor.fetchone() if one else cursor.fetchall()


def current_state() -> State:
    with connection.cursor() as cursor:
        cursor.execute("SELECT active, version, watermark FROM analytics_state WHERE id = 1")
        active, version, watermark = cursor.fetchone()
    return State(active, version, watermark)


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


def refresh() -> RefreshReport:
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT active FROM analytics_state WHERE id = 1 FOR UPDATE")
        target = "b" if cursor.fetchone()[0] == "a" else "a"
        fact, cube = f"analytics_fact_{target}", f"analytics_cube_{target}"
        cursor.execute("SELECT coalesce(max(id), 0) FROM layers_appeal")
        watermark = cursor.fetchone()[0]
        cursor.execute(f"TRUNCATE {fact}, {cube}")
        for index in FACT_INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {fact}_{index}")
        cursor.execute(f"DROP INDEX IF EXISTS {cube}_key")
        cursor.execute(f"DROP INDEX IF EXISTS {cube}_day")
        n = 2**KEY_LEVEL
        cursor.execute(
            f"""
            INSERT INTO {fact} (appeal_id, key, cx, cy, category_id, status, channel, day,
                                grid_code, on_time, x, y, tracking, reported_at)
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
                    WHERE a.id <= %s
                ) a
            ) s
            ORDER BY 2
            """,
            [timezone.get_default_timezone_name(), watermark],
        )
        facts = cursor.rowcount
        for index, columns in FACT_INDEXES.items():
            keys = {c.split()[0] for c in columns.split(",")}
            cursor.execute(f"CREATE INDEX {fact}_{index} ON {fact} ({columns}) "
                           f"INCLUDE ({', '.join(c for c in FACT_COVER if c not in keys)})")
        _build_cube(cursor, fact, cube)
        cursor.execute(f"CREATE INDEX {cube}_key ON {cube} (cuboid, z, key)")
        # One descent per day and tile (index-only after the VACUUM below).
        cursor.execute(
            f"CREATE INDEX {cube}_day ON {cube} (cuboid, z, day, key) INCLUDE (cx, cy, status, n)"
            f" WHERE cuboid IN ({', '.join(map(str, DAY_CUBOIDS))})"
        )
        cursor.execute(f"ANALYZE {fact}")
        cursor.execute(f"ANALYZE {cube}")
        cursor.execute(f"SELECT count(*) FROM {cube}")
        cube_rows = cursor.fetchone()[0]
        seconds = time.perf_counter() - started
        cursor.execute(
            """UPDATE analytics_state SET active = %s, version = version + 1, watermark = %s,
                   refreshed_at = now(), seconds = %s WHERE id = 1 RETURNING version""",
            [target, watermark, seconds],
        )
        version = cursor.fetchone()[0]
    if not connection.in_atomic_block:
        # Sets the visibility map so that fact reads are index-only (VACUUM cannot run inside
        # a transaction: a refresh inside one — tests — reads the heap, with the same answers).
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM {fact}")
            cursor.execute(f"VACUUM {cube}")
    return RefreshReport(facts, cube_rows, time.perf_counter() - started, version)


def _build_cube(cursor, fact: str, cube: str) -> None:
    sub_len = int(conf("SUBTREE_CODE_LEN"))
    exprs = {
        "category": "category_id",
        "status": "status",
        "month": "date_trunc('month', day)::date",
        "sub": f"left(grid_code, {sub_len})",
        "channel": "channel",
        "day": "day",
    }
    for cuboid, dims in CUBOIDS.items():
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
            f"""INSERT INTO {cube} (cuboid, z, key, cx, cy{cols}, n)
                SELECT {cuboid}, {top}, key >> {2 * shift}, cx >> {shift}, cy >> {shift}{sel},
                       count(*)
                FROM {fact} WHERE key IS NOT NULL GROUP BY 3, 4, 5{group} ORDER BY 3"""
        )
        for level in range(top - 1, levels[0] - 1, -1):
            cursor.execute(
                f"""INSERT INTO {cube} (cuboid, z, key, cx, cy{cols}, n)
                    SELECT {cuboid}, {level}, key >> 2, cx >> 1, cy >> 1{cols}, sum(n)
                    FROM {cube} WHERE cuboid = {cuboid} AND z = {level + 1}
                    GROUP BY 3, 4, 5{group} ORDER BY 3"""
            )
