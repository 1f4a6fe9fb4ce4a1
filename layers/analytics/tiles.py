"""Mapbox vector tiles with ST_AsMVT: appeals (square bins with counts below POINTS_MIN_ZOOM,
single appeals merged per pixel from it on) and current grid boundaries.

Both appeal layers read the pre-aggregation (layers.analytics.snapshot) plus the appeals newer
than it, so a tile is cached under an ETag of the snapshot version, the newest appeal id, the
filter and the address; statuses are as of the last refresh (see snapshot's staleness bound)."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from django.core.cache import caches
from django.utils import timezone

from geogrid.dbrouting import read_connection

from .bins import bin_counts_sql, bin_shift
from .conf import conf
from .filters import AppealFilter
from .snapshot import LIVE_SQL, current_state, fetch
from .tilemath import HALF, KEY_LEVEL, tile_corner, tile_key_range, tile_key_ranges_with_margin

# The point tile's key ranges as array parameters (False: OR-ed literals — what
# bench/bench_tiles.py --compare measures against).
RANGES_AS_ARRAY = True


@dataclass
class Tile:
    data: bytes
    etag: str
    layer: str  # "bins", "appeals" or "grids"


def tile_lonlat_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(west, south, east, north) of tile z/x/y."""
    west, north = tile_corner(x, y, z)
    east, south = tile_corner(x + 1, y + 1, z)
    return west, south, east, north


def _latest_appeal_id() -> int:
    with read_connection().cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM layers_appeal")
        return cursor.fetchone()[0]


def _digest(*parts: object) -> str:
    return hashlib.sha1("/".join(map(str, parts)).encode()).hexdigest()[:20]


def appeals_tile_etag(z: int, x: int, y: int, filt: AppealFilter) -> str:
    """ETag computable without building the tile: the snapshot version, the newest appeal, the
    filter and the tile address (points and bins alike come from the snapshot plus the appeals
    newer than it)."""
    state = current_state()
    return _digest(
        "appeals", state.version, state.watermark, _latest_appeal_id(), filt.canonical(), z, x,
        y, bin_shift(), conf("TILE_EXTENT"), conf("POINTS_MIN_ZOOM"), conf("POINT_MERGE_PX"),
    )


def appeals_tile(z: int, x: int, y: int, filt: AppealFilter) -> Tile:
    etag = appeals_tile_etag(z, x, y, filt)
    layer = "appeals" if z >= conf("POINTS_MIN_ZOOM") else "bins"
    cache = caches[conf("TILE_CACHE")]
    key = f"analytics:tile:{etag}"
    data = cache.get(key)
    if data is None:
        data = _points_tile(z, x, y, filt) if layer == "appeals" else _bins_tile(z, x, y, filt)
        cache.set(key, data, 600)
    return Tile(data, etag, layer)


def _bins_tile(z: int, x: int, y: int, filt: AppealFilter) -> bytes:
    if filt.empty_scope:
        return b""
    state = current_state()
    level = z + bin_shift()
    inner, params = bin_counts_sql(
        filt, level, [tile_key_range(z, x, y)], tile_lonlat_bounds(z, x, y), state
    )
    w = 2 * HALF / 2**level
    extent = int(conf("TILE_EXTENT"))
    sql = f"""
        SELECT ST_AsMVT(t, 'bins', {extent}, 'geom') FROM (
            SELECT ST_AsMVTGeom(
                       ST_MakeEnvelope({-HALF} + bx * {w}, {HALF} - (by + 1) * {w},
                                       {-HALF} + (bx + 1) * {w}, {HALF} - by * {w}, 3857),
                       ST_TileEnvelope(%s, %s, %s), {extent}, 0, true) AS geom,
                   n AS count
            -- OFFSET 0 keeps `geom IS NOT NULL` from being pushed below the GROUP BY, where
            -- it ran ST_AsMVTGeom once per fact row (80,000 for "30 days" at z10: 0.8 s)
            FROM ({inner} OFFSET 0) b
        ) t WHERE geom IS NOT NULL
    """
    return bytes(fetch(sql, [z, x, y, *params], one=True)[0] or b"")


