"""Point → micro-grid assignment, for one point and for many.

Rules, in order (docs/appeals.md):
1. ``covers`` — the current micro-grid whose boundary covers the point; a point on a shared edge
   or vertex goes to the lowest code, so the answer never depends on row order;
2. ``nearest`` — else the nearest current micro-grid within the tolerance (default 30 m);
3. ``ancestor`` — else the smallest current grid of a higher level covering the point
   (属地兜底), lowest code on ties;
4. ``unlocated`` — else nothing: the appeal waits in the district dispatcher's queue.

One point: one SQL statement (raw cursor — loading Grid models with their boundaries is slow).
Many points: the covers step runs in process on an STRtree of the current micro-grids (shapely's
prepared predicates, vectorised); the few points it leaves go to the same SQL, set-based, over a
temporary table. Both paths give the same answer (tested).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
import shapely
from django.conf import settings
from django.db import connection, models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from geogrid import coords
from geogrid.hierarchy import Level, code_lengths
from geogrid.models import Post


class AssignmentMethod(models.TextChoices):
    COVERS = "covers", _("inside the micro-grid")
    NEAREST = "nearest", _("nearest micro-grid within tolerance")
    ANCESTOR = "ancestor", _("smallest covering ancestor grid")
    UNLOCATED = "unlocated", _("unlocated")


METHODS = tuple(AssignmentMethod.values)  # index = the method code of BulkAssignment
METHOD_CODE = {name: i for i, name in enumerate(METHODS)}
MICRO = int(Level.MICRO_GRID)

# The rules as one LATERAL sub-select over a point relation `p(id, g)` (public: re-assignment
# after a boundary change runs them over its own relation). UNION ALL under LIMIT 1
# stops at the first branch that yields a row, so the fallbacks cost nothing for covered points.
# The nearest branch pre-filters on the bounding box (index) before measuring on the spheroid.
RULES_SQL = """
    LEFT JOIN LATERAL (
        (SELECT g.id, g.code, 'covers' AS method, 0.0::float8 AS dist
           FROM geogrid_grid g
          WHERE g.level = 5 AND g.valid_to IS NULL AND ST_Covers(g.boundary, p.g)
          ORDER BY g.code LIMIT 1)
        UNION ALL
        (SELECT n.id, n.code, 'nearest', n.dist FROM (
            SELECT g.id, g.code, ST_Distance(g.boundary::geography, p.g::geography) AS dist
              FROM geogrid_grid g
             WHERE g.level = 5 AND g.valid_to IS NULL
               AND g.boundary && ST_Expand(p.g, %(tol)s / (111000.0 * cos(radians(ST_Y(p.g)))),
                                           %(tol)s / 110000.0)
            ) n
          WHERE n.dist <= %(tol)s ORDER BY n.dist, n.code LIMIT 1)
        UNION ALL
        (SELECT g.id, g.code, 'ancestor', 0.0
           FROM geogrid_grid g
          WHERE g.level < 5 AND g.valid_to IS NULL AND ST_Covers(g.boundary, p.g)
          ORDER BY g.level DESC, g.code LIMIT 1)
        LIMIT 1
    ) a ON true
"""

_SINGLE_SQL = (
    "SELECT a.id, a.code, a.method, a.dist FROM"
    " (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS g) p" + RULES_SQL
)


def tolerance_m() -> float:
    return float(settings.GEOGRID.get("ASSIGN_TOLERANCE_M", 30.0))


@dataclass
class Assignment:
    """Where one point belongs, with the grid's ancestors (district first) and its staff."""

    method: str
    grid_id: int | None = None
    code: str | None = None
    distance_m: float | None = None
    path: list[dict] = field(default_factory=list)
    staff: list[dict] = field(default_factory=list)

    @property
    def located(self) -> bool:
        return self.method != "unlocated"

    @property
    def district_code(self) -> str | None:
        return self.code[: code_lengths()[1]] if self.code else None

    def as_dict(self) -> dict:
        grid = None
        if self.grid_id is not None:
            own = self.path[-1] if self.path else {"code": self.code, "name": "", "level": None}
            grid = {**own, "version_id": self.grid_id, "path": self.path}
        return {
            "method": self.method,
            "distance_m": None if self.distance_m is None else round(self.distance_m, 1),
            "grid": grid,
            "staff": self.staff,
        }


def assign_point(
    lon: float, lat: float, *, tolerance: float | None = None, details: bool = True
) -> Assignment:
    """Assign one WGS 84 point; `details` adds the ancestor path and the responsible staff."""
    tol = tolerance_m() if tolerance is None else tolerance
    with connection.cursor() as cursor:
        cursor.execute(_SINGLE_SQL, {"lon": lon, "lat": lat, "tol": tol})
        grid_id, code, method, dist = cursor.fetchone()
    if grid_id is None:
        return Assignment(method="unlocated")
    result = Assignment(
        method=method, grid_id=grid_id, code=code, distance_m=dist if method == "nearest" else None
    )
    if details:
        result.path, result.staff = grid_details(grid_id, code)
    return result


