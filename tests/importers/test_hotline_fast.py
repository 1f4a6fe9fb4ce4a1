"""The column-wise hotline import (importers.appeals) against the reference importer
(importers.hotline_reference): the same report on a file with every kind of bad row, the same
appeals and timeline rows on a clean file and on a random sample, nothing left behind when a
row or the database refuses, and the pieces it is built of (strip, binary COPY)."""

from __future__ import annotations

import datetime as dt
import json
import sys

import numpy as np
import pytest
from django.contrib.auth.models import Group
from django.contrib.gis.geos import Point
from django.db import connection

from geogrid import coords
from geogrid import copybin as cb
from geogrid.roles import Role
from importers import appeals as fast_module
from importers.appeals import AppealImportParams, import_appeals, import_appeals_reference
from importers.hotline_read import strip
from layers.appeals.models import Appeal, AppealEvent, Category, TrackingSequence
from layers.buildings.models import Building
from tests.layers.factories import METRE_LON, make_city

pytestmark = pytest.mark.django_db

HEADER = "工单号,类别,渠道,状态,经度,纬度,坐标系,地址,内容,电话,受理时间\n"
MAP = {"source_ref": "工单号", "category": "类别", "channel": "渠道", "status": "状态",
       "x": "经度", "y": "纬度", "crs": "坐标系", "address": "地址", "description": "内容",
       "contact_phone": "电话", "reported_at": "受理时间"}
APPEAL_FIELDS = ["source_ref", "tracking", "token_hash", "district_code", "raw_x", "raw_y",
                 "raw_crs", "address", "building_id", "geocode_score", "category_id",
                 "description", "channel", "contact_phone", "status", "grid_id", "assignment",
                 "assignment_distance_m", "reported_at"]
EVENT_FIELDS = ["appeal__source_ref", "kind", "actor_id", "actor_role", "from_status",
                "to_status", "note", "data"]


@pytest.fixture
def city():
    grids = make_city(with_staff=False)
    Building.objects.create(source_id="1", address="沙县区洋坊新村9幢", estate_or_road="洋坊新村",
                            building_no="9", location=Point(117.805, 26.395, srid=4326))
    Building.objects.create(source_id="2", address="沙县区府前路12号", estate_or_road="府前路",
                            building_no="12", location=Point(117.795, 26.402, srid=4326))
    return grids


def write(tmp_path, body: str, name: str = "12345.csv"):
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def report_of(report) -> dict:
    """Everything a report says except how long it took."""
    data = report.as_dict()
    data.pop("seconds")
    return data


def stored() -> tuple[list[tuple], list[tuple], list[tuple]]:
    """The appeals (file order = id order), their timeline rows and the day sequences."""
    rows = list(Appeal.objects.order_by("id").values_list(*APPEAL_FIELDS))
    where = {a.source_ref: (a.location.x, a.location.y) if a.location else None
             for a in Appeal.objects.only("source_ref", "location")}
    appeals = [(*r, where[r[0]]) for r in rows]
    events = sorted(AppealEvent.objects.values_list(*EVENT_FIELDS), key=repr)
    days = sorted(TrackingSequence.objects.values_list("district_code", "day", "last"))
    return appeals, events, days


def forget() -> None:
    """Back to no appeals and no day sequences (inside the test's transaction)."""
    AppealEvent.objects.all().delete()
    Appeal.objects.all().delete()
    TrackingSequence.objects.all().delete()


def both(path, **kwargs) -> tuple[dict, dict, tuple, tuple]:
    """Import `path` with the reference and then, from the same starting point, the fast path."""
    ref = import_appeals_reference(AppealImportParams(path=path, columns=MAP, **kwargs))
    ref_stored = stored()
    forget()
    fast = import_appeals(AppealImportParams(path=path, columns=MAP, **kwargs))
    return report_of(ref), report_of(fast), ref_stored, stored()


# --- the same report on bad rows -------------------------------------------------------------

