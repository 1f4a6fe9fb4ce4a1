"""import_buildings: CSV/XLSX with mapped columns, dry run by default, all-or-nothing, upsert
that tells created, updated and unchanged buildings apart."""

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


def run(path, **kwargs):
    return import_buildings(BuildingImportParams(path=path, columns=MAP, **kwargs))


def test_dry_run_then_commit_then_only_changes(tmp_path):
    grids = make_city(with_staff=False)
    gx, gy = coords.from_wgs84(117.795, 26.405, "gcj02")
    body = (f"b1,洋坊新村1幢,洋坊新村,1,40,117.805,26.405,\n"
            f"b2,洋坊新村2幢,洋坊新村,2,30,{gx},{gy},gcj02\n")
    path = write_csv(tmp_path, body)
    dry = run(path)
    assert dry.ok and not dry.committed and Building.objects.count() == 0
    assert dry.created == ["b1", "b2"] and dry.assignment["covers"] == 2
    assert "would import (dry run): 2 created" in dry.lines()[-1]
    done = run(path, commit=True)
    assert done.created == ["b1", "b2"] and done.committed
    assert Building.objects.get(source_id="b1").grid == grids[B]
    assert Building.objects.get(source_id="b2").grid == grids[A]
    again = run(path, commit=True)
    assert again.counts() == {"created": 0, "updated": 0, "unchanged": 2, "rejected": 0}
    changed = run(write_csv(tmp_path, body.replace(",40,", ",41,")), commit=True)
    assert (changed.updated, changed.unchanged) == (["b1"], ["b2"])
    assert Building.objects.get(source_id="b1").households == 41


def test_bad_rows_write_nothing(tmp_path):
    make_city(with_staff=False)
    path = write_csv(tmp_path, "b1,洋坊新村1幢,洋坊新村,1,40,117.805,26.405,\n"
                               "b2,洋坊新村2幢,洋坊新村,2,x,26.405,117.805,\n"
                               "b3,,洋坊新村,3,1,abc,26.4,\n"
                               "b1,洋坊新村4幢,洋坊新村,4,1,117.805,26.405,\n")
    report = run(path, commit=True)
    text = "\n".join(report.errors)
    assert "row 3: 户数 must be a whole number" in text
    assert "row 3: latitude outside −90…90; latitude and longitude look swapped" in text
    assert "row 4: 地址 is empty" in text and "row 4: coordinates 'abc'" in text
    assert "row 5: 编号 'b1' appears again (first in row 2)" in text
    assert report.counts()["rejected"] == 3
    assert Building.objects.count() == 0 and not report.committed


def test_xlsx(tmp_path):
    make_city(with_staff=False)
    book = Workbook()
    sheet = book.active
    sheet.append(["building_id", "address", "estate_or_road", "building_no", "lon", "lat",
                  "units", "households"])
    sheet.append(["x1", "府前路12号", "府前路", 12, 117.805, 26.405, None, None])
    path = tmp_path / "b.xlsx"
    book.save(path)
    report = import_buildings(BuildingImportParams(path=path, commit=True))
    assert report.ok
    building = Building.objects.get()
    assert building.building_no == "12"
    assert (building.units, building.households) == (1, 0)  # empty cells take the defaults


def test_unreadable_file_is_a_failed_report(tmp_path):
    path = tmp_path / "b.pdf"
    path.write_bytes(b"%PDF-1.4")
    report = run(path, commit=True)
    assert report.failure == "b.pdf: expected a .csv or .xlsx file"
    lines = report.lines()
    assert lines[0] == report.failure
    assert lines[-1] == ("b.pdf: 0 rows — nothing imported: 0 created, 0 updated, "
                         "0 unchanged, 0 rejected")

