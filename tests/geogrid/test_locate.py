"""Point → micro-grid assignment: each place gets the documented grid and method."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from django.db import connection

from geogrid.locate import METHODS, assign_many, assign_point, swapped_would_locate
from tests.layers.factories import COMMUNITY, METRE_LON, ZONE, A, B, make_city

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_index():
    """Each test starts and ends without a process index (later tests count queries)."""
    from geogrid import locate

    locate._cached, locate._single_point = None, False
    yield
    locate._cached, locate._single_point = None, False

# (name, lon, lat, expected code, expected method)
PLACES = [
    ("strictly inside B", 117.805, 26.405, B, "covers"),
    ("on the A|B edge", 117.80, 26.405, A, "covers"),
    ("on the B|C edge", 117.805, 26.40, B, "covers"),
    ("on the vertex shared by A, B and C", 117.80, 26.40, A, "covers"),
    ("in the planted gap, 10 m from B", 117.81 + 10 * METRE_LON, 26.405, B, "nearest"),
    ("in the gap, 300 m from any micro-grid", 117.81 + 300 * METRE_LON, 26.405, ZONE, "ancestor"),
    ("in the community, outside the zone", 117.787, 26.40, COMMUNITY, "ancestor"),
    ("200 m outside all grids", 117.78 - 200 * METRE_LON, 26.40, None, "unlocated"),
]


@pytest.mark.parametrize(
    ("name", "lon", "lat", "code", "method"), PLACES, ids=[p[0] for p in PLACES]
)
def test_single_point(name, lon, lat, code, method):
    make_city(with_staff=False)
    result = assign_point(lon, lat)
    assert (result.code, result.method) == (code, method)
    if method == "nearest":
        assert 9 < result.distance_m < 11


def test_bulk_gives_the_same_answers_as_single_points():
    grids = make_city(with_staff=False)
    lon = np.array([p[1] for p in PLACES])
    lat = np.array([p[2] for p in PLACES])
    result = assign_many(lon, lat)
    by_id = {g.id: code for code, g in grids.items()}
    pairs = zip(result.grid_id, result.method, strict=True)
    got = [(by_id.get(int(g)), METHODS[m]) for g, m in pairs]
    assert got == [(p[3], p[4]) for p in PLACES]
    assert result.counts() == {"covers": 4, "nearest": 1, "ancestor": 2, "unlocated": 1}


def test_result_names_the_version_the_path_and_the_staff():
    grids = make_city()
    result = assign_point(117.805, 26.405).as_dict()
    assert result["grid"]["version_id"] == grids[B].id
    assert [g["code"] for g in result["grid"]["path"]] == [
        "350427", "350427001", COMMUNITY, ZONE, B,
    ]
    assert result["grid"]["name"] == "微网格B"
    assert [s["post"] for s in result["staff"]] == ["grid_leader", "grid_worker"]
    assert result["staff"][0]["name"] == "leader 2"


def test_index_follows_boundary_changes():
    grids = make_city(with_staff=False)
    assert assign_many(np.array([117.805]), np.array([26.405])).grid_id[0] == grids[B].id
    grids[B].valid_to = grids[B].valid_from.replace(year=grids[B].valid_from.year + 1)
    grids[B].save()
    result = assign_many(np.array([117.805]), np.array([26.405]))
    assert METHODS[result.method[0]] == "ancestor"  # B retired: the zone catches it


def test_swapped_coordinates_are_recognised():
    make_city(with_staff=False)
    assert swapped_would_locate(26.405, 117.805)
    assert not swapped_would_locate(117.805, 26.405)


# --- the in-process path (raster index) against the SQL rules --------------------------------

VORONOI_DISTRICT = "350428"
VORONOI_BOX = (117.90, 26.39, 117.93, 26.41)  # micro-grids; the zone reaches on to 117.94


def make_voronoi_city(seed: int = 4) -> dict:
    """A second district whose micro-grids are Voronoi cells: slanted shared edges and vertices
    where three or more grids meet, an outer edge at x = 117.93 with the zone beyond it."""
    from django.contrib.gis.geos import GEOSGeometry

    from tests.factories import make_grid
    from tests.layers.factories import box

    d = VORONOI_DISTRICT
    grids = {d: make_grid(d, boundary=box(117.88, 26.37, 117.96, 26.43))}
    grids[d + "001"] = make_grid(d + "001", parent=grids[d], boundary=box(117.88, 26.37, 117.96,
                                                                          26.43))
    community = d + "001001"
    grids[community] = make_grid(community, parent=grids[d + "001"],
                                 boundary=box(117.89, 26.38, 117.95, 26.42))
    zone = community + "001"
    grids[zone] = make_grid(zone, parent=grids[community], boundary=box(117.895, 26.385, 117.94,
                                                                        26.415))
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = VORONOI_BOX
    seeds = shapely.multipoints(np.column_stack([rng.uniform(x0, x1, 14), rng.uniform(y0, y1, 14)]))
    outline = shapely.box(x0, y0, x1, y1)
    cells = shapely.intersection(shapely.get_parts(shapely.voronoi_polygons(seeds,
                                                                           extend_to=outline)),
                                 outline)
    for i, cell in enumerate(cells, start=1):
        code = f"{zone}{i:03d}"
        grids[code] = make_grid(code, parent=grids[zone],
                                boundary=GEOSGeometry(shapely.multipolygons([cell]).wkt, srid=4326))
    return grids


def edge_case_points(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (3+ grids), points on shared edges, inside, near the tolerance, in the zone
    only, outside everything, and a random sample over both districts."""
    from geogrid.models import Grid

    boundaries = [shapely.from_wkb(bytes(g.boundary.wkb))
                  for g in Grid.objects.filter(level=5, valid_to__isnull=True)]
    vertices = shapely.get_coordinates(boundaries)
    segments = np.column_stack([vertices[:-1], vertices[1:]])
    mids = (segments[:, :2] + segments[:, 2:]) / 2
    metres = np.array([0.0, 1.0, 10.0, 29.0, 29.97, 29.99, 30.0, 30.01, 30.03, 31.0, 45.0])
    beyond_east = np.column_stack([117.93 + metres * METRE_LON, np.full(len(metres), 26.4013)])
    beyond_gap = np.column_stack([117.81 + metres * METRE_LON, np.full(len(metres), 26.4051)])
    exact = np.array([[117.80, 26.405], [117.805, 26.40], [117.80, 26.40], [117.79, 26.39],
                      [117.935, 26.40], [117.787, 26.40], [117.70, 26.40], [np.nan, 26.4]])
    random = np.column_stack([rng.uniform(117.77, 117.97, 3000), rng.uniform(26.37, 26.43, 3000)])
    pts = np.concatenate([vertices, mids, beyond_east, beyond_gap, exact, random])
    return pts[:, 0], pts[:, 1]


