"""The staff API: lists and the map layer narrowed to the viewer's grids (the grid resolved from
the point now), detail, create, bulk, actions; bad input is a 400 in the one shape."""

from __future__ import annotations

import pytest

from layers.placards import services
from layers.placards.models import Placard, PlacardScanDay
from layers.placards.scans import count_report, count_scan
from tests.layers.factories import COMMUNITY, A, B
from tests.layers.placards.factories import World, placard
from tests.layers.placards.test_report import move_edge_south

pytestmark = pytest.mark.django_db


def shaped(r) -> bool:
    return {"detail", "code", "fields", "problems"} <= set(r.json())


@pytest.fixture
def spread(world: World) -> dict[str, Placard]:
    """a1's stairwell (A), c1's building (C near the B|C edge), a shop in B."""
    root = world.viewer("root")
    return {"a": placard(world), "c": placard(world, "building", building="c1"),
            "shop": services.create_placard(root, kind="shop", name="老王小吃", lon=117.806,
                                            lat=26.405)}


def ids(r) -> set[int]:
    return {x["id"] for x in r.json()["results"]}


def test_the_list_shows_the_placards_of_the_viewers_grids(client, world, spread):
    expected = {"gw_a": {"a"}, "gw_b": {"shop"}, "gw_c": {"c"}, "cs": {"a", "c", "shop"},
                "root": {"a", "c", "shop"}, "resident": set(), "mul1": set()}
    for name, keys in expected.items():
        client.force_login(world.users[name])
        r = client.get("/api/v1/placards/")
        assert r.status_code == 200, name
        assert ids(r) == {spread[k].pk for k in keys}, name
        assert r.json()["count"] == len(keys)
    client.logout()
    r = client.get("/api/v1/placards/")
    assert r.status_code == 403 and shaped(r)


def test_a_boundary_edit_moves_a_placard_between_workers_lists(client, world, spread):
    move_edge_south(world, 26.398)
    client.force_login(world.users["gw_b"])
    assert ids(client.get("/api/v1/placards/")) == {spread["c"].pk, spread["shop"].pk}
    client.force_login(world.users["gw_c"])
    assert ids(client.get("/api/v1/placards/")) == set()


def test_list_filters_and_pages(client, world, spread):
    client.force_login(world.users["cs"])
    assert ids(client.get(f"/api/v1/placards/?grid={A}")) == {spread["a"].pk}
    assert ids(client.get("/api/v1/placards/?kind=shop")) == {spread["shop"].pk}
    b = world.buildings["c1"].pk
    assert ids(client.get(f"/api/v1/placards/?building={b}")) == {spread["c"].pk}
    services.revoke(spread["a"].pk, world.viewer("root"), reason="x")
    assert ids(client.get("/api/v1/placards/?status=revoked")) == {spread["a"].pk}
    page = client.get("/api/v1/placards/?page_size=2&page=2").json()
    assert page["count"] == 3 and len(page["results"]) == 1
    assert client.get("/api/v1/placards/?page=9").json()["count"] == 3
    client.force_login(world.users["gw_a"])  # a grid outside the scope narrows to nothing
    assert ids(client.get(f"/api/v1/placards/?grid={B}")) == set()
    # A grid above the scope narrows to the scope: A's placard (revoked now), nothing else.
    assert ids(client.get(f"/api/v1/placards/?grid={COMMUNITY}")) == {spread["a"].pk}
    assert ids(client.get(f"/api/v1/placards/?grid={COMMUNITY}&status=active")) == set()


@pytest.mark.parametrize("query", ["grid=abc", "kind=tower", "status=x", "page=0",
                                   "page_size=100000", "building=-3", "grid=" + "1" * 40])
def test_bad_list_parameters_are_400(client, world, query):
    client.force_login(world.users["root"])
    r = client.get(f"/api/v1/placards/?{query}")
    assert r.status_code == 400 and shaped(r)


def test_detail_counts_and_timeline(client, world, spread):
    p = spread["a"]
    count_scan(p.pk)
    count_scan(p.pk)
    count_report(p.pk)
    client.force_login(world.users["gw_a"])
    body = client.get(f"/api/v1/placards/{p.pk}/").json()
    assert (body["scans"], body["reports"], body["grid"]) == (2, 1, A)
    assert body["actions"] == ["revoke", "reprint"] and body["url"] == f"/q/{p.token}"
    assert [e["kind"] for e in body["events"]] == ["created"]
    client.force_login(world.users["gw_b"])
    r = client.get(f"/api/v1/placards/{p.pk}/")
    assert r.status_code == 404 and shaped(r)


