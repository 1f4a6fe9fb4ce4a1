"""Mapbox vector tiles with ST_AsMVT: appeals (square bins with counts below POINTS_MIN_ZOOM,
single appeals from it on) and current grid boundaries."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core.cache import caches
from django.db import connection
from django.utils import timezone

from .bins import bin_counts_sql, bin_shift
from .conf import conf
from .filters import AppealFilter
from .snapshot import current_state, fetch
from .tilemath import HALF, tile_corner, tile_key_range


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
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM layers_appeal")
        return cursor.fetchone()[0]


def _digest(*parts: object) -> str:
    return hashlib.sha1("/".join(map(str, parts)).encode()).hexdigest()[:20]


def appeals_tile_etag(z: int, x: int, y: int, filt: AppealFilter) -> str | None:
    """ETag computable without building the tile (aggregated zooms only): the snapshot version,
    the newest appeal, the filter and the tile address."""
    if z >= conf("POINTS_MIN_ZOOM"):
        return None
    return _bins_etag(z, x, y, filt)


def _bins_etag(z: int, x: int, y: int, filt: AppealFilter) -> str:
    state = current_state()
    return _digest(
        "bins", state.version, state.watermark, _latest_appeal_id(), filt.canonical(), z, x, y,
        bin_shift(), conf("TILE_EXTENT"),
    )


def appeals_tile(z: int, x: int, y: int, filt: AppealFilter) -> Tile:
    if z >= conf("POINTS_MIN_ZOOM"):
        data = _points_tile(z, x, y, filt)
        return Tile(data, _digest("points", hashlib.sha1(data).hexdigest()), "appeals")
    etag = _bins_etag(z, x, y, filt)
    cache = caches[conf("TILE_CACHE")]
    key = f"analytics:tile:{etag}"
    data = cache.get(key)
    if data is None:
        data = _bins_tile(z, x, y, filt)
        cache.set(key, data, 600)
    return Tile(data, etag, "bins")


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
            FROM ({inner}) b
        ) t WHERE geom IS NOT NULL
    """
    return bytes(fetch(sql, [z, x, y, *params], one=True)[0] or b"")


def _points_tile(z: int, x: int, y: int, filt: AppealFilter) -> bytes:
    """Appeals as points; appeals within POINT_MERGE_PX of a 256-px tile of each other become one
    feature with a count (a dense hotspot street holds thousands), a single appeal keeps its
    id, tracking number, category, status, channel and time."""
    if filt.empty_scope:
        return b""
    where, params = filt.appeal_sql("a")
    extent = int(conf("TILE_EXTENT"))
    buffer = 64
    px = 2 * HALF / 2**z / 256 * float(conf("POINT_MERGE_PX"))
    # Group by integer pixel (a hash aggregate; grouping by geometry would sort); a single
    # appeal keeps its exact position, a merged point sits at the pixel centre.
    sql = f"""
        SELECT ST_AsMVT(t, 'appeals', {extent}, 'geom') FROM (
            SELECT ST_AsMVTGeom(
                       CASE WHEN p.n = 1 THEN ST_SetSRID(ST_MakePoint(p.x, p.y), 3857)
                       ELSE ST_SetSRID(ST_MakePoint({-HALF} + (p.i + 0.5) * {px},
                                                    {HALF} - (p.j + 0.5) * {px}), 3857) END,
                       ST_TileEnvelope(%s, %s, %s), {extent}, {buffer}, true) AS geom,
                   p.n AS count,
                   CASE WHEN p.n = 1 THEN p.id END AS id,
                   CASE WHEN p.n = 1 THEN p.tracking END AS tracking,
                   CASE WHEN p.n = 1 THEN c.code END AS category,
                   CASE WHEN p.n = 1 THEN p.status END AS status,
                   CASE WHEN p.n = 1 THEN p.channel END AS channel,
                   CASE WHEN p.n = 1 THEN to_char(p.reported_at AT TIME ZONE %s,
                                                  'YYYY-MM-DD"T"HH24:MI') END AS reported_at
            FROM (
                SELECT floor((ST_X(s.m) + {HALF}) / {px})::bigint AS i,
                       floor(({HALF} - ST_Y(s.m)) / {px})::bigint AS j,
                       count(*)::int AS n, min(ST_X(s.m)) AS x, min(ST_Y(s.m)) AS y,
                       min(s.id) AS id, min(s.tracking) AS tracking,
                       min(s.category_id) AS category_id, min(s.status) AS status,
                       min(s.channel) AS channel, min(s.reported_at) AS reported_at
                FROM (
                    SELECT ST_Transform(a.location, 3857) AS m, a.id, a.tracking,
                           a.category_id, a.status, a.channel, a.reported_at
                    FROM layers_appeal a
                    WHERE a.location && ST_Transform(
                              ST_TileEnvelope(%s, %s, %s, margin => {buffer / extent}), 4326)
                      AND {where}
                ) s
                GROUP BY 1, 2
            ) p JOIN layers_category c ON c.id = p.category_id
        ) t WHERE geom IS NOT NULL
    """
    params = [z, x, y, timezone.get_default_timezone_name(), z, x, y, *params]
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
    with connection.cursor() as cursor:
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
