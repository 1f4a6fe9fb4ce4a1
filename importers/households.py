"""Household registers (实有人口/户籍登记表) as communities keep them → dwellings, households,
persons and residences: read → validate → locate → write, all or nothing, a dry run unless
`commit` (docs/people-import.md).

The file: CSV (UTF-8, UTF-8 with a byte-order mark, GB18030) or XLSX, one row per person, with
Chinese column names as communities write them or English ones (COLUMNS); title lines above the
header are skipped (importers.register_reader). A row is placed by its address text (地址) or by
building/unit/room columns (楼栋 — with 小区 before it when given — 单元, 室); a member row whose
address cells are all empty takes the row above's, as merged cells in a spreadsheet read (and
a problem with that address is reported once, on the row that has it).

1. validate, row by row at the edge: text longer than its database column, control characters
   (NUL …), the name, the ID number (GB 11643 checksum and birth date for resident ID cards,
   layers.people.identity), the phone, the relation to the head (户主, 配偶, 子, …), tags
   (settings GEOGRID["HOUSEHOLD_TAGS"]), household kind (户别), presence (人户状态) and
   population kind. A row without an ID number is rejected: a person is found again by the keyed
   hash of it, and someone without one yet (a newborn) is added by a reported birth.
2. locate: each distinct address text is read once by the building geocoder
   (layers.buildings.geocoding, `AddressIndex.lookup_detail`: building, unit, floor, room); the
   unit and room columns, when filled, win over what the text says. No building → the row is
   rejected with the geocoder's reason. A building with one unit gets unit 0 when none is
   written; a single-household building gets room 1 when none is written; otherwise a missing
   unit or room is rejected. Rows of buildings outside the importing user's scope (posts holding
   Capability.IMPORT, geogrid.capabilities) are rejected. Rows are then grouped into households:
   by (dwelling, 户号) when the file has a household-number column, else a household starts at
   each 户主 row and takes the rows below it (which must be in the same dwelling). Each household
   has exactly one head and one household kind; a person (ID number) appears once in the file —
   a second row of the same person is rejected, naming the first and whether it is in another
   household.
3. write, one transaction (importers.report.write_atomically; rolled back for a dry run), set-
   based: the file's ID hashes and dwellings go into temporary tables (COPY), each joined once
   with what is on record; new rows get ids from their sequences in one call
   and are COPYed in; changed rows are updated from temporary tables — no query per row. A long
   register (BULK_ROWS) is joined without nested loops and the tables are analysed after it.
   - Persons are upserted by the keyed hash of the ID number: a new one is sealed (ciphertext +
     hash + mask; no plaintext identifier is stored); a known one gets the file's name, phone and
     population kind where the file has them (an empty cell leaves the stored value).
   - Dwellings are upserted by (building, unit, room).
   - A file household is the active household on record in its dwelling where its head lives,
     else where most of its members live, else a new household. Its kind and contact phone (the
     head's) follow the file where given; its tags are the union of its rows' tags when the file
     has a tags column (so an emptied cell removes a tag).
   - Residences (one open residence per person, a database constraint): a member already living
     there keeps the residence (relation and presence updated); a member with no open residence
     moves in; a member living in another household is moved — the old residence closed on the
     effective date, a new one opened, the old household gets a member-left change and ends
     (moved out) when nobody is left in it. The register is authoritative within the importer's
     scope only: when that other household lies outside it, the row is rejected, and the move has
     to be recorded by that grid's staff. Members on record who are not in the file are left as
     they are (counted in the report: the change log records move-outs and deaths, a register is
     not one); but when such a member is the head on record and the file names another head, the
     head row is rejected until that move-out or death is recorded. A person recorded as deceased
     is rejected.
   - One ChangeEvent (source import) per household created or changed: created → move_in;
     changed → the most telling kind of head_changed, member_added, member_left, tags_changed,
     contact_changed, with every change in its `diff` (person ids, masked phones; never an
     identifier in the clear).

The report lists households as created / updated / unchanged (keyed by dwelling and first row),
counts persons created / updated / moved / unchanged, and names every rejected row, its column
and why. Importing the same file twice changes nothing the second time.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from psycopg.types.json import Jsonb

from geogrid import pii
from geogrid.capabilities import Capability, Grants
from importers.params import ImportParams
from importers.register_reader import AUTO, RawTable, cell_text, read_table
from importers.report import ImportFileError, ImportReport, write_atomically
from layers.buildings.geocoding import address_index
from layers.people import identity
from layers.people.models import ChangeEvent, Dwelling, Household, Person, Residence

# Our column → the names communities give it (compared without spaces, '*' or "(必填)").
COLUMNS: dict[str, tuple[str, ...]] = {
    "address": ("地址", "住址", "现住址", "居住地址", "现居住地址", "家庭住址", "address"),
    "estate": ("小区", "小区名称", "estate"),
    "building": ("楼栋", "楼号", "楼幢", "幢号", "building"),
    "unit": ("单元", "单元号", "unit"),
    "room": ("室", "室号", "房号", "房间号", "户室号", "room"),
    "household_no": ("户号", "户编号", "household_no", "household"),
    "name": ("姓名", "name"),
    "id_type": ("证件类型", "id_type"),
    "id_number": ("身份证号", "身份证号码", "公民身份号码", "证件号码", "id_number", "ID number"),
    "relation": ("与户主关系", "与户主的关系", "关系", "relation"),
    "phone": ("联系电话", "电话", "电话号码", "手机", "手机号", "手机号码", "phone"),
    "tags": ("标签", "人群标签", "重点人群", "tags"),
    "kind": ("户别", "户类型", "户类别", "kind"),
    "presence": ("人户状态", "居住状态", "presence"),
    "population_kind": ("人口类型", "人员类型", "population_kind"),
}
REQUIRED = ("name", "id_number", "relation")  # and address or building
PLACE_COLUMNS = ("address", "estate", "building", "unit", "room")

R = Residence.Relation
RELATIONS: dict[str, tuple[str, ...]] = {
    R.HEAD: ("户主", "本人", "head", "self"),
    R.SPOUSE: ("配偶", "妻", "妻子", "夫", "丈夫", "老伴", "spouse", "wife", "husband"),
    R.CHILD: ("子", "女", "儿子", "女儿", "子女", "长子", "次子", "三子", "长女", "次女", "三女",
              "独生子", "独生女", "养子", "养女", "继子", "继女", "child", "son", "daughter"),
    R.PARENT: ("父亲", "母亲", "父", "母", "父母", "公公", "婆婆", "岳父", "岳母", "继父", "继母",
               "parent", "father", "mother"),
    R.GRANDCHILD: ("孙子", "孙女", "外孙", "外孙子", "外孙女", "孙子女", "grandchild",
                   "grandson", "granddaughter"),
    R.GRANDPARENT: ("祖父", "祖母", "祖父母", "外祖父", "外祖母", "爷爷", "奶奶", "外公", "外婆",
                    "grandparent"),
    R.SIBLING: ("兄", "弟", "姐", "妹", "兄弟", "姐妹", "兄弟姐妹", "哥哥", "弟弟", "姐姐", "妹妹",
                "sibling", "brother", "sister"),
    R.TENANT: ("租户", "租客", "承租人", "tenant"),
    R.OTHER: ("其他", "其他亲属", "非亲属", "儿媳", "女婿", "侄子", "侄女", "外甥", "外甥女",
              "保姆", "other"),
}
KINDS: dict[str, tuple[str, ...]] = {
    Household.Kind.REGISTERED: ("家庭户", "户籍户", "家庭", "registered"),
    Household.Kind.COLLECTIVE: ("集体户", "collective"),
    Household.Kind.FLOATING: ("流动户", "流动", "流动人口户", "非户籍", "floating"),
}
PRESENCES: dict[str, tuple[str, ...]] = {
    Residence.Presence.BOTH: ("人户一致", "both"),
    Residence.Presence.ABSENT: ("户在人不在", "absent"),
    Residence.Presence.UNREGISTERED: ("人在户不在", "unregistered"),
}
POPULATION_KINDS: dict[str, tuple[str, ...]] = {
    Person.PopulationKind.REGISTERED: ("户籍人口", "户籍", "registered"),
    Person.PopulationKind.FLOATING: ("流动人口", "流动", "floating"),
    Person.PopulationKind.FOREIGN: ("境外人员", "境外", "外籍", "foreign"),
}
ID_TYPES: dict[str, tuple[str, ...]] = {
    Person.IdType.RESIDENT_ID: ("居民身份证", "身份证", "resident_id"),
    Person.IdType.PASSPORT: ("护照", "passport"),
    Person.IdType.HMT: ("港澳居民来往内地通行证", "台湾居民来往大陆通行证", "港澳台居民居住证",
                        "回乡证", "台胞证", "通行证", "hmt"),
}
# Plain values for the loops (an enum member looked up on its class is a descriptor call).
HEAD = R.HEAD.value
RESIDENT_ID = Person.IdType.RESIDENT_ID.value
PRESENT = Residence.Presence.BOTH.value
REGISTERED_PERSON = Person.PopulationKind.REGISTERED.value
REGISTERED_HOUSEHOLD = Household.Kind.REGISTERED.value
_TAG_SPLIT = re.compile(r"[、,，;；/|\s]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_OTHER_ID = re.compile(r"[A-Z0-9]{5,20}")
_ROOM = re.compile(r"[0-9A-Za-z][0-9A-Za-z-]*")
_CN = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
       "八": 8, "九": 9}
SINGLE_ROOM = "1"  # the dwelling of a single-household building when no room is written
BULK_ROWS = 5_000  # a register this long is written with bulk joins and re-analysed after


@lru_cache(maxsize=8192)
def _key(text: str) -> str:
    """A header or value as compared: NFKC, no spaces, no required-marks, lower case."""
    t = unicodedata.normalize("NFKC", text)
    t = re.sub(r"\s+|\*|\(必填\)|\(选填\)", "", t)
    return t.lower()


def _lookup(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {_key(word): value for value, words in table.items() for word in words}


_RELATION = _lookup(RELATIONS)
_KIND = _lookup(KINDS)
_PRESENCE = _lookup(PRESENCES)
_POPULATION = _lookup(POPULATION_KINDS)
_ID_TYPE = _lookup(ID_TYPES)
_HEADER = _lookup(COLUMNS)


@dataclass
class HouseholdImportParams(ImportParams):
    actor: User | None = None  # the importing user (their IMPORT scope); None: the system
    columns: dict[str, str] = field(default_factory=dict)  # ours → the file's column name
    sheet: str | None = None
    encoding: str = AUTO  # CSV: auto = UTF-8 (with or without BOM), else GB18030
    source_name: str = ""  # the file's name as its user knows it (an upload's); default: path
    effective_date: dt.date | None = None  # of moves and changes; default: today (local)


@dataclass
class HouseholdImportReport(ImportReport):
    """created / updated / unchanged: households, keyed by dwelling and first row."""

    encoding: str = ""
    grouping: str = ""  # "household_no" (by the 户号 column) or "head" (a 户主 row starts one)
    households: int = 0  # households in the file
    persons: dict[str, int] = field(default_factory=dict)  # created/updated/moved/unchanged
    dwellings_created: int = 0
    changes: int = 0  # change-log rows written
    placed: dict[str, int] = field(default_factory=dict)  # rows by how the building was found
    left_as_they_are: int = 0  # members on record in the file's households, absent from it
    households_ended: int = 0  # other households every member of which moved into the file's
    ignored_columns: list[str] = field(default_factory=list)

    def summary(self) -> str:
        p = {k: self.persons.get(k, 0) for k in ("created", "updated", "moved", "unchanged")}
        return _(
            "%(file)s: %(n)d persons in %(h)d households — %(verb)s: households %(created)d "
            "created, %(updated)d updated, %(unchanged)d unchanged; persons %(pc)d created, "
            "%(pu)d updated, %(pm)d moved, %(pn)d unchanged; %(rejected)d rows rejected"
        ) % {"file": Path(self.path).name, "n": self.rows, "h": self.households,
             "verb": self.verdict(), **self.counts(), "pc": p["created"], "pu": p["updated"],
             "pm": p["moved"], "pn": p["unchanged"]}

    def details(self) -> list[str]:
        out = []
        if self.encoding:
            out.append(_("read as %(encoding)s; households by %(grouping)s")
                       % {"encoding": self.encoding, "grouping": self.grouping or "-"})
        if self.ignored_columns:
            out.append(_("columns not read: %(names)s")
                       % {"names": ", ".join(self.ignored_columns)})
        if self.ok:
            out.append(_("buildings found: %(how)s; dwellings created: %(n)d; change-log rows: "
                         "%(changes)d") % {"how": self.placed, "n": self.dwellings_created,
                                           "changes": self.changes})
            if self.left_as_they_are:
                out.append(_("%(n)d members on record are not in the file and were left as "
                             "they are (record their move-out)") % {"n": self.left_as_they_are})
            if self.households_ended:
                out.append(_("%(n)d other households ended: all their members moved")
                           % {"n": self.households_ended})
        return out


@dataclass(eq=False)
class Member:
    """One row of the file: a person in a household."""

    row: int
    name: str
    id_type: str
    id_number: str  # normalised; "" when the cell was bad
    relation: str  # a Residence.Relation; "" when the cell was bad
    phone: str  # digits (and '+'), "" for none
    tags: tuple[str, ...]
    kind: str  # a Household.Kind or ""
    presence: str  # a Residence.Presence or "" (not given)
    population_kind: str  # a Person.PopulationKind or ""
    household_no: str
    place: str  # the text the building is read from
    unit_text: str  # the unit column ("" when empty)
    room_text: str
    id_hash: bytes = b""
    building_id: int | None = None
    unit_no: int | None = None
    room_no: str = ""
    floor: int | None = None
    household: int = -1  # index of its FileHousehold
    place_rejected: bool = False  # the address cells were rejected in validate
    place_inherited: bool = False  # empty address cells: the row above's (its problems, too)

    @property
    def dwelling(self) -> tuple[int, int, str] | None:
        if self.building_id is None or self.unit_no is None or not self.room_no:
            return None
        return self.building_id, self.unit_no, self.room_no


@dataclass(eq=False)
class FileHousehold:
    members: list[Member]  # file order
    head: Member
    kind: str  # "" when the file does not say
    tags: tuple[str, ...] | None  # None: the file has no tags column
    label: str

    @property
    def dwelling(self) -> tuple[int, int, str]:
        place = self.head.dwelling
        assert place is not None
        return place

    @property
    def key(self) -> str:
        return f"{self.label} (row {self.head.row})"


@dataclass
class Columns:
    """Our column → its index in the file and its name there (for messages)."""

    index: dict[str, int]
    name: dict[str, str]

    def has(self, key: str) -> bool:
        return key in self.index


def import_households(params: HouseholdImportParams) -> HouseholdImportReport:
    """Read, validate, locate and (with `commit`) store a household register, all or nothing."""
    name = params.source_name or Path(params.path).name
    report = HouseholdImportReport(path=name, dry_run=not params.commit)
    grants = Grants(params.actor) if params.actor is not None else None
    if grants is not None and not grants.has(Capability.IMPORT):
        report.fail(_("%(user)s holds no post that may import household registers")
                    % {"user": getattr(params.actor, "username", "")})
        return report
    try:
        with report.step("read"):
            raw, columns = read_register(params)
            report.rows, report.encoding = len(raw.records), raw.encoding
            used = set(columns.index.values())
            report.ignored_columns = [h for i, h in enumerate(raw.header) if h and i not in used]
    except ImportFileError as exc:
        report.fail(str(exc))
        return report
    with report.step("validate"):
        members = validate(raw, columns, params, report)
    with report.step("locate"):
        households = locate(members, columns, grants, report)
    report.households = len(households)
    if not report.ok:
        return report
    with report.step("write"):
        write_atomically(report, params.commit,
                         lambda: write(households, columns, params, grants, report))
    return report


# --- read -------------------------------------------------------------------------------------


def read_register(params: HouseholdImportParams) -> tuple[RawTable, Columns]:
    unknown = sorted(set(params.columns) - set(COLUMNS))
    if unknown:
        raise ImportFileError(_("no column of ours is called %(names)s; ours are: %(ours)s")
                              % {"names": ", ".join(unknown), "ours": ", ".join(COLUMNS)})
    wanted = {_key(theirs): ours for ours, theirs in params.columns.items()}

    def key_of(header: str) -> str | None:
        k = _key(header)
        return wanted.get(k) or (None if k in wanted else _HEADER.get(k))

    def is_header(texts: list[str]) -> bool:
        found = {key_of(t) for t in texts if t}
        return len(found - {None}) >= 3 and bool(found & {"name", "id_number"})

    raw = read_table(params.path, is_header=is_header, sheet=params.sheet,
                     encoding=params.encoding)
    index: dict[str, int] = {}
    name: dict[str, str] = {}
    for explicit in (True, False):  # a column named by the mapping wins over an alias
        for i, header in enumerate(raw.header):
            key = key_of(header) if header else None
            if key is None or key in index or i in index.values():
                continue
            if explicit == (_key(header) in wanted):  # of two columns meaning one, the first
                index[key], name[key] = i, header
    missing = [f"{COLUMNS[k][0]} ({k})" for k in REQUIRED if k not in index]
    if "address" not in index and "building" not in index:
        missing.append(_("地址 (address) or 楼栋 (building)"))
    if missing:
        raise ImportFileError(_("%(file)s: missing columns %(columns)s (the header is row "
                                "%(row)d)") % {"file": raw.name, "columns": ", ".join(missing),
                                               "row": raw.header_row})
    for key in COLUMNS:
        name.setdefault(key, COLUMNS[key][0])
    return raw, Columns(index, name)


# --- 1. validate ------------------------------------------------------------------------------


def _limit(model: type[models.Model], name: str) -> int:
    return int(getattr(model._meta.get_field(name), "max_length", 0))


def validate(raw: RawTable, columns: Columns, params: HouseholdImportParams,
             report: HouseholdImportReport) -> list[Member]:
    """Every row checked; each problem rejected with its row and column. Rows with problems
    are kept (with the bad value emptied) so that grouping does not report them twice."""
    name_max = _limit(Person, "name")
    id_max = _limit(Person, "id_masked")
    phone_max = _limit(Person, "phone_masked")
    room_max = _limit(Dwelling, "room_no")
    tag_max = 8  # Household.tags: ArrayField(CharField(max_length=8))
    allowed_tags = tuple(settings.GEOGRID["HOUSEHOLD_TAGS"])
    today = params.effective_date or timezone.localdate()
    idx, col = columns.index, columns.name
    members: list[Member] = []
    above: tuple[str, str, str, bool] | None = None  # the row above's place (fill-down)

    for number, cells in raw.records:
        def reject(key: str, message: str, _row: int = number) -> None:
            report.reject(_row, message, col.get(key, ""))

        text: dict[str, str] = {}
        id_stored_as_number = False
        for key, i in idx.items():
            value = cells[i] if i < len(cells) else None
            if key == "id_number" and isinstance(value, float):
                reject(key, _("%(column)s was stored as a number, so its last digits are lost: "
                              "format the column as text and type the numbers again")
                       % {"column": col[key]})
                value, id_stored_as_number = None, True
            text[key] = cell_text(value)
            if _CONTROL.search(text[key]):
                reject(key, _("%(column)s contains a control character (NUL, …)")
                       % {"column": col[key]})
                text[key] = _CONTROL.sub("", text[key])

        name = text.get("name", "")
        if not name:
            reject("name", _("%(column)s is empty") % {"column": col["name"]})
        elif len(name) > name_max:
            reject("name", _too_long(col["name"], len(name), name_max))

        relation = _RELATION.get(_key(text.get("relation", "")), "")
        if not relation:
            reject("relation", _("%(column)s %(value)r is not a relation to the head; use 户主, "
                                 "配偶, 子, 女, 父亲, 母亲, 孙子, 兄, 租户, 其他 …")
                   % {"column": col["relation"], "value": text.get("relation", "")})

        id_type = _ID_TYPE.get(_key(text.get("id_type", "")), "") if text.get("id_type") else (
            RESIDENT_ID)
        if not id_type:
            reject("id_type", _("%(column)s %(value)r is not an ID type; use 居民身份证, 护照 or "
                                "港澳台居民居住证") % {"column": col["id_type"],
                                                   "value": text["id_type"]})
        id_number = pii.normalise_id_number(text.get("id_number", ""))
        problem = None if id_stored_as_number else _id_problem(id_number, id_type, today, id_max)
        if problem:
            reject("id_number", f"{col['id_number']}: {problem}")
            id_number = ""

        phone = re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", text.get("phone", "")))
        if phone and (identity.phone_problem(phone) or len(phone) > phone_max):
            reject("phone", _("%(column)s %(value)r is not a phone number")
                   % {"column": col["phone"], "value": text.get("phone", "")})
            phone = ""

        tags: list[str] = []
        for tag in filter(None, _TAG_SPLIT.split(unicodedata.normalize("NFKC",
                                                                       text.get("tags", "")))):
            if tag not in allowed_tags or len(tag) > tag_max:
                reject("tags", _("%(column)s: unknown tag %(tag)r; the tags are %(allowed)s")
                       % {"column": col["tags"], "tag": tag, "allowed": "、".join(allowed_tags)})
            elif tag not in tags:
                tags.append(tag)

        kind = _choice(text, "kind", _KIND, col, reject)
        presence = _choice(text, "presence", _PRESENCE, col, reject)
        population = _choice(text, "population_kind", _POPULATION, col, reject)
        household_no = text.get("household_no", "")
        if len(household_no) > 50:
            reject("household_no", _too_long(col["household_no"], len(household_no), 50))

        place_cells = {k: text.get(k, "") for k in PLACE_COLUMNS}
        inherited = above is not None and relation != HEAD and not any(place_cells.values())
        if inherited and above is not None:
            # A member row under its head: merged address cells. It takes the row above's
            # place as read there, and its problems are named there, once.
            place, unit_text, room_text, place_rejected = above
        else:
            place, unit_text, room_text, place_rejected = _place(place_cells, col, room_max,
                                                                 reject)
        above = (place, unit_text, room_text, place_rejected)

        members.append(Member(
            row=number, name=name[:name_max], id_type=id_type, id_number=id_number,
            relation=relation, phone=phone, tags=tuple(tags), kind=kind, presence=presence,
            population_kind=population, household_no=household_no, place=place,
            unit_text=unit_text, room_text=room_text, place_rejected=place_rejected,
            place_inherited=inherited,
            id_hash=pii.keyed_hash(id_number) if id_number else b""))  # normalised above
    return members


def _place(cells: dict[str, str], col: dict[str, str], room_max: int,
           reject: Callable[[str, str], None]) -> tuple[str, str, str, bool]:
    """The text the building is read from, the unit and room columns (checked; "" when bad),
    and whether the address cells were rejected."""
    estate, building = cells["estate"], cells["building"]
    if building:
        place = building if not estate or estate in building else estate + building
    else:
        place = cells["address"]
    room_text = cells["room"]
    room = _room(room_text) if room_text else None
    if room_text and room is None:
        reject("room", _("%(column)s %(value)r is not a room number")
               % {"column": col["room"], "value": room_text})
        room_text = ""
    elif room is not None and len(room) > room_max:
        reject("room", _too_long(col["room"], len(room), room_max))
        room_text = ""
    unit_text = cells["unit"]
    if unit_text and _small_number(unit_text) is None:
        reject("unit", _("%(column)s %(value)r is not a unit number")
               % {"column": col["unit"], "value": unit_text})
        unit_text = ""
    rejected = False
    for key in ("address", "building", "estate"):
        if len(cells[key]) > 200:
            reject(key, _too_long(col[key], len(cells[key]), 200))
            place, rejected = "", True
    return place, unit_text, room_text, rejected


def _too_long(column: str, n: int, limit: int) -> str:
    return _("%(column)s has %(n)d characters, at most %(max)d fit") % {
        "column": column, "n": n, "max": limit}


_NOT_ONE_OF = {
    "kind": gettext_lazy("%(column)s %(value)r is not a household kind; use 家庭户, 集体户 or "
                         "流动户"),
    "presence": gettext_lazy("%(column)s %(value)r is not a presence; use 人户一致, 户在人不在 "
                             "or 人在户不在"),
    "population_kind": gettext_lazy("%(column)s %(value)r is not a population kind; use "
                                    "户籍人口, 流动人口 or 境外人员"),
}


def _choice(text: dict[str, str], key: str, table: dict[str, str], col: dict[str, str],
            reject: Callable[[str, str], None]) -> str:
    value = text.get(key, "")
    if not value:
        return ""
    chosen = table.get(_key(value), "")
    if not chosen:
        reject(key, str(_NOT_ONE_OF[key]) % {"column": col[key], "value": value})
    return chosen


def _id_problem(number: str, id_type: str, today: dt.date, limit: int) -> str | None:
    if not number:
        return _("empty (a person is found again by the ID number; add someone without one, "
                 "such as a newborn, by reporting the birth)")
    if len(number) > limit:
        return _("%(n)d characters, at most %(max)d fit") % {"n": len(number), "max": limit}
    if id_type == RESIDENT_ID:
        problem = identity.resident_id_problem(number)
        if problem:
            return _("%(value)s: %(problem)s") % {"value": pii.mask_id_number(number),
                                                  "problem": problem}
        if _birth_and_gender(number)[0] > today:
            return _("the birth date inside it is in the future")
        return None
    if id_type and not _OTHER_ID.fullmatch(number):
        return _("a passport or permit number is 5 to 20 letters and digits")
    return None


def _birth_and_gender(number: str) -> tuple[dt.date, str]:
    """identity.birth_date_and_gender of a number already normalised and checked."""
    return (dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14])),
            "M" if int(number[16]) % 2 else "F")


def _small_number(text: str) -> int | None:
    """A unit number: '2', '2单元', '二单元', '十二' → 2 / 12; None when it is not one."""
    t = re.sub(r"(单元|门|梯)$", "", unicodedata.normalize("NFKC", text).strip())
    if re.fullmatch(r"[0-9]{1,4}", t):
        return int(t)
    if len(t) == 1 and t in _CN:
        return _CN[t]
    tens, ten, ones = t.partition("十")
    if ten and len(tens) <= 1 and len(ones) <= 1 and all(c in _CN for c in tens + ones):
        return (_CN[tens] if tens else 1) * 10 + (_CN[ones] if ones else 0)
    return None


def _room(text: str) -> str | None:
    """A room number as stored: '0301室' → '301', 'A02' → 'A02'; None when it is not one."""
    t = re.sub(r"(室|号|房|户)$", "", unicodedata.normalize("NFKC", text).strip())
    if not _ROOM.fullmatch(t):
        return None
    return str(int(t)) if t.isdigit() else t.upper()


# --- 2. locate --------------------------------------------------------------------------------

REASONS = {  # layers.buildings.geocoding's REASON_* codes
    "empty": gettext_lazy("nothing to read"),
    "no_place": gettext_lazy("no estate or road of the building register in it"),
    "no_number": gettext_lazy("no building number after the estate or road"),
    "unknown_number": gettext_lazy("the estate or road has no building of that number"),
    "ambiguous": gettext_lazy("it could be several buildings; write the community or the "
                              "standard address"),
    "low_score": gettext_lazy("the closest name is too unlike it"),
}


@dataclass
class _Building:
    units: int
    households: int
    address: str
    grid_code: str | None


def locate(members: list[Member], columns: Columns, grants: Grants | None,
           report: HouseholdImportReport) -> list[FileHousehold]:
    """Place each row in a dwelling, check the scope, group rows into households."""
    col = columns.name
    place_field = "building" if columns.has("building") else "address"
    index = address_index()
    threshold = settings.GEOGRID["GEOCODE_MIN_SCORE"]
    parsed = {text: index.lookup_detail(text, threshold)
              for text in {m.place for m in members if m.place}}
    ids = sorted({p.building_id for p in parsed.values() if p.building_id is not None})
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT b.id, b.units, b.households, b.address, g.code
                 FROM layers_building b LEFT JOIN geogrid_grid g ON g.id = b.grid_id
                WHERE b.id = ANY(%s)""", [ids])
        buildings = {bid: _Building(units, n, address, code)
                     for bid, units, n, address, code in cursor.fetchall()}
    placed: Counter[str] = Counter()
    room_max = _limit(Dwelling, "room_no")
    for m in members:
        # A member row under its head (empty address cells) shares the head's placement, and
        # its problems: they are named once, on the row that has the address.
        def reject(message: str, key: str, _m: Member = m) -> None:
            if not _m.place_inherited:
                report.reject(_m.row, message, col[key])

        if not m.place:
            if not m.place_rejected:
                reject(_("no address: fill %(address)s, or %(building)s with %(unit)s and "
                         "%(room)s") % {"address": col["address"], "building": col["building"],
                                        "unit": col["unit"], "room": col["room"]}, place_field)
            continue
        p = parsed[m.place]
        if p.building_id is None or p.building_id not in buildings:
            reject(_("unknown building: %(text)r — %(reason)s")
                   % {"text": m.place, "reason": str(REASONS.get(p.reason, p.reason))},
                   place_field)
            continue
        building = buildings[p.building_id]
        m.building_id = p.building_id
        placed[p.how] += 1
        unit = _small_number(m.unit_text) if m.unit_text else p.unit_no
        room = _room(m.room_text) if m.room_text else (_room(p.room_no) if p.room_no else None)
        if unit is None and building.units <= 1:
            unit = 0
        if room is None and building.households <= 1 and building.units <= 1:
            room = SINGLE_ROOM
        if unit is None:
            reject(_("which unit? %(building)s has %(n)d units")
                   % {"building": building.address, "n": building.units}, "unit")
        if room is None:
            reject(_("no room: write it after the address (…2单元301室) or in a %(column)s "
                     "column") % {"column": col["room"]}, "room")
        elif len(room) > room_max:
            reject(_too_long(col["room"], len(room), room_max), "room")
            room = None
        m.unit_no, m.room_no = unit, room or ""
        if room is not None:
            m.floor = (p.floor if not m.room_text and p.floor is not None
                       else int(room[:-2]) if room.isdigit() and len(room) >= 3 else None)
        if not _in_scope(grants, building.grid_code):  # every row, inherited or not
            report.reject(m.row, _("%(building)s lies in grid %(grid)s, outside the grids where "
                                   "you may import") % {"building": building.address,
                                                        "grid": building.grid_code or "-"},
                          col[place_field])
    report.placed = dict(placed)
    households = _group(members, columns, buildings, report)
    _check_people(households, members, columns, report)
    return households


