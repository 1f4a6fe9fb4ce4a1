"""import_households: registers as communities keep them (CSV in UTF-8/BOM/GB18030, XLSX) →
dwellings, households, persons, residences and change-log rows; identifiers sealed; upserts by
the keyed hash; all or nothing, naming each rejected row; the importer's scope; the command."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools

import openpyxl
import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection

from geogrid.models import Post
from importers.households import HouseholdImportParams, import_households
from layers.people import identity
from layers.people.models import ChangeEvent, Dwelling, Household, Person, Residence
from tests.factories import assign, make_grid, make_user
from tests.layers.factories import COMMUNITY, SUB, A, B, C, box, make_city
from tests.layers.people.factories import (
    make_building,
    make_dwelling,
    make_household,
    make_person,
)

pytestmark = pytest.mark.django_db

COMMUNITY2 = SUB + "002"
HEADER = ["地址", "姓名", "身份证号", "与户主关系", "联系电话", "标签", "户别"]
_births = itertools.count()


def new_id(*, female: bool = False) -> str:
    """A valid resident ID number, different on every call (born 1940–2008)."""
    n = next(_births)
    birth = dt.date(1940, 1, 1) + dt.timedelta(days=n % 25_000)
    first17 = f"350427{birth:%Y%m%d}{2 * ((n // 25_000) % 500) + (0 if female else 1):03d}"
    return first17 + identity.check_digit(first17)


def bad_checksum(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


@pytest.fixture
def world():
    return build_world()


def build_world() -> dict:
    """The layers test city, a second community beside it, a building in each micro-grid and
    one in community 2; staff of each community (import, export) and a grid worker (neither)."""
    grids = make_city(with_staff=False)
    grids[COMMUNITY2] = make_grid(COMMUNITY2, parent=grids[SUB],
                                  boundary=box(117.825, 26.385, 117.83, 26.415), name="东门社区")
    buildings = {
        "a1": make_building(grids[A], 117.795, 26.395, number="1", units=2, households=40),
        "b2": make_building(grids[B], 117.805, 26.405, number="2", units=1, households=6),
        "c3": make_building(grids[C], 117.805, 26.395, estate="桂坞家园", number="3", units=1,
                            households=1),
        "e9": make_building(grids[COMMUNITY2], 117.827, 26.40, estate="东门小区", number="9",
                            units=1, households=4),
    }
    users = {"cs": make_user("grid_worker", username="cs"),
             "cs2": make_user("grid_worker", username="cs2"),
             "gw": make_user("grid_worker", username="gw")}
    assign(users["cs"], grids[COMMUNITY], Post.COMMUNITY_STAFF)
    assign(users["cs2"], grids[COMMUNITY2], Post.COMMUNITY_STAFF)
    assign(users["gw"], grids[A], Post.GRID_WORKER)
    return {"grids": grids, "buildings": buildings, "users": users}


def csv_bytes(rows: list[list[str]], header: list[str] = HEADER, encoding: str = "utf-8",
              title: str | None = None) -> bytes:
    out = io.StringIO()
    if title:
        out.write(title + "\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def write_csv(tmp_path, rows, name="register.csv", **kwargs):
    path = tmp_path / name
    path.write_bytes(csv_bytes(rows, **kwargs))
    return path


def run(path, **kwargs):
    return import_households(HouseholdImportParams(path=path, **kwargs))


def counts() -> dict[str, int]:
    """Rows of every table of the people layer."""
    return {m.__name__: m.objects.count() for m in apps.get_app_config("people").get_models()}


def rejected(report) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for r in report.rejected:
        out.setdefault(r.row, []).append(f"{r.field}: {r.message}")
    return out


def family(address: str, n: int = 3, *, tags: str = "", kind: str = "") -> list[list[str]]:
    """A head and n-1 members, the members' address cells empty (merged in the spreadsheet)."""
    relations = ["户主", "配偶", "子", "女", "母亲"]
    rows = [[address, "户主甲", new_id(), "户主", "13800000001", tags, kind]]
    rows += [["", f"成员{i}", new_id(female=i % 2 == 0), relations[i], "", "", ""]
             for i in range(1, n)]
    return rows


def many_households(n: int = 20) -> list[list[str]]:
    rows: list[list[str]] = []
    for k in range(n):
        rows += family(f"沙县区洋坊新村1幢{1 + k % 2}单元{(k // 2 + 1) * 100 + 1}室", 2)
    return rows