BAD_ROWS = (
    "H1,E0102,,submitted,117.805,26.405,,,垃圾,,2025-06-01 09:00\n"  # good
    ",E0102,,submitted,117.805,26.405,,,,,2025-06-01 09:00\n"  # no order id
    "H3,,,submitted,117.805,26.405,,,,,2025-06-01 09:00\n"  # no category
    "H4,E0102,,submitted,117.805,26.405,,,,,\n"  # no time
    "H1,E0102,,submitted,117.805,26.405,,,,,2025-06-01 09:00\n"  # repeated order id
    f"H6,E0102,,submitted,117.805,26.405,,,{'长' * 2001},,2025-06-01 09:00\n"  # long text
    "H7,E0102,,submitted,117.805,26.405,,,,0598-12345678901234567,2025-06-01 09:00\n"  # phone
    "H8,X9999,,submitted,117.805,26.405,,,,,2025-06-01 09:00\n"  # unknown category
    "H9,E0102,pigeon,submitted,117.805,26.405,,,,,2025-06-01 09:00\n"  # unknown channel
    "H10,E0102,,sleeping,117.805,26.405,,,,,2025-06-01 09:00\n"  # unknown status
    "H11,E0102,,SUBMITTED,117.805,26.405,,,,,yesterday\n"  # not a time
    "H12,E0102,,submitted,26.405,117.805,,,,,2025-06-01 09:00\n"  # swapped
    "H13,E0102,,submitted,117.805,,,,,,2025-06-01 09:00\n"  # half a point
    "H14,E0102,,submitted,117.805,26.405,mars,,,,2025-06-01 09:00\n"  # unknown CRS
    "H15,E0102,,submitted,200,26.405,EPSG:4326,,,,2025-06-01 09:00\n"  # out of range
    "H16,E0102,,submitted,abc,26.405,,,,,2025-06-01 09:00\n"  # not a number
    "H17,E0102,,submitted,117.805，0,26.405,,,,,2025-06-01 09:00\n"  # full-width comma
    "H18,E0102,,受理,117.805,26.405,,,,,2025-02-30 09:00\n"  # no such day
)


def test_every_kind_of_bad_row_gets_the_reference_report(tmp_path, city):
    path = write(tmp_path, BAD_ROWS)
    ref, fast, ref_stored, fast_stored = both(path, commit=True)
    assert not fast["ok"] and fast["counts"]["rejected"] >= 15
    assert fast == ref
    assert fast_stored == ref_stored == ([], [], [])


def test_times_the_iso_reader_refuses_go_to_the_reference(tmp_path, city):
    path = write(tmp_path, (
        "H1,E0102,,submitted,117.805,26.405,,,,,2025-06-01T01:00:00Z\n"
        "H2,E0102,,submitted,117.805,26.405,,,,,2025/06/01 09:30\n"
        "H3,E0102,,submitted,117.805,26.405,,,,,2025-06-01T09:00:00+08:00\n"
    ))
    ref, fast, ref_stored, fast_stored = both(path, commit=True)
    assert fast == ref and fast["ok"]
    assert fast_stored == ref_stored


def test_a_channel_the_user_may_not_use_is_the_same_rejection(tmp_path, city,
                                                               django_user_model):
    path = write(tmp_path, "H1,E0102,,submitted,117.805,26.405,,,,,2025-06-01 09:00\n")
    resident = django_user_model.objects.create_user("resident")
    ref, fast, _, _ = both(path, commit=True, actor=resident)
    assert fast == ref and not fast["ok"]


def test_a_missing_column_is_the_same_failure(tmp_path, city):
    path = tmp_path / "12345.csv"
    path.write_text("工单号,类别\nH1,E0102\n", encoding="utf-8")
    ref, fast, _, _ = both(path, commit=True)
    assert fast == ref and "missing columns" in fast["failure"]


# --- the same appeals and timeline rows ------------------------------------------------------


