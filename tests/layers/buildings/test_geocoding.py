"""Free-text addresses find their building; poor or ambiguous matches stay unlocated.

One focused test per kind of spelling on a hand-made register; the sample-wide figures are in
test_address_spellings.py."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import Point

from layers.buildings.geocoding import (
    REASON_AMBIGUOUS,
    REASON_NO_NUMBER,
    REASON_NO_PLACE,
    REASON_UNKNOWN_NUMBER,
    AddressIndex,
    geocode,
    normalise,
    parse_address,
)
from layers.buildings.models import Building

pytestmark = pytest.mark.django_db


def _building(sid, place, number, word="幢", aliases="", community="西门社区"):
    return Building.objects.create(
        source_id=sid, address=f"沙县区凤岗街道{community}{place}{number}{word}",
        estate_or_road=place, building_no=str(number), aliases=aliases,
        location=Point(117.8 + int(sid) * 1e-4, 26.4, srid=4326),
    )


@pytest.fixture
def register():
    return {
        "9": _building("1", "洋坊新村", 9),
        "19": _building("2", "洋坊新村", 19),
        "road": _building("3", "府前路", 12, "号"),
        "alias": _building("4", "翠绿小区", 3, aliases="老粮站宿舍"),
        "12": _building("5", "桂坞家园", 12),
        "23": _building("6", "桂坞家园", 23),
        "1": _building("7", "桂坞家园", 1),
        "10": _building("8", "洋坊新村", 10),
    }


def _is(text, building, how=None):
    hit = geocode(text)
    assert hit is not None, text
    assert hit.building_id == building.id, (text, hit)
    if how is not None:
        assert hit.how == how, (text, hit)
    assert hit.score >= 85


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("洋坊新村９号楼", "洋坊新村9幢"),
        ("洋坊新村 9 栋", "洋坊新村9幢"),
        ("洋坊新村9#", "洋坊新村9幢"),
        ("洋坊新村9#楼", "洋坊新村9幢"),
        ("府前路１２号", "府前路12号"),
    ],
)
def test_normalise(raw, expected):
    assert normalise(raw) == expected


@pytest.mark.parametrize(
    ("text", "key", "how"),
    [
        ("洋坊新村9幢20号", "9", "exact"),
        ("沙县区凤岗街道西门社区洋坊新村9幢", "9", "exact"),
        ("洋坊新村１９栋3单元", "19", "exact"),
        ("凤岗洋坊新村9#楼门口垃圾", "9", "estate"),
        ("府前路12号", "road", "exact"),
        ("老粮站宿舍", "alias", "exact"),
        ("洋坊新邨9幢", "9", "fuzzy"),
    ],
)
def test_geocode_finds_the_building(register, text, key, how):
    _is(text, register[key], how)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("桂坞家园一幢", "1"),
        ("桂坞家园十二号楼", "12"),
        ("桂坞家园第十二栋", "12"),
        ("桂坞家园二十三幢", "23"),
        ("洋坊新村十九栋", "19"),
        ("洋坊新村第九幢", "9"),
        ("洋坊新村十幢", "10"),
        ("府前路十二号", "road"),
        ("洋坊新村九号楼两单元三〇一", "9"),
        ("洋坊新村九幢二单元三零一室", "9"),
        ("桂坞家园十三幢", None),  # there is no building 13
    ],
)
def test_chinese_numerals(register, text, key):
    if key is None:
        assert geocode(text) is None
    else:
        _is(text, register[key])


@pytest.mark.parametrize(
    ("text", "key", "unit", "floor", "room"),
    [
        ("洋坊新村9幢2单元301室", "9", 2, 3, "301"),
        ("洋坊新村9幢2单元301", "9", 2, 3, "301"),
        ("洋坊新村9-2-301", "9", 2, 3, "301"),
        ("洋坊新村9栋2-301", "9", 2, 3, "301"),
        ("洋坊新村9幢 2单元 3楼 301", "9", 2, 3, "301"),
        ("洋坊新村9幢502", "9", None, 5, "502"),
        ("洋坊新村9-1201", "9", None, 12, "1201"),
        ("洋坊新村9幢3楼", "9", None, 3, None),
        ("洋坊新村9幢2单元", "9", 2, None, None),
        ("洋坊新村9幢20号", "9", None, None, "20"),
        ("洋坊新村9号楼301室", "9", None, 3, "301"),
        ("洋坊新村3楼", None, None, None, None),  # building 3 does not exist
        ("洋坊新村19栋3层", "19", None, 3, None),
        ("府前路12号3楼", "road", None, 3, None),
        ("府前路12号302室", "road", None, 3, "302"),
        ("老粮站宿舍2单元101", "alias", 2, 1, "101"),
        ("洋坊新村九幢，一直漏水", "9", None, None, None),
    ],
)
def test_unit_floor_and_room(register, text, key, unit, floor, room):
    parsed = parse_address(text)
    if key is None:
        assert parsed.building_id is None
        return
    assert parsed.building_id == register[key].id, parsed
    assert (parsed.unit_no, parsed.floor, parsed.room_no) == (unit, floor, room), parsed
    assert parsed.hit is not None and parsed.hit.building_id == parsed.building_id


def test_parsed_address_names_place_and_number(register):
    parsed = parse_address("福建省三明市沙县区洋坊新村第十九栋二单元五楼")
    assert (parsed.place, parsed.building_no, parsed.unit_no, parsed.floor) == (
        "洋坊新村", "19", 2, 5)
    assert parsed.reason == ""


@pytest.mark.parametrize(
    "text",
    [
        "福建省三明市沙县区凤岗街道西门社区洋坊新村9幢",
        "三明市沙县区洋坊新村9幢",
        "沙县凤岗街道洋坊新村9幢",
        "西门社区洋坊新村9幢",
        "福建三明沙县区凤岗西门社区洋坊新村9幢",
        "凤岗街道西门社区洋坊新村9幢",
        "沙县区凤岗街道西门社区第1片区洋坊新村9幢",
    ],
)
def test_division_prefixes(register, text):
    _is(text, register["9"])


@pytest.mark.parametrize(
    "text",
    [
        "我家在洋坊新村9幢门口",
        "洋坊新村9幢附近",
        "洋坊新村9幢旁边的垃圾桶满了",
        "洋坊新村9栋对面",
        "反映：洋坊新村9号楼楼下路灯坏了",
        "住洋坊新村9幢，楼道灯不亮",
        "洋坊新村小区9幢",
        "洋坊新村里面的9号楼门口",
        "府前路路口，洋坊新村9幢东侧",  # a place with no number, then the address
    ],
)
def test_words_around_the_address(register, text):
    _is(text, register["9"])


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("桂坞佳园12幢", "12"),  # homophone
        ("桂雾家园12幢", "12"),
        ("贵坞家园十二号楼", "12"),
        ("桂坞园12幢", "12"),  # dropped
        ("坞桂家园12幢", "12"),  # swapped
        ("桂坞家家园12幢", "12"),  # typed twice
        ("洋方新村9幢", "9"),
        ("府钱路12号", "road"),  # homophone in a three-character road name
        ("前府路12号", "road"),  # swapped
        ("桂坞家圆23幢2单元", "23"),
    ],
)
def test_one_typo_in_the_name(register, text, key):
    hit = geocode(text)
    assert hit is not None and hit.building_id == register[key].id, (text, hit)
    assert hit.how == "fuzzy" and 85 <= hit.score < 100


def test_the_longest_reading_of_a_typo_wins(register):
    meant = _building("60", "宏城厝", 1)
    _building("61", "盛城厝", 1)  # 盛 is also read chéng
    hit = geocode("宏城城厝1幢")  # 城 typed twice, not 宏 + a homophone of 盛城厝
    assert hit is not None and hit.building_id == meant.id
    assert geocode("盛城厝1幢").building_id != meant.id


def test_a_dropped_character_only_where_a_name_can_start():
    rows = [(1, "沙县区凤岗街道罗布社区华湾小区3幢", "华湾小区", "3", "", 117.8, 26.4)]
    index = AddressIndex(rows, (), ["沙县区", "凤岗街道", "罗布社区"])
    for text in ("华小区3幢", "我家在华小区3幢", "罗布社区华小区3幢", "罗布华小区3幢",
                 "凤岗华小区3幢", "沙县,华小区3幢"):
        hit = index.lookup(text, 85)
        assert hit is not None and hit.building_id == 1, text
    # Another estate whose name ends like 华湾小区 less 湾: not a typo.
    assert index.lookup("大华小区3幢", 85) is None
    assert index.lookup("罗布大华小区3幢", 85) is None


def test_near_homophones_of_southern_speech(register):
    star = _building("20", "金星花园", 3)
    hit = geocode("金心花园3幢")  # xin for xing: the near tier, below the homophone tier
    assert hit is not None and hit.building_id == star.id and hit.how == "fuzzy"
    assert hit.score < 90
    assert geocode("金心花园3幢", min_score=90) is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("洋坊新村99幢", REASON_UNKNOWN_NUMBER),
        ("洋坊新村九十九幢", REASON_UNKNOWN_NUMBER),
        ("洋坊新村门口", REASON_NO_NUMBER),
        ("洋坊新村2区3幢", REASON_NO_NUMBER),  # not building 2
        ("府前路1-2号", REASON_UNKNOWN_NUMBER),  # door 1-2, not door 12
        ("洋坊新村1 9幢", REASON_UNKNOWN_NUMBER),  # not building 19
        ("人民公园东门", REASON_NO_PLACE),
        ("火车站广场3号", REASON_NO_PLACE),
        ("桂坞3幢", REASON_NO_PLACE),  # a stem is not a name
        ("", "empty"),
        ("  ，。", "empty"),
    ],
)
def test_no_good_match_stays_unlocated(register, text, reason):
    assert geocode(text) is None
    assert parse_address(text).reason == reason


def test_a_name_written_exactly_is_not_read_as_a_typo_of_another(register):
    _building("21", "新桥新村", 2)
    west = _building("22", "西桥新村", 3)
    # 西桥新村 has no building 2: not 新桥新村 2 with one character changed.
    assert geocode("西桥新村2幢") is None
    _is("西桥新村3幢", west, "exact")


def test_equally_good_candidates_give_no_answer(register):
    _building("21", "新桥新村", 2)
    _building("22", "西桥新村", 2)
    # Dropping the first character fits both; so does a blurred one.
    assert parse_address("桥新村2幢").reason == REASON_AMBIGUOUS
    assert geocode("桥新村2幢") is None
    # Two places, each with a building of its number, in one text.
    assert parse_address("府前路12号洋坊新村9幢").reason == REASON_AMBIGUOUS


def test_one_estate_name_in_two_communities(register):
    west = _building("30", "乐口花园", 1, community="西门社区")
    east = _building("31", "乐口花园", 1, community="东门社区")
    assert parse_address("乐口花园1幢").reason == REASON_AMBIGUOUS
    assert geocode("沙县区凤岗街道乐口花园1幢") is None  # both are in 凤岗街道
    _is("东门社区乐口花园1幢", east)
    _is("凤岗街道西门社区乐口花园1幢", west)
    _is("沙县区凤岗街道西门社区乐口花园1幢", west, "exact")
    _is("我家在东门乐口花园1幢门口", east)


def test_an_alias_shared_by_two_buildings_names_neither(register):
    _building("40", "翠绿小区", 4, aliases="粮站宿舍")
    _building("41", "翠绿小区", 5, aliases="粮站宿舍")
    assert geocode("粮站宿舍") is None


def test_the_index_serves_the_importer_without_the_database():
    rows = [(1, "沙县区凤岗街道罗布社区洋坊新村9幢", "洋坊新村", "9", "", 117.8, 26.4),
            (2, "沙县区凤岗街道罗布社区洋坊新村10幢", "洋坊新村", "10", "", 117.9, 26.5)]
    index = AddressIndex(rows, ())
    hit = index.lookup("洋坊新村十幢3单元", 85)
    assert hit is not None and (hit.building_id, hit.lon, hit.lat) == (2, 117.9, 26.5)
    assert index.lookup("洋坊新村11幢", 85) is None


def test_the_index_follows_the_register(register):
    assert geocode("洋坊新村11幢") is None
    eleven = _building("50", "洋坊新村", 11)
    _is("洋坊新村十一幢", eleven)