# --- a good register ----------------------------------------------------------------------------


def test_a_register_is_imported_sealed_and_re_imported_unchanged(tmp_path, world):
    head_id, spouse_id, child_id = new_id(), new_id(female=True), new_id()
    rows = [
        ["沙县区洋坊新村1幢1单元101室", "张建国", head_id, "户主", "138 1234 5678", "高龄",
         "家庭户"],
        ["", "李秀英", spouse_id.lower(), "配偶", "", "", ""],
        ["", "张小明", child_id, "子", "13912345678", "", ""],
        ["洋坊新村2幢301", "王五", new_id(), "本人", "", "独居、空巢", "流动户"],
        ["桂坞家园３号楼", "赵六", new_id(), "户主", "", "", ""],
    ]
    path = write_csv(tmp_path, rows, title="西门社区实有人口登记表（2025年）")
    before = counts()

    dry = run(path)
    assert dry.ok and not dry.committed and counts() == before
    assert dry.counts() == {"created": 3, "updated": 0, "unchanged": 0, "rejected": 0}
    assert dry.persons == {"created": 5, "updated": 0, "moved": 0, "unchanged": 0}
    assert dry.households == 3 and dry.grouping == "head" and dry.encoding == "utf-8"
    assert "would import (dry run): households 3 created" in dry.lines()[-1]

    report = run(path, commit=True)
    assert report.committed, report.lines()
    assert report.created[0] == "沙县区洋坊新村1幢1单元101室 (row 3)"
    assert report.dwellings_created == 3 and report.changes == 3
    b = world["buildings"]
    dwellings = {(d.building_id, d.unit_no, d.room_no): d for d in Dwelling.objects.all()}
    assert set(dwellings) == {(b["a1"].pk, 1, "101"), (b["b2"].pk, 0, "301"),
                              (b["c3"].pk, 0, "1")}
    assert dwellings[(b["a1"].pk, 1, "101")].floor == 1
    zhang = Household.objects.get(dwelling=dwellings[(b["a1"].pk, 1, "101")])
    assert zhang.tags == ["高龄"] and zhang.kind == "registered"
    assert zhang.contact_phone_masked == "138****5678"
    assert identity.open_value(zhang.contact_phone_cipher, identity.CONTACT_COLUMN) == \
        "13812345678"
    wang = Household.objects.get(dwelling=dwellings[(b["b2"].pk, 0, "301")])
    assert wang.tags == ["独居", "空巢"] and wang.kind == "floating"
    members = {r.person.name: r for r in zhang.residences.select_related("person")}
    assert {n: r.relation for n, r in members.items()} == {
        "张建国": "head", "李秀英": "spouse", "张小明": "child"}
    assert all(r.valid_to is None and r.presence == "both" for r in members.values())
    spouse = members["李秀英"].person
    assert spouse.id_hash == identity.id_hash(spouse_id)
    assert identity.open_value(spouse.id_cipher, identity.ID_COLUMN) == spouse_id
    assert spouse.id_masked == spouse_id[:3] + "*" * 11 + spouse_id[-4:]
    assert spouse.gender == "F" and spouse.birth_date == identity.birth_date_and_gender(
        spouse_id)[0]
    assert spouse.phone_cipher is None and spouse.phone_masked == ""
    events = ChangeEvent.objects.filter(source="import")
    assert sorted(e.kind for e in events) == ["move_in"] * 3
    assert events.get(household=zhang).diff["members"] == 3

    # No column of any people table holds an ID number or phone in the clear.
    secrets = [head_id, spouse_id, child_id, "13812345678", "13912345678", "13800000001"]
    with connection.cursor() as cursor:
        for model in apps.get_app_config("people").get_models():
            cursor.execute(f"SELECT t::text FROM {model._meta.db_table} t")
            text = "\n".join(row for (row,) in cursor.fetchall())
            assert not [s for s in secrets if s in text], model.__name__

    stored = counts()
    again = run(path, commit=True)
    assert again.committed
    assert again.counts() == {"created": 0, "updated": 0, "unchanged": 3, "rejected": 0}
    assert again.persons == {"created": 0, "updated": 0, "moved": 0, "unchanged": 5}
    assert again.changes == 0 and again.dwellings_created == 0
    assert counts() == stored


