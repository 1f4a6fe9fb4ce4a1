"""A small town with people (on tests/layers/factories.make_city) and one user per post.

    building a1 (micro-grid A)  dwelling 1-101 in micro-unit U1 → household h1 (3 members)
    building a2 (micro-grid A)  dwelling 1-201, no micro-unit    → household h2 (2 members)
    building b1 (micro-grid B)  dwelling 1-301 in micro-unit U2 → household h3 (1 member)
    community 2 (beside the first, empty): its staff see nobody here
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from geogrid.models import Post
from layers.people.models import Household, Person
from tests.factories import assign, make_grid, make_user
from tests.layers.factories import COMMUNITY, DISTRICT, SUB, A, B, box, make_city
from tests.layers.people.factories import (
    lead_building,
    make_building,
    make_dwelling,
    make_household,
    make_micro_unit,
)

COMMUNITY2 = SUB + "002"


@dataclass
class Town:
    grids: dict
    users: dict[str, Any] = field(default_factory=dict)
    households: dict[str, Household] = field(default_factory=dict)
    units: dict[str, Any] = field(default_factory=dict)
    buildings: dict[str, Any] = field(default_factory=dict)

    def person(self, household: str, index: int = 0) -> Person:
        rows = self.households[household].residences.filter(valid_to__isnull=True) \
            .order_by("id")
        return rows[index].person


def build_town() -> Town:
    grids = make_city(with_staff=False)
    grids[COMMUNITY2] = make_grid(COMMUNITY2, parent=grids[SUB],
                                  boundary=box(117.825, 26.385, 117.83, 26.415), name="东门社区")
    t = Town(grids)
    u = t.users
    u["mul"] = make_user("grid_worker", username="mul")
    u["bl"] = make_user("grid_worker", username="bl")
    u["gw"] = make_user("grid_worker", username="gw")
    u["gw_b"] = make_user("grid_worker", username="gw_b")
    u["cs"] = make_user("grid_worker", username="cs")
    u["cs2"] = make_user("grid_worker", username="cs2")
    u["ss"] = make_user("grid_worker", username="ss")
    u["dispatcher"] = make_user("dispatcher", username="dispatcher")
    u["manager"] = make_user("grid_manager", username="manager")
    u["resident"] = make_user("resident", username="resident")
    assign(u["mul"], grids[A], Post.MICRO_UNIT_LEADER)
    assign(u["bl"], grids[A], Post.BUILDING_LEADER)
    assign(u["gw"], grids[A], Post.GRID_WORKER)
    assign(u["gw_b"], grids[B], Post.GRID_WORKER)
    assign(u["cs"], grids[COMMUNITY], Post.COMMUNITY_STAFF)
    assign(u["cs2"], grids[COMMUNITY2], Post.COMMUNITY_STAFF)
    assign(u["ss"], grids[SUB], Post.SUBDISTRICT_STAFF)
    assign(u["dispatcher"], grids[DISTRICT], Post.DISPATCHER)
    assign(u["manager"], grids[DISTRICT], Post.MANAGER)

    b = t.buildings
    b["a1"] = make_building(grids[A], 117.795, 26.395, number="1")
    b["a2"] = make_building(grids[A], 117.795, 26.405, number="2")
    b["b1"] = make_building(grids[B], 117.805, 26.405, estate="桂坞家园", number="1")
    t.units["U1"] = make_micro_unit(grids[A], "001", name="洋坊新村1幢", leader=u["mul"])
    t.units["U2"] = make_micro_unit(grids[B], "001", name="桂坞家园1幢")
    lead_building(b["a2"], u["bl"])
    t.households["h1"] = make_household(
        make_dwelling(b["a1"], "101", micro_unit=t.units["U1"]), 3, tags=["空巢"])
    t.households["h2"] = make_household(make_dwelling(b["a2"], "201"), 2)
    t.households["h3"] = make_household(
        make_dwelling(b["b1"], "301", micro_unit=t.units["U2"]), 1, tags=["独居", "高龄"])
    resident_person = t.person("h1", 1)
    resident_person.user = u["resident"]
    resident_person.save(update_fields=["user"])
    return t


@pytest.fixture
def town(db) -> Town:
    return build_town()
