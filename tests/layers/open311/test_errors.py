"""Every refusal under /open311/ is the spec's error, in the path's format — unknown paths,
wrong methods, Django's own refusals, NUL bytes, bad dates and ids, even a crash — never a
500 from bad input and never GeoGrid's own error shape."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from tests.layers.open311.conftest import BASE, errors_of

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path, fmt", [
    ("/open311/", "json"), ("/open311/v2/", "json"), ("/open311/v2/nothing.json", "json"),
    ("/open311/v2/nothing.xml", "xml"), ("/open311/v2/services.csv", "json"),
    ("/open311/v2/services", "json"), ("/open311/v3/services.xml", "xml"),
    ("/open311/v2/requests/a/b.json", "json"),
])
def test_unknown_paths_are_spec_404s(client, world, path, fmt, settings):
    settings.DEBUG = False
    errors_of(client.get(path), 404, fmt)


@pytest.mark.parametrize("method, path, allow", [
    ("put", "requests.json", "GET, HEAD, POST"), ("delete", "services.xml", "GET, HEAD"),
    ("post", "discovery.json", "GET, HEAD"), ("patch", "servicerequestupdates.json",
                                              "GET, HEAD, POST"),
    ("post", "requests/350427-20260101-00001.json", "GET, HEAD"),
])
def test_other_methods_are_spec_405s(client, world, method, path, allow):
    answer = getattr(client, method)(BASE + path)
    errors_of(answer, 405, path.rsplit(".", 1)[1])
    assert answer["Allow"] == allow


@pytest.mark.parametrize("path, params, word", [
    ("requests.json", {"start_date": "last week"}, "start_date"),
    ("requests.json", {"end_date": "2026-02-30"}, "end_date"),
    ("requests.json", {"start_date": "2026-05-01", "end_date": "2026-04-01"}, "start_date"),
    ("requests.json", {"start_date": "2025-01-01", "end_date": "2026-01-01"}, "90 days"),
    ("requests.json", {"start_date": "0196-11-05T07:58"}, "start_date"),
    ("requests.json", {"status": "pending"}, "status"),
    ("requests.json", {"service_code": "R0102,NOPE"}, "service_code"),
    ("requests.json", {"service_request_id": "1; DROP TABLE"}, "service_request_id"),
    ("requests.json", {"service_request_id": "x" * 50000}, "service_request_id"),
    ("requests.xml", {"service_request_id": "abc"}, "service_request_id"),
    ("servicerequestupdates.json", {"start_date": "x", "end_date": "y"}, "start_date"),
    ("requests.json", {"status": "open\x00"}, "NUL"),
    ("services.json", {"jurisdiction_id\x00": "x"}, "NUL"),
])
def test_bad_query_parameters_are_spec_400s(client, world, path, params, word):
    assert word in errors_of(client.get(BASE + path, params), 400, path.rsplit(".", 1)[1])


def test_a_nul_in_the_path_is_a_spec_400(client, world):
    errors_of(client.get(BASE + "requests/a\x00b.xml"), 400, "xml")


def test_djangos_own_refusal_is_a_spec_400(client, world, settings):
    settings.DEBUG = False
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    data = {f"attribute[{i}]": "x" for i in range(10)}
    answer = client.post(BASE + "requests.json", data)
    assert "too large" in errors_of(answer, 400)


def test_a_crash_is_a_spec_500(world, monkeypatch):
    from layers.open311 import views

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views.serialize, "discovery_out", boom)
    with override_settings(DEBUG=False):
        answer = Client(raise_request_exception=False).get(BASE + "discovery.xml")
    errors_of(answer, 500, "xml")


def test_geogrid_api_errors_keep_their_own_shape(client, world, settings):
    settings.DEBUG = False
    answer = client.get("/api/v1/no-such-thing/")
    assert answer.status_code == 404 and answer.json()["code"] == "not_found"


def test_the_keyless_feed_is_rate_limited_per_address_and_keys_are_not(client, world,
                                                                          settings):
    """Without a key, an address gets the limit's requests, then the spec's 429 with
    Retry-After (counted in PostgreSQL like every limit); a keyed client is not counted."""
    settings.GEOGRID = {**settings.GEOGRID, "RATE_LIMITS": {
        **settings.GEOGRID["RATE_LIMITS"], "open311": (2, 3600)}}
    assert client.get(f"{BASE}services.json").status_code == 200
    assert client.get(f"{BASE}requests.json").status_code == 200
    refused = client.get(f"{BASE}services.xml")
    assert "API key" in errors_of(refused, 429, "xml")
    assert int(refused["Retry-After"]) > 0
    keyed = Client(HTTP_X_API_KEY=world.keys["hotline 12345"])
    assert all(keyed.get(f"{BASE}services.json").status_code == 200 for _ in range(3))