def _in_scope(grants: Grants | None, code: str | None) -> bool:
    if grants is None:
        return True
    if code is None:
        return grants.is_super
    return grants.has(Capability.IMPORT, code)


def _group(members: list[Member], columns: Columns, buildings: dict[int, _Building],
           report: HouseholdImportReport) -> list[FileHousehold]:
    col = columns.name
    by_number = columns.has("household_no") and any(m.household_no for m in members)
    report.grouping = "household_no" if by_number else "head"
    groups: list[list[Member]] = []
    if by_number:
        keyed: dict[tuple[Any, str], list[Member]] = {}
        unplaced: set[str] = set()
        for m in members:
            if not m.household_no:
                report.reject(m.row, _("%(column)s is empty") % {"column": col["household_no"]},
                              col["household_no"])
            elif m.dwelling is None:
                unplaced.add(m.household_no)
            else:
                keyed.setdefault((m.dwelling, m.household_no), []).append(m)
        for (_place, number), group in keyed.items():
            if not any(m.relation == HEAD for m in group):
                if number not in unplaced:  # else its head is probably a row rejected above
                    report.reject(group[0].row, _("household %(no)s has no head (户主)")
                                  % {"no": number}, col["relation"])
                continue
            groups.append(group)
    else:
        current: list[Member] | None = None
        for m in members:
            if m.relation == HEAD:
                current = [m]
                groups.append(current)
            elif current is None:
                report.reject(m.row, _("before the first head (户主): a household starts at its "
                                       "head's row"), col["relation"])
            else:
                current.append(m)
    households: list[FileHousehold] = []
    for group in groups:
        heads = [m for m in group if m.relation == HEAD]
        head = heads[0]
        for other in heads[1:]:
            report.reject(other.row, _("a second head (户主) in this household; the head is in "
                                       "row %(row)d") % {"row": head.row}, col["relation"])
        if head.dwelling is None:
            continue  # the head's row is rejected; its members wait for it
        for m in group:
            if m.dwelling is not None and m.dwelling != head.dwelling:
                report.reject(m.row, _("not in the dwelling of its head (row %(row)d)")
                              % {"row": head.row}, col["address"] if columns.has("address")
                              else col["building"])
        kinds = [m for m in group if m.kind]
        kind = head.kind or (kinds[0].kind if kinds else "")
        for m in kinds:
            if m.kind != kind:
                report.reject(m.row, _("%(column)s differs from the household's (%(kind)s)")
                              % {"column": col["kind"], "kind": kind}, col["kind"])
        tags: tuple[str, ...] | None = None
        if columns.has("tags"):
            tags = tuple(dict.fromkeys(t for m in group for t in m.tags))
        building = buildings[head.dwelling[0]]
        unit = f"{head.dwelling[1]}单元" if head.dwelling[1] else ""
        label = f"{building.address}{unit}{head.dwelling[2]}室"
        households.append(FileHousehold(group, head, kind, tags, label))
    for i, h in enumerate(households):
        for m in h.members:
            m.household = i
    return households