# --- one bad row --------------------------------------------------------------------------------

# Each: where the bad row goes (index into the rows) → the row as written, and what the report
# must say about it.
BAD_ROWS = {
    "bad ID checksum": (lambda: ["", "错号", bad_checksum(new_id()), "子", "", "", ""],
                        "身份证号", "the check digit is wrong"),
    "ID not 18 characters": (lambda: ["", "短号", "35042719600517", "子", "", "", ""],
                             "身份证号", "must be 17 digits"),
    "no ID number": (lambda: ["", "无号", "", "子", "", "", ""], "身份证号", "empty"),
    "birth in the future": (lambda: ["", "未来", future_id(), "子", "", "", ""], "身份证号",
                            "in the future"),
    "unknown building": (lambda: ["沙县区无此小区8幢1单元101室", "无楼", new_id(), "户主", "", "",
                                  ""], "地址", "unknown building"),
    "unknown building number": (lambda: ["沙县区洋坊新村99幢1单元101室", "无楼", new_id(), "户主",
                                         "", "", ""], "地址", "no building of that number"),
    "no unit in a building with units": (lambda: ["沙县区洋坊新村1幢909室", "无单元", new_id(),
                                                  "户主", "", "", ""], "单元", "which unit?"),
    "no room": (lambda: ["沙县区洋坊新村1幢2单元", "无室", new_id(), "户主", "", "", ""], "室",
                "no room"),
    "unknown relation": (lambda: ["", "关系", new_id(), "邻居", "", "", ""], "与户主关系",
                         "not a relation"),
    "unknown tag": (lambda: ["", "标签", new_id(), "子", "", "富裕", ""], "标签", "unknown tag"),
    "bad phone": (lambda: ["", "电话", new_id(), "子", "call me", "", ""], "联系电话",
                  "not a phone number"),
    "NUL byte": (lambda: ["", "空\x00字", new_id(), "子", "", "", ""], "姓名",
                 "control character"),
    "name too long": (lambda: ["", "名" * 51, new_id(), "子", "", "", ""], "姓名",
                      "51 characters, at most 50"),
    "unknown household kind": (lambda: ["", "户别", new_id(), "子", "", "", "大户"], "户别",
                               "not a household kind"),
}


def future_id() -> str:
    first17 = f"350427{dt.date.today().year + 1}0101001"
    return first17 + identity.check_digit(first17)


@pytest.mark.parametrize("kind", sorted(BAD_ROWS))
def test_one_bad_row_writes_nothing_and_is_named(tmp_path, world, kind):
    make_household(make_dwelling(world["buildings"]["a1"], "901", unit_no=2), 2)  # on record
    make_bad, column, fragment = BAD_ROWS[kind]
    rows = many_households(20)
    bad = make_bad()
    if bad[0]:
        rows.insert(20, bad)  # a household of its own, between two others: row 22
    else:
        rows.insert(21, bad)  # a member of the eleventh household: row 23
    path = write_csv(tmp_path, rows)
    before = counts()
    for commit in (False, True):
        report = run(path, commit=commit)
        assert not report.ok and not report.committed
        assert counts() == before
        problems = rejected(report)
        bad_row = 22 if bad[0] else 23
        assert list(problems) == [bad_row], problems
        assert any(p.startswith(column + ":") and any(f in p for f in fragment.split("|"))
                   for p in problems[bad_row]), problems
        assert report.created == [] and "nothing imported" in report.lines()[-1]


def test_the_same_person_twice(tmp_path, world):
    twice = new_id()
    rows = family("沙县区洋坊新村1幢1单元101室", 2) + family("沙县区洋坊新村1幢1单元102室", 2)
    rows[1][2] = twice  # row 3: in household 1
    rows[3][2] = twice  # row 5: in household 2
    rows.append(["", "重复", twice, "女", "", "", ""])  # row 6: household 2 again
    report = run(write_csv(tmp_path, rows), commit=True)
    assert rejected(report) == {
        5: ["身份证号: the same person is also in another household (row 3)"],
        6: ["身份证号: the same person is also in another household (row 3)"]}
    rows[1][2] = new_id()
    report = run(write_csv(tmp_path, rows), commit=True)
    assert rejected(report) == {
        6: ["身份证号: the same person appears twice in this household (row 5)"]}
    assert counts()["Person"] == 0


