"""Topology checks of the grid hierarchy, as set-based SQL in PostGIS.

A check looks at *families*: a parent grid and its current children. For each family it finds
children sticking out of the parent, siblings overlapping each other and parts of the parent no
child covers; for each grid it finds invalid, empty and sliver geometry. Areas are measured on the
spheroid (geography) and compared with tolerances in metres / m² (settings.GEOGRID["TOPOLOGY"]).

Which families are checked:
- `check_subtree(code)`: every grid in the subtree plus the subtree root's own family (its parent
  and siblings), so a subtree is checked together with the place it sits in;
- `check_grid(code)`: the grid's family (parent, siblings) and the grid's own children;
- `check_codes(codes)`: the families of these grids and of their parents (used by the importer).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext as _

from geogrid.models import Grid


class Kind(StrEnum):
    INVALID = "invalid"
    EMPTY = "empty"
    SLIVER = "sliver"
    OUTSIDE_PARENT = "outside_parent"
    OVERLAP = "overlap"
    GAP = "gap"


@dataclass(frozen=True)
class Tolerances:
    outside_parent_m: float = 0.5
    overlap_m2: float = 1.0
    gap_m2: float = 1.0
    sliver_width_m: float = 1.0
    # Gaps and overlaps narrower than this everywhere are noise along shared edges (a straight
    # edge reprojected without its children's extra vertices leaves a hairline of ~1 m² per km).
    hairline_m: float = 0.5

    @classmethod
    def from_settings(cls) -> Tolerances:
        conf = settings.GEOGRID.get("TOPOLOGY", {})
        return cls(
            outside_parent_m=float(conf.get("OUTSIDE_PARENT_M", cls.outside_parent_m)),
            overlap_m2=float(conf.get("OVERLAP_M2", cls.overlap_m2)),
            gap_m2=float(conf.get("GAP_M2", cls.gap_m2)),
            sliver_width_m=float(conf.get("SLIVER_WIDTH_M", cls.sliver_width_m)),
            hairline_m=float(conf.get("HAIRLINE_M", cls.hairline_m)),
        )


@dataclass(frozen=True)
class Problem:
    kind: Kind
    code: str
    other_code: str | None = None  # the parent (outside_parent) or the sibling (overlap)
    area_m2: float | None = None
    geometry: dict | None = None  # GeoJSON, EPSG:4326
    detail: str = ""  # GEOS's reason for invalid geometry, with its location

    @property
    def message(self) -> str:
        area = f"{self.area_m2:,.1f}" if self.area_m2 is not None else "?"
        values = {"code": self.code, "other": self.other_code, "area": area, "detail": self.detail}
        if self.kind == Kind.INVALID:
            return _("grid %(code)s: invalid geometry: %(detail)s") % values
        if self.kind == Kind.EMPTY:
            return _("grid %(code)s: the boundary is empty") % values
        if self.kind == Kind.SLIVER:
            return _("grid %(code)s: a sliver of %(area)s m² (%(detail)s)") % values
        if self.kind == Kind.OUTSIDE_PARENT:
            return _("grid %(code)s lies outside its parent %(other)s by %(area)s m²") % values
        if self.kind == Kind.OVERLAP:
            return _("grid %(code)s overlaps sibling %(other)s by %(area)s m²") % values
        return _("grid %(code)s: a gap of %(area)s m² not covered by its children") % values

    def as_feature(self) -> dict:
        return {
            "type": "Feature",
            "geometry": self.geometry,
            "properties": {
                "kind": str(self.kind),
                "code": self.code,
                "other_code": self.other_code,
                "area_m2": None if self.area_m2 is None else round(self.area_m2, 3),
                "message": self.message,
            },
        }


@dataclass
class TopologyReport:
    families: int = 0  # parents whose children were checked
    grids: int = 0  # grids whose own geometry was checked
    tolerances: Tolerances = field(default_factory=Tolerances)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def of_kind(self, *kinds: Kind) -> list[Problem]:
        return [p for p in self.problems if p.kind in kinds]

    def counts(self) -> dict[str, int]:
        out = {str(kind): 0 for kind in Kind}
        for problem in self.problems:
            out[str(problem.kind)] += 1
        return out

    def as_geojson(self) -> dict:
        return {
            "type": "FeatureCollection",
            "features": [p.as_feature() for p in self.problems],
            "properties": {
                "families": self.families,
                "grids": self.grids,
                "counts": self.counts(),
                "tolerances": self.tolerances.__dict__,
            },
        }


# --- entry points ---------------------------------------------------------------------------


def check_subtree(code: str | None = None, tolerances: Tolerances | None = None) -> TopologyReport:
    """Check a whole subtree (every current grid when `code` is None)."""
    current = Grid.objects.current()
    if code is None:
        ids = list(current.values_list("id", flat=True))
    else:
        ids = list(current.subtree(code).values_list("id", flat=True))
        ids += _parent_ids(current.filter(code=code))
    return _check(ids, tolerances)


def check_grid(code: str, tolerances: Tolerances | None = None) -> TopologyReport:
    """Check one grid: against its parent and siblings, and its children against it."""
    grids = Grid.objects.current().filter(code=code)
    return _check(list(grids.values_list("id", flat=True)) + _parent_ids(grids), tolerances)


def check_codes(codes: Iterable[str], tolerances: Tolerances | None = None) -> TopologyReport:
    """Check the families of these grids and of their parents (after an import)."""
    # One query for ids and parent ids: an import passes tens of thousands of codes.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT g.id, g.parent_id FROM geogrid_grid g"
            " WHERE g.valid_to IS NULL AND g.code IN (SELECT unnest(%s::text[]))",
            [list(codes)],
        )
        rows = cursor.fetchall()
    ids = {grid_id for grid_id, _parent in rows}
    ids |= {parent for _id, parent in rows if parent is not None}
    return _check(list(ids), tolerances)


def _parent_ids(grids) -> list[int]:
    return [i for i in grids.values_list("parent_id", flat=True).distinct() if i is not None]


# --- the SQL --------------------------------------------------------------------------------
#
# The ids passed in are the *parents* whose families are checked. They are staged once in
# _topology_parent, and the grids the checks look at (current parents and their current
# children) once in _topology_grid, with validity and emptiness computed a single time: the
# checks below reuse these flags instead of re-running ST_IsValid in every statement, and join
# a keyed table instead of scanning an id array per row. Both tables are ANALYZEd so that the
# planner sees their real sizes (the import writes tens of thousands of rows just before).

_SQL_STAGE = (
    """
    CREATE TEMP TABLE _topology_parent ON COMMIT DROP AS
    SELECT DISTINCT unnest(%(p)s::bigint[]) AS id
    """,
    "ANALYZE _topology_parent",
    # The parents themselves (a parent that is no longer current still has its current children
    # checked against it, as before), then their current children.
    """
    CREATE TEMP TABLE _topology_grid ON COMMIT DROP AS
    SELECT g.id, g.parent_id, g.code, g.level, g.boundary, g.area_m2,
           g.valid_to IS NULL AS current, true AS is_parent,
           ST_IsEmpty(g.boundary) AS empty, ST_IsValid(g.boundary) AS valid
    FROM geogrid_grid g JOIN _topology_parent t ON t.id = g.id
    UNION ALL
    SELECT g.id, g.parent_id, g.code, g.level, g.boundary, g.area_m2, true, false,
           ST_IsEmpty(g.boundary), ST_IsValid(g.boundary)
    FROM geogrid_grid g JOIN _topology_parent t ON t.id = g.parent_id
    WHERE g.valid_to IS NULL
      AND NOT EXISTS (SELECT 1 FROM _topology_parent s WHERE s.id = g.id)
    """,
    "CREATE INDEX ON _topology_grid (parent_id)",
    "ANALYZE _topology_grid",
)

# Problem geometries go out as GeoJSON with 8 decimals (about 1 mm).
_GEOJSON = "ST_AsGeoJSON({}, 8)"

# The grids the report counts and checks for invalid / empty geometry: current parents and
# their current children.
_CHECKED = "g.current"

# Own geometry of the parents and of their children: invalid, empty.
_SQL_INVALID = f"""
SELECT g.code, g.empty, CASE WHEN g.empty THEN NULL ELSE ST_IsValidReason(g.boundary) END
FROM _topology_grid g
WHERE {_CHECKED} AND (g.empty OR NOT g.valid)
ORDER BY g.id
"""

# Slivers: polygon parts that vanish when eroded by half the sliver width. Erosion (a geography
# buffer, done in a local metric projection) is costly, so only thin-looking parts get it:
# Polsby-Popper compactness 4πA/P² below 0.2, or parts under 1 m². The spheroidal area is only
# computed for parts whose planar area (in degrees²) could be under 1 m² at their latitude:
# 1 deg² is more than 1.2e10·cos(lat) m², so a 12-fold margin keeps the test exact.
_SQL_SLIVERS = f"""
WITH parts AS MATERIALIZED (
    SELECT g.code, d.path[1] AS part, d.geom
    FROM _topology_grid g, ST_Dump(g.boundary) d
    WHERE {_CHECKED} AND g.valid
), thin AS MATERIALIZED (
    SELECT code, part, geom, ST_Area(geom::geography) AS area
    FROM parts
    WHERE 4 * pi() * ST_Area(geom) / (ST_Perimeter(geom) ^ 2) < 0.2
       OR (ST_Area(geom) < 1e-9 / GREATEST(
               cos(radians(LEAST(GREATEST(abs(ST_YMin(geom)), abs(ST_YMax(geom))), 90))),
               1e-12)
           AND ST_Area(geom::geography) < 1)
)
SELECT code, part, area, {_GEOJSON.format("geom")}
FROM thin
WHERE ST_IsEmpty(ST_Buffer(geom::geography, -%(half_width)s)::geometry)
"""

# One union of the children per family: gaps are the parent minus that union; the sum of the
# children's areas minus the union's area is the family's total overlap, so the pairwise
# intersections (the expensive part) are computed only in families that have one.
_SQL_FAMILIES = """
CREATE TEMP TABLE _topology_family ON COMMIT DROP AS
SELECT p.id, p.code, p.boundary, ST_Union(c.boundary) AS covered, sum(c.area_m2) AS children_m2
FROM _topology_grid p JOIN _topology_grid c ON c.parent_id = p.id AND c.current
WHERE p.current AND p.is_parent AND p.valid AND c.valid
GROUP BY p.id, p.code, p.boundary
"""

# Children sticking out of their parent by more than the tolerance: the outside part survives an
# erosion by half the tolerance (a strip sticking out by w is w wide). ST_CoveredBy first: it is
# cheap with the parent prepared once (children arrive grouped by parent).
_SQL_OUTSIDE = f"""
WITH outside AS MATERIALIZED (
    SELECT c.code, p.code AS parent_code, ST_Difference(c.boundary, p.boundary) AS geom
    FROM _topology_grid c JOIN _topology_grid p ON p.id = c.parent_id
    WHERE c.current AND c.parent_id IN (SELECT id FROM _topology_parent)
      AND c.valid AND p.valid
      AND NOT ST_CoveredBy(c.boundary, p.boundary)
)
SELECT code, parent_code, ST_Area(geom::geography), {_GEOJSON.format("geom")}
FROM outside
WHERE NOT ST_IsEmpty(geom)
  AND NOT ST_IsEmpty(ST_Buffer(geom::geography, -%(outside_half)s)::geometry)
