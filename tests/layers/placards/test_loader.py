"""The sample city's placards (fixtures/load_placards.py): every building, the stairwells of
buildings with micro-units, a shop per business dwelling; a second run adds nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection

from fixtures import load_placards
from layers.placards.models import Placard, PlacardEvent
from layers.placards.services import distance_m
from tests.layers.people.factories import make_dwelling
from tests.layers.placards.factories import World

pytestmark = pytest.mark.django_db


def test_the_loader_makes_a_placard_per_door_and_shop_once(world: World):
    a1, c1 = world.buildings["a1"], world.buildings["c1"]
    make_dwelling(c1, "102", unit_no=1, usage="business")
    make_dwelling(c1, "103", unit_no=1, usage="business")
    assert load_placards.present(Path("/nonexistent"))
    with connection.cursor() as cursor:
        figures = load_placards.load_placards(cursor.cursor)  # the loader's raw cursor
    assert {k: v for k, v in figures.items() if k != "seconds"} == {
        "building": 2, "stairwell": 2, "shop": 2}
    assert figures["seconds"] >= 0
    doors = set(Placard.objects.exclude(kind="shop")
                .values_list("kind", "building_id", "unit_no"))
    assert doors == {("building", a1.pk, None), ("building", c1.pk, None),
                     ("stairwell", a1.pk, 1), ("stairwell", a1.pk, 2)}
    shops = list(Placard.objects.filter(kind="shop"))
    assert sorted(s.name for s in shops) == ["城南小区3幢102号商铺", "城南小区3幢103号商铺"]
    for shop in shops:
        assert shop.building_id == c1.pk
        assert 3 < distance_m(shop.point.x, shop.point.y, c1.location.x, c1.location.y) < 40
    assert PlacardEvent.objects.filter(kind="created").count() == 6
    again = load_placards.load_placards(connection)  # a connection works too
    assert again["building"] == again["stairwell"] == again["shop"] == 0
    assert load_placards.lines(figures) == [
        "  placards             6  (2 buildings, 2 stairwells, 2 shops)"]
