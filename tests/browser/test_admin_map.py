"""The admin's grid page draws the boundary on a Leaflet map served by the app itself."""

from __future__ import annotations

import pytest

from tests.browser.conftest import js_errors
from tests.factories import make_tree, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page, base: str, username: str) -> None:
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-for-tests-only")
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def test_grid_boundary_is_drawn_on_the_admin_map(page, live_server):
    tree = make_tree()
    make_user(username="root", is_superuser=True, is_staff=True)
    login(page, live_server.url, "root")
    page.goto(f"{live_server.url}/admin/geogrid/grid/{tree['350427001'].pk}/change/")
    page.wait_for_selector(".leaflet-container")
    # The boundary is an interactive SVG path of the drawn polygon.
    path = page.wait_for_selector("path.leaflet-interactive", state="attached")
    assert path.get_attribute("d")
    # The polygon sits inside the visible map, i.e. the view was fitted to the boundary.
    box, frame = path.bounding_box(), page.query_selector(".leaflet-container").bounding_box()
    assert box["width"] > 20 and box["height"] > 20
    assert frame["x"] <= box["x"] and box["x"] + box["width"] <= frame["x"] + frame["width"]
    assert js_errors(page) == []