def test_rows_before_the_first_head_and_headless_household_numbers(tmp_path, world):
    rows = [["沙县区洋坊新村1幢1单元101室", "无主", new_id(), "子", "", "", ""],
            *family("沙县区洋坊新村1幢1单元102室", 2)]
    report = run(write_csv(tmp_path, rows))
    assert list(rejected(report)) == [2]
    assert "before the first head" in rejected(report)[2][0]

    header = ["户号", *HEADER]
    rows = [["H1", "沙县区洋坊新村1幢1单元101室", "甲", new_id(), "户主", "", "", ""],
            ["H2", "沙县区洋坊新村1幢1单元101室", "乙", new_id(), "子", "", "", ""]]
    report = run(write_csv(tmp_path, rows, header=header))
    assert rejected(report) == {3: ["与户主关系: household H2 has no head (户主)"]}


# --- grouping, encodings, XLSX ------------------------------------------------------------------


def test_household_numbers_split_one_dwelling_and_columns_place_rows(tmp_path, world):
    header = ["户号", "小区", "楼栋", "单元", "室", "姓名", "公民身份号码", "与户主的关系",
              "手机号码", "人户状态"]
    rows = [
        ["1", "洋坊新村", "1幢", "2", "502", "房东", new_id(), "户主", "", "人户一致"],
        ["2", "洋坊新村", "1幢", "二单元", "0502室", "租客甲", new_id(), "户主", "", "人在户不在"],
        ["1", "洋坊新村", "1幢", "2", "502", "房东妻", new_id(), "配偶", "", ""],
        ["2", "洋坊新村", "1幢", "2", "502", "租客乙", new_id(), "其他", "", "人在户不在"],
    ]
    report = run(write_csv(tmp_path, rows, header=header), commit=True)
    assert report.committed, report.lines()
    assert report.grouping == "household_no" and report.households == 2
    dwelling = Dwelling.objects.get()
    assert (dwelling.unit_no, dwelling.room_no, dwelling.floor) == (2, "502", 5)
    groups = sorted(sorted((r.person.name, r.relation, r.presence) for r in h.residences.all())
                    for h in Household.objects.filter(dwelling=dwelling))
    assert groups == [
        [("房东", "head", "both"), ("房东妻", "spouse", "both")],
        [("租客乙", "other", "unregistered"), ("租客甲", "head", "unregistered")],
    ]

    rows.append(["1", "洋坊新村", "1幢", "2", "502", "又一户主", new_id(), "户主", "", ""])
    report = run(write_csv(tmp_path, rows, header=header), commit=True)
    assert rejected(report) == {
        6: ["与户主的关系: a second head (户主) in this household; the head is in row 2"]}


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig"])
def test_gb18030_and_bom_csv(tmp_path, world, encoding):
    rows = family("沙县区洋坊新村1幢1单元101室", 2, tags="高龄")
    path = tmp_path / "register.csv"
    path.write_bytes(csv_bytes(rows, encoding=encoding))
    report = run(path, commit=True)
    assert report.committed and report.encoding == encoding, report.lines()
    assert Household.objects.get().tags == ["高龄"]
    assert set(Person.objects.values_list("name", flat=True)) == {"户主甲", "成员1"}


def test_xlsx_with_a_title_row(tmp_path, world):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["西门社区户籍人口登记表"])
    sheet.append(["Address", "Name", "ID number", "Relation", "Phone", "Tags"])
    head = new_id()
    sheet.append(["沙县区洋坊新村1幢1单元101室", "张三", head, "head", 13812345678, ""])
    sheet.append([None, "张四", new_id(), "son", None, "残疾"])
    sheet.append(["沙县区洋坊新村2幢101室", "李五", float(new_id()), "head", None, None])
    path = tmp_path / "register.xlsx"
    book.save(path)

    report = run(path, commit=True)
    assert rejected(report) == {5: [
        "ID number: ID number was stored as a number, so its last digits are lost: format the "
        "column as text and type the numbers again"]}
    assert counts()["Person"] == 0

    sheet.delete_rows(5)
    book.save(path)
    report = run(path, commit=True)
    assert report.committed, report.lines()
    assert report.encoding == "xlsx" and report.persons["created"] == 2
    zhang = Person.objects.get(id_hash=identity.id_hash(head))
    assert zhang.phone_masked == "138****5678"
    assert Household.objects.get().tags == ["残疾"]


