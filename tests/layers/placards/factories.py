"""A small placard world on the layers test city (tests/layers/factories.make_city):

    building a1  micro-grid A (117.795, 26.40)   2 units: unit 1 → micro-unit U1 (leader mul1),
                                                  unit 2 → micro-unit U2 (leader mul2);
                                                  building leader bl1
    building c1  micro-grid C (117.805, 26.399)  near the B|C edge (26.40): a boundary edit
                                                  moving the edge south puts it in B
    users        gl_a/gw_a … (make_city: grid leader and worker on A, B, C), zone leader zl,
                 community staff cs (PLACARD_MANAGE on the community), a resident, a superuser

Every leader holds a post with a duty phone, as the notice boards show them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from geogrid.capabilities import GrantedViewer
from geogrid.models import Post, StaffAssignment
from layers.people.models import BuildingLeaderTerm
from layers.placards import services
from layers.placards.models import Placard
from tests.factories import assign, make_user
from tests.layers.factories import COMMUNITY, ZONE, A, B, C, make_city
from tests.layers.people.factories import make_building, make_dwelling, make_micro_unit

SINCE = dt.date(2025, 1, 1)


@dataclass
class World:
    grids: dict
    users: dict[str, Any] = field(default_factory=dict)
    buildings: dict[str, Any] = field(default_factory=dict)
    units: dict[str, Any] = field(default_factory=dict)

    def viewer(self, name: str) -> GrantedViewer:
        return GrantedViewer(self.users[name])

    def staff(self, code: str, post: str):
        return StaffAssignment.objects.get(grid__code=code, grid__valid_to__isnull=True,
                                           post=post).user


def leader(name: str, grid, post: str, phone: str):
    user = make_user(first_name=name)
    assign(user, grid, post, phone=phone, since=SINCE)
    return user


def build_world() -> World:
    grids = make_city()
    w = World(grids)
    u = w.users
    u["gl_a"], u["gw_a"] = w.staff(A, Post.GRID_LEADER), w.staff(A, Post.GRID_WORKER)
    u["gw_b"], u["gw_c"] = w.staff(B, Post.GRID_WORKER), w.staff(C, Post.GRID_WORKER)
    u["gl_b"], u["gl_c"] = w.staff(B, Post.GRID_LEADER), w.staff(C, Post.GRID_LEADER)
    u["zl"] = leader("片长赵", grids[ZONE], Post.ZONE_LEADER, "13900000004")
    u["cs"] = make_user(first_name="社区钱")
    assign(u["cs"], grids[COMMUNITY], Post.COMMUNITY_STAFF)
    u["resident"] = make_user("resident")
    u["root"] = make_user(username="root", is_superuser=True, is_staff=True)
    u["mul1"] = leader("单元长一", grids[A], Post.MICRO_UNIT_LEADER, "13900000001")
    u["mul2"] = leader("单元长二", grids[A], Post.MICRO_UNIT_LEADER, "13900000002")
    u["bl1"] = leader("楼长孙", grids[A], Post.BUILDING_LEADER, "13900000003")
    a1 = make_building(grids[A], 117.795, 26.40, number="9", units=2)
    c1 = make_building(grids[C], 117.805, 26.399, estate="城南小区", number="3", units=1)
    w.buildings.update(a1=a1, c1=c1)
    w.units["U1"] = make_micro_unit(grids[A], "001", name="洋坊新村9幢1单元", leader=u["mul1"])
    w.units["U2"] = make_micro_unit(grids[A], "002", name="洋坊新村9幢2单元", leader=u["mul2"])
    for unit_no, unit in ((1, w.units["U1"]), (2, w.units["U2"])):
        for room in ("101", "201", "301"):
            make_dwelling(a1, room, unit_no=unit_no, micro_unit=unit)
    make_dwelling(c1, "101", unit_no=1)
    BuildingLeaderTerm.objects.create(building=a1, user=u["bl1"], since=SINCE)
    return w


def placard(w: World, kind: str = Placard.Kind.STAIRWELL, *, building: str = "a1",
            unit_no: int | None = 1, **extra) -> Placard:
    fields: dict[str, Any] = {"kind": kind, **extra}
    if kind in (Placard.Kind.BUILDING, Placard.Kind.STAIRWELL):
        fields["building"] = w.buildings[building].pk
        fields["unit_no"] = unit_no if kind == Placard.Kind.STAIRWELL else None
    return services.create_placard(w.viewer("root"), **fields)
