"""The topology check as it was before the set-up in temporary tables (git da88986): every
statement scans the grid table with id arrays and re-runs ST_IsValid. Kept only as the reference
the fast path in geogrid.topology is tested against (tests/geogrid/test_topology_reference.py).
"""

from __future__ import annotations

import json

from django.db import connection, transaction
from django.utils.translation import gettext as _

from geogrid.topology import Kind, Problem, Tolerances, TopologyReport

# Problem geometries go out as GeoJSON with 8 decimals (about 1 mm).
_GEOJSON = "ST_AsGeoJSON({}, 8)"

# Own geometry of the parents and of their children: invalid, empty.
_SQL_INVALID = """
SELECT g.code, ST_IsEmpty(g.boundary), ST_IsValidReason(g.boundary)
FROM geogrid_grid g
WHERE g.valid_to IS NULL AND (g.id = ANY(%(p)s) OR g.parent_id = ANY(%(p)s))
  AND (ST_IsEmpty(g.boundary) OR NOT ST_IsValid(g.boundary))
"""

# Slivers: polygon parts that vanish when eroded by half the sliver width. Erosion (a geography
# buffer, done in a local metric projection) is costly, so only thin-looking parts get it:
# Polsby-Popper compactness 4πA/P² below 0.2, or parts under 1 m².
_SQL_SLIVERS = f"""
WITH parts AS MATERIALIZED (
    SELECT g.code, d.path[1] AS part, d.geom
    FROM geogrid_grid g, ST_Dump(g.boundary) d
    WHERE g.valid_to IS NULL AND (g.id = ANY(%(p)s) OR g.parent_id = ANY(%(p)s))
      AND ST_IsValid(g.boundary)
), thin AS MATERIALIZED (
    SELECT code, part, geom, ST_Area(geom::geography) AS area
    FROM parts
    WHERE 4 * pi() * ST_Area(geom) / (ST_Perimeter(geom) ^ 2) < 0.2
       OR ST_Area(geom::geography) < 1
)
SELECT code, part, area, {_GEOJSON.format("geom")}
FROM thin
WHERE ST_IsEmpty(ST_Buffer(geom::geography, -%(half_width)s)::geometry)
"""

# Children sticking out of their parent by more than the tolerance: the outside part survives an
# erosion by half the tolerance (a strip sticking out by w is w wide). ST_CoveredBy first: it is
# cheap with the parent prepared once.
_SQL_OUTSIDE = f"""
WITH outside AS MATERIALIZED (
    SELECT c.code, p.code AS parent_code, ST_Difference(c.boundary, p.boundary) AS geom
    FROM geogrid_grid c JOIN geogrid_grid p ON p.id = c.parent_id
    WHERE c.valid_to IS NULL AND c.parent_id = ANY(%(p)s)
      AND ST_IsValid(c.boundary) AND ST_IsValid(p.boundary)
      AND NOT ST_CoveredBy(c.boundary, p.boundary)
)
SELECT code, parent_code, ST_Area(geom::geography), {_GEOJSON.format("geom")}
FROM outside
WHERE NOT ST_IsEmpty(geom)
  AND NOT ST_IsEmpty(ST_Buffer(geom::geography, -%(outside_half)s)::geometry)
ORDER BY code
"""

# One union of the children per family: gaps are the parent minus that union; the sum of the
# children's areas minus the union's area is the family's total overlap, so the pairwise
# intersections (the expensive part) are computed only in families that have one.
_SQL_FAMILIES = """
CREATE TEMP TABLE _topology_family ON COMMIT DROP AS
SELECT p.id, p.code, p.boundary, ST_Union(c.boundary) AS covered, sum(c.area_m2) AS children_m2
FROM geogrid_grid p JOIN geogrid_grid c ON c.parent_id = p.id AND c.valid_to IS NULL
WHERE p.valid_to IS NULL AND p.id = ANY(%(p)s)
  AND ST_IsValid(p.boundary) AND ST_IsValid(c.boundary)
GROUP BY p.id
"""

_SQL_GAPS = f"""
WITH pieces AS MATERIALIZED (
    SELECT f.code, (ST_Dump(ST_Difference(f.boundary, f.covered))).geom AS geom
    FROM _topology_family f
    WHERE NOT ST_CoveredBy(f.boundary, f.covered)
)
SELECT code, ST_Area(geom::geography) AS area, {_GEOJSON.format("geom")}
FROM pieces
WHERE ST_Area(geom::geography) > %(gap_m2)s
  AND NOT ST_IsEmpty(ST_Buffer(geom::geography, -%(hairline_half)s)::geometry)
ORDER BY code, area DESC
"""

