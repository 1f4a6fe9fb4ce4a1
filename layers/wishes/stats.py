"""Wish figures per grid (the dashboard's wishes layer): one SQL statement.

For every current grid at level `by` under the requested grid (a code prefix), counting the
wishes of the micro-grids beneath it by their state now:

    submitted   waiting for review
    open        on the wall (published, directed to a volunteer included)
    claimed     claimed, delivered or disputed: someone is on it
    fulfilled   confirmed by the wisher
    expired     left the wall unclaimed
    total       every wish, rejected, withdrawn and closed included

A wish counts where it was posted: its household's micro-grid then (Wish.grid); the grid's code
decides the row, so a new boundary version with the same code keeps its wishes. The figures
hold no personal data (no names, no households), so they are open to wishes.counts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.db import connection

from geogrid.hierarchy import code_lengths

FIGURES = ("submitted", "open", "claimed", "fulfilled", "expired", "total")

_SQL = """
WITH grids AS (
    SELECT g.code, g.name{geometry} FROM geogrid_grid g
    WHERE g.valid_to IS NULL AND g.level = %(by)s AND g.code LIKE %(prefix)s
), counts AS (
    SELECT left(g.code, %(length)s) AS code,
           count(*) FILTER (WHERE w.status = 'submitted') AS submitted,
           count(*) FILTER (WHERE w.status = 'published') AS open,
           count(*) FILTER (WHERE w.status IN ('claimed', 'delivered', 'disputed')) AS claimed,
           count(*) FILTER (WHERE w.status = 'confirmed') AS fulfilled,
           count(*) FILTER (WHERE w.status = 'expired') AS expired,
           count(*) AS total
    FROM wishes_wish w JOIN geogrid_grid g ON g.id = w.grid_id
    WHERE g.code LIKE %(prefix)s
    GROUP BY 1
)
SELECT grids.code, grids.name{geometry_out},
       coalesce(c.submitted, 0), coalesce(c.open, 0), coalesce(c.claimed, 0),
       coalesce(c.fulfilled, 0), coalesce(c.expired, 0), coalesce(c.total, 0)
FROM grids LEFT JOIN counts c ON c.code = grids.code
ORDER BY grids.code
"""


@dataclass(frozen=True)
class Row:
    code: str
    name: str
    figures: dict[str, int]
    geometry: Any = None  # GeoJSON (a dict) when asked for

    def as_dict(self) -> dict[str, Any]:
        return {"grid": self.code, "name": self.name, **self.figures}


def figures(code: str, by: int, *, geometry: bool = False) -> list[Row]:
    sql = _SQL.format(geometry=", ST_AsGeoJSON(g.boundary, 6) AS geojson" if geometry else "",
                      geometry_out=", grids.geojson" if geometry else "")
    with connection.cursor() as cursor:
        cursor.execute(sql, {"by": by, "prefix": code + "%", "length": code_lengths()[by]})
        rows = cursor.fetchall()
    out = []
    for r in rows:
        shape = json.loads(r[2]) if geometry and r[2] else None
        counts = r[3:] if geometry else r[2:]
        out.append(Row(r[0], r[1], dict(zip(FIGURES, (int(n) for n in counts), strict=True)),
                       shape))
    return out


def totals(rows: list[Row]) -> dict[str, int]:
    return {f: sum(r.figures[f] for r in rows) for f in FIGURES}
