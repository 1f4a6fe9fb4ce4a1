"""Shop figures per grid (one SQL statement), by the shop's community, for every current grid at
level `by` (district, subdistrict or community) under the requested grid, and the total:

    shops, items        active ones
    stock_units         Σ stock of active items
    stock_points        Σ stock × price: what the shelves are worth in points
    stock_value         stock_points × YUAN_PER_POINT
    reserved, collected, cancelled, expired   redemptions by status (count)
    points_redeemed     points of collected and reserved redemptions
    restocks, donated_units   restock movements and the units they brought in
"""

from __future__ import annotations

from typing import Any

from django.db import connection

from geogrid.hierarchy import code_lengths
from layers.volunteering.figures import FigureQuery, yuan_per_point

_SQL = """
WITH shops AS (
    SELECT s.id, s.active, left(g.code, %(length)s) AS code FROM shop_shop s
    JOIN geogrid_grid g ON g.id = s.community_id WHERE g.code LIKE %(prefix)s
), stock AS (
    SELECT sh.code, count(DISTINCT sh.id) FILTER (WHERE sh.active) AS shops,
           count(i.id) FILTER (WHERE i.active AND sh.active) AS items,
           coalesce(sum(i.stock) FILTER (WHERE i.active AND sh.active), 0) AS stock_units,
           coalesce(sum(i.stock::bigint * i.price_points)
                    FILTER (WHERE i.active AND sh.active), 0) AS stock_points
    FROM shops sh LEFT JOIN shop_item i ON i.shop_id = sh.id
    GROUP BY GROUPING SETS ((sh.code), ())
), redeemed AS (
    SELECT sh.code,
           count(*) FILTER (WHERE r.status = 'reserved') AS reserved,
           count(*) FILTER (WHERE r.status = 'collected') AS collected,
           count(*) FILTER (WHERE r.status = 'cancelled') AS cancelled,
           count(*) FILTER (WHERE r.status = 'expired') AS expired,
           coalesce(sum(r.points) FILTER (WHERE r.status IN ('reserved', 'collected')), 0)
               AS points_redeemed
    FROM shops sh JOIN shop_redemption r ON r.shop_id = sh.id
    GROUP BY GROUPING SETS ((sh.code), ())
), restocked AS (
    SELECT sh.code, count(*) AS restocks, coalesce(sum(m.quantity), 0) AS donated_units
    FROM shops sh JOIN shop_item i ON i.shop_id = sh.id
    JOIN shop_stockmovement m ON m.item_id = i.id AND m.kind = 'restock'
    GROUP BY GROUPING SETS ((sh.code), ())
), grids AS (
    SELECT code, name FROM geogrid_grid
    WHERE valid_to IS NULL AND level = %(by)s AND code LIKE %(prefix)s
    UNION ALL SELECT NULL, NULL
)
SELECT g.code, g.name, coalesce(s.shops, 0), coalesce(s.items, 0), coalesce(s.stock_units, 0),
       coalesce(s.stock_points, 0), coalesce(r.reserved, 0), coalesce(r.collected, 0),
       coalesce(r.cancelled, 0), coalesce(r.expired, 0), coalesce(r.points_redeemed, 0),
       coalesce(t.restocks, 0), coalesce(t.donated_units, 0)
FROM grids g
LEFT JOIN stock s ON s.code IS NOT DISTINCT FROM g.code
LEFT JOIN redeemed r ON r.code IS NOT DISTINCT FROM g.code
LEFT JOIN restocked t ON t.code IS NOT DISTINCT FROM g.code
ORDER BY 1 NULLS LAST
"""
FIELDS = ("shops", "items", "stock_units", "stock_points", "reserved", "collected", "cancelled",
          "expired", "points_redeemed", "restocks", "donated_units")


def shop_figures(q: FigureQuery) -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute(_SQL, {"prefix": q.grid + "%", "length": code_lengths()[q.by],
                              "by": q.by})
        rows = cursor.fetchall()
    rate = yuan_per_point()

    def figures(values: tuple[Any, ...]) -> dict[str, Any]:
        out: dict[str, Any] = {f: int(v) for f, v in zip(FIELDS, values, strict=True)}
        out["stock_value"] = round(out["stock_points"] * rate, 2)
        return out

    return {"grid": q.grid, "by": q.by, "yuan_per_point": rate,
            "rows": [{"code": r[0], "name": r[1], **figures(r[2:])} for r in rows
                     if r[0] is not None],
            "total": next(figures(r[2:]) for r in rows if r[0] is None)}
