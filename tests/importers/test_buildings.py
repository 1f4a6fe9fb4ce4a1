"""import_buildings: CSV/XLSX with mapped columns, dry run by default, all-or-nothing."""

from __future__ import annotations

import pytest
from openpyxl import Workbook

from geogrid import coords
from importers.buildings import BuildingImportParams, import_buildings
from layers.buildings.models import Building
from tests.layers.factories import A, B, make_city

pytestmark = pytest.mark.django_db

HEADER = "编号,地址,小区,楼号,户数,经度,纬度,坐标系\n"
MAP = {"source_id": "编号", "address": "地址", "estate_or_road": "小区", "building_no": "楼号",
       "households": "户数", "x": "经度", "y": "纬度", "crs": "坐标系"}


def write_csv(tmp_path, body: str):
    path = tmp_path / "b.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_dry_run_then_commit(tmp_path):
    grids = make_city(with_staff=False)
    gx, gy = coords.from_wgs84(117.795, 26.405, "gcj02")
    path = write_csv(tmp_path, f"b1,洋坊新村1幢,洋坊新村,1,40,117.805,26.405,\n"
                               f"b2,洋坊新村2幢,洋坊新村,2,30,{gx},{gy},gcj02\n")
    dry = import_buildings(BuildingImportParams(path=path, columns=MAP))
    assert dry.errors == [] and not dry.committed and Building.objects.count() == 0
    assert dry.assignment["covers"] == 2
    done = import_buildings(BuildingImportParams(path=path, columns=MAP, commit=True))
    assert done.created == 2
    assert Building.objects.get(source_id="b1").grid == grids[B]
    assert Building.objects.get(source_id="b2").grid == grids[A]
    again = import_buildings(BuildingImportParams(path=path, columns=MAP, commit=True))
    assert (again.created, again.updated) == (0, 2)


def test_bad_rows_write_nothing(tmp_path):
    make_city(with_staff=False)
    path = write_csv(tmp_path, "b1,洋坊新村1幢,洋坊新村,1,40,117.805,26.405,\n"
                               "b2,洋坊新村2幢,洋坊新村,2,x,26.405,117.805,\n"
                               "b3,,洋坊新村,3,1,abc,26.4,\n")
    report = import_buildings(BuildingImportParams(path=path, columns=MAP, commit=True))
    text = "\n".join(report.errors)
    assert "row 3: 户数 must be a whole number" in text
    assert "row 3: latitude outside −90…90; latitude and longitude look swapped" in text
    assert "row 4: 地址 is empty" in text and "row 4: coordinates 'abc'" in text
    assert Building.objects.count() == 0 and not report.committed


def test_xlsx(tmp_path):
    make_city(with_staff=False)
    book = Workbook()
    sheet = book.active
    sheet.append(["building_id", "address", "estate_or_road", "building_no", "lon", "lat"])
    sheet.append(["x1", "府前路12号", "府前路", 12, 117.805, 26.405])
    path = tmp_path / "b.xlsx"
    book.save(path)
    report = import_buildings(BuildingImportParams(path=path, commit=True))
    assert report.errors == [] and Building.objects.get().building_no == "12"
