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
    grids = Grid.objects.current().filter(code__in=list(codes))
    return _check(list(grids.values_list("id", flat=True)) + _parent_ids(grids), tolerances)


def _parent_ids(grids) -> list[int]:
    return [i for i in grids.values_list("parent_id", flat=True).distinct() if i is not None]


# --- the SQL --------------------------------------------------------------------------------

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
