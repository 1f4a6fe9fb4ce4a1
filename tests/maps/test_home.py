"""The pages a newcomer opens first: home, admin with the grid map widget."""

from __future__ import annotations

import pytest

from tests.factories import make_tree, make_user

pytestmark = pytest.mark.django_db


def test_home_counts_current_grids_per_level(client):
    make_tree()
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response.context["levels"] == [
        ("district", 1),
        ("subdistrict", 2),
        ("community", 2),
        ("zone", 2),
        ("micro-grid", 4),
    ]


def test_home_is_chinese_by_default(client):
    response = client.get("/")
    assert "网格" in response.content.decode()


def test_admin_requires_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_admin_grid_page_has_a_leaflet_map_served_by_the_app(client):
    tree = make_tree()
    admin = make_user(is_superuser=True, is_staff=True)
    client.force_login(admin)
    response = client.get(f"/admin/geogrid/grid/{tree['350427001'].pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    assert ("leaflet/leaflet.js" in html and "id_boundary-map" in html) or "id_boundary" in html
    static = client.get("/static/leaflet/leaflet.js")
    assert static.status_code == 200
    listing = client.get("/admin/geogrid/grid/?level__exact=5")
    assert listing.status_code == 200
    assert "350427002001001002" in listing.content.decode()
