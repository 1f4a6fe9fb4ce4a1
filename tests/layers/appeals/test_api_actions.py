"""The appeals API the map screens use: the staff list (GeoJSON), the detail with version,
deadline, assignee, the viewer's actions and the timeline, and the action endpoint's answers
(200 / 400 naming the field / 403 / 409)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from layers.appeals import transitions
from layers.appeals.models import Appeal
from layers.appeals.transitions import APPEAL_ACTIONS
from tests.layers.appeals.workflow_fixtures import (
    DISTRICT,
    ZONE,
    A,
    B,
    C,
    build_city,
    checked,
    dispatched,
    in_progress,
    new_appeal,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def city():
    return build_city()


def login(client, city, name):
    client.force_login(city.users[name])
    return client


def act(client, tracking, action, **body):
    return client.post(f"/api/v1/appeals/{tracking}/actions/{action}/", body,
                       content_type="application/json")


def test_dispatcher_takes_an_appeal_through_accept_and_dispatch(client, city):
    appeal, _ = new_appeal(A)
    login(client, city, "dispatcher")
    detail = client.get(f"/api/v1/appeals/{appeal.tracking}/").json()
    assert detail["version"] == 1 and detail["status_label"] == "submitted"
    assert detail["actions"] == ["accept", "reject", "merge"]
    r = act(client, appeal.tracking, "accept", version=1, note="ok")
    assert r.status_code == 200, r.json()
    assert r.json()["status"] == "accepted" and r.json()["version"] == 2
    r = act(client, appeal.tracking, "dispatch", version=2, grid=A)
    body = r.json()
    assert r.status_code == 200 and body["status"] == "dispatched"
    assert body["assignee"] == {"kind": "grid", "department": None,
                                "grid": {"code": A, "name": "微网格A", "level": 5}}
    assert body["due_at"] and body["overdue"] is False
    assert "extend" in body["actions"] and "start" not in body["actions"]
    last = body["timeline"][-1]
    assert last["kind"] == "dispatch" and last["label"] == "dispatched"
    assert (last["from_status"], last["to_status"]) == ("accepted", "dispatched")
    assert last["actor"] == "Dispatcher" and last["actor_role"] == "dispatcher"


def test_a_grid_worker_sees_its_own_actions_and_is_refused_elsewhere(client, city):
    mine = dispatched(city, A)
    theirs = dispatched(city, B)
    login(client, city, "worker_A")
    detail = client.get(f"/api/v1/appeals/{mine.tracking}/").json()
    assert detail["actions"] == ["return", "start", "escalate"]
    r = act(client, theirs.tracking, "start", version=theirs.version)
    assert r.status_code == 403
    assert Appeal.objects.get(pk=theirs.pk).status == "dispatched"
    assert act(client, mine.tracking, "start", version=mine.version).status_code == 200


def test_stale_version_gets_409_and_changes_nothing(client, city):
    appeal = dispatched(city, A)
    login(client, city, "worker_A")
    assert act(client, appeal.tracking, "start", version=appeal.version).status_code == 200
    r = act(client, appeal.tracking, "return", version=appeal.version, note="wrong grid")
    assert r.status_code == 409
    assert r.json()["current"] == {"version": appeal.version + 1, "status": "in_progress"}
    assert r.json()["code"] == "conflict" and r.json()["fields"] == {}
    fresh = Appeal.objects.get(pk=appeal.pk)
    assert fresh.status == "in_progress" and not fresh.events.filter(kind="return").exists()


def test_a_state_that_does_not_allow_the_action_gets_409(client, city):
    appeal = dispatched(city, A)
    login(client, city, "leader_A")
    r = act(client, appeal.tracking, "check_pass", version=appeal.version)
    assert r.status_code == 409 and "dispatched" in r.json()["detail"]


def test_bad_fields_get_400_naming_the_field(client, city):
    appeal = in_progress(city, A)
    login(client, city, "dispatcher")
    missing = act(client, appeal.tracking, "extend", note="x", hours=2)
    assert missing.status_code == 400
    assert missing.json()["fields"] == {"version": ["This field is required."]}
    for hours in ("lots", "nan", "inf", "1e9", -1):
        r = act(client, appeal.tracking, "extend", version=appeal.version, hours=hours)
        assert r.status_code == 400 and list(r.json()["fields"]) == ["hours"], hours
    r = act(client, appeal.tracking, "suspend", version=appeal.version)
    assert r.status_code == 400 and list(r.json()["fields"]) == ["note"]
    r = act(client, appeal.tracking, "suspend", version=appeal.version, note="a\x00b")
    assert r.status_code == 400 and list(r.json()["fields"]) == ["note"]
    login(client, city, "worker_A")
    r = act(client, appeal.tracking, "resolve", version=appeal.version)
    assert r.status_code == 400 and list(r.json()["fields"]) == ["result"]
    r = act(client, appeal.tracking, "resolve", version=appeal.version, result=["a", "list"])
    assert r.status_code == 400 and list(r.json()["fields"]) == ["result"]
    r = act(client, appeal.tracking, "escalate", version=appeal.version, department="NOPE")
    assert r.status_code == 400 and list(r.json()["fields"]) == ["department"]
    assert Appeal.objects.get(pk=appeal.pk).version == appeal.version
    assert act(client, appeal.tracking, "fly").status_code == 404


def test_resolve_with_an_after_photo_by_multipart(client, city):
    appeal = in_progress(city, A, category="E0102")
    login(client, city, "worker_A")
    from tests.layers.appeals.test_deadlines import _jpeg

    r = client.post(f"/api/v1/appeals/{appeal.tracking}/actions/resolve/",
                    {"version": appeal.version, "result": "swept", "photos": [_jpeg()]})
    assert r.status_code == 200, r.json()
    row = r.json()["timeline"][-1]
    assert row["kind"] == "resolve" and len(row["photos"]) == 1
    assert r.json()["photos"] == []  # report photos only; the after-photo is in the timeline


def test_the_reporter_with_the_token_sees_roles_not_names(client, city):
    appeal, token = new_appeal(A)
    transitions.accept(appeal.tracking, city.actor("dispatcher"))
    body = client.get(f"/api/v1/appeals/{appeal.tracking}/",
                      HTTP_X_APPEAL_TOKEN=token).json()
    assert body["timeline"][-1]["actor"] == "dispatcher"
    assert body["actions"] == []
    assert body["contact_phone"] == "138****5678"


def test_the_list_is_geojson_scoped_to_the_users_grids(client, city):
    in_a = dispatched(city, A, category="E0102", when=timezone.now() - dt.timedelta(days=3))
    in_b = dispatched(city, B)
    unlocated = Appeal.objects.get(pk=new_appeal(A)[0].pk)
    Appeal.objects.filter(pk=unlocated.pk).update(grid=None, assignment="unlocated")
    login(client, city, "worker_A")
    body = client.get("/api/v1/appeals/").json()
    assert body["type"] == "FeatureCollection"
    trackings = {f["properties"]["tracking"] for f in body["features"]}
    assert in_a.tracking in trackings and in_b.tracking not in trackings
    assert unlocated.tracking not in trackings  # the district dispatchers' queue
    feature = next(f for f in body["features"] if f["id"] == in_a.tracking)
    assert feature["geometry"]["type"] == "Point"
    props = feature["properties"]
    assert props["overdue"] is True and props["grid"]["code"] == A
    assert props["category"]["code"] == "E0102" and props["status_label"] == "dispatched"
    login(client, city, "dispatcher")
    body = client.get("/api/v1/appeals/", {"page_size": 2}).json()
    assert body["count"] == 3 and len(body["features"]) == 2 and body["next"]
    every = {f["id"] for f in client.get("/api/v1/appeals/").json()["features"]}
    assert unlocated.tracking in every
    unlocated_feature = client.get("/api/v1/appeals/", {"grid": DISTRICT, "q": unlocated.tracking})
    assert [f["id"] for f in unlocated_feature.json()["features"]] == [unlocated.tracking]


def test_list_filters(client, city):
    late = dispatched(city, A, category="E0102", when=timezone.now() - dt.timedelta(days=3))
    soon = dispatched(city, C, category="E0102")
    fresh, _ = new_appeal(B)
    login(client, city, "dispatcher")

    def ids(**params):
        r = client.get("/api/v1/appeals/", params)
        assert r.status_code == 200, r.json()
        return {f["id"] for f in r.json()["features"]}

    assert ids(status="dispatched") == {late.tracking, soon.tracking}
    assert ids(status="received,dispatched") == {late.tracking, soon.tracking, fresh.tracking}
    assert ids(overdue=1) == {late.tracking}
    assert ids(due_within_hours=200) == {soon.tracking}
    assert ids(grid=ZONE + "003") == {soon.tracking}
    assert ids(category="R0102") == {fresh.tracking}
    assert ids(channel="mobile") == {late.tracking, soon.tracking, fresh.tracking}
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    assert ids(since=tomorrow) == set()
    assert len(ids(until=timezone.localdate().isoformat())) == 3  # a date: the whole day
    assert ids(q=fresh.tracking[-5:]) >= {fresh.tracking}
    assert client.get("/api/v1/appeals/", {"status": "replied"}).json()["fields"] == {
        "status": ["unknown status: replied"]}
    assert client.get("/api/v1/appeals/", {"page_size": 5000}).status_code == 400
    client.logout()
    assert client.get("/api/v1/appeals/").status_code == 403


def test_feedback_with_the_token_closes_or_reopens_once(client, city):
    appeal, token = new_appeal(A)
    t = appeal.tracking
    d, worker, leader = (city.actor(n) for n in ("dispatcher", "worker_A", "leader_A"))
    transitions.accept(t, d)
    transitions.dispatch(t, d)
    transitions.start(t, worker)
    transitions.resolve(t, worker, result="done")
    transitions.check_pass(t, leader)
    url = f"/api/v1/appeals/{t}/feedback/"
    r = client.post(url, {"resolution": "unsolved", "satisfaction": "unsatisfied",
                          "comment": "still broken"}, content_type="application/json",
                    HTTP_X_APPEAL_TOKEN=token)
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["status"] == "in_progress" and body["reopen_count"] == 1
    assert body["timeline"][-1]["kind"] == "reopen"
    transitions.resolve(t, worker, result="replaced")
    transitions.check_pass(t, leader)
    r = client.post(url, {"resolution": "partly", "satisfaction": "unsatisfied"},
                    content_type="application/json", HTTP_X_APPEAL_TOKEN=token)
    assert r.json()["status"] == "closed"  # reopens only once
    assert r.json()["feedback"]["satisfaction"] == "unsatisfied"


def test_feedback_errors(client, city):
    appeal = checked(city, A)
    t = appeal.tracking
    url = f"/api/v1/appeals/{t}/feedback/"
    assert client.post(url, {"resolution": "solved", "satisfaction": "satisfied"},
                       content_type="application/json",
                       HTTP_X_APPEAL_TOKEN="wrong").status_code == 404
    token_appeal, token = new_appeal(A)
    r = client.post(f"/api/v1/appeals/{token_appeal.tracking}/feedback/",
                    {"resolution": "solved", "satisfaction": "satisfied"},
                    content_type="application/json", HTTP_X_APPEAL_TOKEN=token)
    assert r.status_code == 409  # not checked yet
    reporter = city.users["resident"]
    own, _ = new_appeal(A, reporter=reporter)
    d, worker = city.actor("dispatcher"), city.actor("worker_A")
    for step in (lambda: transitions.accept(own.tracking, d),
                 lambda: transitions.dispatch(own.tracking, d),
                 lambda: transitions.start(own.tracking, worker),
                 lambda: transitions.resolve(own.tracking, worker, result="ok"),
                 lambda: transitions.check_pass(own.tracking, d)):
        step()
    login(client, city, "resident")
    url = f"/api/v1/appeals/{own.tracking}/feedback/"
    r = client.post(url, {"resolution": "solved", "satisfaction": "meh"},
                    content_type="application/json")
    assert r.status_code == 400 and list(r.json()["fields"]) == ["satisfaction"]
    r = client.post(url, {"resolution": "solved", "satisfaction": "satisfied", "comment": 7},
                    content_type="application/json")
    assert r.status_code == 400 and list(r.json()["fields"]) == ["comment"]
    r = client.post(url, {"resolution": "solved", "satisfaction": "satisfied"},
                    content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "closed"


def test_support_counts_once_per_person(client, city):
    appeal = dispatched(city, A)
    url = f"/api/v1/appeals/{appeal.public_id}/support/"
    r = client.post(url)
    assert r.status_code == 200 and r.json() == {"public_id": str(appeal.public_id),
                                                 "supporters": 1, "supported": True}
    again = client.post(url)  # the one refusal (tests/layers/appeals/test_public_id.py)
    assert again.status_code == 404 and "current" not in again.json()
    login(client, city, "other_resident")
    assert client.post(url).json()["supporters"] == 2
    # Staff who may read it are told why (they know the appeal), by number or public id.
    login(client, city, "worker_A")
    assert client.post(url).status_code == 403
    assert client.post(f"/api/v1/appeals/{appeal.tracking}/support/").status_code == 403


def test_notifications_list_and_mark_read(client, city):
    dispatched(city, A)
    login(client, city, "worker_A")
    body = client.get("/api/v1/notifications/").json()
    assert body["count"] == 1 and body["unread"] == 1
    note = body["results"][0]
    assert note["kind"] == "assigned" and note["appeal"]
    assert note["message"].startswith(f"Appeal {note['appeal']} was assigned to {A}")
    r = client.post("/api/v1/notifications/read/", {"ids": [note["id"]]},
                    content_type="application/json")
    assert r.json() == {"marked": 1}
    assert client.get("/api/v1/notifications/", {"unread": 1}).json()["count"] == 0
    assert client.post("/api/v1/notifications/read/", {"ids": "x"},
                       content_type="application/json").status_code == 400


def test_openapi_schema_and_docs_are_served_locally(client):
    r = client.get("/api/schema/")
    assert r.status_code == 200
    for action in APPEAL_ACTIONS.names:  # one documented endpoint per action
        assert f"/api/v1/appeals/{{tracking}}/actions/{action}/".encode() in r.content
    assert b"/actions/overdue/" not in r.content  # internal actions have no endpoint
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()