def sql_answers(lon, lat, tolerance=None):
    from geogrid.locate import assign_sql

    ok = np.isfinite(lon) & np.isfinite(lat)
    ids = np.full(len(lon), -1, dtype=np.int64)
    method = np.full(len(lon), METHODS.index("unlocated"), dtype=np.uint8)
    dist = np.full(len(lon), np.nan)
    ids[ok], method[ok], dist[ok] = assign_sql(lon[ok], lat[ok], tolerance=tolerance)
    return ids, method, dist


@pytest.mark.parametrize("tolerance", [None, 100.0])
def test_in_process_path_gives_the_sql_answers_on_edges_vertices_and_a_sample(tolerance):
    make_city(with_staff=False)
    make_voronoi_city()
    lon, lat = edge_case_points(np.random.default_rng(1))
    got = assign_many(lon, lat, tolerance=tolerance)
    ids, method, dist = sql_answers(lon, lat, tolerance)
    differ = np.flatnonzero((got.grid_id != ids) | (got.method != method))
    assert differ.size == 0, [(lon[i], lat[i], ids[i], METHODS[method[i]], got.grid_id[i],
                               METHODS[got.method[i]]) for i in differ[:5]]
    near = method == METHODS.index("nearest")
    # Distances agree to a centimetre or so (PostGIS bows long edges along great circles).
    assert near.sum() > 5 and np.allclose(got.distance_m[near], dist[near], atol=0.05)
    counts = got.counts()
    assert min(counts.values()) > 0  # every rule was exercised


