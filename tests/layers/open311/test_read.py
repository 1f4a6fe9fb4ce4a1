"""Reading: discovery, services, requests and updates validate against the Open311 schemas,
XML says what JSON says, filters and defaults, the public feed and a keyed client's scope."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from layers.appeals import transitions
from layers.appeals.actors import SYSTEM, Actor
from layers.appeals.models import Appeal
from layers.open311 import ids
from tests.layers.open311.conftest import (
    BASE,
    REPORTER_NAME,
    REPORTER_PHONE,
    YA,
    A,
    as_text,
    errors_of,
    from_xml,
    validate,
)

pytestmark = pytest.mark.django_db


def get(client, path: str, key: str | None = None, **params):
    if key:
        params["api_key"] = key
    return client.get(BASE + path, params)


@pytest.mark.parametrize("path, schema", [
    ("services", "services.json"),
    ("services/R0102", "service-definition.json"),
])
def test_services_validate_and_xml_says_the_same(client, world, path, schema):
    answer = get(client, path + ".json")
    assert answer["Content-Type"] == "application/json; charset=utf-8"
    validate(answer.json(), schema)
    xml = get(client, path + ".xml")
    assert xml["Content-Type"] == "text/xml; charset=utf-8"
    assert from_xml(xml.content) == as_text(answer.json())


def test_services_are_the_categories_grouped_by_class(client, world):
    services = get(client, "services.json").json()
    by_code = {s["service_code"]: s for s in services}
    assert by_code["E0102"]["type"] == "realtime" and by_code["E0102"]["metadata"] is False
    assert "event" in by_code["E0102"]["keywords"]
    groups = {s["group"] for s in services}
    assert len(groups) < len(services)  # grouped by the major class
    definition = get(client, "services/E0102.json").json()
    assert definition == {"service_code": "E0102", "attributes": []}
    assert "not found" in errors_of(get(client, "services/NOPE.json"), 404)


def test_discovery(client, world):
    answer = get(client, "discovery.json").json()
    endpoint = answer["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2/") and "text/xml" in endpoint["formats"]
    assert from_xml(get(client, "discovery.xml").content) == as_text(answer)


def test_requests_validate_for_keyed_and_public_callers_and_xml_matches(client, world):
    appeal = world.to_department(world.file(A))
    transitions.start(appeal, Actor(user=world.clients["water works system"].user))
    world.file(A, category="E0102")
    key = world.keys["hotline 12345"]
    for k in (key, None):
        answer = get(client, "requests.json", k)
        assert answer.status_code == 200, answer.content
        body = answer.json()
        validate(body, "requests.json")
        assert len(body) == 2
        assert from_xml(get(client, "requests.xml", k).content) == as_text(body)
    keyed = {r["service_request_id"]: r for r in get(client, "requests.json", key).json()}
    row = keyed[appeal.tracking]
    assert row["status"] == "open" and row["geogrid_status"] == "in_progress"
    assert row["agency_responsible"] == "Water bureau" and row["description"] == "路灯不亮"
    appeal.refresh_from_db()
    assert row["expected_datetime"] == timezone.localtime(appeal.due_at).isoformat(
        timespec="seconds")
    public = get(client, "requests.json").json()
    assert {r["service_request_id"] for r in public} == {
        ids.feed_id(a.public_id) for a in Appeal.objects.all()}
    assert all(r["description"] is None and r["address"] is None for r in public)
    assert all(len(str(r["lat"]).split(".")[1]) <= 3 for r in public)


def test_one_request_by_its_id(client, world):
    appeal = world.file(A)
    key = world.keys["hotline 12345"]
    one = get(client, f"requests/{appeal.tracking}.json", key).json()
    validate(one, "requests.json")
    assert [r["service_request_id"] for r in one] == [appeal.tracking]
    feed = ids.feed_id(appeal.public_id)
    assert get(client, f"requests/{feed}.json").json()[0]["service_request_id"] == feed
    # The tracking number opens nothing to the public feed, nor the public id (share link).
    errors_of(get(client, f"requests/{appeal.tracking}.json"), 404)
    errors_of(get(client, f"requests/{appeal.public_id}.json"), 404)
    errors_of(get(client, f"requests/{'0' * 32}.xml"), 404, "xml")


def test_filters_and_defaults(client, world):
    key = world.keys["hotline 12345"]
    new = world.file(A)
    closed = world.file(A, category="E0102")
    transitions.reject(closed, SYSTEM, note="not ours")
    old = world.file(A)
    Appeal.objects.filter(pk=old.pk).update(reported_at=timezone.now() - dt.timedelta(days=120))

    def tracking(**params) -> set[str]:
        answer = get(client, "requests.json", key, **params)
        assert answer.status_code == 200, answer.content
        return {r["service_request_id"] for r in answer.json()}

    assert tracking() == {new.tracking, closed.tracking}  # the last 90 days
    assert tracking(status="closed") == {closed.tracking}
    assert tracking(status="open") == {new.tracking}
    assert tracking(status="open,closed") == {new.tracking, closed.tracking}
    assert tracking(service_code="E0102") == {closed.tracking}
    start = (timezone.now() - dt.timedelta(days=130)).isoformat()
    end = (timezone.now() - dt.timedelta(days=100)).isoformat()
    assert tracking(start_date=start, end_date=end) == {old.tracking}
    # ids override every other filter
    assert tracking(service_request_id=f"{old.tracking},{new.tracking}",
                    status="closed") == {old.tracking, new.tracking}


def test_scope_a_key_of_one_district_gets_nothing_of_another(client, world):
    in_x, in_y = world.file(A), world.file(YA)
    y_key = world.keys["district Y system"]
    listed = {r["service_request_id"] for r in get(client, "requests.json", y_key).json()}
    assert listed == {in_y.tracking}
    errors_of(get(client, f"requests/{in_x.tracking}.json", y_key), 404)
    assert get(client, "requests.json", y_key, service_request_id=in_x.tracking).json() == []
    updates = get(client, "servicerequestupdates.json", y_key).json()
    assert {u["service_request_id"] for u in updates} == {in_y.tracking}
    # a key without read_appeals reads nothing (not even the public feed)
    assert "read_appeals" in errors_of(
        get(client, "requests.json", world.keys["reader without rights"]), 403)


def test_updates_validate_and_follow_the_timeline(client, world):
    appeal = world.to_department(world.file(A))
    answer = get(client, "servicerequestupdates.json", world.keys["hotline 12345"])
    assert answer.status_code == 200, answer.content
    body = answer.json()
    validate(body, "updates.json")
    assert [(u["status"], u["geogrid_action"]) for u in body] == [
        ("OPEN", "received"), ("OPEN", "accept"), ("ACTION_SCHEDULED", "dispatch")]
    assert {u["service_request_id"] for u in body} == {appeal.tracking}
    assert all(u["media_url"] == "" for u in body)
    xml = get(client, "servicerequestupdates.xml", world.keys["hotline 12345"])
    assert from_xml(xml.content) == as_text(body)
    public = get(client, "servicerequestupdates.json").json()
    assert {u["service_request_id"] for u in public} == {ids.feed_id(appeal.public_id)}


def test_update_dates_come_together(client, world):
    now = timezone.now()
    assert "together" in errors_of(
        get(client, "servicerequestupdates.json", start_date=now.isoformat()), 400)
    answer = get(client, "servicerequestupdates.json",
                 start_date=(now - dt.timedelta(days=1)).isoformat(),
                 end_date=(now + dt.timedelta(days=1)).isoformat())
    assert answer.status_code == 200


def test_no_personal_data_in_any_get_answer(client, world):
    """The reporter's phone, names and e-mail, staff names and the service accounts' logins
    appear in no answer, for any caller, in either format."""
    appeal = world.to_department(world.file(
        A, description=f"call me on {REPORTER_PHONE} or zhangsan@example.com"))
    transitions.start(appeal, Actor(user=world.clients["water works system"].user))
    transitions.resolve(appeal, Actor(user=world.clients["water works system"].user),
                        result="fixed by the team, ask 13900001111")
    secrets = [REPORTER_PHONE, "13900001111", *REPORTER_NAME, "zhangsan@", "leader A",
               "worker A", *(c.user.username for c in world.clients.values())]
    paths = ["discovery", "services", "services/R0102", "requests", f"requests/{appeal.tracking}",
             "servicerequestupdates", f"requests/{ids.feed_id(appeal.public_id)}"]
    for key in (None, *world.keys.values()):
        for path in paths:
            for fmt in ("json", "xml"):
                text = get(client, f"{path}.{fmt}", key).content.decode()
                leaked = [s for s in secrets if s in text]
                assert not leaked, (path, fmt, key and key[:12], leaked)
    keyed = get(client, f"requests/{appeal.tracking}.json", world.keys["hotline 12345"]).json()
    assert "138****5678" in keyed[0]["description"]
    assert "***@example.com" in keyed[0]["description"]
