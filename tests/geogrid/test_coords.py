"""Coordinate systems: GCJ-02/BD-09 against an independent implementation, round trips, CRSs."""

from __future__ import annotations

import numpy as np
import pytest

from geogrid import coords
from geogrid.coords import CoordinateError, distance_m

# Reference pairs written down from independent published implementations (lon, lat):
# - wandergis/coordtransform, test/app.js ("//result" comments), input (116.404, 39.915);
# - googollee/eviltransform, python/test.py TESTS (wgsLat, wgsLng, gcjLat, gcjLng).
WANDERGIS_WGS_TO_GCJ = ((116.404, 39.915), (116.41024449916938, 39.91640428150164))
WANDERGIS_GCJ_TO_BD = ((116.404, 39.915), (116.41036949371029, 39.92133699351021))
# Their bd→gcj is the closed approximate inverse (a few cm off the exact one).
WANDERGIS_BD_TO_GCJ = ((116.404, 39.915), (116.39762729119315, 39.90865673957631))
EVILTRANSFORM_WGS_TO_GCJ = [
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),  # Shanghai
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),  # Shenzhen
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),  # Beijing
]


def _lattice():
    lon, lat = np.meshgrid(np.arange(74.0, 135.0, 1.5), np.arange(18.0, 53.5, 1.5))
    lon, lat = lon.ravel(), lat.ravel()
    # Points whose offset carries them across the coarse outline have no inverse there (the
    # offset is switched off outside): the lattice keeps points well inside on both sides.
    inside = (
        coords.in_mainland_china(lon, lat)
        & coords.in_mainland_china(*coords.wgs84_to_gcj02(lon, lat))
        & coords.in_mainland_china(*coords.wgs84_to_bd09(lon, lat))
    )
    return lon[inside], lat[inside]


@pytest.mark.parametrize(("wgs", "gcj"), [WANDERGIS_WGS_TO_GCJ, *EVILTRANSFORM_WGS_TO_GCJ])
def test_wgs_to_gcj_matches_reference_pairs(wgs, gcj):
    got = coords.wgs84_to_gcj02(*wgs)
    assert distance_m(*got, *gcj) < 0.01


def test_gcj_to_bd_and_back_match_reference_pairs():
    bd = coords.gcj02_to_bd09(*WANDERGIS_GCJ_TO_BD[0])
    assert distance_m(*bd, *WANDERGIS_GCJ_TO_BD[1]) < 0.01
    gcj = coords.bd09_to_gcj02(*WANDERGIS_BD_TO_GCJ[0])
    assert distance_m(*gcj, *WANDERGIS_BD_TO_GCJ[1]) < 0.1


def test_gcj_round_trip_across_china_within_half_a_metre():
    lon, lat = _lattice()
    assert len(lon) > 300
    back = coords.gcj02_to_wgs84(*coords.wgs84_to_gcj02(lon, lat))
    assert np.max(distance_m(lon, lat, *back)) < 0.5
    # …and the offset really is there (100–700 m is typical).
    shifted = coords.wgs84_to_gcj02(lon, lat)
    assert np.median(distance_m(lon, lat, *shifted)) > 100


def test_bd_round_trip_across_china_within_half_a_metre():
    lon, lat = _lattice()
    back = coords.bd09_to_wgs84(*coords.wgs84_to_bd09(lon, lat))
    assert np.max(distance_m(lon, lat, *back)) < 0.5
    back_gcj = coords.bd09_to_gcj02(*coords.gcj02_to_bd09(lon, lat))
    assert np.max(distance_m(lon, lat, *back_gcj)) < 0.5


def test_scalar_round_trip_through_to_wgs84():
    gcj = coords.from_wgs84(117.79, 26.40, "gcj02")
    assert distance_m(*coords.to_wgs84(*gcj, "gcj02"), 117.79, 26.40) < 0.5
    bd = coords.from_wgs84(117.79, 26.40, "bd09")
    assert distance_m(*coords.to_wgs84(*bd, "BD-09"), 117.79, 26.40) < 0.5


@pytest.mark.parametrize(
    ("place", "lon", "lat"),
    [("Taipei", 121.56, 25.04), ("Seoul", 126.98, 37.57), ("Tokyo", 139.69, 35.69),
     ("Ulaanbaatar", 106.91, 47.92), ("Hanoi", 105.85, 21.03), ("London", -0.13, 51.5)],
)
def test_outside_mainland_gcj_equals_wgs(place, lon, lat):
    assert coords.wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert coords.gcj02_to_wgs84(lon, lat) == pytest.approx((lon, lat), abs=1e-12)


def test_cgcs2000_is_taken_as_lon_lat_despite_its_axis_order():
    lon, lat = coords.to_wgs84(117.79, 26.40, "EPSG:4490")
    assert distance_m(lon, lat, 117.79, 26.40) < 1.0


def test_gauss_kruger_zone_through_pyproj():
    # EPSG:4548 = CGCS2000 3-degree GK, central meridian 117° E: 500 km false easting.
    lon, lat = coords.to_wgs84(500_000.0, 2_921_000.0, "epsg:4548")
    assert lon == pytest.approx(117.0, abs=1e-6)
    assert 26.3 < lat < 26.5


@pytest.mark.parametrize("bad", ["mars", "EPSG:999999", "gcj03"])
def test_unknown_crs_is_named(bad):
    with pytest.raises(CoordinateError) as exc:
        coords.parse_crs(bad)
    assert exc.value.field == "crs"


def test_swapped_lat_lon_is_called_out():
    with pytest.raises(CoordinateError, match="look swapped") as exc:
        coords.check_lon_lat(26.40, 117.79)
    assert exc.value.field == "lat"
    with pytest.raises(CoordinateError, match="outside −180…180"):
        coords.check_lon_lat(200.0, 26.4)