def _points_tile(z: int, x: int, y: int, filt: AppealFilter) -> bytes:
    """Appeals as points; appeals in the same screen pixel (POINT_MERGE_PX of a 256-px tile,
    never finer than a level-24 cell, ≈ 2 m) become one feature with a count (a dense hotspot
    street holds thousands), a single appeal keeps its exact position, id, tracking number,
    category, status, channel and time.

    Read from the facts alone — a Morton range scan over rows that carry the Mercator position,
    tracking number and time — plus the appeals newer than the snapshot: no ST_Transform and no
    appeal row per appeal. The densest z16 tile (21,000 appeals) took ~75 ms from layers_appeal,
    and ~65 ms when single appeals were looked up there (6,000 primary-key probes)."""
    if filt.empty_scope:
        return b""
    state = current_state()
    extent = int(conf("TILE_EXTENT"))
    buffer = 64
    merge = round(math.log2(float(conf("POINT_MERGE_PX"))))
    shift = max(0, KEY_LEVEL - z - 8 + merge)
    cell = 2 * HALF / 2 ** (KEY_LEVEL - shift)
    n = 2**KEY_LEVEL
    fwhere, fparams = filt.fact_sql()
    awhere, aparams = filt.appeal_sql("a")
    # The tile and a margin of 1/16 of it; features are placed in tile coordinates here (no
    # ST_AsMVTGeom per feature) and kept within the 64/4096 buffer.
    ranges = tile_key_ranges_with_margin(z, x, y, dz=4)
    if RANGES_AS_ARRAY:
        # The ~40 ranges as two array parameters joined laterally: planned once against each
        # month partition (one index condition) instead of ~40 OR-ed conditions × 15 partitions
        # (20–28 ms of planning at z16). The ranges are disjoint: no row is read twice.
        # OFFSET 0 keeps the subquery from being flattened into a join, where the planner
        # read every row of the filter (category: 78,000) and filtered by range (2.3 s).
        source = (f"unnest(%s::bigint[], %s::bigint[]) rg(lo, hi), LATERAL (SELECT * FROM "
                  f"{state.fact} WHERE key BETWEEN rg.lo AND rg.hi AND {fwhere} OFFSET 0) f")
        fparams = [[lo for lo, _hi in ranges], [hi for _lo, hi in ranges], *fparams]
    else:
        in_ranges = " OR ".join(f"key BETWEEN {lo} AND {hi}" for lo, hi in ranges)
        source = f"{state.fact} WHERE ({in_ranges}) AND {fwhere}"
    w = 2 * HALF / 2**z
    west, north, k = -HALF + x * w, HALF - y * w, extent / w
    # Group on two cheap aggregates, then fetch a single appeal's columns by its id from the
    # same rows (aggregating text columns with min() cost more than everything else).
    sql = f"""
        WITH r AS MATERIALIZED (
            SELECT cx >> {shift} AS i, cy >> {shift} AS j, appeal_id AS id, x, y, tracking,
                   category_id, status, channel, reported_at
            FROM {source}
            UNION ALL
            SELECT least(greatest(floor((ST_X(m) + {HALF}) / {2 * HALF} * {n}), 0),
                         {n - 1})::bigint >> {shift},
                   least(greatest(floor(({HALF} - ST_Y(m)) / {2 * HALF} * {n}), 0),
                         {n - 1})::bigint >> {shift},
                   id, ST_X(m), ST_Y(m), tracking, category_id, status, channel, reported_at
            FROM (
                SELECT a.id, ST_Transform(a.location, 3857) AS m, a.tracking, a.category_id,
                       a.status, a.channel, a.reported_at
                FROM layers_appeal a
                WHERE {LIVE_SQL} AND a.location && ST_Transform(ST_TileEnvelope(
                          %s, %s, %s, margin => {buffer / extent}), 4326)
                  AND {awhere}
            ) live
        ), g AS (
            SELECT i, j, count(*)::int AS n, min(id) AS id FROM r GROUP BY 1, 2
        )
        SELECT ST_AsMVT(t, 'appeals', {extent}, 'geom') FROM (
            SELECT ST_MakePoint(p.tx, p.ty) AS geom, p.n AS count, p.id, p.tracking,
                   c.code AS category, p.status, p.channel,
                   to_char(p.reported_at AT TIME ZONE %s, 'YYYY-MM-DD"T"HH24:MI') AS reported_at
            FROM (
                SELECT round((s.x - {west}) * {k}) AS tx, round(({north} - s.y) * {k}) AS ty,
                       1 AS n, s.id, s.tracking, s.category_id, s.status, s.channel,
                       s.reported_at
                FROM g JOIN r s ON s.id = g.id
                WHERE g.n = 1
                UNION ALL
                SELECT round(({-HALF - west} + (i + 0.5) * {cell}) * {k}),
                       round(({north - HALF} + (j + 0.5) * {cell}) * {k}),
                       n, NULL, NULL, NULL, NULL, NULL, NULL
                FROM g WHERE n > 1
            ) p
            LEFT JOIN layers_category c ON c.id = p.category_id
            WHERE p.tx BETWEEN {-buffer} AND {extent + buffer}
              AND p.ty BETWEEN {-buffer} AND {extent + buffer}
        ) t
    """
    params = [*fparams, state.watermark, z, x, y, *aparams,
              timezone.get_default_timezone_name()]
    return bytes(fetch(sql, params, one=True)[0] or b"")


