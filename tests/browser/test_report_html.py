"""The exported map report opens in headless Chromium with networking disabled and shows the
heat layer (screenshot in var/test-artifacts/)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings

from layers.analytics.hotspots import HotspotParams, refresh_hotspots
from maps.reports.html import MapReportParams, render_map_html
from tests.analytics.helpers import city_with_appeals

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

ARTIFACTS = Path(settings.BASE_DIR) / "var" / "test-artifacts"


def test_report_opens_offline_and_draws_the_heat_layer(browser, tmp_path):
    city_with_appeals()
    refresh_hotspots(
        HotspotParams(dt.date(2026, 5, 1), dt.date(2026, 6, 30), eps_m=120, min_points=4)
    )
    report = tmp_path / "report.html"
    report.write_text(render_map_html(MapReportParams(grid="350427001001001")), "utf-8")

    context = browser.new_context(viewport={"width": 1100, "height": 800}, offline=True)
    requests: list[str] = []

    def refuse(route):
        requests.append(route.request.url)
        route.abort()

    context.route("http*://**/*", refuse)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(report.as_uri())
    page.wait_for_selector(".leaflet-container")
    # Leaflet.heat draws on its own canvas; the time-lapse control and the legend are there.
    heat = page.wait_for_selector("canvas.leaflet-heatmap-layer", state="attached")
    box = heat.bounding_box()
    assert box["width"] > 100 and box["height"] > 100
    painted = page.evaluate(
        """() => [...document.querySelectorAll('canvas.leaflet-heatmap-layer')].some(c => {
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                for (let i = 3; i < d.length; i += 4) if (d[i] > 0) return true;
                return false; })"""
    )
    assert painted, "the heat layer drew nothing"
    assert page.query_selector(".geogrid-lapse input[type=range]")
    assert page.query_selector(".geogrid-legend")
    labels = [e.inner_text() for e in page.query_selector_all(".geogrid-label")]
    assert {"微网格A", "微网格B", "微网格C"} <= set(labels)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "map-report.png"))
    assert errors == [] and requests == []
    context.close()