_SQL_OVERLAPS = f"""
WITH suspect AS MATERIALIZED (
    SELECT id FROM _topology_family
    WHERE children_m2 - ST_Area(covered::geography) > %(overlap_m2)s
), pairs AS MATERIALIZED (
    SELECT a.code AS a_code, b.code AS b_code,
           ST_CollectionExtract(ST_Intersection(a.boundary, b.boundary), 3) AS geom
    FROM suspect s
    JOIN geogrid_grid a ON a.parent_id = s.id AND a.valid_to IS NULL
    JOIN geogrid_grid b ON b.parent_id = s.id AND b.valid_to IS NULL
         AND a.code < b.code AND ST_Intersects(a.boundary, b.boundary)
)
SELECT a_code, b_code, ST_Area(geom::geography) AS area, {_GEOJSON.format("geom")}
FROM pairs
WHERE ST_Area(geom::geography) > %(overlap_m2)s
  AND NOT ST_IsEmpty(ST_Buffer(geom::geography, -%(hairline_half)s)::geometry)
ORDER BY a_code, b_code
"""

# Districts have no parent row: they are each other's siblings.
_SQL_DISTRICT_OVERLAPS = f"""
WITH pairs AS MATERIALIZED (
    SELECT a.code AS a_code, b.code AS b_code,
           ST_CollectionExtract(ST_Intersection(a.boundary, b.boundary), 3) AS geom
    FROM geogrid_grid a JOIN geogrid_grid b
         ON b.level = 1 AND b.valid_to IS NULL AND a.code < b.code
        AND ST_Intersects(a.boundary, b.boundary)
    WHERE a.level = 1 AND a.valid_to IS NULL AND (a.id = ANY(%(p)s) OR b.id = ANY(%(p)s))
      AND ST_Relate(a.boundary, b.boundary, '2********')
)
SELECT a_code, b_code, ST_Area(geom::geography) AS area, {_GEOJSON.format("geom")}
FROM pairs
WHERE ST_Area(geom::geography) > %(overlap_m2)s
  AND NOT ST_IsEmpty(ST_Buffer(geom::geography, -%(hairline_half)s)::geometry)
"""


def reference_check(parent_ids: list[int], tolerances: Tolerances | None) -> TopologyReport:
    tol = tolerances or Tolerances.from_settings()
    ids = sorted(set(parent_ids))
    report = TopologyReport(families=0, grids=0, tolerances=tol)
    params: dict[str, list[int] | float] = {
        "p": ids,
        "half_width": tol.sliver_width_m / 2,
        "outside_half": tol.outside_parent_m / 2,
        "hairline_half": tol.hairline_m / 2,
        "gap_m2": tol.gap_m2,
        "overlap_m2": tol.overlap_m2,
    }
    problems = report.problems
    # A transaction of our own (or a savepoint in the caller's) holds the temporary table.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM geogrid_grid WHERE valid_to IS NULL"
            " AND (id = ANY(%(p)s) OR parent_id = ANY(%(p)s))",
            params,
        )
        report.grids = cursor.fetchone()[0]
        cursor.execute(_SQL_INVALID, params)
        for code, empty, reason in cursor.fetchall():
            kind = Kind.EMPTY if empty else Kind.INVALID
            problems.append(Problem(kind, code, detail="" if empty else reason))
        cursor.execute(_SQL_SLIVERS, params)
        for code, part, area, geojson in cursor.fetchall():
            detail = _("part %(n)d is narrower than %(w)s m") % {
                "n": part or 1,
                "w": f"{tol.sliver_width_m:g}",
            }
            problems.append(Problem(Kind.SLIVER, code, None, area, json.loads(geojson), detail))
        cursor.execute(_SQL_OUTSIDE, params)
        for code, parent_code, area, geojson in cursor.fetchall():
            problems.append(Problem(Kind.OUTSIDE_PARENT, code, parent_code, area, _geo(geojson)))
        cursor.execute("DROP TABLE IF EXISTS _topology_family")
        cursor.execute(_SQL_FAMILIES, params)
        report.families = cursor.rowcount
        cursor.execute(_SQL_OVERLAPS, params)
        for a_code, b_code, area, geojson in cursor.fetchall():
            problems.append(Problem(Kind.OVERLAP, a_code, b_code, area, _geo(geojson)))
        cursor.execute(_SQL_DISTRICT_OVERLAPS, params)
        for a_code, b_code, area, geojson in cursor.fetchall():
            problems.append(Problem(Kind.OVERLAP, a_code, b_code, area, _geo(geojson)))
        cursor.execute(_SQL_GAPS, params)
        for code, area, geojson in cursor.fetchall():
            problems.append(Problem(Kind.GAP, code, None, area, _geo(geojson)))
        cursor.execute("DROP TABLE _topology_family")
    return report


def _geo(geojson: str | None) -> dict | None:
    return json.loads(geojson) if geojson else None
