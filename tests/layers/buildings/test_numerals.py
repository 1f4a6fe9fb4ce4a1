"""Chinese numerals and toneless readings used by the address matcher."""

from __future__ import annotations

import pytest

from layers.buildings import pinyin
from layers.buildings.numerals import arabic, counting_number
from tests.layers.buildings.spellings import counting, digit_by_digit


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("一幢", "1幢"),
        ("十号楼", "10号楼"),
        ("十二号楼", "12号楼"),
        ("二十", "20"),
        ("二十三", "23"),
        ("九十", "90"),
        ("九十九", "99"),
        ("第九栋", "第9栋"),
        ("两单元", "2单元"),
        ("三零一", "301"),
        ("三〇一", "301"),
        ("一二〇一室", "1201室"),
        ("幺零二", "102"),
        ("一百零五", "105"),
        ("三百", "300"),
        ("三百一", "310"),
        ("一百一十二", "112"),
        ("一千零一", "1001"),
        ("二单元三楼三零二", "2单元3楼302"),
        ("十十", "十十"),  # not a number: left alone
        ("陆号", "陆号"),  # financial numerals are surnames too
    ],
)
def test_arabic(text, expected):
    assert arabic(text) == expected


def test_counting_numbers_round_trip():
    # The test spellings' writer and the matcher's reader agree on every number a register has.
    for n in range(1000):
        assert arabic(counting(n)) == str(n), counting(n)
    assert counting_number("十十") is None
    for room in (101, 305, 1201, 2004):
        assert arabic(digit_by_digit(room)) == str(room)
        assert arabic(digit_by_digit(room, "〇")) == str(room)


def test_toneless_readings():
    assert pinyin.primary("坞") == "wu"
    assert pinyin.primary("家") == pinyin.primary("佳") == "jia"
    assert pinyin.primary("绿") == "lv"  # lǜ, not lu
    assert "chang" in pinyin.readings("长") and "zhang" in pinyin.readings("长")
    assert pinyin.primary("A") == "A"  # not Chinese: itself
    assert pinyin.primary("園") == pinyin.primary("园")  # traditional forms are in the table


@pytest.mark.parametrize(
    ("a", "b"),
    [("xing", "xin"), ("zhang", "zang"), ("shi", "si"), ("nan", "lan"), ("hu", "fu"),
     ("cheng", "cen")],
)
def test_near_sounds_merge(a, b):
    assert pinyin.fuzzy(a) == pinyin.fuzzy(b)


def test_distinct_sounds_stay_apart():
    assert pinyin.fuzzy("wu") != pinyin.fuzzy("jiang")
    assert pinyin.fuzzy("xi") != pinyin.fuzzy("xin")
