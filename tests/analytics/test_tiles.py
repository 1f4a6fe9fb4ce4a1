"""Appeal and grid vector tiles decode to the right features and counts; filters change them."""

from __future__ import annotations

import mapbox_vector_tile
import pytest
from django.http import QueryDict

from layers.analytics.filters import AppealFilter, parse_filter
from layers.analytics.snapshot import refresh
from layers.analytics.tilemath import lonlat_to_tile
from layers.analytics.tiles import appeals_tile, grids_tile

from .helpers import city_with_appeals, make_appeal

pytestmark = pytest.mark.django_db

CENTRE = (117.80, 26.40)


def tile_at(z: int) -> tuple[int, int, int]:
    # The city straddles tile edges at some zooms; this corner holds micro-grid A's appeals.
    x, y = lonlat_to_tile(117.795, 26.398, z)
    return z, x, y


def decode(data: bytes) -> dict:
    return mapbox_vector_tile.decode(data)


def bin_total(data: bytes) -> int:
    layers = decode(data)
    return sum(f["properties"]["count"] for f in layers.get("bins", {}).get("features", []))


def filt(query: str = "") -> AppealFilter:
    return parse_filter(QueryDict(query))


@pytest.fixture
def city():
    return city_with_appeals()


@pytest.mark.parametrize("refreshed", [False, True], ids=["live", "cube"])
def test_low_zoom_tile_counts_every_appeal_in_bins(city, refreshed):
    if refreshed:
        refresh()
    tile = appeals_tile(*tile_at(10), filt())
    assert tile.layer == "bins"
    assert bin_total(tile.data) == 20
    features = decode(tile.data)["bins"]["features"]
    assert all(f["geometry"]["type"] == "Polygon" for f in features)
    assert 1 < len(features) <= 32 * 32


def test_refresh_then_new_appeals_count_live(city):
    refresh()
    make_appeal(117.794, 26.396, grid=city["350427001001001001"])
    assert bin_total(appeals_tile(*tile_at(10), filt()).data) == 21


def test_high_zoom_tile_carries_single_appeals_with_properties(city):
    z, x, y = tile_at(16)
    tile = appeals_tile(z, x, y, filt())
    assert tile.layer == "appeals"
    features = decode(tile.data)["appeals"]["features"]
    assert features, "the tile around micro-grid A's appeals is not empty"
    props = features[0]["properties"]
    assert {"id", "tracking", "category", "status", "channel", "reported_at"} <= set(props)
    assert props["count"] == 1
    assert all(f["geometry"]["type"] == "Point" for f in features)


def test_appeals_at_one_spot_merge_into_one_point_with_a_count(city):
    for _ in range(3):
        make_appeal(117.7951, 26.3981, grid=city["350427001001001001"])
    z, (x, y) = 17, lonlat_to_tile(117.7951, 26.3981, 17)
    features = decode(appeals_tile(z, x, y, filt()).data)["appeals"]["features"]
    merged = [f for f in features if f["properties"]["count"] == 3]
    assert len(merged) == 1 and "id" not in merged[0]["properties"]


@pytest.mark.parametrize("refreshed", [False, True], ids=["live", "snapshot"])
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", 20),
        ("category=E0102", 8),
        ("category=L0101,L0201", 12),
        ("status=closed", 6),
        ("status=open", 14),
        ("category=E0102&status=closed", 2),
        ("channel=hotline_12345", 4),
        ("channel=patrol,mobile", 16),
        ("from=2026-06-01&to=2026-06-30", 4),  # whole month: the cube's month cuboid
        ("from=2026-06-02&to=2026-06-03", 2),  # days: the facts
        ("grid=350427001001001002", 8),  # a micro-grid: the facts
        ("grid=350427001", 20),  # a subdistrict: the cube's sub cuboid
        ("grid=350428", 0),
    ],
)
def test_each_filter_changes_the_counts(city, refreshed, query, expected):
    if refreshed:
        refresh()
    for z in (10, 13):
        assert bin_total(appeals_tile(*tile_at(z), filt(query)).data) == expected, (z, query)


def test_empty_tile_is_valid_and_small(city):
    refresh()
    tile = appeals_tile(10, 0, 0, filt())
    assert len(tile.data) < 100
    assert decode(tile.data).get("bins", {"features": []})["features"] == []
    points = appeals_tile(16, 0, 0, filt())
    assert len(points.data) < 100


def test_grid_tile_has_the_level_for_the_zoom_with_codes(city):
    z, x, y = tile_at(15)
    features = decode(grids_tile(z, x, y).data)["grids"]["features"]
    codes = {f["properties"]["code"] for f in features}
    assert "350427001001001001" in codes and all(len(c) == 18 for c in codes)
    z, x, y = tile_at(12)
    features = decode(grids_tile(z, x, y, level=2).data)["grids"]["features"]
    assert {f["properties"]["code"] for f in features} == {"350427001"}
    assert features[0]["properties"]["name"] == "凤岗街道"
