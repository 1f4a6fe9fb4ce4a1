"""Point → micro-grid assignment: each place gets the documented grid and method."""

from __future__ import annotations

import numpy as np
import pytest

from geogrid.locate import METHODS, assign_many, assign_point, swapped_would_locate
from tests.layers.factories import COMMUNITY, METRE_LON, ZONE, A, B, make_city

pytestmark = pytest.mark.django_db

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