def _check_people(households: list[FileHousehold], members: list[Member], columns: Columns,
                  report: HouseholdImportReport) -> None:
    """A person (ID number) once in the file."""
    col = columns.name
    first: dict[str, Member] = {}
    for m in members:
        if not m.id_number:
            continue
        seen = first.setdefault(m.id_number, m)
        if seen is m:
            continue
        if seen.household >= 0 and seen.household == m.household:
            message = _("the same person appears twice in this household (row %(row)d)")
        else:
            message = _("the same person is also in another household (row %(row)d)")
        report.reject(m.row, message % {"row": seen.row}, col["id_number"])


# --- 3. write ---------------------------------------------------------------------------------


@dataclass
class _OnRecord:
    """A person of the file already stored, with their open residence if any."""

    person_id: int
    name: str
    phone_cipher: bytes | None
    population_kind: str
    died_on: dt.date | None
    residence_id: int | None
    household_id: int | None
    relation: str
    presence: str
    dwelling_id: int | None
    grid_code: str | None


@dataclass
class _Existing:
    """An active household on record in a dwelling of the file, with its open residences."""

    id: int
    dwelling_id: int
    kind: str
    tags: list[str]
    contact_cipher: bytes | None
    contact_masked: str
    members: dict[int, tuple[int, str, str]] = field(default_factory=dict)
    # person id → (residence id, relation, presence)

    @property
    def head(self) -> int | None:
        return next((pid for pid, (_r, rel, _p) in self.members.items() if rel == HEAD), None)


