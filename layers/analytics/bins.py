"""Counts of appeals per square bin of the Web Mercator tile grid, for a set of Morton key
ranges: from the cube when a cuboid answers the filter, else from the facts; plus the appeals
that arrived after the last refresh, counted live."""

from __future__ import annotations

from .conf import conf
from .filters import AppealFilter
from .snapshot import ALL_MONTH_CUBOIDS, CUBOIDS, LIVE_SQL, State, cuboid_for, fetch
from .tilemath import HALF, KEY_LEVEL

# Read the cuboids without a time dimension from the all-months table (False: from the month
# partitions, summed — what bench/bench_tiles.py --compare measures against).
USE_CUBE_ALL = True


def _ranges_sql(column: str, ranges: list[tuple[int, int]], params: list) -> str:
    parts = []
    for lo, hi in ranges:
        parts.append(f"{column} BETWEEN %s AND %s")
        params.extend([lo, hi])
    return "(" + " OR ".join(parts) + ")"


def source_for(filt: AppealFilter, level: int) -> tuple[str, int | None]:
    """('cube', cuboid) or ('fact', None): where counts at bin `level` come from."""
    cuboid = cuboid_for(filt.dims(), level)
    return ("cube", cuboid) if cuboid is not None else ("fact", None)


def bin_counts_sql(
    filt: AppealFilter,
    level: int,
    ranges: list[tuple[int, int]],
    envelope: tuple[float, float, float, float],
    state: State,
) -> tuple[str, list]:
    """SQL yielding (bx, by, n) at bin `level` for level-24 key `ranges`; `envelope` is the
    lon/lat box of the ranges (west, south, east, north) for the live part."""
    params: list = []
    _kind, cuboid = source_for(filt, level)
    if cuboid is not None:  # kind "cube": a cuboid answers the filter
        down = 2 * (KEY_LEVEL - level)
        cube_ranges = [(lo >> down, hi >> down) for lo, hi in ranges]
        where, fparams = filt.cube_sql(CUBOIDS[cuboid])
        table = state.cube_all if USE_CUBE_ALL and cuboid in ALL_MONTH_CUBOIDS else state.cube
        stored = (
            f"SELECT cx AS bx, cy AS by, n FROM {table} "
            f"WHERE cuboid = {cuboid} AND z = {level} AND "
            + _ranges_sql("key", cube_ranges, params)
            + f" AND {where}"
        )
        params.extend(fparams)
    else:
        shift = KEY_LEVEL - level
        where, fparams = filt.fact_sql()
        stored = (
            f"SELECT cx >> {shift} AS bx, cy >> {shift} AS by, count(*)::int AS n "
            f"FROM {state.fact} WHERE "
            + _ranges_sql("key", ranges, params)
            + f" AND {where} GROUP BY 1, 2"
        )
        params.extend(fparams)
    where, fparams = filt.appeal_sql("a")
    n = 2**level
    live = (
        f"SELECT floor((ST_X(p) + {HALF}) / {2 * HALF} * {n})::int AS bx, "
        f"floor(({HALF} - ST_Y(p)) / {2 * HALF} * {n})::int AS by, 1 AS n "
        "FROM (SELECT ST_Transform(a.location, 3857) AS p FROM layers_appeal a "
        f"WHERE {LIVE_SQL} AND a.location && ST_MakeEnvelope(%s, %s, %s, %s, 4326) "
        f"AND {where}) live"
    )
    params.extend([state.watermark, *envelope, *fparams])
    sql = f"SELECT bx, by, sum(n)::int AS n FROM ({stored} UNION ALL {live}) t GROUP BY bx, by"
    return sql, params


def bin_counts(
    filt: AppealFilter,
    level: int,
    ranges: list[tuple[int, int]],
    envelope: tuple[float, float, float, float],
    state: State,
) -> list[tuple[int, int, int]]:
    if filt.empty_scope:
        return []
    sql, params = bin_counts_sql(filt, level, ranges, envelope, state)
    return fetch(sql, params)


def bin_shift() -> int:
    return int(conf("BIN_SHIFT"))