def test_actions_through_the_api(client, world, spread):
    p = spread["a"]
    client.force_login(world.users["gw_b"])
    r = client.post(f"/api/v1/placards/{p.pk}/actions/revoke/", {"reason": "x", "version": 1},
                    content_type="application/json")
    assert r.status_code == 404
    client.force_login(world.users["gw_a"])
    url = f"/api/v1/placards/{p.pk}/actions/"
    for body in ({"version": 1}, {"reason": "", "version": 1}, {"reason": "x" * 201,
                                                                 "version": 1},
                 {"reason": "a\x00b", "version": 1}, {"reason": 5, "version": 1},
                 {"reason": "x"}):
        r = client.post(url + "revoke/", body, content_type="application/json")
        assert r.status_code == 400 and shaped(r), body
    r = client.post(url + "reprint/", {"version": 1}, content_type="application/json")
    assert r.status_code == 200
    new = r.json()
    assert new["print_version"] == 2 and new["replaces"] == p.pk and new["id"] != p.pk
    r = client.post(url + "revoke/", {"reason": "x", "version": 2},
                    content_type="application/json")
    assert r.status_code == 409 and r.json()["current"]["status"] == "revoked"


def test_create_and_bulk_through_the_api(client, world):
    client.force_login(world.users["gw_a"])
    r = client.post("/api/v1/placards/", {"kind": "stairwell", "building":
                                          world.buildings["a1"].pk, "unit_no": 2},
                    content_type="application/json")
    assert r.status_code == 201 and r.json()["label"] == "沙县区洋坊新村9幢2单元"
    r = client.post("/api/v1/placards/bulk/", {"grid": A}, content_type="application/json")
    assert r.status_code == 201 and (r.json()["building"], r.json()["stairwell"]) == (1, 1)
    r = client.post("/api/v1/placards/bulk/", {"grid": B}, content_type="application/json")
    assert r.status_code == 403 and shaped(r)
    assert Placard.objects.count() == 3


@pytest.mark.parametrize("body", [
    {"kind": "tower"}, {"kind": "shop", "name": "店", "lon": "NaN", "lat": 26.4},
    {"kind": "shop", "name": "店\x00", "lon": 117.8, "lat": 26.4},
    {"kind": "shop", "name": "x" * 101, "lon": 117.8, "lat": 26.4},
    {"kind": "shop", "name": "店", "lon": 117.8, "lat": 95},
    {"kind": "building", "building": "a1"}, {"kind": "stairwell", "building": 1, "unit_no": 0},
    {"kind": "building", "building": 2**64},
])
def test_bad_create_input_is_400_and_changes_nothing(client, world, body):
    client.force_login(world.users["root"])
    r = client.post("/api/v1/placards/", body, content_type="application/json")
    assert r.status_code == 400 and shaped(r), r.content
    assert not Placard.objects.exists()


@pytest.mark.parametrize("body", [{}, {"grid": "x"}, {"grid": A, "kinds": ["shop"]},
                                  {"grid": A, "kinds": []}, {"grid": A, "kinds": "building"}])
def test_bad_bulk_input_is_400(client, world, body):
    client.force_login(world.users["root"])
    r = client.post("/api/v1/placards/bulk/", body, content_type="application/json")
    assert r.status_code == 400 and shaped(r)
    assert not Placard.objects.exists()


def test_the_map_layer_is_geojson_of_the_viewers_placards(client, world, spread):
    count_scan(spread["shop"].pk)
    client.force_login(world.users["gw_b"])
    fc = client.get("/api/v1/placards/layer/").json()
    assert fc["type"] == "FeatureCollection" and fc["count"] == 1
    (feature,) = fc["features"]
    assert feature["geometry"] == {"type": "Point", "coordinates": [117.806, 26.405]}
    assert feature["properties"]["scans"] == 1 and feature["properties"]["status"] == "active"
    assert feature["properties"]["grid"] == B
    assert PlacardScanDay.objects.count() == 1


def test_dispatchers_see_their_scopes_placards_on_the_map_but_manage_none(client, world,
                                                                          spread):
    from geogrid.models import Post
    from tests.factories import assign, make_user
    from tests.layers.factories import DISTRICT

    dispatcher = make_user("dispatcher")
    assign(dispatcher, world.grids[DISTRICT], Post.DISPATCHER)
    client.force_login(dispatcher)
    fc = client.get("/api/v1/placards/layer/").json()
    assert fc["count"] == 3
    assert {f["properties"]["manage"] for f in fc["features"]} == {False}
    assert client.get("/api/v1/placards/").json()["count"] == 0  # the staff list: managers only
    client.force_login(world.users["gw_b"])
    (feature,) = client.get("/api/v1/placards/layer/").json()["features"]
    assert feature["properties"]["manage"] is True
