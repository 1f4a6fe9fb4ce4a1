"""Shared set-up of the workflow tests: the layers test city with a dispatcher, a zone leader,
a community manager and a department, and appeals created through the real intake."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AnonymousUser

from geogrid.models import Grid, Post
from layers.appeals import transitions
from layers.appeals.actors import Actor
from layers.appeals.intake import AppealInput, submit_appeal
from layers.appeals.models import Appeal, Department
from tests.factories import assign, make_user
from tests.layers.factories import COMMUNITY, DISTRICT, SUB, ZONE, A, B, C, make_city

SH = ZoneInfo("Asia/Shanghai")
# A point inside each micro-grid.
POINT = {A: (117.795, 26.40), B: (117.805, 26.405), C: (117.805, 26.395)}


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


@dataclass
class City:
    grids: dict[str, Grid]
    users: dict[str, object] = field(default_factory=dict)
    department: Department | None = None

    def actor(self, name: str) -> Actor:
        return Actor(user=self.users[name])


def build_city() -> City:
    """Users by name: dispatcher (district), sub_dispatcher (the subdistrict), leader_A/B/C and
    worker_A/B/C (micro-grids), zone_leader, manager (community), dept (department member),
    resident (no posts), outsider_dispatcher (a dispatcher of another district)."""
    grids = make_city(with_staff=False)
    city = City(grids=grids)
    u = city.users
    u["dispatcher"] = make_user("dispatcher", username="dispatcher", first_name="Dispatcher")
    assign(u["dispatcher"], grids[DISTRICT], Post.DISPATCHER)
    u["sub_dispatcher"] = make_user("dispatcher", username="sub_dispatcher")
    assign(u["sub_dispatcher"], grids[SUB], Post.DISPATCHER)
    for code, letter in ((A, "A"), (B, "B"), (C, "C")):
        u[f"leader_{letter}"] = make_user("grid_worker", username=f"leader_{letter}",
                                          first_name=f"Leader {letter}")
        assign(u[f"leader_{letter}"], grids[code], Post.GRID_LEADER)
        u[f"worker_{letter}"] = make_user("grid_worker", username=f"worker_{letter}",
                                          first_name=f"Worker {letter}")
        assign(u[f"worker_{letter}"], grids[code], Post.GRID_WORKER)
    u["zone_leader"] = make_user("grid_worker", username="zone_leader")
    assign(u["zone_leader"], grids[ZONE], Post.ZONE_LEADER)
    u["manager"] = make_user("grid_manager", username="manager")
    assign(u["manager"], grids[COMMUNITY], Post.MANAGER)
    u["dept"] = make_user(username="dept_member")
    city.department = Department.objects.create(code="CGJ", name_zh="城管局",
                                                name_en="City management")
    city.department.members.add(u["dept"])
    u["resident"] = make_user("resident", username="resident")
    u["other_resident"] = make_user("resident", username="other_resident")
    return city


def new_appeal(where: str = A, *, category: str = "R0102", reporter=None,
               reported_at: dt.datetime | None = None) -> tuple[Appeal, str]:
    lon, lat = POINT[where]
    result = submit_appeal(
        AppealInput(category=category, lon=lon, lat=lat, description="test appeal",
                    contact_phone="13812345678", reported_at=reported_at),
        actor=reporter or AnonymousUser(),
    )
    return result.appeal, result.token


def dispatched(city: City, where: str = A, *, category: str = "R0102",
               when: dt.datetime | None = None, **kwargs) -> Appeal:
    appeal, _ = new_appeal(where, category=category, **kwargs)
    d = city.actor("dispatcher")
    transitions.accept(appeal.tracking, d, at=when)
    return transitions.dispatch(appeal.tracking, d, at=when)


def in_progress(city: City, where: str = A, **kwargs) -> Appeal:
    appeal = dispatched(city, where, **kwargs)
    letter = {A: "A", B: "B", C: "C"}[where]
    return transitions.start(appeal.tracking, city.actor(f"worker_{letter}"))


def resolved(city: City, where: str = A, **kwargs) -> Appeal:
    appeal = in_progress(city, where, **kwargs)
    letter = {A: "A", B: "B", C: "C"}[where]
    return transitions.resolve(appeal.tracking, city.actor(f"worker_{letter}"), result="fixed")


def checked(city: City, where: str = A, **kwargs) -> Appeal:
    appeal = resolved(city, where, **kwargs)
    letter = {A: "A", B: "B", C: "C"}[where]
    return transitions.check_pass(appeal.tracking, city.actor(f"leader_{letter}"))


__all__ = [
    "COMMUNITY",
    "DISTRICT",
    "SH",
    "SUB",
    "ZONE",
    "A",
    "B",
    "C",
    "City",
    "at",
    "build_city",
    "checked",
    "dispatched",
    "in_progress",
    "new_appeal",
    "resolved",
]