def test_unreadable_files_fail_with_one_line(tmp_path, world):
    path = tmp_path / "register.csv"
    path.write_bytes("姓名,电话\n张三,1\n".encode())
    report = run(path)
    assert not report.ok and "no header row found" in report.failure
    path.write_bytes("姓名,身份证号,联系电话\n张三,1,2\n".encode())
    assert "missing columns 与户主关系 (relation), 地址 (address) or 楼栋 (building)" in (
        run(path).failure)
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    assert ".xls format cannot be read" in run(tmp_path / "old.xls").failure


# --- upserts: updates, moves, the head on record ------------------------------------------------


def test_updates_and_moves_of_people_on_record(tmp_path, world):
    b = world["buildings"]
    old = make_household(make_dwelling(b["a1"], "101", unit_no=1), 2)  # head + child
    gone = make_household(make_dwelling(b["a1"], "201", unit_no=1), 1)  # one person
    old_head, old_child = (r.person for r in old.residences.order_by("id"))
    mover = gone.residences.get().person
    head_id = identity.open_value(old_head.id_cipher, identity.ID_COLUMN)
    child_id = identity.open_value(old_child.id_cipher, identity.ID_COLUMN)
    mover_id = identity.open_value(mover.id_cipher, identity.ID_COLUMN)
    rows = [
        ["沙县区洋坊新村1幢1单元101室", "新名字", head_id, "户主", "13700000000", "空巢", ""],
        ["", old_child.name, child_id, "子", "", "", ""],
        ["", "搬来的", mover_id, "其他", "", "", ""],
        ["", "新生儿", new_id(), "孙子", "", "", ""],
    ]
    before = ChangeEvent.objects.count()
    report = run(write_csv(tmp_path, rows), commit=True, actor=world["users"]["cs"])
    assert report.committed, report.lines()
    assert report.counts() == {"created": 0, "updated": 1, "unchanged": 0, "rejected": 0}
    assert report.persons == {"created": 1, "updated": 1, "moved": 1, "unchanged": 1}
    assert report.households_ended == 1 and report.changes == 2
    old_head.refresh_from_db()
    assert old_head.name == "新名字" and old_head.phone_masked == "137****0000"
    assert old_head.version == 2
    old.refresh_from_db()
    assert old.tags == ["空巢"] and old.contact_phone_masked == "137****0000"
    assert sorted(old.residences.filter(valid_to__isnull=True)
                  .values_list("person__name", flat=True)) == sorted(
        ["新名字", old_child.name, "搬来的", "新生儿"])
    gone.refresh_from_db()
    assert gone.status == "moved_out" and gone.ended_on is not None
    closed = Residence.objects.get(person=mover, household=gone)
    assert closed.valid_to is not None
    events = {e.household_id: e for e in ChangeEvent.objects.order_by("id")[before:]}
    assert events[gone.pk].kind == "move_out" and events[gone.pk].diff["left"] == [mover.pk]
    assert events[old.pk].kind == "member_added"
    assert events[old.pk].reported_by == world["users"]["cs"]
    diff = events[old.pk].diff
    assert diff["moved_in"] == [mover.pk] and diff["names"] == [old_head.pk, mover.pk]
    assert diff["contact_phone"] == ["139****1111", "137****0000"]
    assert "13700000000" not in str(diff) and head_id not in str(diff)


def test_a_new_head_needs_the_old_one_in_the_register(tmp_path, world):
    old = make_household(make_dwelling(world["buildings"]["a1"], "101", unit_no=1), 2)
    head, child = (r.person for r in old.residences.order_by("id"))
    child_id = identity.open_value(child.id_cipher, identity.ID_COLUMN)
    head_id = identity.open_value(head.id_cipher, identity.ID_COLUMN)
    rows = [["沙县区洋坊新村1幢1单元101室", child.name, child_id, "户主", "", "", ""]]
    report = run(write_csv(tmp_path, rows), commit=True)
    assert list(rejected(report)) == [2]
    assert f"head on record (person {head.pk}) is not in this register" in (
        rejected(report)[2][0])

    rows.append(["", head.name, head_id, "父亲", "", "", ""])  # the head steps down
    report = run(write_csv(tmp_path, rows), commit=True)
    assert report.committed, report.lines()
    relations = dict(old.residences.filter(valid_to__isnull=True)
                     .values_list("person_id", "relation"))
    assert relations == {child.pk: "head", head.pk: "parent"}
    event = ChangeEvent.objects.get(household=old, source="import")
    assert event.kind == "head_changed" and event.diff["head"] == [head.pk, child.pk]