@dataclass
class _Change:
    """What happens to one household: one change-log row, unless nothing does."""

    household_id: int
    dwelling_id: int
    created: bool = False
    rows: tuple[int, int] | None = None  # the file's rows; None: a household members leave
    diff: dict[str, Any] = field(default_factory=dict)

    def add(self, key: str, *items: Any) -> None:
        self.diff.setdefault(key, []).extend(items)


@dataclass
class _Plan:
    new_persons: list[tuple] = field(default_factory=list)  # COPY rows of people_person
    person_updates: list[tuple] = field(default_factory=list)  # (id, name, cipher, masked, kind)
    new_households: list[tuple] = field(default_factory=list)  # COPY rows of people_household
    household_updates: list[tuple] = field(default_factory=list)  # (id, kind, tags, cipher, …)
    close: list[int] = field(default_factory=list)  # residence ids
    residence_updates: list[tuple] = field(default_factory=list)  # (id, relation, presence)
    new_residences: list[tuple] = field(default_factory=list)  # COPY rows of people_residence
    changes: dict[int, _Change] = field(default_factory=dict)  # household id → its change
    outcome: dict[str, list[str]] = field(default_factory=lambda: {
        "created": [], "updated": [], "unchanged": []})
    persons: Counter[str] = field(default_factory=Counter)
    left_as_they_are: int = 0