def test_a_clean_file_is_stored_as_the_reference_stores_it(tmp_path, city, django_user_model):
    bx, by = coords.from_wgs84(117.805, 26.405, "bd09")
    outside = 117.78 - 200 * METRE_LON
    path = write(tmp_path, (
        "H1,E0102,,submitted,117.805,26.405,EPSG:4326,,垃圾,,2025-06-01 09:00\n"
        f"H2,E0505,wechat,closed,{bx},{by},bd09,,乱停车,13800000000,2025-06-01 10:00\n"
        "H3,L0301,,办理中,,,,洋坊新村９号楼20号,污水管堵塞,,2025-06-02 08:00\n"
        "H4,R0101,,accepted,,,,人民公园东门,咨询,,2025-06-02 09:00\n"
        f"H5,E0102,,submitted,{outside},26.40,,,,,2025-06-02 10:00\n"
        " H6 ,E0102,, Submitted ,117.7955,26.3950,,　府前路12号,\u3000空格\u3000,,"
        "2025-06-02 07:00\n"
        "H7,E0102,,submitted,,,,府前路12号,,,2025-06-01T23:30:00Z\n"
        "H8,E0102,,submitted,,,,,,,2025-06-03 09:00\n"
        "H9,E0102,,submitted,117.80,26.40,,,,,2025-06-01 08:00\n"
    ))
    dispatcher = django_user_model.objects.create_user("dispatcher")
    dispatcher.groups.add(Group.objects.get(name=Role.DISPATCHER))
    ref, fast, ref_stored, fast_stored = both(path, commit=True, actor=dispatcher)
    assert fast == ref and fast["ok"] and fast["committed"] and fast["geocoded"] == 2
    assert fast_stored == ref_stored
    appeals, events, days = fast_stored
    assert len(appeals) == len(events) == 9 and days
    # A re-import creates nothing, in either path.
    again = import_appeals(AppealImportParams(path=path, columns=MAP, commit=True))
    assert again.counts()["unchanged"] == 9 and stored() == fast_stored


def test_a_random_sample_is_stored_as_the_reference_stores_it(tmp_path, city):
    rng = np.random.default_rng(16)
    n = 600
    codes = list(Category.objects.values_list("code", flat=True))
    statuses = ["submitted", "accepted", "closed", "办结", "受理", "in_progress", ""]
    channels = ["", "hotline_12345", "mobile", "wechat"]
    lon = rng.uniform(117.775, 117.835, n)
    lat = rng.uniform(26.375, 26.425, n)
    start = dt.datetime(2025, 5, 30, tzinfo=dt.UTC)
    lines = []
    for i in range(n):
        when = start + dt.timedelta(minutes=int(rng.integers(0, 60 * 24 * 5)))
        stamp = when.isoformat() if i % 3 else when.strftime("%Y-%m-%d %H:%M")
        if i % 50 == 7:  # address only
            x = y = ""
            address = ["洋坊新村9幢", "府前路12号", "不知道哪里"][i % 3]
        else:
            x, y, address = f"{lon[i]:.6f}", f"{lat[i]:.6f}", ""
        lines.append(f"R{i},{codes[i % len(codes)]},{channels[i % 4]},{statuses[i % 7]},"
                     f"{x},{y},,{address},第{i}件,,{stamp}\n")
    path = write(tmp_path, "".join(lines))
    ref, fast, ref_stored, fast_stored = both(path, commit=True)
    assert fast == ref and fast["ok"] and fast["counts"]["created"] == n
    assert fast_stored == ref_stored


# --- all or nothing --------------------------------------------------------------------------


def test_a_database_refusal_midway_leaves_nothing(tmp_path, city, monkeypatch):
    path = write(tmp_path, "H1,E0102,,submitted,117.805,26.405,,,,,2025-06-01 09:00\n"
                           "H2,E0102,,submitted,117.805,26.405,,,,,2025-06-01 10:00\n")

    def broken(*args, **kwargs):
        raise connection.Database.errors.CheckViolation("the timeline refused")

    monkeypatch.setattr(fast_module.timeline, "insert_from_select", broken)
    report = import_appeals(AppealImportParams(path=path, columns=MAP, commit=True))
    assert not report.ok and "nothing was written" in report.failure
    assert report.created == [] and not report.committed
    assert stored() == ([], [], [])


