"""The grid API: GeoJSON lists, detail, children, ancestors, topology, history, edits; every
error in the one error shape of geogrid.errors (detail, code, fields, problems)."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from django.urls import include, path
from django.utils import timezone
from rest_framework.permissions import AllowAny
from rest_framework.test import APIClient, APIRequestFactory

from geogrid.api import GridStaffView
from geogrid.models import Grid, Post, StaffAssignment
from tests.factories import _rect, assign, make_tree, make_user

# Only this API's URLs: the test does not depend on other packages' routes loading.
urlpatterns = [path("api/v1/", include("geogrid.api_urls"))]
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

ZONE = "350427001001001"
NORTH, SOUTH = ZONE + "001", ZONE + "002"


@pytest.fixture
def tree():
    return make_tree()


@pytest.fixture
def client():
    return APIClient(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def manager(tree, client):
    user = make_user("grid_manager")
    assign(user, tree[ZONE], Post.MANAGER)
    client.force_authenticate(user)
    return user


def feature(boundary, **properties) -> dict:
    return {"type": "Feature", "geometry": json.loads(boundary.geojson), "properties": properties}


def put(client, code, body):
    return client.put(f"/api/v1/grids/{code}/", body, format="json")


def test_list_is_a_paginated_feature_collection_with_filters(tree, client):
    body = client.get("/api/v1/grids/").json()
    assert body["type"] == "FeatureCollection" and body["count"] == len(tree)
    first = body["features"][0]
    assert first["id"] == "350427" and first["geometry"]["type"] == "MultiPolygon"
    assert first["properties"]["level_label"] == "district"
    assert client.get("/api/v1/grids/?level=5").json()["count"] == 4
    assert [f["id"] for f in client.get(f"/api/v1/grids/?parent={ZONE}").json()["features"]] == [
        NORTH,
        SOUTH,
    ]
    assert client.get("/api/v1/grids/?code_prefix=350427002").json()["count"] == 5
    # A box around the west half's north-west corner touches the west grids only.
    bbox = ",".join(str(v) for v in _rect(10, 10, 1, 1980).extent)
    west = client.get(f"/api/v1/grids/?level=5&bbox={bbox}").json()
    assert [f["id"] for f in west["features"]] == [NORTH, SOUTH]
    paged = client.get("/api/v1/grids/?page_size=4&page=2").json()
    assert len(paged["features"]) == 4 and paged["next"] and paged["previous"]
    bad = client.get("/api/v1/grids/?bbox=1,2")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"
    assert bad.json()["fields"] == {"bbox": ["bbox must be west,south,east,north in degrees"]}
    bad = client.get("/api/v1/grids/?as_of=yesterday")
    assert bad.status_code == 400 and list(bad.json()["fields"]) == ["as_of"]
    assert bad.json()["detail"].startswith("as_of: as_of must be a date")
    assert list(client.get("/api/v1/grids/?level=x").json()["fields"]) == ["level"]


@pytest.mark.parametrize("path", ["", f"{NORTH}/", f"{NORTH}/ancestors/", "350427/children/",
                                  "at/?lon=117.8&lat=26.4"])
def test_as_of_postgresql_cannot_take_is_a_400_or_a_moment(tree, client, path):
    # Found by tests/test_api_fuzz.py: Python reads offsets up to ±24:00 and years from 1,
    # PostgreSQL refuses offsets beyond ±15:59 ("time zone displacement out of range"): a 500.
    url = f"/api/v1/grids/{path}" + ("&" if "?" in path else "?")
    for as_of in ("0196-11-05T07:58:01-16:08", "0001-01-01", "9999-12-31T23:59:59-23:59"):
        bad = client.get(url + "as_of=" + quote(as_of))
        assert bad.status_code == 400, (path, as_of)
        assert bad.json()["fields"] == {"as_of": ["years from 1900 to 2200"]}
    # A far offset within the accepted years is the same moment in local time.
    ok = client.get(url + "as_of=" + quote("2099-01-01T00:00:00-16:08"))
    assert ok.status_code == 200, (path, ok.content[:200])


def test_detail_children_ancestors(tree, client):
    detail = client.get(f"/api/v1/grids/{NORTH}/").json()
    assert detail["properties"]["parent"] == ZONE
    assert detail["properties"]["area_m2"] == pytest.approx(1_000_000, rel=0.005)
    children = client.get(f"/api/v1/grids/{ZONE}/children/").json()
    assert [f["id"] for f in children["features"]] == [NORTH, SOUTH]
    ancestors = client.get(f"/api/v1/grids/{NORTH}/ancestors/").json()
    assert [f["id"] for f in ancestors["features"]] == [
        "350427",
        "350427001",
        "350427001001",
        ZONE,
    ]
    missing = client.get("/api/v1/grids/999999/")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    missing = client.get("/api/v1/grids/999999/history/")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_topology_report_of_a_subtree(tree, client):
    Grid.objects.filter(code=SOUTH).update(boundary=_rect(0, 0, 1000, 900))
    report = client.get("/api/v1/grids/350427001/topology/").json()
    (problem,) = report["features"]
    assert problem["properties"]["kind"] == "gap" and problem["properties"]["code"] == ZONE
    assert problem["properties"]["area_m2"] == pytest.approx(100_000, rel=0.01)
    assert problem["geometry"]["type"] == "Polygon"
    assert client.get("/api/v1/grids/350427002/topology/").json()["features"] == []
    bad = client.get("/api/v1/grids/350427001/topology/?scope=all")
    assert bad.status_code == 400 and list(bad.json()["fields"]) == ["scope"]


def test_grids_at_names_the_missing_or_impossible_coordinate(tree, client):
    bad = client.get("/api/v1/grids/at/?lon=117.8")
    assert bad.status_code == 400 and sorted(bad.json()["fields"]) == ["lat", "lon"]
    bad = client.get("/api/v1/grids/at/?lon=117.8&lat=126.4")
    assert bad.status_code == 400 and list(bad.json()["fields"]) == ["lat"]


def test_a_manager_moves_a_shared_edge_and_history_shows_it(tree, client, manager):
    before = timezone.now()
    north, south = tree[NORTH], tree[SOUTH]
    # Shrink the south one first (a gap: allowed, with a warning), then grow the north one.
    response = put(client, SOUTH, feature(_rect(0, 0, 1000, 900), version=south.pk))
    assert response.status_code == 200, response.json()
    assert response.json()["warnings"][0].startswith(f"grid {ZONE}: a gap of")
    response = put(client, NORTH, feature(_rect(0, 900, 1000, 1100), version=north.pk))
    assert response.status_code == 200, response.json()
    new_version = response.json()["properties"]["version"]
    assert new_version != north.pk and response.json()["warnings"] == []

    versions = client.get(f"/api/v1/grids/{NORTH}/history/").json()
    assert [v["version"] for v in versions] == [north.pk, new_version]
    assert versions[0]["valid_to"] == versions[1]["valid_from"]
    assert versions[1]["changed_by"] == manager.username
    # Which micro-grid was a point 50 m south of the old edge in, before and now?
    at = "/api/v1/grids/at/?lon={}&lat={}".format(*_rect(0, 950, 1, 1).centroid.coords)
    assert client.get(at).json()["features"][0]["id"] == NORTH
    old = client.get(at + "&as_of=" + before.isoformat().replace("+", "%2B")).json()
    assert old["features"][0]["id"] == SOUTH
    assert [f["id"] for f in old["features"]][-1] == "350427"


def test_bad_boundaries_get_400_naming_each_problem_and_nothing_is_stored(tree, client, manager):
    north = tree[NORTH]
    overlap = put(client, NORTH, feature(_rect(0, 950, 1000, 1050), version=north.pk))
    assert overlap.status_code == 400
    body = overlap.json()
    assert body["code"] == "invalid" and body["fields"] == {}
    assert body["detail"].startswith(f"grid {NORTH} overlaps sibling {SOUTH} by 49,")
    # Each topology problem is a GeoJSON Feature a map can draw, with its message.
    (problem,) = body["problems"]
    assert problem["type"] == "Feature" and problem["geometry"]["type"] in ("Polygon",
                                                                             "MultiPolygon")
    assert problem["properties"]["kind"] == "overlap"
    assert problem["properties"]["message"] == body["detail"]

    outside = put(client, NORTH, feature(_rect(0, 1000, 1000, 1100), version=north.pk))
    assert outside.json()["detail"].startswith(f"grid {NORTH} lies outside its parent {ZONE}")
    assert [p["properties"]["kind"] for p in outside.json()["problems"]] == ["outside_parent"]

    bowtie = {
        "type": "Feature",
        "properties": {"version": north.pk},
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [[117.8, 26.4], [117.81, 26.41], [117.81, 26.4], [117.8, 26.41], [117.8, 26.4]]
            ],
        },
    }
    response = put(client, NORTH, bowtie)
    assert response.status_code == 400
    (message,) = response.json()["fields"]["boundary"]
    assert "invalid geometry: Self-intersection[117.805 26.405]" in message
    assert response.json()["detail"] == f"boundary: {message}"
    unclosed = json.loads(json.dumps(bowtie))
    unclosed["geometry"]["coordinates"][0].pop()
    response = put(client, NORTH, unclosed)
    assert response.status_code == 400 and "rings must be closed" in response.json()["detail"]
    point = {
        "type": "Feature",
        "properties": {"version": north.pk},
        "geometry": {"type": "Point", "coordinates": [117.8, 26.4]},
    }
    assert "not a Point" in put(client, NORTH, point).json()["fields"]["boundary"][0]
    no_version = put(client, NORTH, feature(_rect(0, 1000, 1000, 990)))
    assert no_version.status_code == 400 and list(no_version.json()["fields"]) == ["version"]
    assert Grid.objects.filter(code=NORTH).count() == 1


def test_a_stale_version_gets_409(tree, client, manager):
    north = tree[NORTH]
    ok = put(client, NORTH, feature(_rect(0, 1000, 1000, 990), version=north.pk))
    assert ok.status_code == 200
    response = put(client, NORTH, feature(_rect(0, 1000, 1000, 980), version=north.pk))
    assert response.status_code == 409
    body = response.json()
    assert f"grid {NORTH} was changed" in body["detail"]
    assert body["current"] == {"version": Grid.objects.current().get(code=NORTH).pk}


def test_a_stale_version_has_the_conflict_code(tree, client, manager):
    north = tree[NORTH]
    ok = put(client, NORTH, feature(_rect(0, 1000, 1000, 990), version=north.pk))
    assert ok.status_code == 200
    response = put(client, NORTH, feature(_rect(0, 1000, 1000, 980), version=north.pk))
    assert response.status_code == 409 and response.json()["code"] == "conflict"


def test_permissions(tree, client):
    north = tree[NORTH]
    body = feature(_rect(0, 1000, 1000, 990), version=north.pk)
    anonymous = put(client, NORTH, body)
    assert anonymous.status_code == 403 and anonymous.json()["code"] == "not_authenticated"
    stranger = make_user("grid_manager")
    assign(stranger, tree["350427002"], Post.MANAGER)
    client.force_authenticate(stranger)
    denied = put(client, NORTH, body)
    assert denied.status_code == 403 and denied.json()["code"] == "forbidden"
    assert denied.json()["detail"] == f"you may not change grid {NORTH}"
    assert Grid.objects.filter(code=NORTH).count() == 1


def test_every_write_needs_a_signed_in_user_and_changes_nothing(tree, client):
    north, south = tree[NORTH], tree[SOUTH]
    leader = assign(make_user("grid_worker"), north, Post.GRID_LEADER)
    make_user(username="li")
    line = {"type": "LineString", "coordinates": [[117.0, 26.0], [117.1, 26.1]]}
    writes = [
        ("post", "/api/v1/grids/", feature(_rect(0, 600, 1000, 400), code=ZONE + "003")),
        ("put", f"/api/v1/grids/{NORTH}/", feature(_rect(0, 1000, 1000, 990), version=north.pk)),
        ("patch", f"/api/v1/grids/{NORTH}/", feature(_rect(0, 1000, 1000, 990),
                                                      version=north.pk)),
        ("post", f"/api/v1/grids/{NORTH}/split/",
         {"version": north.pk, "line": line, "new_code": ZONE + "003", "new_name": "x"}),
        ("post", f"/api/v1/grids/{NORTH}/merge/",
         {"version": north.pk, "other": SOUTH, "other_version": south.pk}),
        ("post", f"/api/v1/grids/{NORTH}/staff/", {"username": "li", "post": "grid_leader"}),
        ("delete", f"/api/v1/grids/{NORTH}/staff/?id={leader.pk}", None),
    ]
    before = sorted(Grid.objects.values_list("pk", "code", "valid_to"))
    for method, url, body in writes:
        response = getattr(client, method)(url, body, format="json")
        assert response.status_code == 403, (method, url)
        assert response.json()["code"] == "not_authenticated", (method, url)
    assert sorted(Grid.objects.values_list("pk", "code", "valid_to")) == before
    assert list(StaffAssignment.objects.values_list("pk", "until")) == [(leader.pk, None)]


def test_a_write_without_the_permission_check_still_needs_a_signed_in_user(tree):
    # The services take a User: a view that let an anonymous write through gets the same 403.
    view = GridStaffView.as_view(permission_classes=[AllowAny])
    request = APIRequestFactory().post(f"/api/v1/grids/{NORTH}/staff/",
                                       {"username": "li", "post": "grid_leader"}, format="json",
                                       HTTP_ACCEPT_LANGUAGE="en")
    response = view(request, code=NORTH)
    assert response.status_code == 403
    assert response.data["code"] == "not_authenticated"
    assert not StaffAssignment.objects.exists()


def test_create_a_grid(tree, client, manager):
    Grid.objects.filter(code=SOUTH).update(boundary=_rect(0, 0, 1000, 600))
    body = feature(_rect(0, 600, 1000, 400), code=ZONE + "003", name="新微网格")
    response = client.post("/api/v1/grids/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["properties"]["parent"] == ZONE
    clash = feature(_rect(0, 500, 1000, 400), code=ZONE + "004", name="重叠")
    response = client.post("/api/v1/grids/", clash, format="json")
    assert response.status_code == 400 and "overlaps sibling" in response.json()["detail"]
    assert response.json()["problems"][0]["properties"]["kind"] == "overlap"
    assert not Grid.objects.filter(code=ZONE + "004").exists()
    again = client.post("/api/v1/grids/", body, format="json")
    assert again.status_code == 400
    assert again.json()["fields"] == {"code": ["a current grid with this code already exists"]}
    for props, field in (({"code": "12"}, "code"), ({"code": ZONE + "005", "level": "x"}, "level"),
                         ({"code": ZONE + "005", "level": 9}, "level"),
                         ({"code": ZONE + "005", "parent": "350427009"}, "parent")):
        bad = client.post("/api/v1/grids/", feature(_rect(0, 500, 1, 1), **props), format="json")
        assert bad.status_code == 400 and list(bad.json()["fields"]) == [field], props


def test_messages_are_chinese_by_default(tree, manager):
    client = APIClient()
    client.force_authenticate(manager)
    north = tree[NORTH]
    response = put(client, NORTH, feature(_rect(0, 950, 1000, 1050), version=north.pk))
    assert response.status_code == 400
    assert "重叠" in response.json()["detail"]
