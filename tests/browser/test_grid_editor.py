"""The grid editor: a grid manager draws a micro-grid inside a zone and saves it; an overlapping
one is refused, the overlap is drawn on the map and nothing is stored; an edit of a version
someone else replaced meanwhile is refused and the grid reloaded."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import Point

from geogrid.models import Grid, Post
from geogrid.versions import edit_boundary
from tests.browser.conftest import js_errors, screenshot
from tests.factories import GK_CM_117, ORIGIN_E, ORIGIN_N, _rect, assign, make_grid, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ZONE = "350427001001001"


def half_empty_zone() -> dict[str, Grid]:
    """A 1 km × 2 km zone whose north half is micro-grid 001; the south half is still free."""
    district = make_grid("350427", boundary=_rect(0, 0, 1000, 2000), name="沙县区")
    sub = make_grid("350427001", parent=district, boundary=_rect(0, 0, 1000, 2000), name="凤岗街道")
    com = make_grid("350427001001", parent=sub, boundary=_rect(0, 0, 1000, 2000), name="西门社区")
    zone = make_grid(ZONE, parent=com, boundary=_rect(0, 0, 1000, 2000), name="第一片区")
    north = make_grid(ZONE + "001", parent=zone, boundary=_rect(0, 1000, 1000, 1000), name="北网格")
    return {"zone": zone, "north": north}


def lonlat(x_m: float, y_m: float) -> tuple[float, float]:
    point = Point(ORIGIN_E + x_m, ORIGIN_N + y_m, srid=GK_CM_117)
    point.transform(4326)
    return point.x, point.y


def click_map(page, x_m: float, y_m: float) -> None:
    lon, lat = lonlat(x_m, y_m)
    point = page.evaluate(
        "([lon, lat]) => { const p = GeoGrid.maps.editor.latLngToContainerPoint([lat, lon]);"
        " return {x: p.x, y: p.y}; }",
        [lon, lat],
    )
    box = page.query_selector("#map").bounding_box()
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    page.wait_for_timeout(120)


def draw(page, corners: list[tuple[float, float]]) -> None:
    page.click("#btn-draw")
    for x, y in corners:
        click_map(page, x, y)
    click_map(page, *corners[0])  # back on the first corner closes the polygon
    page.wait_for_selector("#save-form:not([hidden])")


def open_editor(page, live_server) -> None:
    manager = make_user("grid_manager", username="manager")
    assign(manager, Grid.objects.current().get(code=ZONE), Post.MANAGER)
    page.goto(f"{live_server.url}/accounts/login/?next=/maps/grids/%23grid={ZONE}")
    page.fill("#id_username", "manager")
    page.fill("#id_password", "pw-for-tests-only")
    page.click("button[type=submit]")
    page.wait_for_url("**/maps/grids/**")
    page.goto(f"{live_server.url}/maps/grids/#grid={ZONE}")
    page.wait_for_function(f"() => document.getElementById('d-code').textContent === '{ZONE}'")
    page.wait_for_timeout(300)


def test_manager_draws_a_micro_grid_with_snapping_and_saves_it(page, live_server):
    half_empty_zone()
    open_editor(page, live_server)
    # A few metres off the real corners (about a pixel): snapping puts the corners exactly on
    # the zone's and the neighbour's vertices, so the shared edge matches.
    draw(page, [(3, 3), (997, 2), (998, 997), (2, 998)])
    assert page.input_value("#f-code") == ZONE + "002"
    page.fill("#f-name", "南网格")
    page.click("#btn-save")
    page.wait_for_selector("#messages .ok, #messages .warning")
    new = Grid.objects.current().get(code=ZONE + "002")
    assert new.name == "南网格" and new.parent.code == ZONE
    assert new.area_m2 == pytest.approx(1_000_000, rel=0.01)
    screenshot(page, "grid-editor-desktop")
    assert js_errors(page) == []


def test_an_overlapping_grid_is_refused_and_the_overlap_drawn(page, live_server):
    grids = half_empty_zone()
    open_editor(page, live_server)
    draw(page, [(200, 700), (800, 700), (800, 1400), (200, 1400)])  # reaches into the north grid
    page.fill("#f-name", "重叠网格")
    page.click("#btn-save")
    page.wait_for_selector("#messages .error")
    assert "overlap" in page.inner_text("#messages").lower() or "重叠" in page.inner_text(
        "#messages"
    )
    # The overlap itself is drawn in red on the map, with its message on hover.
    assert page.eval_on_selector_all("path[fill='#ff1744']", "els => els.length") >= 1
    screenshot(page, "grid-editor-overlap")
    assert not Grid.objects.filter(code=ZONE + "002").exists()
    assert Grid.objects.current().get(code=ZONE + "001").pk == grids["north"].pk
    assert js_errors(page) == []


def test_a_conflicting_edit_reloads_the_grid_and_can_then_be_saved(page, live_server):
    grids = half_empty_zone()
    north = ZONE + "001"
    open_editor(page, live_server)
    page.goto(f"{live_server.url}/maps/grids/#grid={north}")
    page.reload()
    page.wait_for_function(f"() => document.getElementById('d-code').textContent === '{north}'")
    # Someone else saves the grid meanwhile: the version on the screen is stale.
    edit_boundary(north, grids["north"].boundary, version=grids["north"].pk,
                  actor=make_user(is_superuser=True))
    current = Grid.objects.current().get(code=north).pk
    page.click("#btn-edit")
    url = f"{live_server.url}/api/v1/grids/{north}/"
    with page.expect_response(lambda r: r.url == url and r.request.method == "PUT") as refused, \
            page.expect_response(lambda r: r.url == url and r.request.method == "GET") as reread:
        page.click("#btn-save")
    assert refused.value.status == 409
    assert refused.value.json()["current"] == {"version": current}
    # The editor read the grid again: it now edits the current version.
    assert reread.value.json()["properties"]["version"] == current
    assert "网格" in page.inner_text("#messages .error")  # the server's message, in Chinese
    page.wait_for_timeout(300)
    # Redone on the current version, the edit is saved.
    page.click("#btn-edit")
    page.click("#btn-save")
    page.wait_for_selector("#messages .ok, #messages .warning")
    assert Grid.objects.filter(code=north).count() == 3
    assert js_errors(page) == []
