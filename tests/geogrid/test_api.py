"""The grid API: GeoJSON lists, detail, children, ancestors, topology, history, edits."""

from __future__ import annotations

import json

import pytest
from django.urls import include, path
from django.utils import timezone
from rest_framework.test import APIClient

from geogrid.models import Grid, Post
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
    assert client.get("/api/v1/grids/?bbox=1,2").status_code == 400
    assert client.get("/api/v1/grids/?as_of=yesterday").status_code == 400


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
    assert client.get("/api/v1/grids/999999/").status_code == 404


def test_topology_report_of_a_subtree(tree, client):
    Grid.objects.filter(code=SOUTH).update(boundary=_rect(0, 0, 1000, 900))
    report = client.get("/api/v1/grids/350427001/topology/").json()
    (problem,) = report["features"]
    assert problem["properties"]["kind"] == "gap" and problem["properties"]["code"] == ZONE
    assert problem["properties"]["area_m2"] == pytest.approx(100_000, rel=0.01)
    assert problem["geometry"]["type"] == "Polygon"
    assert client.get("/api/v1/grids/350427002/topology/").json()["features"] == []


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
    (message,) = overlap.json()["errors"]
    assert message.startswith(f"grid {NORTH} overlaps sibling {SOUTH} by 49,")
    assert overlap.json()["problems"]["features"][0]["properties"]["kind"] == "overlap"

    outside = put(client, NORTH, feature(_rect(0, 1000, 1000, 1100), version=north.pk))
    assert outside.json()["errors"][0].startswith(f"grid {NORTH} lies outside its parent {ZONE}")

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
    assert "invalid geometry: Self-intersection[117.805 26.405]" in response.json()["errors"][0]
    unclosed = json.loads(json.dumps(bowtie))
    unclosed["geometry"]["coordinates"][0].pop()
    response = put(client, NORTH, unclosed)
    assert response.status_code == 400 and "rings must be closed" in response.json()["errors"][0]
    point = {
        "type": "Feature",
        "properties": {"version": north.pk},
        "geometry": {"type": "Point", "coordinates": [117.8, 26.4]},
    }
    assert "not a Point" in put(client, NORTH, point).json()["errors"][0]
    assert Grid.objects.filter(code=NORTH).count() == 1


def test_a_stale_version_gets_409(tree, client, manager):
    north = tree[NORTH]
    ok = put(client, NORTH, feature(_rect(0, 1000, 1000, 990), version=north.pk))
    assert ok.status_code == 200
    response = put(client, NORTH, feature(_rect(0, 1000, 1000, 980), version=north.pk))
    assert response.status_code == 409
    assert response.json()["current_version"] == Grid.objects.current().get(code=NORTH).pk


def test_permissions(tree, client):
    north = tree[NORTH]
    body = feature(_rect(0, 1000, 1000, 990), version=north.pk)
    assert put(client, NORTH, body).status_code == 403  # anonymous
    stranger = make_user("grid_manager")
    assign(stranger, tree["350427002"], Post.MANAGER)
    client.force_authenticate(stranger)
    assert put(client, NORTH, body).status_code == 403
    assert Grid.objects.filter(code=NORTH).count() == 1


def test_create_a_grid(tree, client, manager):
    Grid.objects.filter(code=SOUTH).update(boundary=_rect(0, 0, 1000, 600))
    body = feature(_rect(0, 600, 1000, 400), code=ZONE + "003", name="新微网格")
    response = client.post("/api/v1/grids/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["properties"]["parent"] == ZONE
    clash = feature(_rect(0, 500, 1000, 400), code=ZONE + "004", name="重叠")
    response = client.post("/api/v1/grids/", clash, format="json")
    assert response.status_code == 400 and "overlaps sibling" in response.json()["errors"][0]
    assert not Grid.objects.filter(code=ZONE + "004").exists()


def test_messages_are_chinese_by_default(tree, manager):
    client = APIClient()
    client.force_authenticate(manager)
    north = tree[NORTH]
    response = put(client, NORTH, feature(_rect(0, 950, 1000, 1050), version=north.pk))
    assert response.status_code == 400
    assert "重叠" in response.json()["errors"][0]