def grid_level_for_zoom(z: int) -> int:
    by_zoom = {int(k): int(v) for k, v in conf("GRID_LEVEL_BY_ZOOM").items()}
    return by_zoom[max(k for k in by_zoom if k <= z)] if any(k <= z for k in by_zoom) else 1


def grids_tile(z: int, x: int, y: int, level: int | None = None,
               prefixes: tuple[str, ...] | None = None) -> Tile:
    """Current grids of one level (by zoom unless given) with code, name and level."""
    level = level or grid_level_for_zoom(z)
    extent = int(conf("TILE_EXTENT"))
    params: list = [z, x, y, level, z, x, y]
    scope = "true"
    if prefixes is not None:
        scope = "(" + " OR ".join(["g.code LIKE %s"] * len(prefixes)) + ")" if prefixes else "false"
        params.extend(p + "%" for p in prefixes)
    with read_connection().cursor() as cursor:
        # Cheap stamp of the grid table: any new version or closed one changes it.
        cursor.execute(
            "SELECT count(*), coalesce(max(id), 0), max(valid_to) FROM geogrid_grid"
        )
        stamp = cursor.fetchone()
    key = "analytics:grids:" + _digest(stamp, z, x, y, level, prefixes, extent)
    cache = caches[conf("TILE_CACHE")]
    cached = cache.get(key)
    if cached is not None:
        return Tile(cached, key[-20:], "grids")
    sql = f"""
        SELECT ST_AsMVT(t, 'grids', {extent}, 'geom') FROM (
            SELECT ST_AsMVTGeom(ST_Transform(g.boundary, 3857), ST_TileEnvelope(%s, %s, %s),
                                {extent}, 16, true) AS geom,
                   g.code, g.name, g.level
            FROM geogrid_grid g
            WHERE g.valid_to IS NULL AND g.level = %s
              AND g.boundary && ST_Transform(ST_TileEnvelope(%s, %s, %s), 4326) AND {scope}
        ) t WHERE geom IS NOT NULL
    """
    data = bytes(fetch(sql, params, one=True)[0] or b"")
    cache.set(key, data, 600)
    return Tile(data, key[-20:], "grids")
