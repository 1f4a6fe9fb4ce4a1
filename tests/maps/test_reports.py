"""Map reports: one self-contained HTML file (no network references) and PNG charts."""

from __future__ import annotations

import datetime as dt
import json
import re
from io import StringIO

import pytest
from django.core.management import call_command

from layers.analytics.filters import AppealFilter
from layers.analytics.hotspots import HotspotParams, refresh_hotspots
from maps.reports.charts import completion_choropleth, weekly_by_category_chart
from maps.reports.html import MapReportParams, render_map_html
from tests.analytics.helpers import city_with_appeals

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def city():
    grids = city_with_appeals()
    refresh_hotspots(HotspotParams(dt.date(2026, 5, 1), dt.date(2026, 6, 30), eps_m=120,
                                   min_points=4))
    return grids


def test_map_report_is_self_contained_with_every_layer(city):
    html = render_map_html(MapReportParams(grid="350427001001001"))
    assert not re.search(r'<(script|link)[^>]*(src|href)="(https?:)?//', html)
    assert "cdn.jsdelivr" not in html and "code.jquery.com" not in html
    assert "L.heatLayer" in html  # Leaflet.heat inlined and used (heat map + time-lapse)
    assert "WeeklyHeatLapse" in html or "geogrid-lapse" in html
    assert "微网格A" in html or json.dumps("微网格A")[1:-1] in html  # grid labels
    assert "Appeals per 100 households" in html  # choropleth legend
    assert "2026-05-04" in html  # a week of the time-lapse (weeks start on Monday)


def test_render_map_command_writes_the_file(city, tmp_path):
    out = tmp_path / "report.html"
    call_command("render_map", "--out", str(out), "--grid", "350427001", "--from",
                 "2026-05-01", "--to", "2026-06-30", stdout=StringIO())
    assert out.stat().st_size > 100_000  # Leaflet itself is inlined


def test_charts_are_pngs(city, tmp_path):
    a = completion_choropleth(AppealFilter(), tmp_path / "c.png", "350427001001001")
    b = weekly_by_category_chart(AppealFilter(), tmp_path / "w.png")
    for path in (a, b):
        assert path.read_bytes()[:8] == PNG and path.stat().st_size > 5_000
    call_command("report_charts", "--out-dir", str(tmp_path / "cmd"), "--grid", "350427001",
                 stdout=StringIO())
    assert (tmp_path / "cmd" / "completion-by-grid.png").is_file()