def write(households: list[FileHousehold], columns: Columns, params: HouseholdImportParams,
          grants: Grants | None, report: HouseholdImportReport) -> None:
    """Upsert everything in the current transaction (see the module docstring); rows the
    register may not change are rejected, and write_atomically then rolls it all back."""
    today = params.effective_date or timezone.localdate()
    members = [m for h in households for m in h.members]
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own: COPY
        nestloop = None
        if len(members) >= BULK_ROWS:
            # Every join below is a bulk join, for which hash joins are right; and statistics
            # can be stale right after a big load: re-importing the county register seconds
            # after its first commit was once planned as nested loops over sequential scans
            # and ran for minutes (docs/benchmarks.md). For this transaction only.
            raw.execute("SELECT current_setting('enable_nestloop'), "
                        "set_config('enable_nestloop', 'off', true)")
            nestloop = raw.fetchone()[0]
        on_record = _persons_on_record(raw, members)
        dwelling_ids, report.dwellings_created = _upsert_dwellings(raw, households)
        existing = _households_on_record(raw)
        matches = _match(households, members, on_record, dwelling_ids, existing)
        person_ids = iter(_next_ids(raw, "people_person", len(members) - len(on_record)))
        household_ids = iter(_next_ids(raw, "people_household",
                                       sum(1 for m in matches if m is None)))
        ids = [m.id if m is not None else next(household_ids) for m in matches]
        plan = _Plan()
        for h, match, household_id in zip(households, matches, ids, strict=True):
            plan.changes[household_id] = _Change(household_id, dwelling_ids[h.dwelling],
                                                 created=match is None,
                                                 rows=(h.members[0].row, h.members[-1].row))
        planner = _Planner(plan, members, on_record, columns, grants, today, report, person_ids)
        for h, match, household_id in zip(households, matches, ids, strict=True):
            planner.household(h, match, household_id)
        if not report.ok:
            return
        _apply(raw, plan, params, today, report)
        if params.commit and len(plan.new_persons) + len(plan.new_residences) >= BULK_ROWS:
            # Fresh statistics for the next import and every other query (the planner's
            # estimates of tables that grew this much in one transaction are wrong until then).
            raw.execute("ANALYZE people_person, people_residence, people_household, "
                        "people_dwelling, people_changeevent")
        if nestloop is not None:
            raw.execute("SELECT set_config('enable_nestloop', %s, true)", [nestloop])
    report.created, report.updated = plan.outcome["created"], plan.outcome["updated"]
    report.unchanged = plan.outcome["unchanged"]
    report.persons = {k: plan.persons.get(k, 0)
                      for k in ("created", "updated", "moved", "unchanged")}
    report.left_as_they_are = plan.left_as_they_are