ORDER BY code
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
    JOIN _topology_grid a ON a.parent_id = s.id AND a.current
    JOIN _topology_grid b ON b.parent_id = s.id AND b.current
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
    WHERE a.level = 1 AND a.valid_to IS NULL
      AND (a.id IN (SELECT id FROM _topology_parent) OR b.id IN (SELECT id FROM _topology_parent))
      AND ST_Relate(a.boundary, b.boundary, '2********')
)
SELECT a_code, b_code, ST_Area(geom::geography) AS area, {_GEOJSON.format("geom")}
FROM pairs
WHERE ST_Area(geom::geography) > %(overlap_m2)s
  AND NOT ST_IsEmpty(ST_Buffer(geom::geography, -%(hairline_half)s)::geometry)
"""

_TEMP_TABLES = "_topology_family, _topology_grid, _topology_parent"


def _check(parent_ids: list[int], tolerances: Tolerances | None) -> TopologyReport:
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
    # A transaction of our own (or a savepoint in the caller's) holds the temporary tables.
    with transaction.atomic(), connection.cursor() as cursor:
        # The geometry functions' huge cost estimates make PostgreSQL JIT-compile every
        # statement (0.1 s each) for work that takes less; off for these statements only.
        cursor.execute("SELECT current_setting('jit'), set_config('jit', 'off', true)")
        jit = cursor.fetchone()[0]
        cursor.execute(f"DROP TABLE IF EXISTS {_TEMP_TABLES}")
        cursor.execute(_SQL_STAGE[0], params)
        for statement in _SQL_STAGE[1:]:
            cursor.execute(statement)
        cursor.execute(f"SELECT count(*) FROM _topology_grid g WHERE {_CHECKED}")
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
        cursor.execute(f"DROP TABLE {_TEMP_TABLES}")
        cursor.execute("SELECT set_config('jit', %s, true)", [jit])
    return report


def _geo(geojson: str | None) -> dict | None:
    return json.loads(geojson) if geojson else None
