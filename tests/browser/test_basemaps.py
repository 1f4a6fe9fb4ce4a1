"""Base maps: on Gaode's GCJ-02 tiles our WGS 84 geometries are drawn shifted, clicks come back
as WGS 84, and the browser's GCJ-02 formulas agree with the server's (geogrid.coords)."""

from __future__ import annotations

import pytest

from geogrid import coords
from tests.browser.conftest import js_errors

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def gaode_served_locally(settings):
    # The real tile server is unreachable here; any local image stands in for Gaode's tiles.
    settings.GEOGRID = {
        **settings.GEOGRID,
        "GAODE_TILE_URL": "/static/vendor/leaflet/images/layers.png?{s}{x}{y}{z}",
    }


def test_browser_and_server_gcj02_agree_within_half_a_metre(page, live_server):
    page.goto(f"{live_server.url}/m/")
    # Inside mainland China (the browser decides "in China" with a coarse box, for display only).
    lattice = [
        (lon, lat)
        for lon in (104.0, 108.0, 112.0, 116.0, 117.79)
        for lat in (24.5, 26.4, 30.0, 34.0, 38.0)
    ]
    browser = page.evaluate("pts => pts.map(p => GeoGrid.wgs84ToGcj02(p[0], p[1]))", lattice)
    back = page.evaluate("pts => pts.map(p => GeoGrid.gcj02ToWgs84(p[0], p[1]))", browser)
    for (lon, lat), (glon, glat), (blon, blat) in zip(lattice, browser, back, strict=True):
        slon, slat = coords.wgs84_to_gcj02(lon, lat)
        assert coords.distance_m(glon, glat, slon, slat) < 0.5
        assert coords.distance_m(blon, blat, lon, lat) < 0.5


def test_gcj02_base_map_shifts_the_drawing_and_unshifts_clicks(
    page, live_server, gaode_served_locally
):
    page.goto(f"{live_server.url}/m/")
    page.evaluate("GeoGrid.maps.report.setView([26.40, 117.79], 16, {animate: false})")
    page.select_option(".geogrid-basemap select", "gaode")
    # World pixels of the WGS 84 point under the map's CRS vs plain Web Mercator at z16.
    drawn, mercator, round_trip = page.evaluate(
        "() => { const m = GeoGrid.maps.report, ll = L.latLng(26.40, 117.79);"
        " const a = m.project(ll, 16), b = L.CRS.EPSG3857.latLngToPoint(ll, 16);"
        " const back = m.unproject(a, 16);"
        " return [[a.x, a.y], [b.x, b.y], [back.lng, back.lat]]; }"
    )
    metres_per_px = 156543.03392 * 0.8957 / 2**16  # Web Mercator at 26.4° N, z16
    shift_m = ((drawn[0] - mercator[0]) ** 2 + (drawn[1] - mercator[1]) ** 2) ** 0.5 * metres_per_px
    glon, glat = coords.wgs84_to_gcj02(117.79, 26.40)
    expected = coords.distance_m(117.79, 26.40, glon, glat)
    assert 100 < expected < 700
    # The point is drawn where GCJ-02 puts it on Gaode's tiles: shifted by the datum offset…
    assert shift_m == pytest.approx(expected, rel=0.01)
    # …and a click there is turned back into the WGS 84 point.
    assert coords.distance_m(round_trip[0], round_trip[1], 117.79, 26.40) < 0.5
    # Back on a WGS 84 base map nothing is shifted.
    page.select_option(".geogrid-basemap select", "none")
    plain = page.evaluate(
        "() => { const p = GeoGrid.maps.report.project(L.latLng(26.40, 117.79), 16);"
        " return [p.x, p.y]; }"
    )
    assert plain == pytest.approx(mercator, abs=1e-6)
    assert js_errors(page) == []