def _temp(raw: Any, name: str, columns: str, rows: list[tuple]) -> None:
    """A temporary table (dropped at commit; a caller's outer transaction may still hold one)
    filled by COPY and analysed, so that the joins after it are planned on its real size."""
    raw.execute(f"DROP TABLE IF EXISTS {name}")
    raw.execute(f"CREATE TEMP TABLE {name} ({columns}) ON COMMIT DROP")
    names = ", ".join(c.split()[0] for c in columns.split(","))
    with raw.copy(f"COPY {name} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    raw.execute(f"ANALYZE {name}")


def _persons_on_record(raw: Any, members: list[Member]) -> dict[int, _OnRecord]:
    """Member index → the stored person with that ID number (locked) and where they live."""
    # A temporary table filled by COPY: three times faster than the hashes as one array
    # parameter (which Django's client-side binding spells out as text).
    _temp(raw, "_hh_person", "i int, hash bytea", [(i, m.id_hash) for i, m in enumerate(members)])
    raw.execute(
        """SELECT t.i, p.id, p.name, p.phone_cipher, p.population_kind, p.died_on,
                  r.id, r.household_id, r.relation, r.presence, h.dwelling_id, g.code
             FROM _hh_person t
             JOIN people_person p ON p.id_hash = t.hash
             LEFT JOIN people_residence r ON r.person_id = p.id AND r.valid_to IS NULL
             LEFT JOIN people_household h ON h.id = r.household_id
             LEFT JOIN people_dwelling d ON d.id = h.dwelling_id
             LEFT JOIN layers_building b ON b.id = d.building_id
             LEFT JOIN geogrid_grid g ON g.id = b.grid_id
              FOR UPDATE OF p""")
    return {row[0]: _OnRecord(row[1], row[2], None if row[3] is None else bytes(row[3]),
                              *row[4:]) for row in raw.fetchall()}


def _upsert_dwellings(raw: Any, households: list[FileHousehold],
                      ) -> tuple[dict[tuple[int, int, str], int], int]:
    """Every dwelling of the file stored (new ones inserted): their ids, and how many are new."""
    floors: dict[tuple[int, int, str], int | None] = {}
    for h in households:
        floors.setdefault(h.dwelling, h.head.floor)
    rows = [(k, b, u, r, f) for k, ((b, u, r), f) in enumerate(floors.items())]
    _temp(raw, "_hh_dwelling", "k int, building_id bigint, unit_no int, room_no text, floor int",
          rows)
    raw.execute("ALTER TABLE _hh_dwelling ADD COLUMN id bigint")
    raw.execute(
        """INSERT INTO people_dwelling (building_id, unit_no, floor, room_no, usage)
           SELECT building_id, unit_no, floor, room_no, %s FROM _hh_dwelling ORDER BY k
           ON CONFLICT (building_id, unit_no, room_no) DO NOTHING""",
        [Dwelling.Usage.OWNER.value])
    created = raw.rowcount
    raw.execute(
        """UPDATE _hh_dwelling t SET id = d.id FROM people_dwelling d
            WHERE d.building_id = t.building_id AND d.unit_no = t.unit_no
              AND d.room_no = t.room_no""")
    raw.execute("SELECT building_id, unit_no, room_no, id FROM _hh_dwelling")
    return {(b, u, r): i for b, u, r, i in raw.fetchall()}, created


def _households_on_record(raw: Any) -> dict[int, list[_Existing]]:
    """Dwelling id → its active households (locked), with their open residences."""
    raw.execute(
        """SELECT h.id, h.dwelling_id, h.kind, h.tags, h.contact_phone_cipher,
                  h.contact_phone_masked
             FROM people_household h JOIN _hh_dwelling t ON t.id = h.dwelling_id
            WHERE h.status = 'active' ORDER BY h.id FOR UPDATE OF h""")
    found = {row[0]: _Existing(row[0], row[1], row[2], list(row[3]),
                               None if row[4] is None else bytes(row[4]), row[5])
             for row in raw.fetchall()}
    raw.execute(
        """SELECT r.household_id, r.person_id, r.id, r.relation, r.presence
             FROM people_residence r
             JOIN people_household h ON h.id = r.household_id
             JOIN _hh_dwelling t ON t.id = h.dwelling_id
            WHERE h.status = 'active' AND r.valid_to IS NULL""")
    for household_id, person_id, residence_id, relation, presence in raw.fetchall():
        found[household_id].members[person_id] = (residence_id, relation, presence)
    by_dwelling: dict[int, list[_Existing]] = {}
    for h in found.values():
        by_dwelling.setdefault(h.dwelling_id, []).append(h)
    return by_dwelling


def _match(households: list[FileHousehold], members: list[Member],
           on_record: dict[int, _OnRecord], dwelling_ids: dict[tuple[int, int, str], int],
           existing: dict[int, list[_Existing]]) -> list[_Existing | None]:
    """Each file household's household on record: the active one in its dwelling where its
    head lives, else where most of its members live (the lowest id on a tie), else None (new).
    A household on record is matched once."""
    position = {id(m): i for i, m in enumerate(members)}
    claimed: set[int] = set()
    matches: list[_Existing | None] = []
    for h in households:
        candidates = {e.id: e for e in existing.get(dwelling_ids[h.dwelling], [])
                      if e.id not in claimed}
        homes = {id(m): r.household_id for m in h.members
                 if (r := on_record.get(position[id(m)])) is not None}
        match = candidates.get(homes.get(id(h.head)) or -1)
        if match is None:
            living = Counter(k for k in homes.values() if k in candidates)
            if living:
                match = candidates[max(living, key=lambda k: (living[k], -k))]
        if match is not None:
            claimed.add(match.id)
        matches.append(match)
    return matches


def _next_ids(raw: Any, table: str, n: int) -> list[int]:
    """`n` ids from the table's sequence, in one statement."""
    if n <= 0:
        return []
    raw.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, n])
    return [i for (i,) in raw.fetchall()]


