"""Points figures per grid (one SQL statement): for every current grid at level `by` under the
requested grid, and for the whole subtree —

    earned       earn entries booked on grids there, less their reversals
    redeemed     redeem entries (shops of communities there), less cancellations and expiries
                 of reservations (their reversals)
    expired      expire entries, less their reversals
    adjusted     adjustments (signed), less their reversals
    net          the sum of all entries booked there (earned − redeemed − expired + adjusted)
    volunteers   active volunteers serving communities there     } by the volunteer's
    outstanding  the sum of their balances                       } community: only for `by`
                                                                   ≤ community (else null)
    value        outstanding × YUAN_PER_POINT (等值商品)

An entry counts on the grid it was booked on: earnings on the service record's grid (a
micro-grid or a community), redemptions and expiries on a community. A row at zone or micro-grid
level therefore holds only what was booked at that level or below; the total holds everything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection

from geogrid.hierarchy import Level, code_lengths

_SQL = """
WITH per_grid AS (  -- summed per grid and kind first: the join to grids is then small
    SELECT e.grid_id, coalesce(o.kind, e.kind) AS kind, sum(e.amount) AS amount
    FROM volunteering_pointsentry e
    LEFT JOIN volunteering_pointsentry o ON o.id = e.reverses_id
    WHERE e.grid_id IS NOT NULL
    GROUP BY 1, 2
), booked AS (
    SELECT g.code, p.kind, p.amount FROM per_grid p
    JOIN geogrid_grid g ON g.id = p.grid_id WHERE g.code LIKE %(prefix)s
), sums AS (
    SELECT left(code, %(length)s) AS code,
           coalesce(sum(amount) FILTER (WHERE kind = 'earn'), 0) AS earned,
           coalesce(-sum(amount) FILTER (WHERE kind = 'redeem'), 0) AS redeemed,
           coalesce(-sum(amount) FILTER (WHERE kind = 'expire'), 0) AS expired,
           coalesce(sum(amount) FILTER (WHERE kind = 'adjust'), 0) AS adjusted,
           coalesce(sum(amount), 0) AS net
    FROM booked GROUP BY GROUPING SETS ((1), ())
), held AS (
    SELECT left(g.code, %(length)s) AS code, count(*) AS volunteers,
           coalesce(sum(a.balance), 0) AS outstanding
    FROM volunteering_volunteer v
    JOIN geogrid_grid g ON g.id = v.community_id
    LEFT JOIN volunteering_pointsaccount a ON a.volunteer_id = v.id
    WHERE v.active AND g.code LIKE %(prefix)s
    GROUP BY GROUPING SETS ((1), ())
), grids AS (
    SELECT code, name{geometry} FROM geogrid_grid
    WHERE valid_to IS NULL AND level = %(by)s AND code LIKE %(prefix)s
)
SELECT g.code, g.name{geometry_out}, coalesce(s.earned, 0), coalesce(s.redeemed, 0),
       coalesce(s.expired, 0), coalesce(s.adjusted, 0), coalesce(s.net, 0),
       coalesce(h.volunteers, 0), coalesce(h.outstanding, 0)
FROM grids g
LEFT JOIN sums s ON s.code = g.code
LEFT JOIN held h ON h.code = g.code
UNION ALL
SELECT NULL, NULL{geometry_null}, coalesce(s.earned, 0), coalesce(s.redeemed, 0),
       coalesce(s.expired, 0), coalesce(s.adjusted, 0), coalesce(s.net, 0),
       coalesce(h.volunteers, 0), coalesce(h.outstanding, 0)
FROM (SELECT 1) one
LEFT JOIN sums s ON s.code IS NULL
LEFT JOIN held h ON h.code IS NULL
ORDER BY 1 NULLS LAST
"""
FIELDS = ("earned", "redeemed", "expired", "adjusted", "net", "volunteers", "outstanding")


@dataclass(frozen=True)
class FigureQuery:
    grid: str  # a grid code: its subtree
    by: int  # the level of the rows


def yuan_per_point() -> float:
    return float(settings.GEOGRID["POINTS"]["YUAN_PER_POINT"])


def _row(values: tuple[Any, ...], held: bool) -> dict[str, Any]:
    out: dict[str, Any] = {f: int(v) for f, v in zip(FIELDS, values, strict=True)}
    if not held:
        out["volunteers"] = out["outstanding"] = None
    out["value"] = (round(out["outstanding"] * yuan_per_point(), 2)
                    if out["outstanding"] is not None else None)
    return out


def points_figures(q: FigureQuery, *, geometry: bool = False) -> dict[str, Any]:
    """{"rows": [{code, name, earned, …}], "total": {…}} — or, with `geometry`, a GeoJSON
    FeatureCollection of the grids (simplified boundaries) with the figures as properties."""
    length = code_lengths()[q.by]
    held = q.by <= int(Level.COMMUNITY)
    sql = _SQL.format(
        geometry=", ST_AsGeoJSON(ST_SimplifyPreserveTopology(boundary, 0.00005), 6) AS geom"
        if geometry else "",
        geometry_out=", g.geom" if geometry else "", geometry_null=", NULL" if geometry else "")
    with connection.cursor() as cursor:
        cursor.execute(sql, {"prefix": q.grid + "%", "length": length, "by": q.by})
        rows = cursor.fetchall()
    skip = 3 if geometry else 2
    grids = [(r[0], r[1], r[2] if geometry else None, _row(r[skip:], held))
             for r in rows if r[0] is not None]
    total = next(_row(r[skip:], True) for r in rows if r[0] is None)
    if geometry:
        return {"type": "FeatureCollection", "total": total, "features": [
            {"type": "Feature", "id": code,
             "geometry": json.loads(geom) if geom else None,
             "properties": {"code": code, "name": name, **figures}}
            for code, name, geom, figures in grids]}
    return {"grid": q.grid, "by": q.by, "yuan_per_point": yuan_per_point(),
            "rows": [{"code": code, "name": name, **figures}
                     for code, name, _g, figures in grids], "total": total}
