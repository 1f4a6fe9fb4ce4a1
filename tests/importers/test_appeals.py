"""import_appeals: hotline exports with coordinates or addresses, report of unlocated rows,
tracking numbers and timeline rows as intake makes them, all or nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.contrib.gis.geos import Point
from django.core.management import CommandError, call_command

from geogrid import coords
from geogrid.roles import Role
from importers.appeals import AppealImportParams, import_appeals
from layers.appeals import tracking
from layers.appeals.models import Appeal, AppealEvent
from layers.buildings.models import Building
from tests.layers.factories import METRE_LON, B, C, make_city

pytestmark = pytest.mark.django_db

HEADER = "工单号,类别,状态,经度,纬度,坐标系,地址,内容,受理时间\n"
MAP = {"source_ref": "工单号", "category": "类别", "status": "状态", "x": "经度", "y": "纬度",
       "crs": "坐标系", "address": "地址", "description": "内容", "reported_at": "受理时间"}
ONE_ROW = "H1,E0102,submitted,117.805,26.405,,,垃圾,2025-06-01 09:00\n"


@pytest.fixture
def city():
    grids = make_city(with_staff=False)
    Building.objects.create(source_id="1", address="沙县区洋坊新村9幢", estate_or_road="洋坊新村",
                            building_no="9", location=Point(117.805, 26.395, srid=4326))
    return grids


def write(tmp_path, body, header=HEADER):
    path = tmp_path / "12345.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


def run(path, **kwargs):
    return import_appeals(AppealImportParams(path=path, columns=MAP, **kwargs))


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
    dry = run(path)
    assert dry.ok and not dry.committed and Appeal.objects.count() == 0
    assert dry.counts() == {"created": 5, "updated": 0, "unchanged": 0, "rejected": 0}
    assert dry.geocoded == 1
    assert [(u.row, u.source_ref) for u in dry.unlocated] == [(5, "H4"), (6, "H5")]
    assert "would import (dry run): 5 created" in dry.lines()[-1]
    assert "  row 5 H4: 人民公园东门" in dry.lines()

    report = run(path, commit=True)
    assert report.committed and report.created == ["H1", "H2", "H3", "H4", "H5"]
    assert "12345.csv: 5 rows — imported: 5 created" in report.lines()[-1]
    got = {a.source_ref: a for a in Appeal.objects.select_related("grid")}
    assert got["H1"].grid == city[B] and got["H2"].grid == city[B]
    assert got["H2"].raw_crs == "bd09" and got["H2"].status == "closed"
    assert got["H3"].grid == city[C] and got["H3"].building.source_id == "1"
    assert got["H4"].assignment == "unlocated" and got["H4"].location is None
    assert got["H5"].assignment == "unlocated" and got["H5"].district_code == "350427"
    assert got["H1"].tracking == "350427-20250601-00001"
    assert got["H2"].tracking == "350427-20250601-00002"
    assert got["H3"].tracking == "350427-20250602-00001"

    again = run(path, commit=True)
    assert again.unchanged == ["H1", "H2", "H3", "H4", "H5"] and again.created == []
    assert Appeal.objects.count() == 5 and AppealEvent.objects.count() == 5


def test_each_appeal_gets_one_timeline_row_from_the_system(tmp_path, city):
    path = write(tmp_path, ONE_ROW + "H2,E0505,closed,117.805,26.405,,,,2025-06-01 10:00\n")
    run(path, commit=True)
    events = {e.appeal.source_ref: e for e in AppealEvent.objects.select_related("appeal")}
    assert events["H1"].kind == "imported" and events["H1"].actor is None
    assert events["H1"].actor_role == "system"
    assert (events["H1"].from_status, events["H1"].to_status) == ("", "received")
    assert (events["H2"].from_status, events["H2"].to_status) == ("", "closed")
    assert events["H2"].data == {"file": "12345.csv", "row": 3, "method": "covers",
                                 "version_id": city[B].pk}


def test_an_importing_user_is_on_the_timeline_and_needs_the_channel(tmp_path, city,
                                                                     django_user_model):
    path = write(tmp_path, ONE_ROW)
    resident = django_user_model.objects.create_user("resident")
    refused = run(path, commit=True, actor=resident)
    (rejection,) = refused.rejected
    assert str(rejection) == "row 2: you may not import appeals on the channel 'hotline_12345'"
    assert not Appeal.objects.exists()

    dispatcher = django_user_model.objects.create_user("dispatcher")
    dispatcher.groups.add(Group.objects.get(name=Role.DISPATCHER))
    assert run(path, commit=True, actor=dispatcher).committed
    event = AppealEvent.objects.get()
    assert (event.actor, event.actor_role) == (dispatcher, "dispatcher")


def test_tracking_numbers_continue_the_days_sequence(tmp_path, city):
    day = dt.date(2025, 6, 1)
    assert tracking.reserve("350427", day, 3) == range(1, 4)  # three appeals came in by intake
    run(write(tmp_path, ONE_ROW), commit=True)
    assert Appeal.objects.get().tracking == "350427-20250601-00004"
    assert tracking.reserve("350427", day)[0] == 5


def test_times_with_and_without_offset(tmp_path, city):
    path = write(tmp_path, (
        "H1,E0102,submitted,117.805,26.405,,,,2025-06-01T01:00:00Z\n"
        "H2,E0102,submitted,117.805,26.405,,,,2025-06-01 09:30\n"
    ))
    assert run(path, commit=True).committed
    got = dict(Appeal.objects.values_list("source_ref", "reported_at"))
    assert got["H1"] == dt.datetime(2025, 6, 1, 1, 0, tzinfo=dt.UTC)
    assert got["H2"] == dt.datetime(2025, 6, 1, 1, 30, tzinfo=dt.UTC)  # 09:30 in Shanghai


def test_one_bad_row_imports_nothing(tmp_path, city):
    path = write(tmp_path, (
        "H1,E0102,submitted,117.805,26.405,,,,2025-06-01 09:00\n"
        "H2,X9999,submitted,117.805,26.405,,,,2025-06-01 09:00\n"
        "H3,E0102,submitted,26.405,117.805,,,,yesterday\n"
        "H4,E0102,submitted,117.805,26.405,mars,,,2025-06-01 09:00\n"
        "H4,E0102,sleeping,117.805,,,,,2025-06-01 09:00\n"
    ))
    report = run(path, commit=True)
    text = "\n".join(report.errors)
    assert "row 3: unknown category 'X9999'" in text
    assert "row 4: 受理时间 'yesterday' is not a date and time" in text
    assert "row 4: latitude outside −90…90; latitude and longitude look swapped" in text
    assert "row 5: unknown coordinate system 'mars'" in text
    assert "row 6: 工单号 'H4' appears again (first in row 5)" in text
    assert "row 6: unknown status 'sleeping'" in text
    assert "row 6: coordinates '117.805', '' are not numbers" in text
    assert {r.field for r in report.rejected if r.row == 4} == {"受理时间", "纬度"}
    assert report.counts()["rejected"] == 4
    assert Appeal.objects.count() == 0 and not report.committed
    assert "nothing imported" in report.lines()[-1]


def test_a_file_without_a_required_column_is_a_failed_report(tmp_path, city):
    path = write(tmp_path, ONE_ROW, header="工单号,类别,状态,经度,纬度,坐标系,地址,内容,时间\n")
    report = run(path, commit=True)
    assert report.failure == "12345.csv: missing columns 受理时间 (reported_at)"
    assert not report.ok and report.lines()[0] == report.failure
    with pytest.raises(CommandError, match=r"missing columns appeal_id \(source_ref\)"):
        call_command("import_appeals", str(path), "--commit")
    assert not Appeal.objects.exists()


def test_command_imports_with_a_column_map(tmp_path, city, capsys):
    path = write(tmp_path, ONE_ROW)
    args = [f"--map={ours}={theirs}" for ours, theirs in MAP.items()]
    call_command("import_appeals", str(path), *args)
    assert "would import (dry run): 1 created" in capsys.readouterr().out
    call_command("import_appeals", str(path), *args, "--commit")
    assert Appeal.objects.get().source_ref == "H1"
    with pytest.raises(CommandError, match="--map 'phone=电话': expected one of source_ref"):
        call_command("import_appeals", str(path), "--map", "phone=电话")
