"""The three screens at desktop and phone size on the small sample city: each renders its map
and data without script errors. The pictures are the README's (make screenshots)."""

from __future__ import annotations

import pytest

from fixtures.city import generate
from fixtures.load import LoadParams, load_city
from geogrid.models import Grid, Post
from tests.browser.conftest import _context, js_errors, screenshot
from tests.factories import assign, make_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("categories"),
]
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def city(tmp_path):
    generate("small", 1, tmp_path, progress=False)
    load_city(LoadParams(directory=tmp_path, progress=False))
    district = Grid.objects.current().get(code="350427")
    user = make_user("grid_manager", "dispatcher", username="centre", first_name="调度中心")
    assign(user, district, Post.MANAGER)
    assign(user, district, Post.DISPATCHER)
    return district


def sign_in(page, base: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "centre")
    page.fill("#id_password", "pw-for-tests-only")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


@pytest.mark.parametrize("size", list(SIZES))
def test_three_screens(browser, live_server, city, size):
    options = {"viewport": SIZES[size]}
    if size == "phone":
        options.update(is_mobile=True, has_touch=True, device_scale_factor=2)
    for page in _context(browser, live_server, **options):
        page.goto(f"{live_server.url}/m/")
        page.wait_for_selector("label.cat")
        page.evaluate("GeoGrid.maps.report.setView([26.40, 117.79], 15)")
        screenshot(page, f"report-{size}")

        sign_in(page, live_server.url)
        zone = Grid.objects.current().filter(level=4).order_by("code").first()
        page.goto(f"{live_server.url}/maps/grids/#grid={zone.code}")
        page.wait_for_function(
            f"() => document.getElementById('d-code').textContent === '{zone.code}'")
        page.wait_for_function("() => document.getElementById('d-households').textContent !== '—'")
        page.wait_for_selector(".grid-label")
        screenshot(page, f"grid-editor-{size}")

        page.goto(f"{live_server.url}/maps/dispatch/")
        page.wait_for_function(
            "() => window.GeoGridTimings && window.GeoGridTimings.refreshes >= 1")
        page.select_option("select[name=status]", "")  # every appeal, not only open ones
        page.wait_for_function("() => window.GeoGridTimings.refreshes >= 2")
        assert page.eval_on_selector_all(".marker-cluster", "m => m.length") > 0
        assert page.eval_on_selector_all("canvas.leaflet-heatmap-layer", "c => c.length") == 1
        screenshot(page, f"dispatch-{size}")
        assert js_errors(page) == []
