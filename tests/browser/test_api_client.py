"""maps/static/maps/js/api.js, the screens' one API client: every answer that is not 2xx
becomes one GeoGrid.ApiError read from the one error shape (geogrid/errors.py)."""

from __future__ import annotations

import json

import pytest

from tests.browser.conftest import js_errors

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Calls the client and answers what the screens would see: the body, or the error's parts.
CALL = """([method, url, body]) => GeoGrid.api.request(method, url, body).then(
  b => ({ok: true, body: b}),
  e => ({ok: false, isApiError: e instanceof GeoGrid.ApiError, status: e.status, code: e.code,
         detail: e.detail, fields: e.fields, problems: e.problems, current: e.current,
         retryAfter: e.retryAfter}))"""


def call(page, method: str, url: str, body=None) -> dict:
    return page.evaluate(CALL, [method, url, body])


def test_errors_are_read_from_the_one_error_shape(page, live_server):
    page.goto(f"{live_server.url}/m/")
    ok = call(page, "GET", "/api/v1/grids/?level=1")
    assert ok["ok"] and ok["body"]["type"] == "FeatureCollection"
    missing = call(page, "GET", "/api/v1/grids/999/")
    assert missing["isApiError"] and (missing["status"], missing["code"]) == (404, "not_found")
    bad = call(page, "GET", "/api/v1/grids/?bbox=1,2")
    assert (bad["status"], bad["code"], list(bad["fields"])) == (400, "invalid", ["bbox"])
    assert bad["detail"].startswith("bbox: ") and bad["problems"] == []
    # Writes carry the CSRF token: refused for want of a login, not of the token.
    anonymous = call(page, "POST", "/api/v1/grids/", {"type": "Feature"})
    assert (anonymous["status"], anonymous["code"]) == (403, "not_authenticated")
    assert js_errors(page) == []


def test_conflicts_rate_limits_and_outages(page, live_server):
    page.goto(f"{live_server.url}/m/")
    conflict = {"detail": "changed", "code": "conflict", "fields": {}, "problems": [],
                "current": {"status": "accepted", "version": 3}}
    page.route("**/api/v1/fake/conflict", lambda route: route.fulfill(
        status=409, content_type="application/json", body=json.dumps(conflict)))
    page.route("**/api/v1/fake/busy", lambda route: route.fulfill(
        status=429, headers={"Retry-After": "30"}, content_type="application/json",
        body=json.dumps({"detail": "slow down", "code": "rate_limited", "fields": {},
                         "problems": []})))
    page.route("**/api/v1/fake/html", lambda route: route.fulfill(
        status=502, content_type="text/html", body="<h1>Bad gateway</h1>"))
    page.route("**/api/v1/fake/down", lambda route: route.abort())
    answer = call(page, "POST", "/api/v1/fake/conflict", {"version": 2})
    assert (answer["status"], answer["code"]) == (409, "conflict")
    assert answer["current"] == {"status": "accepted", "version": 3}
    answer = call(page, "GET", "/api/v1/fake/busy")
    assert (answer["code"], answer["detail"], answer["retryAfter"]) == ("rate_limited",
                                                                         "slow down", 30)
    answer = call(page, "GET", "/api/v1/fake/html")
    assert (answer["status"], answer["code"], answer["detail"]) == (502, "server_error", "")
    answer = call(page, "GET", "/api/v1/fake/down")
    assert answer["isApiError"] and (answer["status"], answer["code"]) == (0, "network")
    assert js_errors(page) == []
