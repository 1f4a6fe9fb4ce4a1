"""Heat bins for Leaflet.heat, appeal counts for the dashboard's points-or-tiles switch, and
per-grid counts and rates for choropleths at any grid level."""

from __future__ import annotations

import math

from layers.appeals import rates
from layers.people.ledger import households_base

from .bins import bin_counts
from .conf import conf
from .filters import AppealFilter
from .snapshot import FACT_GRID_CODE, LIVE_SQL, current_state, fetch
from .tilemath import (
    KEY_LEVEL,
    MAX_LAT,
    cell_centre_lonlat,
    merge_ranges,
    tile_key_range,
    tiles_for_bbox,
)

WORLD = (-180.0, -MAX_LAT, 180.0, MAX_LAT)


def _ranges_for_bbox(bbox, zoom: int) -> list[tuple[int, int]]:
    """Key ranges of the tiles covering bbox, at `zoom` or coarser so that few tiles do."""
    z = zoom
    while True:
        x0, y0, x1, y1 = tiles_for_bbox(bbox, z)
        if (x1 - x0 + 1) * (y1 - y0 + 1) <= conf("HEAT_MAX_TILES") or z == 0:
            break
        z -= 1
    return merge_ranges(
        [tile_key_range(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    )


def _binned(filt: AppealFilter, bbox, zoom: int) -> tuple[int, list[tuple[float, float, int]]]:
    """Bins (lon, lat, n) inside bbox at bin level zoom + HEAT_SHIFT."""
    level = min(zoom + int(conf("HEAT_SHIFT")), KEY_LEVEL)
    rows = bin_counts(filt, level, _ranges_for_bbox(bbox, zoom), bbox, current_state())
    west, south, east, north = bbox
    out = []
    for bx, by, n in rows:
        lon, lat = cell_centre_lonlat(bx, by, level)
        if west <= lon <= east and south <= lat <= north:
            out.append((lon, lat, n))
    return level, out


def heat_bins(filt: AppealFilter, bbox: tuple[float, float, float, float], zoom: int) -> dict:
    """{"level", "cell_m", "max", "total", "bins": [[lat, lon, count], …]} — the bins are the
    [lat, lng, intensity] triples Leaflet.heat takes; pass `max` as its max option."""
    level, bins = _binned(filt, bbox, zoom)
    mid_lat = (bbox[1] + bbox[3]) / 2
    cell_m = 40075016.686 / 2**level * math.cos(math.radians(mid_lat))
    counts = [n for _, _, n in bins]
    return {
        "zoom": zoom,
        "level": level,
        "cell_m": round(cell_m, 1),
        "max": max(counts, default=0),
        "total": sum(counts),
        "bins": [[round(lat, 6), round(lon, 6), n] for lon, lat, n in bins],
    }


def appeal_count(filt: AppealFilter, bbox: tuple[float, float, float, float] | None = None,
                 zoom: int | None = None) -> int:
    """Located appeals matching the filter (inside bbox to within one heat bin at `zoom`)."""
    if bbox is None:
        return sum(n for _, _, n in _binned(filt, WORLD, 0)[1])
    return sum(n for _, _, n in _binned(filt, bbox, zoom if zoom is not None else 12)[1])


# The rates a choropleth shows and the counts behind them (layers.appeals.rates): the same
# definitions as the statistics, so a grid's rate is the same number on the map and the figures.
GRID_RATES = ("completion_rate", "on_time_rate")
GRID_COUNTS = rates.counts_for(GRID_RATES)  # received, completed, timed, on_time


def grid_stats(filt: AppealFilter, level: int, parent: str | None = None) -> list[dict]:
    """Per current grid of `level` (inside `parent`'s subtree): appeals, completed, closed,
    households, area and the rates a choropleth shows. Appeals count by grid code prefix, so an
    appeal assigned to an older version of a grid still counts for it; an appeal without a grid
    counts for its district. Counts come from the facts (as of the last refresh) plus the
    appeals newer than it. Households (the base of per_100_households) are the people layer's
    active households per micro-grid where it has household rows there, else the buildings'
    figure (layers.people.ledger.households_base, cached briefly); `households_source` says
    which: people, buildings, mixed, or none when neither has any."""
    from geogrid.hierarchy import code_lengths

    if filt.empty_scope:
        return []
    length = code_lengths()[level]
    state = current_state()
    fwhere, fparams = filt.fact_sql()
    awhere, aparams = filt.appeal_sql("a")
    # Appeals without a location still count for their grid.
    awhere = awhere.replace("a.location IS NOT NULL", "true", 1)
    scope, sparams = "true", []
    if parent:
        scope = "g.code LIKE %s"
        sparams = [parent + "%"]
    counts = ", ".join(f"coalesce(c.{name}, 0)" for name in GRID_COUNTS)
    base = households_base(level, parent)
    sql = f"""
        WITH counts AS (
            SELECT left(code, {length}) AS code,
                   {rates.count_sql(GRID_COUNTS, alias="")},
                   count(*) FILTER (WHERE status = 'closed') AS closed
            FROM (
                SELECT grid_code AS code, status, on_time FROM {state.fact} WHERE {fwhere}
                UNION ALL
                SELECT {FACT_GRID_CODE}, a.status, a.on_time
                FROM layers_appeal a LEFT JOIN geogrid_grid g ON g.id = a.grid_id
                WHERE {LIVE_SQL} AND {awhere}
            ) t
            WHERE code <> ''
            GROUP BY 1
        )
        SELECT g.code, g.name, g.level, g.area_m2, coalesce(c.closed, 0), {counts}
        FROM geogrid_grid g
        LEFT JOIN counts c ON c.code = g.code
        WHERE g.valid_to IS NULL AND g.level = %s AND {scope}
        ORDER BY g.code
    """
    rows = fetch(sql, [*fparams, state.watermark, *aparams, level, *sparams])
    out = []
    for code, name, lvl, area_m2, closed, *numbers in rows:
        if filt.prefixes is not None and not any(
            code.startswith(p) or p.startswith(code) for p in filt.prefixes
        ):
            continue
        found = dict(zip(GRID_COUNTS, numbers, strict=True))
        n = found["received"]
        households, source = base.get(code, (0, "none"))
        area_km2 = (area_m2 or 0) / 1e6
        out.append(
            {
                "code": code,
                "name": name,
                "level": lvl,
                "appeals": n,
                "completed": found["completed"],
                "closed": closed,
                "households": int(households),
                "households_source": source,
                "area_km2": round(area_km2, 4),
                "per_100_households": round(n * 100 / households, 2) if households else None,
                "per_km2": round(n / area_km2, 2) if area_km2 else None,
                **rates.rates(found, GRID_RATES),
            }
        )
    return out
