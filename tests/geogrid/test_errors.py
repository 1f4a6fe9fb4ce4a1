"""Every JSON error has one shape — {detail, code, fields, problems} — whatever raised it,
with DEBUG off too (geogrid.errors)."""

from __future__ import annotations

import types

import pytest
from django.test import override_settings
from django.urls import include, path

from tests.factories import make_user
from tests.layers.appeals.workflow_fixtures import A, build_city, dispatched

pytestmark = pytest.mark.django_db
SHAPE = {"detail", "code", "fields", "problems"}


def _shape(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) >= SHAPE and body["code"] == code, body
    assert isinstance(body["detail"], str) and body["detail"]
    return body


@pytest.fixture
def city():
    return build_city()


def test_validation_permission_conflict_and_missing(client, city, settings):
    settings.DEBUG = False
    appeal = dispatched(city, A)
    url = f"/api/v1/appeals/{appeal.tracking}/actions/start/"
    client.force_login(city.users["worker_A"])
    body = _shape(client.post(url, {"version": "two"}, content_type="application/json"),
                  400, "invalid")
    assert list(body["fields"]) == ["version"] and "version" in body["detail"]
    client.force_login(city.users["worker_B"])
    _shape(client.post(url, {"version": appeal.version}, content_type="application/json"),
           403, "forbidden")
    client.force_login(city.users["worker_A"])
    client.post(url, {"version": appeal.version}, content_type="application/json")
    body = _shape(client.post(url, {"version": appeal.version},
                              content_type="application/json"), 409, "conflict")
    assert body["current"] == {"status": "in_progress", "version": appeal.version + 1}
    _shape(client.get("/api/v1/appeals/NO-SUCH-APPEAL/"), 404, "not_found")
    _shape(client.get("/api/v1/no/such/endpoint/"), 404, "not_found")
    client.logout()
    _shape(client.get("/api/v1/appeals/"), 403, "not_authenticated")


def test_rate_limit_says_when_to_come_back(client, city, settings):
    settings.GEOGRID = {**settings.GEOGRID, "APPEAL_ANON_RATE": (1, 600)}
    body = {"category": "R0102", "lon": 117.795, "lat": 26.40}
    assert client.post("/api/v1/appeals/", body, content_type="application/json"
                       ).status_code == 201
    second = client.post("/api/v1/appeals/", body, content_type="application/json")
    _shape(second, 429, "rate_limited")
    assert second["Retry-After"] == "600"


@pytest.mark.parametrize("url", ["/api/v1/appeals/35%00/", "/api/v1/appeals/?q=a%00b",
                                 "/api/v1/locate?lon=1%00&lat=2"])
def test_nul_bytes_are_a_400_not_a_500(client, city, url):
    client.force_login(city.users["dispatcher"])
    _shape(client.get(url), 400, "invalid")


def _crash(request):
    raise RuntimeError("boom")


def test_a_crash_under_api_is_json_in_the_same_shape(client, settings):
    settings.DEBUG = False
    urls = types.ModuleType("crash_urls")
    urls.urlpatterns = [path("api/v1/crash/", _crash), path("", include("geogrid.urls"))]
    urls.handler500 = "geogrid.errors.json_500"
    client.raise_request_exception = False
    with override_settings(ROOT_URLCONF=urls):
        body = _shape(client.get("/api/v1/crash/"), 500, "server_error")
    assert "boom" not in body["detail"]  # no internals leak


@pytest.mark.parametrize("url", ["/api/v1/appeals/", "/api/v1/grids/",
                                 "/api/v1/notifications/read/"])
@pytest.mark.parametrize("body", ["json", "form"])
def test_a_body_over_djangos_limits_is_a_400_in_the_same_shape(client, settings, url, body):
    # Django refuses it (RequestDataTooBig or TooManyFieldsSent, SuspiciousOperations) while
    # DRF reads the body; its handler400 answered an HTML page. Found by tests/test_api_fuzz.py:
    # a form-encoded POST /api/v1/notifications/read/ with 1,001 `ids`.
    settings.DEBUG = False
    client.raise_request_exception = False
    client.force_login(make_user("grid_manager"))
    if body == "json":  # over DATA_UPLOAD_MAX_MEMORY_SIZE
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
        data, content_type = "{" + " " * 2000 + "}", "application/json"
    else:  # over DATA_UPLOAD_MAX_NUMBER_FIELDS (1,000)
        data, content_type = "&".join(["ids=1"] * 1001), "application/x-www-form-urlencoded"
    response = client.post(url, data=data, content_type=content_type, HTTP_ACCEPT_LANGUAGE="en")
    assert _shape(response, 400, "invalid")["detail"] == "The request is too large."
