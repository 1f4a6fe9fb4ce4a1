"""The phone report page: a resident taps the map, sees whose grid it is, and submits."""

from __future__ import annotations

import pytest

from layers.models import Appeal
from tests.browser.conftest import js_errors, screenshot
from tests.layers.factories import B, make_city

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("categories"),
]


def tap_map(page, lon: float, lat: float) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    point = page.evaluate(
        "([lon, lat]) => { const m = GeoGrid.maps.report;"
        " m.setView([lat, lon], 16, {animate: false});"
        " const p = m.latLngToContainerPoint([lat, lon]); return {x: p.x, y: p.y}; }",
        [lon, lat],
    )
    box = page.query_selector("#map").bounding_box()
    page.touchscreen.tap(box["x"] + point["x"], box["y"] + point["y"])


def test_resident_reports_by_tapping_the_map(phone, live_server):
    make_city()
    phone.goto(f"{live_server.url}/m/")
    assert phone.viewport_size == {"width": 390, "height": 844}
    tap_map(phone, 117.805, 26.405)  # inside micro-grid B
    phone.wait_for_function(f"document.getElementById('where').dataset.grid === '{B}'")
    assert "微网格B" in phone.inner_text("#where")
    assert "leader 2" in phone.inner_text("#where")  # the grid leader is named before submitting
    phone.click("label.cat:has(input[value='E0102'])")
    phone.fill("textarea[name=description]", "路口垃圾堆放三天了")
    screenshot(phone, "report-phone-filled")
    phone.click("#submit")
    phone.wait_for_selector("#done:not([hidden])")
    tracking = phone.inner_text("#tracking")
    appeal = Appeal.objects.get(tracking=tracking)
    assert appeal.grid.code == B and appeal.category.code == "E0102"
    assert appeal.channel == "mobile" and appeal.reporter is None
    assert appeal.location.x == pytest.approx(117.805, abs=1e-5)  # a pixel at z16 is ~1 m
    # The follow link carries the secret token; the follow page shows the report.
    phone.click("#follow-link")
    phone.wait_for_selector("#f-summary:not([hidden])")
    assert phone.inner_text("#f-tracking") == tracking
    screenshot(phone, "follow-phone")
    assert js_errors(phone) == []


def test_submitting_without_a_pin_or_category_explains_what_is_missing(phone, live_server):
    make_city()
    phone.goto(f"{live_server.url}/m/")
    phone.click("#submit")
    assert phone.inner_text(".errors[data-field=lon]") == "请先在地图上标出问题位置。"
    tap_map(phone, 117.805, 26.405)
    phone.wait_for_function("document.getElementById('where').dataset.grid")
    phone.click("#submit")
    phone.wait_for_function("document.querySelector('.errors[data-field=category]').textContent")
    assert not Appeal.objects.exists()
