"""The whistle API over HTTP: blowing, acting on units with versions, bad input (400 naming
the field, nothing stored), conflicts (409), the figures' access."""

from __future__ import annotations

import pytest

from layers.whistles.models import Whistle, WhistleUnit
from tests.layers.whistles.factories import PLACE, make_world

pytestmark = pytest.mark.django_db
BODY = {"reason": "joint_enforcement", "title": "占道经营整治", "lead": "CG", "assists": ["GA"],
        "lon": PLACE[0], "lat": PLACE[1]}


@pytest.fixture
def world():
    return make_world()


def as_user(client, user):
    client.force_login(user)
    return client


def test_blow_then_report_in_and_finish_over_http(client, world):
    r = as_user(client, world.dispatcher).post("/api/v1/whistles/", BODY,
                                               content_type="application/json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["status"] == "blown" and [u["role"] for u in body["units"]] == ["assist", "lead"]
    lead = next(u for u in body["units"] if u["role"] == "lead")
    assert lead["report_clock"]["minutes_left"] > 0 and lead["actions"] == ["release", "replace"]
    member = as_user(client, world.members["CG"])
    mine = member.get("/api/v1/whistles/mine/").json()["whistles"]
    assert [w["code"] for w in mine] == [body["code"]]
    assert next(u for u in mine[0]["units"] if u["role"] == "lead")["actions"] == [
        "report_in", "refuse"]
    url = f"/api/v1/whistles/units/{lead['id']}/actions/report_in/"
    r = member.post(url, {"version": lead["version"], "mode": "on_site", "lon": PLACE[0],
                          "lat": PLACE[1]}, content_type="application/json")
    assert r.status_code == 200, r.content
    again = member.post(url, {"version": lead["version"], "mode": "remote"},
                        content_type="application/json")
    assert again.status_code == 409 and again.json()["code"] == "conflict"


@pytest.mark.parametrize("change,field", [
    ({"title": "x" * 101}, "title"), ({"title": "a\x00b"}, "title"), ({"reason": "fun"}, "reason"),
    ({"lon": "NaN"}, "lon"), ({"lat": 91}, "lat"), ({"assists": "ZJ"}, "assists"),
    ({"lead": ""}, "lead"), ({"lead": "NOPE"}, "lead"), ({"lon": None}, "lat"),
    ({"appeal": "350427-20260101-99999"}, "appeal"), ({"description": "x" * 2001}, "description"),
])
def test_bad_input_is_a_400_naming_the_field_and_stores_nothing(client, world, change, field):
    r = as_user(client, world.office).post("/api/v1/whistles/", {**BODY, **change},
                                           content_type="application/json")
    assert r.status_code == 400, r.content
    assert field in r.json()["fields"]
    assert not Whistle.objects.exists() and not WhistleUnit.objects.exists()


def test_resolving_with_an_open_unit_is_a_409_that_names_it(client, world):
    office = as_user(client, world.office)
    body = office.post("/api/v1/whistles/", BODY, content_type="application/json").json()
    r = office.post(f"/api/v1/whistles/{body['id']}/actions/resolve/",
                    {"version": body["version"]}, content_type="application/json")
    assert r.status_code == 409 and "CG" in r.json()["detail"]
    assert Whistle.objects.get(pk=body["id"]).status == "blown"


def test_rating_input_is_checked(client, world):
    office = as_user(client, world.office)
    body = office.post("/api/v1/whistles/", BODY, content_type="application/json").json()
    unit = body["units"][0]
    r = office.post(f"/api/v1/whistles/units/{unit['id']}/actions/rate/",
                    {"version": unit["version"], "rating": "great", "speed": 9, "quality": 0},
                    content_type="application/json")
    assert r.status_code == 400 and {"rating", "speed", "quality"} <= set(r.json()["fields"])


def test_figures_are_for_the_districts_dispatchers(client, world):
    assert as_user(client, world.office).get(
        "/api/v1/whistles/figures/?district=350427").status_code == 403
    r = as_user(client, world.dispatcher).get("/api/v1/whistles/figures/?district=350427")
    assert r.status_code == 200 and r.json()["district"] == "350427"
    bad = client.get("/api/v1/whistles/figures/?district=35&start=2026-13-01")
    assert bad.status_code == 400 and {"district", "start"} <= set(bad.json()["fields"])
