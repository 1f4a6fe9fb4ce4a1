"""Free-text addresses find their building; poor matches stay unlocated."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import Point

from layers.buildings.geocoding import geocode, normalise
from layers.buildings.models import Building

pytestmark = pytest.mark.django_db


@pytest.fixture
def register():
    def b(sid, place, number, word="幢", aliases=""):
        return Building.objects.create(
            source_id=sid, address=f"沙县区凤岗街道西门社区{place}{number}{word}",
            estate_or_road=place, building_no=str(number), aliases=aliases,
            location=Point(117.8 + int(sid) * 1e-4, 26.4, srid=4326),
        )

    return {
        "9": b("1", "洋坊新村", 9),
        "19": b("2", "洋坊新村", 19),
        "road": b("3", "府前路", 12, "号"),
        "alias": b("4", "翠绿小区", 3, aliases="老粮站宿舍"),
    }


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
    hit = geocode(text)
    assert hit is not None and hit.building_id == register[key].id and hit.how == how
    assert hit.score >= 85


@pytest.mark.parametrize("text", ["洋坊新村99幢", "人民公园东门", ""])
def test_no_good_match_stays_unlocated(register, text):
    assert geocode(text) is None