def test_a_nul_byte_is_refused_and_leaves_nothing(tmp_path, city):
    path = write(tmp_path, "H1,E0102,,submitted,117.805,26.405,,,a\x00b,,2025-06-01 09:00\n")
    ref, fast, ref_stored, fast_stored = both(path, commit=True)
    assert not ref["ok"] and not fast["ok"]  # the database refuses the text (both paths)
    assert fast_stored == ref_stored == ([], [], [])


# --- the pieces --------------------------------------------------------------------------------


def test_strip_is_str_strip_for_every_character():
    chars = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    cells = np.array([f"{c}x{c}" for c in chars] + ["", " ", "\u3000 a \t"], dtype=object)
    assert strip(cells).tolist() == [c.strip() for c in cells.tolist()]


def test_binary_copy_round_trips_every_kind_of_field():
    n = 5
    text = np.array(["", "a", "长的文字\t\n\\", "x" * 300, "é"], dtype=object)
    ints = np.array([0, -1, 2**40, 7, -(2**40)])
    floats = np.array([0.5, np.nan, -1e300, 3.0, np.inf])
    when = np.array(["2000-01-01T00:00:00", "1999-12-31T23:59:59.999999", "2025-06-01T01:02:03",
                     "1970-01-01", "2262-01-01"], dtype="datetime64[us]")
    rows = cb.CopyRows(n)
    rows.fixed(ints, "int8", null=ints == 7)
    rows.fixed(floats, "float8", null=np.isnan(floats))
    rows.text(text, null=np.array([False, False, False, True, False]))
    rows.fixed(cb.timestamps(when.astype("datetime64[ns]")), "timestamptz")
    rows.fixed(cb.ewkb_points(np.full(n, 117.5), np.arange(n) * 1.0), "geometry",
               null=ints < 0)
    words = np.array(["", "a", "长的文字", "x" * 300, "é"], dtype=object)
    rows.segments([cb.Blob.const(b"\x01{\"row\": ", n), cb.Blob.of_digits(ints),
                   cb.Blob.const(b", \"w\": \"", n), cb.Blob.of_strings(words),
                   cb.Blob.const(b"\"}", n)])
    with connection.cursor() as cursor:
        raw = cursor.cursor
        raw.execute("CREATE TEMP TABLE _t (i bigint, f float8, t text, at timestamptz,"
                    " g geometry(Point, 4326), j jsonb)")
        with raw.copy("COPY _t FROM STDIN (FORMAT BINARY)") as copy:
            for chunk in rows.chunks(size=2):
                copy.write(chunk)
        raw.execute("SELECT i, f, t, at, ST_AsText(g), j::text FROM _t")
        got = raw.fetchall()
    assert [r[0] for r in got] == [0, -1, 2**40, None, -(2**40)]
    assert [r[1] for r in got] == [0.5, None, -1e300, 3.0, float("inf")]
    assert [r[2] for r in got] == ["", "a", "长的文字\t\n\\", None, "é"]
    assert [r[3] for r in got] == [dt.datetime.fromisoformat(str(w)).replace(tzinfo=dt.UTC)
                                   for w in when.tolist()]
    assert [r[4] for r in got] == ["POINT(117.5 0)", None, "POINT(117.5 2)", "POINT(117.5 3)",
                                   None]
    assert [json.loads(r[5]) for r in got] == [{"row": int(i), "w": w} for i, w in zip(
        ints, words, strict=True)]


# --- the index rebuild of large batches --------------------------------------------------------


def appeal_indexes() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes"
                       " WHERE tablename = 'layers_appeal' ORDER BY indexname")
        return cursor.fetchall()


