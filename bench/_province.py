"""A synthetic province for the batch jobs' test and benchmark: a lattice of irregular
quadrilateral micro-grids (jittered vertices shared by neighbours: no gaps, no overlaps),
cut into districts (column strips), zones (blocks of cells) and a few holes, and appeals
inserted set-based (binary COPY of the points, one INSERT … SELECT).

Holes (micro-grids left out, their zone still there) exercise the ancestor rule; points on
shared vertices the lowest-code tie-break; points beyond the outline the nearest rule (within
the tolerance) and unlocated. Used by tests/batch and bench/bench_dask_reassign.py.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import shapely
from django.db import connection

from bench._synthetic import _insert_rows
from geogrid import copybin

X0, Y0 = 112.0, 24.0  # away from the sample city and bench/_synthetic.py's city
ZONE_CELLS = 20  # a zone is ZONE_CELLS × ZONE_CELLS micro-grids (≤ 999 per zone)
FIRST_DISTRICT = 980101


def lattice(nx: int, ny: int, cell_m: float = 150.0, seed: int = 7) -> np.ndarray:
    """Vertices (ny + 1, nx + 1, 2) of an nx × ny lattice, inner ones jittered by up to a
    fifth of a cell (every quadrilateral stays simple)."""
    rng = np.random.default_rng(seed)
    dx = cell_m / (111_320 * np.cos(np.radians(Y0)))
    dy = cell_m / 110_574
    gx, gy = np.meshgrid(X0 + dx * np.arange(nx + 1), Y0 + dy * np.arange(ny + 1))
    jx = rng.uniform(-0.2, 0.2, gx.shape) * dx
    jy = rng.uniform(-0.2, 0.2, gy.shape) * dy
    jx[:, [0, -1]] = 0
    jy[[0, -1], :] = 0
    return np.stack([gx + jx, gy + jy], axis=-1)


def grids(nx: int, ny: int, districts: int = 4, holes: int = 3, seed: int = 7
          ) -> tuple[list[tuple], np.ndarray]:
    """Rows (level, code, name, parent code, geometry) of the whole hierarchy, and the vertices.
    Districts are strips of whole zones across x."""
    v = lattice(nx, ny, seed=seed)
    i, j = np.meshgrid(np.arange(nx), np.arange(ny))
    i, j = i.ravel(), j.ravel()
    rings = np.stack([v[j, i], v[j, i + 1], v[j + 1, i + 1], v[j + 1, i], v[j, i]], axis=1)
    cells = shapely.polygons(rings)
    zx, zy = i // ZONE_CELLS, j // ZONE_CELLS
    zones_x = int(np.ceil(nx / ZONE_CELLS))
    per_district = int(np.ceil(zones_x / districts))
    district_of = zx // per_district
    rng = np.random.default_rng(seed + 1)
    dropped = set(rng.choice(len(cells), size=holes, replace=False).tolist()) if holes else set()
    rows: list[tuple] = []
    micro: dict[str, list[tuple]] = {}
    zone_cells: dict[str, list[int]] = {}
    for k in range(len(cells)):
        d = f"{FIRST_DISTRICT + int(district_of[k])}"
        zone = f"{d}001001{(int(zx[k]) % per_district) * 100 + int(zy[k]) + 1:03d}"
        zone_cells.setdefault(zone, []).append(k)
    for zone, members in sorted(zone_cells.items()):
        for n, k in enumerate(members):
            if k not in dropped:
                micro.setdefault(zone, []).append((5, f"{zone}{n + 1:03d}", "", zone, cells[k]))
    district_parts: dict[str, list] = {}
    for zone, members in sorted(zone_cells.items()):
        outline = shapely.coverage_union_all(cells[members])
        rows.append((4, zone, zone, zone[:12], outline))
        district_parts.setdefault(zone[:6], []).append(outline)
    for d, parts in sorted(district_parts.items()):
        outline = shapely.coverage_union_all(np.array(parts))
        rows += [(1, d, f"district {d}", None, outline),
                 (2, d + "001", "subdistrict", d, outline),
                 (3, d + "001001", "community", d + "001", outline)]
    for zone in sorted(micro):
        rows += micro[zone]
    rows.sort(key=lambda r: (r[0], r[1]))
    return rows, v


def insert_grids(rows: list[tuple]) -> None:
    _insert_rows(rows)


def points(n: int, v: np.ndarray, seed: int = 11) -> tuple[np.ndarray, np.ndarray]:
    """Mostly inside (clustered and uniform), 2 % on lattice vertices (shared by up to four
    grids), 3 % just outside the outline (10–60 m: nearest or unlocated)."""
    rng = np.random.default_rng(seed)
    x0, y0 = v[0, 0]
    x1, y1 = v[-1, -1]
    on_vertex = n // 50
    outside = n * 3 // 100
    inside = n - on_vertex - outside
    hot = inside // 2
    centres = rng.uniform([x0, y0], [x1, y1], size=(30, 2))
    pick = rng.integers(0, 30, hot)
    lon = np.concatenate([centres[pick, 0] + rng.normal(0, (x1 - x0) / 40, hot),
                          rng.uniform(x0, x1, inside - hot)])
    lat = np.concatenate([centres[pick, 1] + rng.normal(0, (y1 - y0) / 40, hot),
                          rng.uniform(y0, y1, inside - hot)])
    lon, lat = np.clip(lon, x0, x1), np.clip(lat, y0, y1)
    flat = v.reshape(-1, 2)
    at = flat[rng.integers(0, len(flat), on_vertex)]
    # Beyond the west or south edge by 10–60 m (the tolerance is 30 m).
    metres = rng.uniform(10, 60, outside)
    along = rng.uniform(0, 1, outside)
    west = rng.random(outside) < 0.5
    out_lon = np.where(west, x0 - metres / (111_320 * np.cos(np.radians(y0))),
                       x0 + along * (x1 - x0))
    out_lat = np.where(west, y0 + along * (y1 - y0), y0 - metres / 110_574)
    return (np.concatenate([lon, at[:, 0], out_lon]),
            np.concatenate([lat, at[:, 1], out_lat]))


def district_codes(lon: np.ndarray, v: np.ndarray, districts: int) -> np.ndarray:
    """The district code an intake would have given: by the lattice column the longitude falls
    in (near a district edge this can differ from the grid's district, as real data does)."""
    nx = v.shape[1] - 1
    col = np.clip(((lon - v[0, 0, 0]) / (v[0, -1, 0] - v[0, 0, 0]) * nx).astype(int), 0, nx - 1)
    zones_x = int(np.ceil(nx / ZONE_CELLS))
    per_district = int(np.ceil(zones_x / districts))
    return FIRST_DISTRICT + col // ZONE_CELLS // per_district


def insert_appeals(lon: np.ndarray, lat: np.ndarray, district: np.ndarray, *, months: int = 6,
                   first_month: dt.date = dt.date(2026, 1, 1), seed: int = 13,
                   prefix: str = "P", grid: np.ndarray | None = None,
                   method: np.ndarray | None = None) -> int:
    """Appeals at the points of the given districts (`district_codes`), reported over `months`
    months; unassigned (grid NULL, 'unlocated') unless `grid`/`method` (-1: NULL; index into
    geogrid.locate.METHODS) are given; one INSERT … SELECT."""
    from geogrid.locate import METHODS

    grid = np.full(len(lon), -1, dtype=np.int64) if grid is None else grid
    method = (np.full(len(lon), METHODS.index("unlocated"), dtype=np.int16) if method is None
              else method)
    rng = np.random.default_rng(seed)
    n = len(lon)
    start = dt.datetime.combine(first_month, dt.time(), tzinfo=dt.timezone(dt.timedelta(hours=8)))
    span = (dt.date(first_month.year + (first_month.month - 1 + months) // 12,
                    (first_month.month - 1 + months) % 12 + 1, 1) - first_month).total_seconds()
    seconds = np.sort(rng.uniform(0, span - 1, n))
    stamps = (np.datetime64(start.astimezone(dt.UTC).replace(tzinfo=None), "us")
              + (seconds * 1e6).astype("timedelta64[us]"))
    with connection.cursor() as cursor:
        raw = cursor.cursor
        raw.execute("CREATE TEMP TABLE _prov_pts (i int8, lon float8, lat float8,"
                    " reported_at timestamptz, district int4, grid int8, method int2)"
                    " ON COMMIT DROP")
        copybin.copy_columns(raw, "COPY _prov_pts FROM STDIN (FORMAT BINARY)",
                             [(np.arange(n, dtype=np.int64), "int8"), (lon, "float8"),
                              (lat, "float8"), (copybin.timestamps(stamps), "timestamptz"),
                              (np.asarray(district, dtype=np.int32), "int4"),
                              (np.asarray(grid, dtype=np.int64), "int8"),
                              (np.asarray(method, dtype=np.int16), "int2")],
                             nulls=[None, None, None, None, None, np.asarray(grid) < 0, None])
        raw.execute("SELECT id FROM layers_category ORDER BY code LIMIT 1")
        category = raw.fetchone()[0]
        raw.execute(
            """INSERT INTO layers_appeal (tracking, token_hash, district_code, location, raw_x,
                   raw_y, raw_crs, address, category_id, description, channel, source_ref,
                   contact_phone, status, grid_id, assignment, assignment_distance_m,
                   reported_at, created_at, updated_at)
               SELECT %s || p.i, '', p.district::text,
                      ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326),
                      p.lon, p.lat, 'EPSG:4326', '', %s, '', 'hotline', '', '',
                      CASE WHEN p.i %% 3 = 0 THEN 'closed' ELSE 'received' END, p.grid,
                      (%s::text[])[p.method + 1], NULL, p.reported_at, now(), now()
                 FROM _prov_pts p""",
            [prefix, category, list(METHODS)])
        count = raw.rowcount
        raw.execute("ANALYZE layers_appeal")
    return count