def _opened(cipher: bytes | None, column: str) -> str | None:
    """The stored plaintext, or None when this deployment cannot read it (a retired key)."""
    try:
        return identity.open_value(cipher, column)
    except pii.DecryptError:
        return None


class _Planner:
    """Decides every insert and update of a file household; rejects rows the register may not
    change (a move out of a household outside the importer's scope, a deceased person, a head
    on record missing from the file)."""

    def __init__(self, plan: _Plan, members: list[Member], on_record: dict[int, _OnRecord],
                 columns: Columns, grants: Grants | None, today: dt.date,
                 report: HouseholdImportReport, person_ids: Iterator[int]) -> None:
        self.plan, self.on_record, self.col, self.grants = plan, on_record, columns.name, grants
        self.today, self.report, self.person_ids = today, report, person_ids
        self.now = timezone.now()
        self.in_file = {r.person_id for r in on_record.values()}
        self.position = {id(m): i for i, m in enumerate(members)}

    def household(self, h: FileHousehold, match: _Existing | None, household_id: int) -> None:
        plan = self.plan
        change = plan.changes[household_id]
        ids: dict[int, int] = {}  # id(member) → person id
        for m in h.members:
            ids[id(m)] = self.member(m, match, household_id, change)
        head = ids[id(h.head)]
        contact = (identity.seal_phone(h.head.phone, identity.CONTACT_COLUMN)
                   if h.head.phone else None)
        if match is None:
            plan.new_households.append((
                household_id, change.dwelling_id, h.kind or REGISTERED_HOUSEHOLD,
                list(h.tags or ()), contact.cipher if contact else None,
                contact.masked if contact else "", Household.Status.ACTIVE.value, self.now, 1))
            change.diff["members"] = len(h.members)
            plan.outcome["created"].append(h.key)
            return
        for pid, (_rid, relation, _presence) in match.members.items():
            if pid in self.in_file:
                continue  # in this household of the file, or moving to another one
            plan.left_as_they_are += 1
            if relation == HEAD and pid != head:
                self.report.reject(h.head.row, _(
                    "the household's head on record (person %(pid)d) is not in this register: "
                    "record their move-out or death first") % {"pid": pid},
                    self.col["relation"])
        if match.head != head:
            change.diff["head"] = [match.head, head]
        kind = h.kind or match.kind
        tags = list(h.tags) if h.tags is not None else match.tags
        if sorted(tags) == sorted(match.tags):
            tags = match.tags
        cipher, masked = match.contact_cipher, match.contact_masked
        if kind != match.kind:
            change.diff["kind"] = [match.kind, kind]
        if tags != match.tags:
            change.diff["tags"] = [match.tags, tags]
        if contact is not None and _opened(match.contact_cipher,
                                           identity.CONTACT_COLUMN) != h.head.phone:
            change.diff["contact_phone"] = [match.contact_masked, contact.masked]
            cipher, masked = contact.cipher, contact.masked
        if (kind, tags, cipher) != (match.kind, match.tags, match.contact_cipher):
            plan.household_updates.append((household_id, kind, tags, cipher, masked))
        plan.outcome["updated" if change.diff else "unchanged"].append(h.key)

    def member(self, m: Member, match: _Existing | None, household_id: int,
               change: _Change) -> int:
        """The member's person id, with their person and residence writes queued."""
        plan = self.plan
        rec = self.on_record.get(self.position[id(m)])
        presence = m.presence or PRESENT
        if rec is None:
            pid: int = next(self.person_ids)
            # identity.seal_id, with the hash and normalised number validate made
            cipher = pii.encrypt(m.id_number, identity.ID_COLUMN)
            tel = identity.seal_phone(m.phone)
            birth, gender = (_birth_and_gender(m.id_number) if m.id_type == RESIDENT_ID
                             else (None, ""))
            plan.new_persons.append((
                pid, m.name, m.id_type, cipher, m.id_hash, pii.mask_id_number(m.id_number),
                birth, gender, tel.cipher, tel.masked,
                m.population_kind or REGISTERED_PERSON, "", False, self.now, 1))
            plan.new_residences.append((pid, household_id, m.relation, presence, self.today))
            plan.persons["created"] += 1
            change.add("added", pid)
            return pid
        pid = rec.person_id
        column = self.col["id_number"]
        if rec.died_on is not None:
            self.report.reject(m.row, _("this person is recorded as deceased (%(date)s)")
                               % {"date": rec.died_on.isoformat()}, column)
            return pid
        updated = self.person_update(rec, m, change)
        if match is not None and rec.household_id == match.id:
            new_presence = m.presence or rec.presence
            if m.relation != rec.relation:
                change.add("relations", [pid, rec.relation, m.relation])
            if new_presence != rec.presence:
                change.add("presence", [pid, rec.presence, new_presence])
            if (m.relation, new_presence) != (rec.relation, rec.presence):
                plan.residence_updates.append((rec.residence_id, m.relation, new_presence))
                updated = True
            plan.persons["updated" if updated else "unchanged"] += 1
            return pid
        if rec.household_id is not None:
            if not _in_scope(self.grants, rec.grid_code):
                self.report.reject(m.row, _(
                    "this person lives in another household, in grid %(grid)s outside your "
                    "scope: its staff record the move-out first")
                    % {"grid": rec.grid_code or "-"}, column)
                return pid
            assert rec.residence_id is not None and rec.dwelling_id is not None
            plan.close.append(rec.residence_id)
            left = plan.changes.setdefault(rec.household_id,
                                           _Change(rec.household_id, rec.dwelling_id))
            left.add("left", pid)
            left.add("to", household_id)
        plan.new_residences.append((pid, household_id, m.relation, presence, self.today))
        plan.persons["moved"] += 1
        change.add("moved_in", pid)
        return pid

    def person_update(self, rec: _OnRecord, m: Member, change: _Change) -> bool:
        """Queue the file's name, phone and population kind for a stored person where they
        differ (an empty cell leaves the stored value)."""
        name = m.name or rec.name
        kind = m.population_kind or rec.population_kind
        cipher, masked = rec.phone_cipher, None
        if m.phone and _opened(rec.phone_cipher, identity.PHONE_COLUMN) != m.phone:
            tel = identity.seal_phone(m.phone)
            cipher, masked = tel.cipher, tel.masked
            change.add("phones", rec.person_id)
        if name != rec.name:
            change.add("names", rec.person_id)
        if kind != rec.population_kind:
            change.add("population_kind", [rec.person_id, rec.population_kind, kind])
        if (name, kind) == (rec.name, rec.population_kind) and masked is None:
            return False
        self.plan.person_updates.append((rec.person_id, name, cipher, masked, kind))
        return True