@dataclass
class Located:
    """A point converted to WGS 84 and assigned. `swapped_suspect`: it is outside every grid
    but inside one with its two numbers the other way round (lat/lon swapped)."""

    lon: float
    lat: float
    assignment: Assignment
    swapped_suspect: bool = False


def locate_point(x: float, y: float, crs: str | None = None, *,
                 details: bool = True) -> Located:
    """The one way in for a submitted coordinate, for every layer: `crs` is any name
    geogrid.coords.parse_crs knows (WGS 84 by default, CGCS2000, GCJ-02, BD-09, EPSG codes);
    raises coords.CoordinateError (with the field to blame) for values that cannot be a place."""
    system = coords.parse_crs(crs)
    if system.geographic:
        coords.check_lon_lat(x, y)
    lon, lat = coords.to_wgs84(x, y, system)
    coords.check_lon_lat(lon, lat)
    result = assign_point(lon, lat, details=details)
    swapped = not result.located and swapped_would_locate(lon, lat)
    return Located(lon, lat, result, swapped)


def grid_details(grid_id: int, code: str) -> tuple[list[dict], list[dict]]:
    """Ancestors (by code prefix, current versions) and current staff of a grid, one query."""
    lengths = [n for n in sorted(code_lengths().values()) if n <= len(code)]
    prefixes = [code[:n] for n in lengths]
    today = timezone.localdate()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT 'g', g.level, g.code, g.name, NULL, NULL, NULL
              FROM geogrid_grid g WHERE g.valid_to IS NULL AND g.code = ANY(%s)
            UNION ALL
            SELECT 's', NULL, NULL, NULL, s.post,
                   COALESCE(NULLIF(trim(u.first_name || ' ' || u.last_name), ''), u.username),
                   s.phone
              FROM geogrid_staffassignment s JOIN auth_user u ON u.id = s.user_id
              JOIN geogrid_grid sg ON sg.id = s.grid_id
             WHERE sg.code = %s AND sg.valid_to IS NULL
               AND s.since <= %s AND (s.until IS NULL OR s.until >= %s) AND u.is_active
            """,
            (prefixes, code, today, today),
        )
        rows = cursor.fetchall()
    path = sorted(
        ({"level": r[1], "code": r[2], "name": r[3]} for r in rows if r[0] == "g"),
        key=lambda g: g["level"],
    )
    post_order = {Post.GRID_LEADER: 0, Post.ZONE_LEADER: 1, Post.GRID_WORKER: 2}
    staff = sorted(
        ({"post": r[4], "name": r[5], "phone": r[6]} for r in rows if r[0] == "s"),
        key=lambda s: (post_order.get(s["post"], 9), s["name"]),
    )
    return path, staff


def swapped_would_locate(lon: float, lat: float) -> bool:
    """True when (lat, lon) read the other way round falls inside some current grid."""
    if not (-180 <= lat <= 180 and -90 <= lon <= 90):
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM geogrid_grid WHERE valid_to IS NULL AND"
            " ST_Covers(boundary, ST_SetSRID(ST_MakePoint(%s, %s), 4326)) LIMIT 1",
            (lat, lon),
        )
        return cursor.fetchone() is not None


# --- many points ------------------------------------------------------------------------------


@dataclass
class BulkAssignment:
    """Per input point: grid version id (-1 when unlocated), method code, distance (m, or NaN)."""

    grid_id: np.ndarray
    method: np.ndarray  # uint8 index into METHODS
    distance_m: np.ndarray

    def counts(self) -> dict[str, int]:
        values = np.bincount(self.method, minlength=len(METHODS))
        return {name: int(values[i]) for i, name in enumerate(METHODS)}


class MicroGridIndex:
    """An STRtree over the current micro-grids, ordered by code (tree index = code rank)."""

    def __init__(self, ids: np.ndarray, geoms: np.ndarray, signature: tuple) -> None:
        self.ids = ids
        self.geoms = geoms
        self.signature = signature
        self.tree = shapely.STRtree(geoms)

    @classmethod
    def load(cls) -> MicroGridIndex:
        with connection.cursor() as cursor:
            signature = _signature(cursor)
            cursor.execute(
                "SELECT id, ST_AsBinary(boundary) FROM geogrid_grid"
                " WHERE level = 5 AND valid_to IS NULL ORDER BY code"
            )
            rows = cursor.fetchall()
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        geoms = shapely.from_wkb([bytes(r[1]) for r in rows])
        shapely.prepare(geoms)
        return cls(ids, geoms, signature)


def _signature(cursor) -> tuple:
    # Any new version gets a higher id; closing one sets valid_to: both change this tuple.
    cursor.execute(
        "SELECT count(*), max(id), max(valid_to) FROM geogrid_grid WHERE level = 5"
    )
    return tuple(cursor.fetchone())


_cache_lock = threading.Lock()
_cached: MicroGridIndex | None = None


def micro_grid_index() -> MicroGridIndex:
    """The process's index of current micro-grids, rebuilt when the grids changed."""
    global _cached
    with _cache_lock:
        if _cached is not None:
            with connection.cursor() as cursor:
                if _signature(cursor) == _cached.signature:
                    return _cached
        _cached = MicroGridIndex.load()
        return _cached


