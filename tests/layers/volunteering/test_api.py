"""The volunteering API: a volunteer sees only their own account; staff only their subtree (and
ledger reads are logged); bad input answers 400 in the one error shape and changes nothing."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from geogrid.models import AccessLog
from layers.volunteering.models import PointsEntry, ServiceRecord, VolunteerApplication
from tests.layers.factories import COMMUNITY, SUB, A
from tests.layers.volunteering.conftest import COMMUNITY2, give

pytestmark = pytest.mark.django_db
ERROR_KEYS = {"detail", "code", "fields", "problems"}


def as_(client, world, name: str):
    client.force_login(world.users[name])
    return client


def post(client, url: str, body: dict | None = None):
    return client.post(url, body or {}, content_type="application/json")


def test_a_volunteer_sees_their_own_account_only(client, world):
    give(world.account("v1"), 12, "g1")
    give(world.account("v2"), 99, "g2")
    me = as_(client, world, "v1").get("/api/v1/volunteering/me/").json()
    assert me["volunteer"]["display_name"] == "小王" and me["volunteer"]["balance"] == 12
    entries = client.get("/api/v1/volunteering/me/entries/").json()
    assert [(e["kind"], e["amount"], e["balance_after"]) for e in entries["results"]] == [
        ("earn", 12, 12)]
    other = world.account("v2").pk
    assert client.get(f"/api/v1/volunteering/accounts/{other}/entries/").status_code == 404
    assert client.get("/api/v1/volunteering/volunteers/").json() == []
    body = client.get("/api/v1/volunteering/me/").content.decode()
    assert "v1" not in body  # never the login name


def test_staff_read_a_ledger_in_their_subtree_and_the_read_is_logged(client, world):
    give(world.account("v1"), 5, "g")
    account = world.account("v1").pk
    assert as_(client, world, "cs").get(
        f"/api/v1/volunteering/accounts/{account}/entries/").status_code == 404  # not REVERSE
    before = AccessLog.objects.count()
    r = as_(client, world, "ss").get(f"/api/v1/volunteering/accounts/{account}/entries/")
    assert r.status_code == 200 and r.json()["count"] == 1
    log = AccessLog.objects.order_by("-id").first()
    assert AccessLog.objects.count() == before + 1
    assert log.subject_type == "volunteer" and log.subject_ids == [world.volunteers["v1"].pk]


def test_the_volunteer_list_is_scoped_and_logged(client, world):
    names = {v["display_name"] for v in as_(client, world, "cs").get(
        "/api/v1/volunteering/volunteers/").json()}
    assert names == {"小王", "小李"}
    names = {v["display_name"] for v in as_(client, world, "cs2").get(
        "/api/v1/volunteering/volunteers/").json()}
    assert names == {"小张"}
    names = {v["display_name"] for v in as_(client, world, "ss").get(
        "/api/v1/volunteering/volunteers/").json()}
    assert names == {"小王", "小李", "小张"}
    assert AccessLog.objects.filter(subject_type="volunteer", action="list").count() == 3
    assert as_(client, world, "gw").get("/api/v1/volunteering/volunteers/").json() == []


def test_service_record_flow_over_the_api(client, world):
    r = post(as_(client, world, "v1"), "/api/v1/volunteering/records/",
             {"activity": "敬老院陪护", "grid": A, "served_on": timezone.localdate().isoformat(),
              "hours": "1.5"})
    assert r.status_code == 201, r.content
    record = r.json()
    assert record["actions"] == []  # not on one's own record
    url = f"/api/v1/volunteering/records/{record['id']}/actions/verify/"
    assert post(client, url).status_code == 403  # sees it, may not verify it
    assert post(as_(client, world, "cs2"), url).status_code == 404
    r = post(as_(client, world, "cs"), url)
    assert r.status_code == 200 and r.json()["points"] == 1 and r.json()["status"] == "verified"
    assert post(client, url).status_code == 409
    mine = as_(client, world, "v1").get("/api/v1/volunteering/me/entries/").json()["results"]
    assert mine[0]["source_type"] == "service_record" and mine[0]["source_id"] == record["id"]


@pytest.mark.parametrize("body", [
    {"activity": "x", "grid": A, "served_on": "2999-01-01", "hours": "1"},
    {"activity": "x", "grid": A, "served_on": "today", "hours": "1"},
    {"activity": "x", "grid": A, "served_on": "2026-01-01", "hours": "25"},
    {"activity": "x", "grid": A, "served_on": "2026-01-01", "hours": "0.7"},
    {"activity": 7, "grid": A, "served_on": "2026-01-01", "hours": "1"},
    {"activity": "x\x00", "grid": A, "served_on": "2026-01-01", "hours": "1"},
    {"activity": "x" * 101, "grid": A, "served_on": "2026-01-01", "hours": "1"},
    {"activity": "x", "grid": "A' OR 1=1", "served_on": "2026-01-01", "hours": "1"},
    {"activity": "x", "grid": COMMUNITY2, "hours": "1"},
    [1, 2],
])
def test_bad_records_are_400_in_the_one_shape_and_change_nothing(client, world, body):
    client.force_login(world.users["v1"])
    r = client.generic("POST", "/api/v1/volunteering/records/", json.dumps(body),
                       content_type="application/json")
    assert r.status_code == 400, r.content
    assert set(r.json()) >= ERROR_KEYS and r.json()["code"] == "invalid"
    assert not ServiceRecord.objects.exists()


def test_a_record_in_another_community_is_400(client, world):
    r = post(as_(client, world, "v1"), "/api/v1/volunteering/records/",
             {"activity": "x", "grid": COMMUNITY2,
              "served_on": timezone.localdate().isoformat(), "hours": "1"})
    assert r.status_code == 400 and r.json()["fields"].keys() == {"grid"}
    assert not ServiceRecord.objects.exists()


def test_apply_and_approve_over_the_api(client, world):
    r = post(as_(client, world, "resident"), "/api/v1/volunteering/applications/",
             {"community": COMMUNITY, "display_name": "热心人"})
    assert r.status_code == 201
    assert post(client, "/api/v1/volunteering/applications/",
                {"community": COMMUNITY, "display_name": "again"}).status_code == 409
    pk = r.json()["id"]
    listed = as_(client, world, "cs").get("/api/v1/volunteering/applications/").json()
    assert [a["id"] for a in listed] == [pk] and "approve" in listed[0]["actions"]
    r = post(client, f"/api/v1/volunteering/applications/{pk}/actions/approve/")
    assert r.status_code == 200 and r.json()["status"] == "approved"
    me = as_(client, world, "resident").get("/api/v1/volunteering/me/").json()
    assert me["volunteer"]["display_name"] == "热心人"
    assert VolunteerApplication.objects.get().decided_by == world.users["cs"]


def test_adjustments_over_the_api_need_two_people(client, world):
    account = world.account("v2").pk
    r = post(as_(client, world, "ss"), f"/api/v1/volunteering/accounts/{account}/adjustments/",
             {"amount": 0, "reason": "x"})
    assert r.status_code == 400 and not PointsEntry.objects.exists()
    r = post(client, f"/api/v1/volunteering/accounts/{account}/adjustments/",
             {"amount": 8, "reason": "补录"})
    assert r.status_code == 201 and r.json()["actions"] == []
    pk = r.json()["id"]
    assert post(client, f"/api/v1/volunteering/adjustments/{pk}/actions/approve/"
                ).status_code == 403
    r = post(as_(client, world, "ss2"), f"/api/v1/volunteering/adjustments/{pk}/actions/approve/")
    assert r.status_code == 200 and r.json()["status"] == "approved"
    entry = PointsEntry.objects.get()
    r = post(client, f"/api/v1/volunteering/entries/{entry.pk}/actions/reverse/", {})
    assert r.status_code == 400 and "reason" in r.json()["fields"]
    r = post(client, f"/api/v1/volunteering/entries/{entry.pk}/actions/reverse/",
             {"reason": "duplicate"})
    assert r.status_code == 200 and r.json()["amount"] == -8
    assert post(client, f"/api/v1/volunteering/entries/{entry.pk}/actions/reverse/",
                {"reason": "again"}).status_code == 409


def test_figures_per_community_and_scope(client, world):
    from layers.volunteering import ledger

    give(world.account("v1"), 30, "g1")
    ledger.post(world.account("v1").pk, -10, "redeem", key="r1", grid_id=world.grids[COMMUNITY].pk)
    ledger.post(world.account("v3").pk, 7, "earn", key="g3", grid_id=world.grids[COMMUNITY2].pk)
    r = as_(client, world, "ss").get(f"/api/v1/volunteering/figures/?grid={SUB}")
    assert r.status_code == 200
    rows = {row["code"]: row for row in r.json()["rows"]}
    assert rows[COMMUNITY]["earned"] == 30 and rows[COMMUNITY]["redeemed"] == 10
    assert rows[COMMUNITY]["outstanding"] == 20 and rows[COMMUNITY]["net"] == 20
    assert rows[COMMUNITY2]["earned"] == 7 and rows[COMMUNITY2]["volunteers"] == 1
    assert r.json()["total"]["outstanding"] == 27 and r.json()["total"]["value"] == 27.0
    assert as_(client, world, "cs2").get(
        f"/api/v1/volunteering/figures/?grid={COMMUNITY}").status_code == 404
    assert as_(client, world, "v1").get(
        f"/api/v1/volunteering/figures/?grid={SUB}").status_code == 404
    assert client.get("/api/v1/volunteering/figures/?grid=x").status_code == 400
    layer = as_(client, world, "dispatcher").get(
        f"/api/v1/volunteering/figures/layer/?grid={SUB}&by=3").json()
    assert {f["id"] for f in layer["features"]} == {COMMUNITY, COMMUNITY2}
    assert layer["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
