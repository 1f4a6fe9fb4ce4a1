"""Point → micro-grid assignment, for one point and for many.

Rules, in order (docs/appeals.md):
1. ``covers`` — the current micro-grid whose boundary covers the point; a point on a shared edge
   or vertex goes to the lowest code, so the answer never depends on row order;
2. ``nearest`` — else the nearest current micro-grid within the tolerance (default 30 m);
3. ``ancestor`` — else the smallest current grid of a higher level covering the point
   (属地兜底), lowest code on ties;
4. ``unlocated`` — else nothing: the appeal waits in the district dispatcher's queue.

Many points (`assign_many`, `assign_into`): all four rules run in process on an index of the
current grids built once per boundary version (MicroGridIndex): covers by a raster lookup with
exact tests in the cells an edge crosses (geogrid.gridraster); nearest by an STRtree in a metric
plane with the error of the plane bounded — a point whose answer lies within that bound goes to
the SQL below, so the answers are the SQL's; ancestor by one raster per higher level.
One point (`assign_point`): covers from that index when this process has it and it is current,
else one SQL statement (raw cursor — loading Grid models with their boundaries is slow).
The SQL (RULES_SQL, `assign_sql`) is the reference; every path gives its answers (tested).
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from django.conf import settings
from django.db import connection, models, transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from psycopg.copy import QueuedLibpqWriter

from geogrid import coords, copybin
from geogrid.gridraster import GridRaster, metres_per_degree
from geogrid.hierarchy import Level, code_lengths
from geogrid.models import Grid, Post
from geogrid.signals import boundaries_changed


class AssignmentMethod(models.TextChoices):
    COVERS = "covers", _("inside the micro-grid")
    NEAREST = "nearest", _("nearest micro-grid within tolerance")
    ANCESTOR = "ancestor", _("smallest covering ancestor grid")
    UNLOCATED = "unlocated", _("unlocated")


METHODS = tuple(AssignmentMethod.values)  # index = the method code of BulkAssignment
METHOD_CODE = {name: i for i, name in enumerate(METHODS)}
MICRO = int(Level.MICRO_GRID)
ANCESTORS = 0  # key of the one raster of all higher levels

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
        index = _warm_index(cursor)
        pos = -1
        if index is not None:
            pos = int(index.covers(np.array([lon], dtype=float), np.array([lat], dtype=float))[0])
        if index is not None and pos >= 0:  # covered: exact; the fallbacks stay in SQL
            grid_id, code, method, dist = int(index.ids[pos]), index.codes[pos], "covers", None
        else:
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

    @classmethod
    def empty(cls, n: int) -> BulkAssignment:
        return cls(np.full(n, -1, dtype=np.int64),
                   np.full(n, METHOD_CODE["unlocated"], dtype=np.uint8), np.full(n, np.nan))

    def counts(self) -> dict[str, int]:
        values = np.bincount(self.method, minlength=len(METHODS))
        return {name: int(values[i]) for i, name in enumerate(METHODS)}


# Distances are measured in a plane (metres from the index's centre at its own scale) and
# rescaled to each point's latitude; what that can get wrong is bounded by the scale ratio
# (`smin`/`smax` below), the bow of each grid's longest edge (PostGIS measures geography to
# great-circle edges, the plane to straight ones) and this allowance for the spheroid. Inside
# the bounds the answer is certain; a point whose answer depends on what lies inside them goes
# to the SQL.
_MARGIN_M = 0.01
_MARGIN_REL = 1e-4
_EARTH_R = 6_371_000.0


def _great_circle_bow(geoms_m: np.ndarray, lat: float) -> np.ndarray:
    """Per polygon, a bound (m) on how far a great-circle edge strays from the straight edge
    between the same vertices in the plane: L² (1 + |tan φ|) / 8R for its longest edge L,
    doubled for safety (the exact sagitta is L² |tan φ sin 2α| / 8R to first order)."""
    if len(geoms_m) == 0:
        return np.zeros(0)
    xy, owner = shapely.get_coordinates(shapely.boundary(geoms_m), return_index=True)
    seg = np.hypot(*(xy[1:] - xy[:-1]).T)
    seg[owner[1:] != owner[:-1]] = 0
    longest = np.zeros(len(geoms_m))
    np.maximum.at(longest, owner[1:], seg)
    return 2 * longest**2 * (1 + abs(np.tan(np.radians(lat)))) / (8 * _EARTH_R)


class MicroGridIndex:
    """The current grids of one boundary version, for assignment in process.

    Micro-grids are ordered by code (position = code rank): `raster` answers covers, `tree_m`
    (an STRtree of the micro-grids in a local metric plane) finds nearest candidates, and
    `ancestors` holds one raster of all higher levels (ranked zone first, then by code) for
    the ancestor rule.
    """

    def __init__(self, ids: np.ndarray, geoms: np.ndarray, signature: tuple, *,
                 codes: np.ndarray | None = None,
                 ancestors: list[tuple[int, np.ndarray, GridRaster]] | None = None,
                 raster: GridRaster | None = None, cell_m: float | None = None) -> None:
        self.ids = ids
        self.geoms = geoms
        self.codes = codes if codes is not None else np.array([""] * len(ids), dtype=object)
        self.signature = signature
        shapely.prepare(geoms)
        self.tree = shapely.STRtree(geoms)
        self.raster = raster or GridRaster.build(geoms, cell_m or raster_cell_m())
        self.ancestors = ancestors or []
        xmin, ymin, xmax, ymax = shapely.total_bounds(geoms) if len(geoms) else (0, 0, 0, 0)
        self.lon0, self.lat0 = (xmin + xmax) / 2, (ymin + ymax) / 2
        kx, ky = metres_per_degree(self.lat0)
        self.kx0, self.ky0 = float(kx), float(ky)
        self.geoms_m = shapely.transform(
            geoms, lambda xy: (xy - (self.lon0, self.lat0)) * (self.kx0, self.ky0))
        shapely.prepare(self.geoms_m)
        self.tree_m = shapely.STRtree(self.geoms_m)
        self.bow_m = _great_circle_bow(self.geoms_m, self.lat0)
        self.nearest(np.zeros(0), np.zeros(0), tolerance_m())  # builds the mask for the default
        self.checked_at = time.monotonic()
        self.token: tuple | None = None

    @property
    def nbytes(self) -> int:
        """The rasters' arrays (the polygons and trees come on top: a few bytes per vertex)."""
        return self.raster.nbytes + sum(r.nbytes for _, _, r in self.ancestors)

    @classmethod
    def load(cls) -> MicroGridIndex:
        with connection.cursor() as cursor:
            signature = _signature(cursor)
            cursor.execute(
                "SELECT level, id, code, ST_AsBinary(boundary) FROM geogrid_grid"
                " WHERE valid_to IS NULL ORDER BY level DESC, code"
            )
            rows = cursor.fetchall()
        level = np.fromiter((r[0] for r in rows), dtype=np.int16, count=len(rows))
        ids = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
        codes = np.array([r[2] for r in rows], dtype=object)
        wkb = [bytes(r[3]) for r in rows]
        geoms = shapely.from_wkb(wkb)
        cell = raster_cell_m()
        big = (level == MICRO).sum() >= DISK_CACHE_MIN_GRIDS
        cache = _disk_cache_path(ids, wkb, cell) if big else None
        stored = _load_rasters(cache, geoms, level) if cache else None
        rasters = stored or {}
        micro = level == MICRO
        # All higher levels in one raster, ranked by level (zone first), then code — the rows'
        # order — so the lowest rank covering a point is the ancestor rule's answer. Cells are
        # sized for the finest of them (the zones).
        upper = ~micro
        if ANCESTORS not in rasters:
            finest = level == (level[upper].max() if upper.any() else 0)
            rasters[ANCESTORS] = GridRaster.build(geoms[upper], _level_cell_m(geoms[finest], cell))
        ancestors = [(ANCESTORS, ids[upper], rasters[ANCESTORS])]
        if MICRO not in rasters:
            rasters[MICRO] = GridRaster.build(geoms[micro], cell)
        if cache and stored is None:
            _save_rasters(cache, rasters)
        return cls(ids[micro], geoms[micro], signature, codes=codes[micro], ancestors=ancestors,
                   raster=rasters[MICRO])

    # --- the rules, in process -----------------------------------------------------------

    def covers(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Per point, the position of the lowest-code micro-grid covering it, or -1."""
        return self.raster.lookup(lon, lat)

    def nearest(self, lon: np.ndarray, lat: np.ndarray, tol: float
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For points covered by no micro-grid: (position of the nearest micro-grid within `tol`
        metres or -1, its distance in metres, whether the answer needs the SQL to be certain)."""
        n = len(lon)
        best = np.full(n, -1, dtype=np.int64)
        dist = np.full(n, np.nan)
        unsure = np.zeros(n, dtype=bool)
        if len(self.ids) == 0:
            return best, dist, unsure
        margin = _MARGIN_M + _MARGIN_REL * tol
        bow_max = float(self.bow_m.max())
        # Only points within reach of some boundary cell can be near anything: the others
        # (most of a spread-out set) never become geometries.
        sub = np.flatnonzero(self.raster.near(lon, lat, tol + margin + bow_max))
        lon, lat = lon[sub], lat[sub]
        kx, ky = metres_per_degree(lat)
        sx, sy = kx / self.kx0, ky / self.ky0
        smin, smax = np.minimum(sx, sy), np.maximum(sx, sy)
        pts = shapely.points((lon - self.lon0) * self.kx0, (lat - self.lat0) * self.ky0)
        p, c = self.tree_m.query(pts, predicate="dwithin",
                                 distance=(tol + margin + bow_max) / smin)
        if len(p) == 0:
            return best, dist, unsure
        d = shapely.distance(self.geoms_m[c], pts[p])
        slack = margin + self.bow_m[c]
        lo, hi = d * smin[p] - slack, d * smax[p] + slack
        order = np.lexsort((c, lo, p))
        p, c, lo, hi = p[order], c[order], lo[order], hi[order]
        first = np.ones(len(p), dtype=bool)
        first[1:] = p[1:] != p[:-1]
        head = np.flatnonzero(first)
        owner = p[head]
        has_second = np.append(head[1:], len(p)) - head > 1
        second_lo = np.full(len(head), np.inf)
        second_lo[has_second] = lo[head[has_second] + 1]
        win = (hi[head] <= tol) & (second_lo > hi[head])
        none = lo[head] > tol
        unsure[sub[owner[~win & ~none]]] = True
        if win.any():
            w = head[win]
            best[sub[p[w]]] = c[w]
            # The reported distance: the plane's nearest offset rescaled to the point's latitude.
            line = shapely.shortest_line(self.geoms_m[c[w]], pts[p[w]])
            xy = shapely.get_coordinates(line).reshape(-1, 2, 2)
            off = xy[:, 1] - xy[:, 0]
            dist[sub[p[w]]] = np.hypot(off[:, 0] * sx[p[w]], off[:, 1] * sy[p[w]])
        return best, dist, unsure

    def ancestor(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Per point, the id of the smallest covering higher-level grid (level desc, lowest
        code), or -1."""
        found = np.full(len(lon), -1, dtype=np.int64)
        todo = np.arange(len(lon))
        for _key, ids, raster in self.ancestors:
            if len(todo) == 0:
                break
            pos = raster.lookup(lon[todo], lat[todo])
            hit = pos >= 0
            found[todo[hit]] = ids[pos[hit]]
            todo = todo[~hit]
        return found

    def assign(self, lon: np.ndarray, lat: np.ndarray, tol: float
               ) -> tuple[BulkAssignment, np.ndarray]:
        """All rules in process; returns the result and the points (indices) whose answer must
        come from the SQL instead (an uncertain nearest)."""
        result = BulkAssignment.empty(len(lon))
        pos = self.covers(lon, lat)
        hit = pos >= 0
        result.grid_id[hit] = self.ids[pos[hit]]
        result.method[hit] = METHOD_CODE["covers"]
        rest = np.flatnonzero(~hit)
        unsure = self.fallbacks(lon, lat, rest, tol, result)
        return result, unsure

    def fallbacks(self, lon: np.ndarray, lat: np.ndarray, rest: np.ndarray, tol: float,
                  result: BulkAssignment) -> np.ndarray:
        """Nearest, ancestor and unlocated for the points `rest` (covered by no micro-grid),
        written into `result`; returns the points that need the SQL."""
        if len(rest) == 0:
            return rest
        near, dist, unsure = self.nearest(lon[rest], lat[rest], tol)
        got = near >= 0
        result.grid_id[rest[got]] = self.ids[near[got]]
        result.method[rest[got]] = METHOD_CODE["nearest"]
        result.distance_m[rest[got]] = dist[got]
        far = rest[~got & ~unsure]
        up = self.ancestor(lon[far], lat[far])
        result.grid_id[far[up >= 0]] = up[up >= 0]
        result.method[far[up >= 0]] = METHOD_CODE["ancestor"]
        return rest[unsure]


def raster_cell_m() -> float:
    return float(settings.GEOGRID.get("ASSIGN_RASTER_CELL_M", 10.0))


def _level_cell_m(geoms: np.ndarray, floor: float) -> float:
    # About ten cells across a typical grid of the level keeps edge cells a small share.
    if len(geoms) == 0:
        return floor
    xmin, ymin, xmax, ymax = shapely.bounds(geoms).T
    kx, ky = metres_per_degree((ymin + ymax) / 2)
    size = np.median(np.sqrt((xmax - xmin) * kx * (ymax - ymin) * ky))
    return max(floor, float(size) / 10)


# --- the raster on disk: a new process skips the build (keyed by the grids' content) ---------


def _disk_cache_path(ids: np.ndarray, wkb: list[bytes], cell: float) -> Path | None:
    root = settings.GEOGRID.get("ASSIGN_INDEX_CACHE_DIR", settings.VAR_DIR / "cache" / "assign")
    if not root:
        return None
    digest = hashlib.blake2b(ids.tobytes(), digest_size=16)
    for blob in wkb:
        digest.update(blob)
    digest.update(f"{cell}:{_FORMAT}".encode())
    return Path(root) / f"{digest.hexdigest()}.npz"


_FORMAT = 3
DISK_CACHE_MIN_GRIDS = 1000  # below this a build takes milliseconds: not worth a file
_DISK_CACHE_KEEP = 3


def _load_rasters(path: Path, geoms: np.ndarray, level: np.ndarray
                  ) -> dict[int, GridRaster] | None:
    try:
        with np.load(path) as data:
            parts = {k: data[k] for k in data.files}
    except (OSError, ValueError, KeyError):
        return None
    rasters = {}
    for key, mask in ((MICRO, level == MICRO), (ANCESTORS, level != MICRO)):
        if f"l{key}_grid" not in parts:
            return None
        rasters[key] = GridRaster.from_arrays(parts, geoms[mask], prefix=f"l{key}_")
    return rasters


def _save_rasters(path: Path, rasters: dict[int, GridRaster]) -> None:
    arrays = {}
    for lv, r in rasters.items():
        arrays.update(r.arrays(prefix=f"l{lv}_"))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
        np.savez(tmp, **arrays)  # type: ignore[arg-type]
        tmp.replace(path)  # atomic: a reader sees all of it or nothing
        # Keep the newest few boundary versions: older ones will not come back.
        kept = sorted(path.parent.glob("*.npz"), key=lambda f: f.stat().st_mtime, reverse=True)
        for old in kept[_DISK_CACHE_KEEP:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass  # a cache: the next process builds again


# --- which index is current ------------------------------------------------------------------


def _signature(cursor) -> tuple:
    # Any new version gets a higher id; closing one sets valid_to: both change this tuple.
    # All levels: the index holds the higher levels too (the ancestor rule).
    cursor.execute("SELECT count(*), max(id), max(valid_to) FROM geogrid_grid")
    return tuple(cursor.fetchone())


def _token(cursor) -> tuple:
    # Cheap (no table scan): this transaction's id and its own writes to geogrid_grid. Any
    # write to the grids in this transaction changes it; see _warm_index for other sessions.
    cursor.execute(
        "SELECT txid_current_if_assigned(), pg_stat_get_xact_tuples_inserted(c.oid)"
        " + pg_stat_get_xact_tuples_updated(c.oid) + pg_stat_get_xact_tuples_deleted(c.oid)"
        " FROM pg_class c WHERE c.oid = 'geogrid_grid'::regclass"
    )
    return tuple(cursor.fetchone())


_cache_lock = threading.Lock()
_cached: MicroGridIndex | None = None


def micro_grid_index() -> MicroGridIndex:
    """The process's index of current grids, rebuilt when the grids changed (exact check)."""
    global _cached
    with _cache_lock:
        with connection.cursor() as cursor:
            if _cached is not None and _signature(cursor) == _cached.signature:
                _cached.checked_at = time.monotonic()
                _cached.token = _token(cursor)
                return _cached
            _cached = None  # free the old one before building the next
            index = MicroGridIndex.load()
            index.token = _token(cursor)
        _cached = index
        return _cached


_single_point = False  # set by warm_index(): assign_point may answer from the index


def warm_index() -> MicroGridIndex:
    """Build (or confirm) the index now and let `assign_point` answer from it from then on —
    for a worker at start-up (the first build reads the grids and takes seconds, or under a
    second from the disk cache). Without this call single points always go to the SQL."""
    global _single_point
    index = micro_grid_index()
    _single_point = True
    return index


def _warm_index(cursor) -> MicroGridIndex | None:
    """The index for a single point, without a table scan per call: trusted while this
    transaction has not written to the grids and the exact signature was confirmed less than
    ASSIGN_INDEX_RECHECK_S ago (a boundary committed by another process is seen within that
    time); else confirmed now. A stale index is dropped (SQL from then on, at no extra cost)
    until the next bulk call or warm_index() builds the new one; it is never built here."""
    global _cached
    index = _cached
    if index is None or not _single_point:
        return None
    recheck = float(settings.GEOGRID.get("ASSIGN_INDEX_RECHECK_S", 1.0))
    token = _token(cursor)
    if token == index.token and time.monotonic() - index.checked_at < recheck:
        return index
    if _signature(cursor) != index.signature:
        with _cache_lock:
            if _cached is index:
                _cached = None
        return None
    index.token, index.checked_at = token, time.monotonic()
    return index


def _recheck_soon(**_kwargs) -> None:
    """A grid was written in this process: the next single point re-checks the signature
    instead of trusting the index for up to ASSIGN_INDEX_RECHECK_S (and again after the
    commit, when other threads' checks may have seen the old grids)."""
    index = _cached
    if index is not None:
        index.checked_at = float("-inf")


def _grids_written(**_kwargs) -> None:
    _recheck_soon()
    transaction.on_commit(_recheck_soon)


boundaries_changed.connect(_grids_written, dispatch_uid="geogrid.locate.boundaries")
post_save.connect(_grids_written, sender=Grid, dispatch_uid="geogrid.locate.grid_saved")
post_delete.connect(_grids_written, sender=Grid, dispatch_uid="geogrid.locate.grid_deleted")


def covering_micro_grid(index: MicroGridIndex, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Per point, the position (code rank) of the lowest-code covering micro-grid, or -1."""
    return index.covers(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))


def assign_many(
    lon: np.ndarray, lat: np.ndarray, *, tolerance: float | None = None
) -> BulkAssignment:
    """Assign WGS 84 points set-based; same rules and answers as `assign_point`."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    tol = tolerance_m() if tolerance is None else tolerance
    if len(lon) == 0:
        return BulkAssignment.empty(0)
    result, unsure = micro_grid_index().assign(lon, lat, tol)
    _settle_in_sql(result, unsure, lon, lat, tol)
    return result


def _settle_in_sql(result: BulkAssignment, which: np.ndarray, lon: np.ndarray,
                   lat: np.ndarray, tol: float) -> None:
    if len(which):
        ids, method, dist = assign_sql(lon[which], lat[which], tolerance=tol)
        result.grid_id[which], result.method[which], result.distance_m[which] = ids, method, dist


OUTPUT_COLUMNS = ("id", "grid_id", "method")


def assign_into(table: str, ids: np.ndarray, lon: np.ndarray, lat: np.ndarray, *,
                columns: tuple[str, str, str] = OUTPUT_COLUMNS, tolerance: float | None = None,
                chunk: int = 1 << 18) -> BulkAssignment:
    """Assign the points and write (id int8, grid id int8 — NULL when unlocated, method
    int2 — the index into METHODS) into `table`, by binary COPY, in the caller's transaction.

    Streams chunk by chunk (covered points, then the chunk's fallbacks) while the next chunk is
    computed, so the server's COPY runs alongside the lookups; the few points that need the SQL
    follow in a second COPY (the connection is busy during the first).
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    ids = np.asarray(ids, dtype=np.int64)
    tol = tolerance_m() if tolerance is None else tolerance
    index = micro_grid_index()
    result = BulkAssignment.empty(len(lon))
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"

    def tuples(which: np.ndarray | slice) -> bytes:
        grid = result.grid_id[which]
        return copybin.rows([(ids[which], "int8"), (grid, "int8"),
                             (result.method[which].astype(np.int16), "int2")],
                            nulls=[None, grid < 0, None])

    unsure_parts = []
    with connection.cursor() as cursor:
        # The queued writer sends from a thread: the server parses chunk k while this thread
        # computes chunk k + 1 (a plain write blocks until the server has read it).
        with cursor.cursor.copy(sql, writer=QueuedLibpqWriter(cursor.cursor)) as copy:
            copy.write(copybin.header())
            for start in range(0, len(lon), chunk):
                part = slice(start, start + chunk)
                pos = index.covers(lon[part], lat[part])
                hit = pos >= 0
                where = np.flatnonzero(hit) + start
                result.grid_id[where] = index.ids[pos[hit]]
                result.method[where] = METHOD_CODE["covers"]
                copy.write(tuples(where))
                rest = np.flatnonzero(~hit) + start
                unsure = index.fallbacks(lon, lat, rest, tol, result)
                copy.write(tuples(np.setdiff1d(rest, unsure, assume_unique=True)))
                unsure_parts.append(unsure)
            copy.write(copybin.TRAILER)
        unsure = np.concatenate(unsure_parts) if unsure_parts else np.zeros(0, dtype=np.int64)
        if len(unsure):
            _settle_in_sql(result, unsure, lon, lat, tol)
            with cursor.cursor.copy(sql) as copy:
                copy.write(copybin.header() + tuples(unsure) + copybin.TRAILER)
    return result


def assign_sql(
    lon: np.ndarray, lat: np.ndarray, *, tolerance: float | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The full rules in one SQL statement over a temporary table of the points (the reference
    the in-process path is tested against)."""
    tol = tolerance_m() if tolerance is None else tolerance
    n = len(lon)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        raw.execute(
            "CREATE TEMP TABLE IF NOT EXISTS _assign_pts (i int, lon float8, lat float8)"
        )
        raw.execute("TRUNCATE _assign_pts")
        copybin.copy_columns(raw, "COPY _assign_pts (i, lon, lat) FROM STDIN (FORMAT BINARY)",
                             [(np.arange(n, dtype=np.int32), "int4"),
                              (np.asarray(lon, dtype=float), "float8"),
                              (np.asarray(lat, dtype=float), "float8")])
        # Without statistics the planner takes the table for thousands of rows and the
        # statement for costly enough to JIT-compile: ~170 ms for a handful of points.
        raw.execute("ANALYZE _assign_pts")
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
