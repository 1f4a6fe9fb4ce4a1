"""import_appeals: hotline exports with coordinates or addresses, report of unlocated rows."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import Point

from geogrid import coords
from importers.appeals import AppealImportParams, import_appeals
from layers.appeals.models import Appeal, AppealEvent
from layers.buildings.models import Building
from tests.layers.factories import METRE_LON, B, C, make_city

pytestmark = pytest.mark.django_db

HEADER = "工单号,类别,状态,经度,纬度,坐标系,地址,内容,受理时间\n"
MAP = {"source_ref": "工单号", "category": "类别", "status": "状态", "x": "经度", "y": "纬度",
       "crs": "坐标系", "address": "地址", "description": "内容", "reported_at": "受理时间"}


@pytest.fixture
def city():
    grids = make_city(with_staff=False)
    Building.objects.create(source_id="1", address="沙县区洋坊新村9幢", estate_or_road="洋坊新村",
                            building_no="9", location=Point(117.805, 26.395, srid=4326))
    return grids


def write(tmp_path, body):
    path = tmp_path / "12345.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_hotline_export_is_imported(tmp_path, city):
    bx, by = coords.from_wgs84(117.805, 26.405, "bd09")
    outside = 117.78 - 200 * METRE_LON
    path = write(tmp_path, (
        "H1,E0102,submitted,117.805,26.405,EPSG:4326,,垃圾,2025-06-01 09:00\n"
        f"H2,E0505,closed,{bx},{by},bd09,,乱停车,2025-06-01 10:00\n"
        "H3,L0301,accepted,,,,洋坊新村９号楼20号,污水管堵塞,2025-06-02 08:00\n"
        "H4,R0101,accepted,,,,人民公园东门,咨询,2025-06-02 09:00\n"
        f"H5,E0102,submitted,{outside},26.40,,,,2025-06-02 10:00\n"
    ))
    dry = import_appeals(AppealImportParams(path=path, columns=MAP))
    assert dry.errors == [] and Appeal.objects.count() == 0
    assert dry.geocoded == 1
    assert [u["source_ref"] for u in dry.unlocated] == ["H4", "H5"]
    report = import_appeals(AppealImportParams(path=path, columns=MAP, commit=True))
    assert report.imported == 5 and report.committed
    got = {a.source_ref: a for a in Appeal.objects.select_related("grid")}
    assert got["H1"].grid == city[B] and got["H2"].grid == city[B]
    assert got["H2"].raw_crs == "bd09" and got["H2"].status == "closed"
    assert got["H3"].grid == city[C] and got["H3"].building.source_id == "1"
    assert got["H4"].assignment == "unlocated" and got["H4"].location is None
    assert got["H5"].assignment == "unlocated" and got["H5"].district_code == "350427"
    assert got["H1"].tracking == "350427-20250601-00001"
    assert got["H2"].tracking == "350427-20250601-00002"
    assert AppealEvent.objects.filter(kind="imported").count() == 5
    again = import_appeals(AppealImportParams(path=path, columns=MAP, commit=True))
    assert again.skipped_existing == 5 and Appeal.objects.count() == 5


def test_one_bad_row_imports_nothing(tmp_path, city):
    path = write(tmp_path, (
        "H1,E0102,submitted,117.805,26.405,,,,2025-06-01 09:00\n"
        "H2,X9999,submitted,117.805,26.405,,,,2025-06-01 09:00\n"
        "H3,E0102,submitted,26.405,117.805,,,,yesterday\n"
        "H4,E0102,submitted,117.805,26.405,mars,,,2025-06-01 09:00\n"
    ))
    report = import_appeals(AppealImportParams(path=path, columns=MAP, commit=True))
    text = "\n".join(report.errors)
    assert "row 3: unknown category 'X9999'" in text
    assert "row 4: reported_at 'yesterday' is not a date and time" in text
    assert "row 4: latitude outside −90…90; latitude and longitude look swapped" in text
    assert "row 5: unknown coordinate system 'mars'" in text
    assert Appeal.objects.count() == 0 and not report.committed
