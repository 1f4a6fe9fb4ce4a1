"""HTTP endpoints: sign-in, grid scope, ETag/304, heat bins, counts, per-grid rates, hotspots."""

from __future__ import annotations

import datetime as dt

import mapbox_vector_tile
import pytest
from django.contrib.gis.geos import Point
from django.test import override_settings

from geogrid.models import Post
from layers.analytics.hotspots import HotspotParams, refresh_hotspots
from layers.analytics.snapshot import refresh
from layers.buildings.models import Building
from tests.factories import assign, make_user

from .helpers import city_with_appeals
from .test_tiles import bin_total, tile_at

pytestmark = pytest.mark.django_db
BBOX = "117.78,26.38,117.83,26.42"
A = "350427001001001001"


@pytest.fixture
def city():
    return city_with_appeals()


@pytest.fixture
def admin(client):
    client.force_login(make_user(username="root", is_superuser=True, is_staff=True))
    return client


def test_everything_needs_a_signed_in_user(client, city):
    for url in ("/tiles/appeals/10/0/0.pbf", "/api/v1/heat?bbox=" + BBOX, "/api/v1/hotspots",
                "/api/v1/heat/count", "/api/v1/heat/grids"):
        assert client.get(url).status_code == 403, url


def test_tile_headers_etag_and_not_modified(admin, city):
    z, x, y = tile_at(12)
    response = admin.get(f"/tiles/appeals/{z}/{x}/{y}.pbf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.mapbox-vector-tile"
    assert "max-age=" in response["Cache-Control"]
    assert bin_total(response.content) == 20
    etag = response["ETag"]
    again = admin.get(f"/tiles/appeals/{z}/{x}/{y}.pbf", headers={"if-none-match": etag})
    assert again.status_code == 304 and again.content == b""
    # A new appeal changes the ETag.
    from .helpers import make_appeal

    make_appeal(117.794, 26.396)
    assert admin.get(f"/tiles/appeals/{z}/{x}/{y}.pbf")["ETag"] != etag
    other = admin.get(f"/tiles/appeals/{z}/{x}/{y}.pbf?category=E0102")
    assert other["ETag"] != etag and bin_total(other.content) == 9


def test_bad_filters_and_tiles_are_client_errors(admin, city):
    assert admin.get("/tiles/appeals/3/9/0.pbf").status_code == 404
    response = admin.get("/api/v1/heat?bbox=" + BBOX + "&category=NOPE")
    assert response.status_code == 400 and "NOPE" in response.json()["detail"]
    assert admin.get("/api/v1/heat?bbox=1,2,3").status_code == 400
    assert admin.get("/api/v1/heat?bbox=" + BBOX + "&from=yesterday").status_code == 400


def _one_shape(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:200]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"detail", "code", "fields", "problems"} and body["code"] == code
    return body


HEAT = "/api/v1/heat?bbox=" + BBOX
TILE = "/tiles/appeals/12/3437/1738.pbf"
BAD = [
    (HEAT.replace(BBOX, "nan,0,1,1"), "bbox"),
    (HEAT.replace(BBOX, "0,0,inf,1"), "bbox"),
    (HEAT.replace(BBOX, "1,0,0,1"), "bbox"),  # west of east
    ("/api/v1/heat?zoom=12", "bbox"),  # required
    (HEAT + "&zoom=99", "zoom"),
    (HEAT + "&zoom=-1", "zoom"),
    (HEAT + "&category=NOPE", "category"),
    (HEAT + "&status=replied", "status"),
    (HEAT + "&channel=fax", "channel"),
    (HEAT + "&grid=35%25", "grid"),
    (HEAT + "&from=9999-12-31", "from"),
    (HEAT + "&from=2026-06-02&to=2026-06-01", "from"),
    (HEAT + "&days=0", "days"),
    ("/api/v1/heat/count?bbox=1,1,1,1", "bbox"),
    ("/api/v1/heat/count?zoom=x&bbox=" + BBOX, "zoom"),
    ("/api/v1/heat/grids?level=9", "level"),
    ("/api/v1/heat/grids?parent=abc", "parent"),
    ("/api/v1/heat/grids?to=2026-02-30", "to"),
    ("/api/v1/hotspots?category=NOPE", "category"),
    ("/api/v1/hotspots?active=maybe", "active"),
    (TILE + "?category=NOPE", "category"),
    (TILE + "?days=abc", "days"),
    ("/tiles/grids/12/3437/1738.pbf?level=0", "level"),
    ("/tiles/grids/12/3437/1738.pbf?grid=x", "grid"),
]