def test_a_large_batch_rebuilds_the_plain_indexes_and_stores_the_same(tmp_path, city,
                                                                      monkeypatch):
    monkeypatch.setattr(fast_module, "REBUILD_MIN_ROWS", 1)
    monkeypatch.setattr(fast_module, "REBUILD_MIN_SHARE", 0.0)
    before = appeal_indexes()
    path = write(tmp_path, BAD_ROWS.splitlines(keepends=True)[0]
                 + "H2,E0505,,closed,117.795,26.40,,,,,2025-06-01 10:00\n"
                 + "H3,L0301,,accepted,,,,洋坊新村9幢,,,2025-06-02 08:00\n")
    fast_module.last_stages.clear()
    ref, fast, ref_stored, fast_stored = both(path, commit=True)
    assert "index builds" in fast_module.last_stages
    assert fast == ref and fast["committed"] and fast_stored == ref_stored
    assert appeal_indexes() == before  # every index is back, as it was


def test_a_refusal_after_the_indexes_were_dropped_leaves_them(tmp_path, city, monkeypatch):
    monkeypatch.setattr(fast_module, "REBUILD_MIN_ROWS", 1)
    monkeypatch.setattr(fast_module, "REBUILD_MIN_SHARE", 0.0)
    before = appeal_indexes()

    def broken(*args, **kwargs):
        raise connection.Database.errors.CheckViolation("the timeline refused")

    monkeypatch.setattr(fast_module.timeline, "insert_from_select", broken)
    path = write(tmp_path, BAD_ROWS.splitlines(keepends=True)[0])
    report = import_appeals(AppealImportParams(path=path, columns=MAP, commit=True))
    assert not report.ok and stored() == ([], [], [])
    assert appeal_indexes() == before


def test_a_row_a_foreign_key_refuses_during_the_rebuild_leaves_nothing(tmp_path, city,
                                                                       monkeypatch):
    monkeypatch.setattr(fast_module, "REBUILD_MIN_ROWS", 1)
    monkeypatch.setattr(fast_module, "REBUILD_MIN_SHARE", 0.0)
    before = appeal_indexes()
    real = fast_module._copy_rows

    def dangling(*args, **kwargs):
        rows = args[0]
        rows.category_id[:] = 999_999  # no such category: the foreign key must refuse it
        return real(*args, **kwargs)

    monkeypatch.setattr(fast_module, "_copy_rows", dangling)
    path = write(tmp_path, BAD_ROWS.splitlines(keepends=True)[0])
    report = import_appeals(AppealImportParams(path=path, columns=MAP, commit=True))
    assert not report.ok and "foreign key" in report.failure
    assert stored() == ([], [], []) and appeal_indexes() == before


# --- XLSX --------------------------------------------------------------------------------------


def test_an_xlsx_export_reads_and_imports_as_the_reference(tmp_path, city):
    openpyxl = pytest.importorskip("openpyxl")
    from importers.hotline_read import open_table
    from importers.hotline_rows import COLUMNS, REQUIRED
    from importers.tables import Table

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(MAP.values()))
    sheet.append(["H1", "E0102", None, "submitted", 117.805, 26.405, None, None, " 垃圾 ",
                  13800000000, "2025-06-01 09:00"])
    sheet.append([2, "E0505", "wechat", "closed", 117.8, 26.4, "EPSG:4326", None, 12.5, None,
                  dt.datetime(2025, 6, 1, 10, 30)])
    sheet.append(["H3", "L0301", None, "accepted", None, None, None, "洋坊新村9幢", None, None,
                  dt.datetime(2025, 6, 2, 8, 0, 15)])
    sheet.append(["H4", "E0102", None, "submitted", "117.805", "26.405", None, None, True, None,
                  "2025-06-02T08:00:00+08:00"])
    path = tmp_path / "12345.xlsx"
    book.save(path)
    params = AppealImportParams(path=path, columns=MAP)
    fast = open_table(params, COLUMNS, REQUIRED)
    ref = Table.open(params, COLUMNS, REQUIRED)
    for key in COLUMNS:
        assert fast.column(key).tolist() == ref.column(key).tolist(), key
    assert fast.rows.tolist() == ref.rows.tolist()
    ref_report, fast_report, ref_stored, fast_stored = both(path, commit=True)
    assert fast_report == ref_report and fast_report["ok"]
    assert fast_stored == ref_stored


