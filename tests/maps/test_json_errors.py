"""The JSON endpoints of the screens answer errors in the one error shape (geogrid.errors):
the grid editor's summary and the map report download."""

from __future__ import annotations

import pytest

from geogrid.models import Post
from tests.factories import assign, make_tree, make_user

pytestmark = pytest.mark.django_db

ZONE = "350427001001001"
SHAPE = {"detail", "code", "fields", "problems"}


def test_grid_summary_counts_and_refuses_in_the_error_shape(client):
    tree = make_tree()
    url = f"/maps/grids/{ZONE}/summary"
    anonymous = client.get(url, HTTP_ACCEPT="application/json")
    assert anonymous.status_code == 403 and anonymous.json()["code"] == "not_authenticated"
    assert set(anonymous.json()) == SHAPE
    stranger = make_user("grid_manager")
    assign(stranger, tree["350427002"], Post.MANAGER)
    client.force_login(stranger)
    denied = client.get(url, HTTP_ACCEPT="application/json", HTTP_ACCEPT_LANGUAGE="en")
    assert denied.status_code == 403 and denied.json()["code"] == "forbidden"
    assert denied.json()["detail"] == "this grid is outside your grids"
    missing = client.get("/maps/grids/999/summary", HTTP_ACCEPT="application/json")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    manager = make_user("grid_manager")
    assign(manager, tree[ZONE], Post.MANAGER)
    client.force_login(manager)
    ok = client.get(url, HTTP_ACCEPT="application/json")
    assert ok.status_code == 200
    assert ok.json() == {"households": 0, "buildings": 0, "open_appeals": 0}


def test_map_report_download_errors_are_in_the_error_shape(client):
    anonymous = client.get("/maps/report.html", HTTP_ACCEPT_LANGUAGE="en")
    assert anonymous.status_code == 403
    assert anonymous.json() == {"detail": "Sign in to see appeals on the map.",
                                "code": "not_authenticated", "fields": {}, "problems": []}
    client.force_login(make_user("dispatcher"))
    bad = client.get("/maps/report.html?days=-3", HTTP_ACCEPT_LANGUAGE="en")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"
    assert list(bad.json()["fields"]) == ["days"]
    wrong = client.post("/maps/report.html")
    assert wrong.status_code == 405 and wrong.json()["code"] == "method_not_allowed"
    assert wrong["Allow"] == "GET, HEAD"