def test_uncertain_nearest_answers_are_left_to_the_sql():
    from geogrid.locate import micro_grid_index

    make_voronoi_city()
    # Around 30 m from the outer edge the plane's bound cannot decide: those go to the SQL.
    metres = np.linspace(28.0, 32.0, 41)
    lon, lat = 117.93 + metres * METRE_LON, np.full(len(metres), 26.4013)
    _, unsure = micro_grid_index().assign(lon, lat, 30.0)
    assert 0 < len(unsure) < len(metres)
    got = assign_many(lon, lat)
    ids, method, _ = sql_answers(lon, lat)
    assert (got.grid_id == ids).all() and (got.method == method).all()


def test_single_points_from_the_warm_index_equal_the_sql():
    from geogrid import locate

    make_city(with_staff=False)
    make_voronoi_city()
    lon, lat = edge_case_points(np.random.default_rng(2))
    ok = np.isfinite(lon)
    lon, lat = lon[ok][::3], lat[ok][::3]
    ids, method, _ = sql_answers(lon, lat)
    locate.warm_index()
    with connection.cursor() as cursor:
        assert locate._warm_index(cursor) is not None
    for i in range(len(lon)):
        one = assign_point(float(lon[i]), float(lat[i]), details=False)
        assert (one.grid_id or -1, one.method) == (ids[i], METHODS[method[i]]), (lon[i], lat[i])


def test_a_new_boundary_version_is_seen_by_the_next_call():
    from geogrid import locate
    from tests.factories import make_grid
    from tests.layers.factories import box

    grids = make_city(with_staff=False)
    lon, lat = np.array([117.8125]), np.array([26.405])  # in the gap east of B
    assert METHODS[assign_many(lon, lat).method[0]] == "ancestor"
    locate.warm_index()
    assert assign_point(117.8125, 26.405, details=False).method == "ancestor"
    # B's new version reaches into the gap: bulk and single point both see it at once.
    old = grids[B]
    old.valid_to = old.valid_from.replace(year=old.valid_from.year + 1)
    old.save()
    assert locate._cached is not None and locate._cached.checked_at == float("-inf")
    new = make_grid(B, parent=grids[ZONE], boundary=box(117.80, 26.40, 117.815, 26.41))
    assert assign_point(117.8125, 26.405, details=False).grid_id == new.id
    assert locate._cached is None  # the stale index was dropped, not used
    result = assign_many(lon, lat)
    assert (result.grid_id[0], METHODS[result.method[0]]) == (new.id, "covers")
    with connection.cursor() as cursor:  # rebuilt by the bulk call, trusted again
        assert locate._warm_index(cursor) is locate._cached is not None
    for x, y in ((117.8125, 26.405), (117.805, 26.405), (117.80, 26.405)):
        one = assign_point(x, y, details=False)
        assert (one.grid_id, one.method) == ((new.id if x > 117.80 else grids[A].id), "covers")


def test_assign_into_writes_every_point_by_binary_copy():
    from geogrid.locate import assign_into

    make_city(with_staff=False)
    make_voronoi_city()
    lon, lat = edge_case_points(np.random.default_rng(3))
    ok = np.isfinite(lon)
    lon, lat = lon[ok], lat[ok]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE _out (id bigint, grid_id bigint, method smallint)")
    result = assign_into("_out", np.arange(len(lon)) + 100, lon, lat, chunk=500)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, grid_id, method FROM _out ORDER BY id")
        rows = cursor.fetchall()
    assert [r[0] for r in rows] == list(range(100, 100 + len(lon)))
    assert [r[1] if r[1] is not None else -1 for r in rows] == result.grid_id.tolist()
    assert [r[2] for r in rows] == result.method.tolist()
    ids, method, _ = sql_answers(lon, lat)
    assert (result.grid_id == ids).all() and (result.method == method).all()


def test_the_index_is_kept_on_disk_and_reused(tmp_path, settings, monkeypatch):
    from geogrid import locate

    settings.GEOGRID = {**settings.GEOGRID, "ASSIGN_INDEX_CACHE_DIR": str(tmp_path)}
    monkeypatch.setattr(locate, "DISK_CACHE_MIN_GRIDS", 1)
    make_voronoi_city()
    lon, lat = edge_case_points(np.random.default_rng(4))
    locate._cached = None
    first = assign_many(lon, lat)
    assert len(list(tmp_path.glob("*.npz"))) == 1
    locate._cached = None
    again = assign_many(lon, lat)
    assert (first.grid_id == again.grid_id).all() and (first.method == again.method).all()