# --- foreign keys checked set-based in a large batch -------------------------------------------


def appeal_keys() -> list[tuple[str, str, str]]:
    """The foreign keys of the appeals and their timeline rows: table, name, definition."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
                       " FROM pg_constraint WHERE contype = 'f' AND conrelid IN"
                       " ('layers_appeal'::regclass, 'layers_appealevent'::regclass)"
                       " ORDER BY 1, 2")
        return cursor.fetchall()


@pytest.fixture(params=[("layers_appeal",), None], ids=["keys to appeals", "every key"])
def large_batch(request, monkeypatch):
    """Every batch is large (keys dropped and added back, indexes rebuilt); KEYS_TO as given."""
    monkeypatch.setattr(fast_module, "REBUILD_MIN_ROWS", 1)
    monkeypatch.setattr(fast_module, "REBUILD_MIN_SHARE", 0.0)
    monkeypatch.setattr(fast_module, "KEYS_TO", request.param)
    return request.param


def test_a_large_batch_adds_every_key_back_as_it_was(tmp_path, city, large_batch):
    before = appeal_keys()
    assert all("DEFERRABLE INITIALLY DEFERRED" in d for _t, _n, d in before)
    path = write(tmp_path, BAD_ROWS.splitlines(keepends=True)[0]
                 + "H2,E0505,,closed,117.795,26.40,,,,,2025-06-01 10:00\n")
    fast_module.last_stages.clear()
    ref, fast, ref_stored, fast_stored = both(path, commit=True)
    assert "add foreign keys (set-based checks)" in fast_module.last_stages
    assert fast == ref and fast["committed"] and fast_stored == ref_stored
    assert appeal_keys() == before  # same names, same definitions


def test_a_dangling_appeal_of_a_timeline_row_fails_the_large_batch(tmp_path, city, large_batch,
                                                                  monkeypatch):
    """The timeline rows' key to the appeals is dropped in every large batch: only adding it
    back can catch a row pointing nowhere — and must, with nothing written."""
    before = appeal_keys()
    real = fast_module.timeline.insert_from_select

    def dangling(cursor, select, params=None):
        return real(cursor, select.replace("SELECT appeal_id,", "SELECT appeal_id + 10^9::int,"),
                    params)

    monkeypatch.setattr(fast_module.timeline, "insert_from_select", dangling)
    path = write(tmp_path, BAD_ROWS.splitlines(keepends=True)[0])
    report = import_appeals(AppealImportParams(path=path, columns=MAP, commit=True))
    assert not report.ok and not report.committed
    assert "layers_appealevent_appeal_id" in report.failure and "foreign key" in report.failure
    assert stored() == ([], [], []) and appeal_keys() == before


def test_a_dangling_category_fails_the_large_batch_with_every_key_set_based(tmp_path, city,
                                                                            monkeypatch):
    monkeypatch.setattr(fast_module, "REBUILD_MIN_ROWS", 1)
    monkeypatch.setattr(fast_module, "REBUILD_MIN_SHARE", 0.0)
    before = appeal_keys()
    real = fast_module._copy_rows

    def dangling(*args, **kwargs):
        args[0].category_id[:] = 999_999  # no such category
        return real(*args, **kwargs)

    monkeypatch.setattr(fast_module, "_copy_rows", dangling)
    path = write(tmp_path, BAD_ROWS.splitlines(keepends=True)[0])
    report = import_appeals(AppealImportParams(path=path, columns=MAP, commit=True,
                                               exclusive=True))
    assert not report.ok and "layers_appeal_category_id" in report.failure
    assert stored() == ([], [], []) and appeal_keys() == before
