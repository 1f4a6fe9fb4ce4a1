"""Deliberation test data on the layers' small city (tests/layers/factories.py), plus a second
subdistrict with a community, and the people who act:

    staff       community staff of COMMUNITY (micro-grids A, B, C)
    office      subdistrict staff of SUB (above COMMUNITY)
    staff2      community staff of COMMUNITY2 (another subdistrict)
    leader      micro-unit leader of a unit in A (post on A and an open leader term)
    resident    lives in A (a person of the register with an open residence, Person.user)
    neighbour   lives in B
    worker      grid worker of A (no deliberation rights: sees published decisions of A)
    dispatcher  dispatcher of the district (figures only)
    stranger    signed in, no post, no residence
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from geogrid.models import Grid, Post
from layers.appeals.actors import Actor
from layers.appeals.intake import AppealInput, submit_appeal
from layers.appeals.models import Appeal
from layers.deliberation import services
from layers.deliberation.models import Proposal
from layers.people.models import Residence
from tests.factories import assign, make_grid, make_user
from tests.layers.factories import COMMUNITY, DISTRICT, SUB, A, B, box, make_city
from tests.layers.people.factories import (
    make_building,
    make_dwelling,
    make_household,
    make_micro_unit,
)

SUB2 = DISTRICT + "002"
COMMUNITY2 = SUB2 + "001"
TZ = ZoneInfo("Asia/Shanghai")
# A Monday in an ordinary week (no holiday within the 5 working days that follow).
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=TZ)
POINT_A = (117.795, 26.40)
POINT_B = (117.805, 26.405)
KEY_CATEGORY = "E0101"  # deadline class "key": 5 working days
GENERAL_CATEGORY = "E0102"  # not key class ("urgent")


def at(days: float = 0, minutes: float = 0) -> dt.datetime:
    return T0 + dt.timedelta(days=days, minutes=minutes)


@dataclass
class World:
    grids: dict[str, Grid]
    users: dict[str, Any]

    def actor(self, name: str) -> Actor:
        return Actor(user=self.users[name])


def _resident(grid: Grid, x: float, y: float, name: str) -> Any:
    user = make_user(first_name=name)
    household = make_household(make_dwelling(make_building(grid, x, y), "101"), members=1)
    person = Residence.objects.get(household=household).person
    person.user = user
    person.save(update_fields=["user"])
    return user


def make_world() -> World:
    grids = make_city(with_staff=False)
    grids[SUB2] = make_grid(SUB2, parent=grids[DISTRICT],
                            boundary=box(117.83, 26.38, 117.85, 26.42), name="第二街道")
    grids[COMMUNITY2] = make_grid(COMMUNITY2, parent=grids[SUB2],
                                  boundary=box(117.83, 26.38, 117.85, 26.42), name="东门社区")
    u: dict[str, Any] = {}
    u["staff"] = make_user(first_name="staff")
    assign(u["staff"], grids[COMMUNITY], Post.COMMUNITY_STAFF)
    u["office"] = make_user(first_name="office")
    assign(u["office"], grids[SUB], Post.SUBDISTRICT_STAFF)
    u["staff2"] = make_user(first_name="staff 2")
    assign(u["staff2"], grids[COMMUNITY2], Post.COMMUNITY_STAFF)
    u["leader"] = make_user(first_name="unit leader")
    assign(u["leader"], grids[A], Post.MICRO_UNIT_LEADER)
    make_micro_unit(grids[A], leader=u["leader"])
    u["resident"] = _resident(grids[A], *POINT_A, "resident")
    u["neighbour"] = _resident(grids[B], *POINT_B, "neighbour")
    u["worker"] = make_user("grid_worker", first_name="worker")
    assign(u["worker"], grids[A], Post.GRID_WORKER)
    u["dispatcher"] = make_user("dispatcher", first_name="dispatcher")
    assign(u["dispatcher"], grids[DISTRICT], Post.DISPATCHER)
    u["stranger"] = make_user(first_name="stranger")
    return World(grids, u)


def appeal(category: str = KEY_CATEGORY, point: tuple[float, float] = POINT_A, *,
           due_at: dt.datetime | None = None, dispatched_at: dt.datetime | None = None,
           status: str | None = None) -> Appeal:
    made = submit_appeal(AppealInput(category=category, lon=point[0], lat=point[1],
                                     description="楼道堆物", reported_at=T0 - dt.timedelta(days=1)),
                         actor=make_user()).appeal
    fields: dict[str, Any] = {"due_at": due_at, "dispatched_at": dispatched_at}
    if status:
        fields["status"] = status
    Appeal.objects.filter(pk=made.pk).update(**fields)
    made.refresh_from_db()
    return made


def propose(world: World, who: str = "staff", *, grid: str = A, when: dt.datetime = T0,
            **kw: Any) -> Proposal:
    args = {"title": "楼道堆物清理", "size": "small", "description": "三单元楼道堆满杂物"}
    return services.propose(world.actor(who), grid=grid, at=when, **{**args, **kw})


def act(world: World, name: str, proposal: Proposal, who: str = "staff", **kw: Any) -> Proposal:
    return services.PROPOSAL_ACTIONS[name].service(proposal.pk, world.actor(who), **kw)


MEETING = {"venue": "courtyard", "place": "3 号楼前", "residents": 18, "owners_committee": 2,
           "property_company": 1, "community": 2, "units": 1, "minutes": "同意清理，物业出车"}


def through(world: World, proposal: Proposal, stage: str) -> Proposal:
    """Take `proposal` (proposed at T0) forward to `stage`, one day per step."""
    order = ["assessed", "deliberating", "decided", "implementing", "evaluated", "closed"]
    steps = {
        "assessed": lambda: act(world, "assess", proposal, outcome="accept", reason="涉及全楼",
                                at=at(1)),
        "deliberating": lambda: act(world, "hold_meeting", proposal, held_at=at(2),
                                    at=at(2, 60), **MEETING),
        "decided": lambda: act(world, "decide", proposal, text="周六统一清理", votes_for=20,
                               votes_against=1, votes_abstain=3, at=at(3)),
        "implementing": lambda: act(world, "start_project", proposal, owner="物业公司",
                                    due_on=(at(10)).date(), at=at(4)),
        "evaluated": lambda: act(world, "evaluate", proposal, effect="effective",
                                 evaluation="楼道已清空", at=at(5)),
        "closed": lambda: act(world, "close", proposal, at=at(6)),
    }
    for name in order[:order.index(stage) + 1]:
        proposal = steps[name]()
    return proposal
