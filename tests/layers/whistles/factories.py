"""Whistle test data on the layers' small city (tests/layers/factories.py), plus a second
subdistrict, three departments and the people who act: the subdistrict office, a dispatcher
of the district, community staff, and a member of each department."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.gis.geos import Point

from geogrid.models import Grid, Post
from layers.appeals.actors import Actor
from layers.appeals.intake import AppealInput, submit_appeal
from layers.appeals.models import Appeal, Department
from tests.factories import assign, make_grid, make_user
from tests.layers.factories import COMMUNITY, DISTRICT, SUB, box, make_city

SUB2 = DISTRICT + "002"
COMMUNITY2 = SUB2 + "001"
PLACE = (117.795, 26.40)  # inside micro-grid A


@dataclass
class World:
    grids: dict[str, Grid]
    office: Any  # subdistrict staff of SUB
    office2: Any  # subdistrict staff of SUB2
    dispatcher: Any  # dispatcher of the district
    community: Any  # community staff of COMMUNITY
    members: dict[str, Any]  # department code → a member
    departments: dict[str, Department]

    def actor(self, user: Any) -> Actor:
        return Actor(user=user)


def make_world() -> World:
    grids = make_city(with_staff=False)
    grids[SUB2] = make_grid(SUB2, parent=grids[DISTRICT],
                            boundary=box(117.83, 26.38, 117.85, 26.42), name="第二街道")
    grids[COMMUNITY2] = make_grid(COMMUNITY2, parent=grids[SUB2],
                                  boundary=box(117.83, 26.38, 117.85, 26.42), name="东门社区")
    office = make_user(first_name="office")
    assign(office, grids[SUB], Post.SUBDISTRICT_STAFF)
    office2 = make_user(first_name="office 2")
    assign(office2, grids[SUB2], Post.SUBDISTRICT_STAFF)
    dispatcher = make_user("dispatcher", first_name="dispatcher")
    assign(dispatcher, grids[DISTRICT], Post.DISPATCHER)
    community = make_user(first_name="community")
    assign(community, grids[COMMUNITY], Post.COMMUNITY_STAFF)
    departments, members = {}, {}
    for code, name in (("CG", "城管局"), ("ZJ", "住建局"), ("SW", "水务局"), ("GA", "公安分局")):
        dep = Department.objects.create(code=code, name_zh=name, district_code=DISTRICT)
        member = make_user(first_name=f"member {code}")
        dep.members.add(member)
        departments[code], members[code] = dep, member
    return World(grids, office, office2, dispatcher, community, members, departments)


def appeal_at(lon: float = PLACE[0], lat: float = PLACE[1]) -> Appeal:
    result = submit_appeal(AppealInput(category="E0102", lon=lon, lat=lat,
                                       description="路灯不亮"), actor=make_user())
    return result.appeal


def point() -> Point:
    return Point(*PLACE, srid=4326)