def covering_micro_grid(index: MicroGridIndex, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Per point, the tree position of the lowest-code covering micro-grid, or -1."""
    points = shapely.points(lon, lat)
    point_idx, tree_idx = index.tree.query(points, predicate="covered_by")
    best = np.full(len(points), np.iinfo(np.int64).max, dtype=np.int64)
    # Tree positions follow code order, so the minimum is the lowest code on shared edges.
    np.minimum.at(best, point_idx, tree_idx)
    best[best == np.iinfo(np.int64).max] = -1
    return best


def assign_many(
    lon: np.ndarray, lat: np.ndarray, *, tolerance: float | None = None
) -> BulkAssignment:
    """Assign WGS 84 points set-based; same rules and answers as `assign_point`."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    n = len(lon)
    grid_id = np.full(n, -1, dtype=np.int64)
    method = np.full(n, METHOD_CODE["unlocated"], dtype=np.uint8)
    distance = np.full(n, np.nan)
    if n == 0:
        return BulkAssignment(grid_id, method, distance)
    index = micro_grid_index()
    pos = covering_micro_grid(index, lon, lat) if len(index.ids) else np.full(n, -1)
    hit = pos >= 0
    grid_id[hit] = index.ids[pos[hit]]
    method[hit] = METHOD_CODE["covers"]
    rest = np.flatnonzero(~hit)
    if len(rest):
        rest_ids, rest_method, rest_dist = assign_sql(lon[rest], lat[rest], tolerance=tolerance)
        grid_id[rest], method[rest], distance[rest] = rest_ids, rest_method, rest_dist
    return BulkAssignment(grid_id, method, distance)


def assign_sql(
    lon: np.ndarray, lat: np.ndarray, *, tolerance: float | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The full rules in one SQL statement over a temporary table of the points."""
    tol = tolerance_m() if tolerance is None else tolerance
    n = len(lon)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        raw.execute(
            "CREATE TEMP TABLE IF NOT EXISTS _assign_pts (i int, lon float8, lat float8)"
        )
        raw.execute("TRUNCATE _assign_pts")
        with raw.copy("COPY _assign_pts (i, lon, lat) FROM STDIN") as copy:
            for row in zip(range(n), np.asarray(lon).tolist(), np.asarray(lat).tolist(),
                           strict=True):
                copy.write_row(row)
        raw.execute(
            "SELECT p.i, a.id, a.method, a.dist FROM"
            " (SELECT i, ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS g FROM _assign_pts) p"
            + RULES_SQL,
            {"tol": tol},
        )
        rows = raw.fetchall()
        raw.execute("TRUNCATE _assign_pts")
    grid_id = np.full(n, -1, dtype=np.int64)
    method = np.full(n, METHOD_CODE["unlocated"], dtype=np.uint8)
    distance = np.full(n, np.nan)
    for i, gid, name, dist in rows:
        if gid is not None:
            grid_id[i] = gid
            method[i] = METHOD_CODE[name]
            if name == "nearest":
                distance[i] = dist
    return grid_id, method, distance


def district_for_point(lon: float | None, lat: float | None) -> str:
    """District whose queue an unlocated appeal joins: the nearest current district, else the
    configured default (a deployment with one district never needs the point)."""
    default = settings.GEOGRID.get("DEFAULT_DISTRICT_CODE") or ""
    with connection.cursor() as cursor:
        if lon is not None and lat is not None:
            cursor.execute(
                "SELECT code FROM geogrid_grid WHERE level = 1 AND valid_to IS NULL"
                " ORDER BY boundary <-> ST_SetSRID(ST_MakePoint(%s, %s), 4326), code LIMIT 1",
                (lon, lat),
            )
        else:
            cursor.execute(
                "SELECT code FROM geogrid_grid WHERE level = 1 AND valid_to IS NULL"
                " ORDER BY code LIMIT 1"
            )
        row = cursor.fetchone()
    if default and (row is None or lon is None):
        return default
    return row[0] if row else (default or "0" * code_lengths()[1])
