"""Synthetic city for benchmarks when the generated sample city is not at hand: Voronoi
micro-grids clipped to zone strips, inserted as a full hierarchy inside the caller's transaction."""

from __future__ import annotations

import numpy as np
import shapely
from django.db import connection

X0, Y0, X1, Y1 = 113.0, 23.0, 113.9, 23.6  # far from the tests' and the sample's county
ZONES = 25
DISTRICT = "990101"


def make_grids(n: int, seed: int = 1) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    per_zone = int(np.ceil(n / ZONES))
    codes, geoms = [], []
    width = (X1 - X0) / ZONES
    for z in range(ZONES):
        strip = shapely.box(X0 + z * width, Y0, X0 + (z + 1) * width, Y1)
        k = min(per_zone, n - len(codes))
        seeds = shapely.points(rng.uniform(X0 + z * width, X0 + (z + 1) * width, k),
                               rng.uniform(Y0, Y1, k))
        cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds),
                                                           extend_to=strip))
        cells = shapely.intersection(cells, strip)
        cells = cells[~shapely.is_empty(cells)][:k]
        zone = f"{DISTRICT}001001{z + 1:03d}"
        for i, cell in enumerate(cells):
            codes.append(f"{zone}{i + 1:03d}")
            geoms.append(cell)
    return codes, np.array(geoms)


def make_points(n: int, seed: int = 2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    hot = int(n * 0.6)
    centres = rng.uniform([X0, Y0], [X1, Y1], size=(40, 2))
    pick = rng.integers(0, 40, hot)
    spread = rng.normal(0, 0.01, (hot, 2))
    lon = np.concatenate([centres[pick, 0] + spread[:, 0], rng.uniform(X0, X1, n - hot)])
    lat = np.concatenate([centres[pick, 1] + spread[:, 1], rng.uniform(Y0, Y1, n - hot)])
    return np.clip(lon, X0 + 1e-6, X1 - 1e-6), np.clip(lat, Y0 + 1e-6, Y1 - 1e-6)


def insert_hierarchy(codes: list[str], geoms: np.ndarray) -> None:
    """District → subdistrict → community → 25 zones → micro-grids, via COPY (one transaction)."""
    outline = shapely.box(X0, Y0, X1, Y1)
    width = (X1 - X0) / ZONES
    rows = [(1, DISTRICT, "bench district", None, outline),
            (2, DISTRICT + "001", "bench subdistrict", DISTRICT, outline),
            (3, DISTRICT + "001001", "bench community", DISTRICT + "001", outline)]
    rows += [(4, f"{DISTRICT}001001{z + 1:03d}", f"zone {z}", DISTRICT + "001001",
              shapely.box(X0 + z * width, Y0, X0 + (z + 1) * width, Y1)) for z in range(ZONES)]
    rows += [(5, c, c, c[:15], g) for c, g in zip(codes, geoms, strict=True)]
    _insert_rows(rows)


def _insert_rows(rows: list) -> None:
    with connection.cursor() as cursor:
        raw = cursor.cursor
        raw.execute("CREATE TEMP TABLE _bench_grid (level int, code text, name text,"
                    " parent text, wkb bytea) ON COMMIT DROP")
        with raw.copy("COPY _bench_grid FROM STDIN") as copy:
            for level, code, name, parent, geom in rows:
                copy.write_row((level, code, name, parent, shapely.to_wkb(geom)))
        for level in range(1, 6):
            raw.execute(
                """INSERT INTO geogrid_grid (level, code, name, parent_id, boundary, valid_from,
                                             created_at)
                   SELECT b.level, b.code, b.name, p.id, ST_Multi(ST_GeomFromWKB(b.wkb, 4326)),
                          now() - interval '1 day', now()
                     FROM _bench_grid b
                     LEFT JOIN geogrid_grid p ON p.code = b.parent AND p.valid_to IS NULL
                    WHERE b.level = %s""",
                (level,),
            )
        # Fresh statistics, as autovacuum would give a committed import: the planner then
        # probes the GiST index instead of scanning.
        raw.execute("ANALYZE geogrid_grid")


def insert_gpkg(path) -> None:
    """The grids of a sample's grids.gpkg (one layer per level), via the same COPY path."""
    import pyogrio

    layers = ["district", "subdistrict", "community", "zone", "micro_grid"]
    rows = []
    for level, layer in enumerate(layers, start=1):
        frame = pyogrio.read_dataframe(path, layer=layer)
        rows += [(level, c, n, p or None, g) for c, n, p, g in zip(
            frame["code"], frame["name"], frame["parent_code"], frame.geometry.values,
            strict=True)]
    _insert_rows(rows)
