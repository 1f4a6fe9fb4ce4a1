"""POST requests: through the app's intake (validation, duplicates, assignment, timeline), by
coordinates, a building or an address; bad input is the spec's 400 and stores nothing."""

from __future__ import annotations

import math

import pytest
from django.contrib.gis.geos import Point

from layers.appeals.models import Appeal, AppealEvent
from layers.buildings.models import Building
from layers.open311.models import Open311Update
from tests.layers.open311.conftest import BASE, POINT, YA, A, errors_of

pytestmark = pytest.mark.django_db


def post(client, path: str, data: dict, key: str | None):
    if key is not None:
        data = {"api_key": key, **data}
    return client.post(BASE + path, data)


def test_a_hotline_request_by_coordinates(client, world):
    key = world.keys["hotline 12345"]
    lon, lat = POINT[A]
    answer = post(client, "requests.json", {
        "service_code": "E0102", "lat": lat, "long": lon, "description": "垃圾没人收",
        "phone": "13800000000", "email": "x@example.com", "first_name": "Li",
        "attribute[WHEN]": "now", "jurisdiction_id": "shaxian"}, key)
    assert answer.status_code == 200, answer.content
    [body] = answer.json()
    assert set(body) >= {"service_request_id", "service_notice"} and "token" not in body
    appeal = Appeal.objects.get(tracking=body["service_request_id"])
    assert appeal.channel == "hotline_12345" and appeal.grid.code == A
    assert appeal.contact_phone == "13800000000"
    assert appeal.reporter == world.clients["hotline 12345"].user
    received = appeal.events.get(kind=AppealEvent.Kind.RECEIVED)
    assert received.data["client"] == "hotline 12345"
    assert A in body["service_notice"]
    # A second one next to it is a possible duplicate, as in the app.
    again = post(client, "requests.xml", {"service_code": "E0102", "lat": lat, "long": lon},
                 key)
    assert again.status_code == 200 and b"similar open request" in again.content
    second = Appeal.objects.exclude(pk=appeal.pk).get()
    assert second.events.get(kind="received").data["possible_duplicates"] == [appeal.tracking]
    # tokens/{public id} resolves the id, for clients that poll tokens
    token = client.get(BASE + f"tokens/{body['geogrid_public_id']}.json", {"api_key": key})
    assert token.json() == [{"service_request_id": appeal.tracking,
                             "token": body["geogrid_public_id"]}]
    errors_of(client.get(BASE + f"tokens/{body['geogrid_public_id']}.json"), 403)


def test_by_building_and_by_address(client, world):
    key = world.keys["hotline 12345"]
    building = Building.objects.create(
        source_id="b1", address="西门社区洋坊新村9幢", estate_or_road="洋坊新村", building_no="9",
        location=Point(*POINT[A], srid=4326))
    answer = post(client, "requests.json", {"service_code": "R0102",
                                            "address_id": str(building.pk)}, key)
    assert answer.status_code == 200, answer.content
    appeal = Appeal.objects.get(tracking=answer.json()[0]["service_request_id"])
    assert appeal.grid.code == A and appeal.address == building.address
    errors_of(post(client, "requests.json", {"service_code": "R0102",
                                             "address_id": "999999"}, key), 400)
    unplaced = post(client, "requests.json",
                    {"service_code": "R0102", "address_string": "没有这个地方"}, key)
    assert unplaced.status_code == 200, unplaced.content  # kept, in the district's queue
    kept = Appeal.objects.get(tracking=unplaced.json()[0]["service_request_id"])
    assert kept.location is None and kept.assignment == "unlocated"


def test_a_key_cannot_file_outside_its_district(client, world):
    lon, lat = POINT[A]
    answer = post(client, "requests.json", {"service_code": "R0102", "lat": lat, "long": lon},
                  world.keys["district Y system"])
    assert "outside" in errors_of(answer, 400)
    assert not Appeal.objects.exists()
    lon, lat = POINT[YA]
    ok = post(client, "requests.json", {"service_code": "R0102", "lat": lat, "long": lon},
              world.keys["district Y system"])
    assert ok.status_code == 200 and Appeal.objects.get().channel == "mobile"


@pytest.mark.parametrize("data, word", [
    ({"service_code": "NOPE", "lat": 26.4, "long": 117.795}, "service_code"),
    ({"service_code": "R0102"}, "location"),
    ({"service_code": "R0102", "lat": 26.4}, "long"),
    ({"service_code": "R0102", "lat": 96.4, "long": 117.795}, "lat"),
    ({"service_code": "R0102", "lat": 26.4, "long": 190}, "long"),
    ({"service_code": "R0102", "lat": "nan", "long": 117.795}, "lat"),
    ({"service_code": "R0102", "lat": 26.4, "long": "inf"}, "long"),
    ({"service_code": "R0102", "lat": 26.4, "long": "1e999"}, "long"),
    ({"service_code": "R0102", "lat": "north", "long": 117.795}, "lat"),
    ({"service_code": "R0102", "lat": 26.4, "long": 117.795, "description": "x" * 4001},
     "description"),
    ({"service_code": "R0102", "lat": 26.4, "long": 117.795, "description": "x" * 2001},
     "description"),  # the appeals layer's own limit, same 400
    ({"service_code": "R0102", "lat": 26.4, "long": 117.795, "description": "a\x00b"},
     "description"),
    ({"service_code": "R01\x0002", "lat": 26.4, "long": 117.795}, "service_code"),
    ({"service_code": "R0102", "address_string": "路" * 301}, "address_string"),
    ({"service_code": "R0102", "lat": 26.4, "long": 117.795, "phone": "1" * 21}, "phone"),
    ({"service_code": "R0102", "lat": 26.4, "long": 117.795, "email": "e" * 255}, "email"),
    ({"service_code": "R0102", "address_id": "12a"}, "address_id"),
    ({"service_code": "R0102", "address_id": "9" * 30}, "address_id"),
    ({"service_code": "R0102", "lat": 26.4, "long": 117.795, "channel": "carrier pigeon"},
     "channel"),
    ({"service_code": "R0102", "lat": 117.795, "long": 26.4}, "lat"),  # swapped
])
def test_bad_input_is_a_400_and_stores_nothing(client, world, data, word):
    for fmt in ("json", "xml"):
        answer = post(client, f"requests.{fmt}", data, world.keys["hotline 12345"])
        assert word in errors_of(answer, 400, fmt)
    assert not Appeal.objects.exists() and not AppealEvent.objects.exists()


def test_keys_and_permissions(client, world):
    data = {"service_code": "R0102", "lat": 26.4, "long": 117.795}
    assert "API key" in errors_of(post(client, "requests.json", data, None), 403)
    errors_of(post(client, "requests.xml", data, "gg_0000000000_" + "x" * 43), 403, "xml")
    assert "submit" in errors_of(post(client, "requests.json", data,
                                      world.keys["water works system"]), 403)
    # a bad key is refused even where no key is needed
    errors_of(client.get(BASE + "services.json", {"api_key": "nonsense"}), 403)
    errors_of(client.get(BASE + "services.json", HTTP_X_API_KEY="nonsense"), 403)
    assert not Appeal.objects.exists() and not Open311Update.objects.exists()
    assert math.isfinite(1.0)