KIND_ORDER = (  # the kind of a changed household's change-log row: the first that applies
    ("head", ChangeEvent.Kind.HEAD_CHANGED),
    ("added", ChangeEvent.Kind.MEMBER_ADDED),
    ("moved_in", ChangeEvent.Kind.MEMBER_ADDED),
    ("left", ChangeEvent.Kind.MEMBER_LEFT),
    ("tags", ChangeEvent.Kind.TAGS_CHANGED),
)
# Anything else (contact phone, a member's name or phone, relation, presence, household kind):
# contact_changed, the change log's kind for a household's particulars.


def _apply(raw: Any, plan: _Plan, params: HouseholdImportParams, today: dt.date,
           report: HouseholdImportReport) -> None:
    """The writes, in the order the constraints need: persons and households first; then
    residences closed, heads stepping down, other relations changed, new residences opened;
    households left empty ended; one change-log row per household touched."""
    now = timezone.now()
    if plan.new_persons:
        _copy(raw, "people_person", "id, name, id_type, id_cipher, id_hash, id_masked, "
              "birth_date, gender, phone_cipher, phone_masked, population_kind, "
              "hukou_division_code, party_member, created_at, version", plan.new_persons)
    if plan.person_updates:
        _temp(raw, "_hh_person_upd", "id bigint, name text, phone_cipher bytea, "
              "phone_masked text, population_kind text", plan.person_updates)
        raw.execute(
            """UPDATE people_person p
                  SET name = u.name, phone_cipher = u.phone_cipher,
                      phone_masked = coalesce(u.phone_masked, p.phone_masked),
                      population_kind = u.population_kind, version = p.version + 1
                 FROM _hh_person_upd u WHERE p.id = u.id""")
    if plan.new_households:
        _copy(raw, "people_household", "id, dwelling_id, kind, tags, contact_phone_cipher, "
              "contact_phone_masked, status, created_at, version", plan.new_households)
    if plan.household_updates:
        _temp(raw, "_hh_household_upd",
              "id bigint, kind text, tags text[], cipher bytea, masked text",
              plan.household_updates)
        raw.execute(
            """UPDATE people_household h
                  SET kind = u.kind, tags = u.tags, contact_phone_cipher = u.cipher,
                      contact_phone_masked = u.masked, version = h.version + 1
                 FROM _hh_household_upd u WHERE h.id = u.id""")
    if plan.close:
        raw.execute("UPDATE people_residence SET valid_to = greatest(valid_from, %s) "
                    "WHERE id = ANY(%s)", [today, plan.close])
    if plan.residence_updates:
        _temp(raw, "_hh_residence_upd", "id bigint, relation text, presence text",
              plan.residence_updates)
        for only_heads_stepping_down in (True, False):  # so that one open head holds throughout
            raw.execute(
                """UPDATE people_residence r SET relation = u.relation, presence = u.presence
                     FROM _hh_residence_upd u
                    WHERE r.id = u.id AND (r.relation, r.presence) <> (u.relation, u.presence)
                      AND (NOT %s OR (r.relation = 'head' AND u.relation <> 'head'))""",
                [only_heads_stepping_down])
    if plan.new_residences:
        _copy(raw, "people_residence", "person_id, household_id, relation, presence, valid_from",
              plan.new_residences)
    left = sorted(k for k, c in plan.changes.items() if c.rows is None)
    ended: set[int] = set()
    if left:
        raw.execute(
            """UPDATE people_household h SET status = %s, ended_on = %s, version = h.version + 1
                WHERE h.id = ANY(%s) AND h.status = 'active' AND NOT EXISTS (
                      SELECT 1 FROM people_residence r
                       WHERE r.household_id = h.id AND r.valid_to IS NULL)
            RETURNING h.id""", [Household.Status.MOVED_OUT.value, today, left])
        ended = {i for (i,) in raw.fetchall()}
    report.households_ended = len(ended)
    fname = params.source_name or Path(params.path).name
    actor = params.actor.pk if params.actor is not None else None
    note = _("register import: %(file)s") % {"file": fname}
    where = _(" rows %(first)d–%(last)d")
    events = []
    for household_id, change in plan.changes.items():
        if not change.created and not change.diff:
            continue
        if change.created:
            kind = ChangeEvent.Kind.MOVE_IN
        elif household_id in ended:
            kind = ChangeEvent.Kind.MOVE_OUT
        else:
            kind = next((k for key, k in KIND_ORDER if key in change.diff),
                        ChangeEvent.Kind.CONTACT_CHANGED)
        rows = (where % {"first": change.rows[0], "last": change.rows[1]}
                if change.rows else "")
        events.append((kind.value, household_id, change.dwelling_id, today,
                       ChangeEvent.Source.IMPORT.value, actor, now,
                       Jsonb({**change.diff, "file": fname}), (note + rows)[:500]))
    _copy(raw, "people_changeevent", "kind, household_id, dwelling_id, effective_date, source, "
          "reported_by_id, reported_at, diff, note", events)
    report.changes = len(events)


def _copy(raw: Any, table: str, columns: str, rows: list[tuple]) -> None:
    if not rows:
        return
    with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