@pytest.mark.parametrize(("url", "name"), BAD, ids=[u for u, _ in BAD])
def test_a_bad_parameter_is_a_400_naming_it_in_the_one_error_shape(admin, city, url, name):
    # A map library asks for tiles only; the error is JSON all the same.
    accept = "application/x-protobuf" if url.startswith("/tiles/") else "application/json"
    body = _one_shape(admin.get(url, headers={"accept": accept}), 400, "invalid")
    assert list(body["fields"]) == [name] and body["detail"].startswith(f"{name}: ")


def test_tiles_are_mvt_whatever_the_client_accepts(admin, city):
    response = admin.get(TILE, headers={"accept": "application/json"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.mapbox-vector-tile"


def test_errors_without_a_user_or_tile_are_in_the_one_shape(client, admin, city):
    _one_shape(admin.get("/tiles/appeals/3/9/0.pbf"), 404, "not_found")
    _one_shape(admin.get("/tiles/grids/30/0/0.pbf"), 404, "not_found")
    _one_shape(admin.post("/api/v1/heat?bbox=" + BBOX), 405, "method_not_allowed")
    client.logout()
    for url in (TILE, "/tiles/grids/12/3437/1738.pbf", HEAT, "/api/v1/heat/grids"):
        body = _one_shape(client.get(url, headers={"accept-language": "en"}), 403,
                          "not_authenticated")
        assert body["detail"] == "Sign in to see appeals on the map."


def test_a_tile_address_the_urls_cannot_match_is_a_json_404(admin):
    # Found by tests/test_api_fuzz.py: a negative or non-numeric z/x/y matched no URL pattern,
    # and the 404 was Django's HTML page, not the one error shape the schema documents.
    for url in ("/tiles/appeals/17179869185/-10689162869/3401513191314.pbf",
                "/tiles/grids/jb/-1376/739.pbf", "/tiles/nothing"):
        _one_shape(admin.get(url), 404, "not_found")


def test_the_endpoints_document_their_parameters_and_errors(admin):
    paths = admin.get("/api/schema/", {"format": "json"}).json()["paths"]
    for path, required in (("/api/v1/heat", {"bbox"}), ("/api/v1/heat/count", set()),
                           ("/api/v1/heat/grids", set()), ("/api/v1/hotspots", set()),
                           ("/tiles/appeals/{z}/{x}/{y}.pbf", {"z", "x", "y"}),
                           ("/tiles/grids/{z}/{x}/{y}.pbf", {"z", "x", "y"})):
        operation = paths[path]["get"]
        params = {p["name"]: p for p in operation["parameters"]}
        assert {n for n, p in params.items() if p.get("required")} == required, path
        assert "400" in operation["responses"] and "403" in operation["responses"], path
        if path != "/tiles/grids/{z}/{x}/{y}.pbf":
            assert "grid" in params, path
    heat = {p["name"] for p in paths["/api/v1/heat"]["get"]["parameters"]}
    assert {"category", "status", "channel", "grid", "from", "to", "days", "zoom"} <= heat
    tile = paths["/tiles/appeals/{z}/{x}/{y}.pbf"]["get"]["responses"]
    assert "application/vnd.mapbox-vector-tile" in tile["200"]["content"]
    assert "304" in tile and "application/json" in tile["404"]["content"]


def test_a_grid_worker_sees_only_their_grids(client, city):
    worker = make_user("grid_worker")
    assign(worker, city[A], Post.GRID_WORKER)
    client.force_login(worker)
    z, x, y = tile_at(12)
    assert bin_total(client.get(f"/tiles/appeals/{z}/{x}/{y}.pbf").content) == 12
    # Asking for a wider subtree does not widen the scope; another subtree is empty.
    wide = client.get(f"/tiles/appeals/{z}/{x}/{y}.pbf?grid=350427")
    assert bin_total(wide.content) == 12
    other = client.get(f"/tiles/appeals/{z}/{x}/{y}.pbf?grid=350427001001001002")
    assert bin_total(other.content) == 0
    assert client.get("/api/v1/heat/count").json()["count"] == 12


@pytest.mark.parametrize("refreshed", [False, True])
def test_heat_bins_are_leaflet_heat_triples(admin, city, refreshed):
    if refreshed:
        refresh()
    body = admin.get(f"/api/v1/heat?bbox={BBOX}&zoom=14").json()
    assert body["total"] == 20 and body["max"] >= 1
    lat, lon, n = body["bins"][0]
    assert 26.38 < lat < 26.42 and 117.78 < lon < 117.83 and n >= 1
    assert sum(b[2] for b in body["bins"]) == 20
    body = admin.get(f"/api/v1/heat?bbox={BBOX}&zoom=14&status=closed").json()
    assert body["total"] == 6
    # A bbox around micro-grid B only.
    body = admin.get("/api/v1/heat?bbox=117.801,26.401,117.809,26.409&zoom=15").json()
    assert body["total"] == 8


def test_count_tells_the_dashboard_when_to_switch_to_tiles(admin, city):
    body = admin.get("/api/v1/heat/count").json()
    assert body == {"count": 20, "threshold": 1_000, "use_tiles": False}
    with override_settings(GEOGRID_ANALYTICS={"DASHBOARD_TILES_ABOVE": 10}):
        body = admin.get(f"/api/v1/heat/count?bbox={BBOX}&zoom=14&category=L0201").json()
        assert body == {"count": 8, "threshold": 10, "use_tiles": False}
        assert admin.get("/api/v1/heat/count").json()["use_tiles"] is True


def test_per_grid_counts_and_rates(admin, city):
    Building.objects.create(source_id="b1", address="x", estate_or_road="x", building_no="1",
                            households=50, location=Point(117.795, 26.40, srid=4326),
                            grid=city[A])
    refresh()
    rows = {r["code"]: r for r in admin.get("/api/v1/heat/grids?level=5").json()["grids"]}
    a = rows[A]
    assert a["appeals"] == 12 and a["closed"] == 6 and a["households"] == 50
    assert a["per_100_households"] == 24.0
    assert a["completed"] == 6 and a["completion_rate"] == 0.5
    # 0.01° × 0.02° at 26.4° N ≈ 1.0 km × 2.2 km.
    assert 2.0 < a["area_km2"] < 2.4 and a["per_km2"] == pytest.approx(12 / a["area_km2"], 0.01)
    assert a["on_time_rate"] is None  # until the workflow records deadlines
    zone = admin.get("/api/v1/heat/grids?level=4").json()["grids"]
    assert [(r["code"], r["appeals"]) for r in zone] == [("350427001001001", 20)]


def test_hotspots_api_lists_stored_hotspots_as_geojson(admin, city):
    refresh_hotspots(HotspotParams(dt.date(2026, 5, 1), dt.date(2026, 6, 30), eps_m=120,
                                   min_points=4))
    body = admin.get("/api/v1/hotspots").json()
    assert body["type"] == "FeatureCollection" and body["features"]
    props = body["features"][0]["properties"]
    assert {"category", "count", "centroid", "grids", "first_report", "last_report"} <= set(props)
    assert body["features"][0]["geometry"]["type"] == "Polygon"
    only = admin.get("/api/v1/hotspots?category=L0201").json()["features"]
    assert [f["properties"]["category"] for f in only] == ["L0201"]


def test_grid_tiles(admin, city):
    z, x, y = tile_at(15)
    response = admin.get(f"/tiles/grids/{z}/{x}/{y}.pbf?level=5")
    layer = mapbox_vector_tile.decode(response.content)["grids"]
    assert A in {f["properties"]["code"] for f in layer["features"]}
    assert admin.get(f"/tiles/grids/{z}/{x}/{y}.pbf?level=9").status_code == 400
