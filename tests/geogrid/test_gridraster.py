"""The raster index answers exactly what shapely's covers answers, lowest rank on ties."""

from __future__ import annotations

import numpy as np
import shapely

from geogrid.gridraster import GridRaster, metres_per_degree


def voronoi(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    outline = shapely.box(117.0, 26.0, 117.02, 26.015)
    seeds = shapely.multipoints(np.column_stack([rng.uniform(117.0, 117.02, n),
                                                 rng.uniform(26.0, 26.015, n)]))
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=outline))
    return shapely.intersection(cells, outline)


def reference(geoms: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    tree = shapely.STRtree(geoms)
    point, rank = tree.query(shapely.points(x, y), predicate="covered_by")
    best = np.full(len(x), len(geoms), dtype=np.int64)
    np.minimum.at(best, point, rank)
    best[best == len(geoms)] = -1
    return best


def test_lookup_equals_covers_on_vertices_edges_holes_and_a_sample():
    geoms = voronoi(60, 1)
    # A hole in one cell, filled by another (rank last), and an overlapping square (rank
    # first among the extras) so ties and wholly covered edge cells occur.
    plug = shapely.buffer(shapely.centroid(geoms[0]), 0.0003, quad_segs=4)
    holed = shapely.Polygon(shapely.get_exterior_ring(geoms[0]), [plug.exterior])
    overlap = shapely.box(117.005, 26.005, 117.006, 26.006)
    multi = shapely.multipolygons([shapely.box(117.03, 26.0, 117.031, 26.001),
                                   shapely.box(117.032, 26.0, 117.033, 26.001)])
    geoms = np.concatenate([[overlap], [holed], geoms[1:], [plug, multi]])
    raster = GridRaster.build(geoms, 10.0)
    xy = shapely.get_coordinates(geoms)
    rng = np.random.default_rng(2)
    a, b = xy[:-1], xy[1:]
    t = rng.uniform(0, 1, (len(a), 1))
    on_edges = a + t * (b - a)  # on or within rounding of an edge
    axis = np.column_stack([np.full(50, 117.005), rng.uniform(26.004, 26.007, 50)])
    sample = np.column_stack([rng.uniform(116.999, 117.035, 20000),
                              rng.uniform(25.999, 26.016, 20000)])
    pts = np.concatenate([xy, on_edges, axis, sample])
    got = raster.lookup(pts[:, 0], pts[:, 1])
    assert (got == reference(geoms, pts[:, 0], pts[:, 1])).all()
    assert raster.edge_share < 0.5
    assert (raster.cell_line >= 0).any()  # the side-of-line shortcut took part
    raster.cell_line[:] = -1  # and without it, the exact tests alone give the same
    assert (raster.lookup(pts[:, 0], pts[:, 1]) == got).all()
    assert raster.lookup(np.array([np.nan, 0.0]), np.array([26.0, np.nan])).tolist() == [-1, -1]


def test_near_never_misses_a_point_within_reach():
    geoms = voronoi(20, 3)[:10]  # leaves part of the box uncovered
    raster = GridRaster.build(geoms, 10.0)
    rng = np.random.default_rng(4)
    x, y = rng.uniform(116.99, 117.03, 20000), rng.uniform(25.99, 26.025, 20000)
    kx, ky = metres_per_degree(26.0)
    plane = shapely.transform(geoms, lambda xy: xy * (kx, ky))
    dist = shapely.distance(shapely.union_all(shapely.boundary(plane)),
                            shapely.points(x * kx, y * ky))
    near = raster.near(x, y, 30.0)
    assert near[dist <= 30.0].all()
    assert not near.all()  # and it does rule points out


def test_save_and_load_round_trip(tmp_path):
    geoms = voronoi(10, 5)
    raster = GridRaster.build(geoms, 10.0)
    raster.save(tmp_path / "r.npz")
    again = GridRaster.load(tmp_path / "r.npz", geoms)
    x, y = np.linspace(117.0, 117.02, 500), np.linspace(26.0, 26.015, 500)
    assert (again.lookup(x, y) == raster.lookup(x, y)).all()