def test_a_deceased_person_is_refused(tmp_path, world):
    number = new_id()
    make_person("故人", id_number=number, died_on=dt.date(2024, 3, 1))
    report = run(write_csv(tmp_path, [["沙县区洋坊新村1幢1单元101室", "故人", number, "户主",
                                       "", "", ""]]), commit=True)
    assert rejected(report) == {2: ["身份证号: this person is recorded as deceased (2024-03-01)"]}


# --- scope --------------------------------------------------------------------------------------


def test_the_importers_scope(tmp_path, world):
    users = world["users"]
    rows = (family("沙县区洋坊新村1幢1单元101室", 2)
            + family("东门小区9幢301室", 1))  # community 2
    path = write_csv(tmp_path, rows)
    before = counts()

    report = run(path, commit=True, actor=users["cs"])
    assert list(rejected(report)) == [4]
    assert "outside the grids where you may import" in rejected(report)[4][0]

    report = run(path, commit=True, actor=users["cs2"])  # another community's staff
    assert list(rejected(report)) == [2, 3]
    assert counts() == before

    report = run(path, actor=users["gw"])  # a grid worker may not import at all
    assert "gw holds no post that may import household registers" in report.failure

    assert run(path, commit=True).committed  # the system (command line without --as): all

    # A person living in community 2 moves into community 1: the register of community 1
    # cannot take them out of a household its staff do not keep.
    e9_head = Person.objects.get(residences__household__dwelling__building__estate_or_road=(
        "东门小区"))
    number = identity.open_value(e9_head.id_cipher, identity.ID_COLUMN)
    rows = [["沙县区洋坊新村1幢1单元102室", "搬家", number, "户主", "", "", ""]]
    report = run(write_csv(tmp_path, rows), commit=True, actor=users["cs"])
    assert list(rejected(report)) == [2]
    assert f"in grid {COMMUNITY2} outside your scope" in rejected(report)[2][0]


# --- the command --------------------------------------------------------------------------------


def test_the_command(tmp_path, world, capsys):
    path = write_csv(tmp_path, family("沙县区洋坊新村1幢1单元101室", 2))
    call_command("import_households", str(path))
    out = capsys.readouterr().out
    assert "would import (dry run): households 1 created" in out
    assert Household.objects.count() == 0

    call_command("import_households", str(path), "--commit", "--as", "cs")
    assert Household.objects.count() == 1
    assert ChangeEvent.objects.get().reported_by == world["users"]["cs"]

    with pytest.raises(CommandError, match="no active user"):
        call_command("import_households", str(path), "--as", "nobody")
    bad = write_csv(tmp_path, [["沙县区洋坊新村1幢1单元101室", "错", bad_checksum(new_id()),
                                "户主", "", "", ""]], name="bad.csv")
    with pytest.raises(CommandError, match="1 problem; nothing was written"):
        call_command("import_households", str(bad), "--commit")
    assert "row 2: 身份证号:" in capsys.readouterr().out


def test_the_example_of_the_docs_imports(tmp_path, world):
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[2] / "docs" / "people-import.md").read_text()
    example = docs.split("An example (`register.csv`):\n\n```\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "register.csv"
    path.write_text(example, encoding="utf-8")
    report = run(path, commit=True)
    assert report.committed, report.lines()
    assert report.counts()["created"] == 3 and report.persons["created"] == 5


def test_a_column_named_by_the_mapping_wins_over_an_alias(tmp_path, world):
    header = ["地址", "姓名", "身份证号", "与户主关系", "联系电话", "本人手机"]
    rows = [["沙县区洋坊新村1幢1单元101室", "张三", new_id(), "户主", "05981234567",
             "13812345678"]]
    report = run(write_csv(tmp_path, rows, header=header), commit=True,
                 columns={"phone": "本人手机"})
    assert report.committed, report.lines()
    assert report.ignored_columns == ["联系电话"]
    assert Person.objects.get().phone_masked == "138****5678"
    report = run(write_csv(tmp_path, rows, header=header), columns={"nickname": "x"})
    assert report.failure.startswith("no column of ours is called nickname")
