"""Where a placard is *now* and who answers for it: the 四长 board and the people to notify.

Everything is read at the moment of the scan, never stored on the placard:
- the grid: the placard's point assigned by geogrid.locate (covers → nearest → ancestor), so a
  boundary edit applies to the next scan;
- 网格长 (grid leader) and 网格员 (grid workers): current posts on that micro-grid;
- 片长 (zone leader): the current post on the zone containing it (the code's zone prefix);
- 楼栋长 (building leader): the building's open BuildingLeaderTerm(s);
- 微单元长 (micro-unit leader): the open MicroUnitLeaderTerm of the stairwell's micro-unit(s),
  found through the dwellings of (building, unit); for a building placard, of every micro-unit
  with dwellings in the building (at most BOARD_UNIT_LEADERS_MAX named on the board).

A leader's duty phone is the phone of their current post (StaffAssignment.phone, the number the
grid's notice board shows), preferring the post on the placard's micro-grid. Names are the
people's names; a login name is never shown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from geogrid.hierarchy import Level, code_lengths
from geogrid.locate import Assignment, assign_point
from geogrid.models import Post, StaffAssignment
from layers.people.models import BuildingLeaderTerm, Dwelling, MicroUnit, MicroUnitLeaderTerm
from layers.placards.models import Placard

GRID_WORKER_POSTS = (Post.GRID_WORKER, Post.GRID_LEADER)  # told of every report at once
BOARD_ORDER = (Post.GRID_LEADER, Post.ZONE_LEADER, Post.BUILDING_LEADER, Post.MICRO_UNIT_LEADER)


@dataclass
class Leader:
    post: str
    name: str
    phone: str
    user_id: int
    unit: str = ""  # the micro-unit's name, for a micro-unit leader

    def as_dict(self) -> dict:
        return {"post": self.post, "post_label": str(Post(self.post).label), "name": self.name,
                "phone": self.phone, "unit": self.unit}


@dataclass
class Scene:
    """A placard as a scan finds it: its point, its grid now, its micro-units and leaders."""

    placard: Placard
    lon: float
    lat: float
    assignment: Assignment
    micro_units: list[MicroUnit] = field(default_factory=list)
    leaders: list[Leader] = field(default_factory=list)

    @property
    def grid_code(self) -> str | None:
        return self.assignment.code

    def board(self) -> list[dict]:
        return [leader.as_dict() for leader in self.leaders]

    def leader_ids(self, post: str) -> list[int]:
        return sorted({leader.user_id for leader in self.leaders if leader.post == post})


def _open(terms: Any, day: dt.date) -> QuerySet:
    return terms.filter(Q(until__isnull=True) | Q(until__gte=day), since__lte=day,
                        user__is_active=True)


def micro_units_of(placard: Placard) -> list[MicroUnit]:
    """The stairwell's micro-unit(s), most dwellings first; every micro-unit of a building."""
    if placard.kind not in (Placard.Kind.BUILDING, Placard.Kind.STAIRWELL):
        return []
    rows = Dwelling.objects.filter(building_id=placard.building_id or 0,
                                   micro_unit__isnull=False)
    if placard.kind == Placard.Kind.STAIRWELL:
        rows = rows.filter(unit_no=placard.unit_no or 0)
    counted = (rows.values("micro_unit").annotate(n=Count("id"))
               .order_by("-n", "micro_unit").values_list("micro_unit", flat=True))
    ids = list(counted)
    units = MicroUnit.objects.in_bulk(ids)
    return [units[i] for i in ids if i in units]


def _name(user) -> str:
    return f"{user.first_name} {user.last_name}".strip()


def _leaders(placard: Placard, assignment: Assignment, units: list[MicroUnit],
             day: dt.date) -> list[Leader]:
    code = assignment.code or ""
    zone_len = code_lengths()[Level.ZONE]
    zone = code[:zone_len] if len(code) >= zone_len else ""
    staff = (StaffAssignment.objects.current(day)
             .filter(user__is_active=True)
             .filter(Q(grid__code=code, post=Post.GRID_LEADER)
                     | Q(grid__code=zone, post=Post.ZONE_LEADER))
             .select_related("user", "grid").order_by("post", "since", "id"))
    out = [Leader(s.post, _name(s.user), s.phone, s.user_id) for s in staff if code]
    if placard.building_id:
        for term in (_open(BuildingLeaderTerm.objects, day)
                     .filter(building_id=placard.building_id)
                     .select_related("user").order_by("since", "id")):
            out.append(Leader(Post.BUILDING_LEADER, _name(term.user), "", term.user_id))
    if units:
        limit = int(settings.GEOGRID["PLACARDS"].get("BOARD_UNIT_LEADERS_MAX", 6))
        by_unit: dict[int, MicroUnitLeaderTerm] = {}
        for t in (_open(MicroUnitLeaderTerm.objects, day).filter(micro_unit__in=units)
                  .select_related("user").order_by("-since", "-id")):
            by_unit.setdefault(t.micro_unit_id, t)  # the latest term, should two overlap
        for unit in units[:limit]:
            term = by_unit.get(unit.pk)
            if term is not None:
                out.append(Leader(Post.MICRO_UNIT_LEADER, _name(term.user), "", term.user_id,
                                  unit=unit.name))
    _duty_phones(out, code, day)
    rank = {post: i for i, post in enumerate(BOARD_ORDER)}
    return sorted(out, key=lambda leader: rank.get(Post(leader.post), 9))


def _duty_phones(leaders: list[Leader], code: str, day: dt.date) -> None:
    """Building and micro-unit leaders' duty phones from their current posts of that kind."""
    wanted = [x for x in leaders if not x.phone and x.post in (Post.BUILDING_LEADER,
                                                               Post.MICRO_UNIT_LEADER)]
    if not wanted:
        return
    posts = (StaffAssignment.objects.current(day)
             .filter(user_id__in={x.user_id for x in wanted},
                     post__in=(Post.BUILDING_LEADER, Post.MICRO_UNIT_LEADER))
             .exclude(phone="").values_list("user_id", "post", "grid__code", "phone"))
    best: dict[tuple[int, str], tuple[bool, str]] = {}
    for user_id, post, grid_code, phone in posts:
        key = (user_id, post)
        here = grid_code == code
        if key not in best or (here and not best[key][0]):
            best[key] = (here, phone)
    for leader in wanted:
        found = best.get((leader.user_id, leader.post))
        leader.phone = found[1] if found else ""


def scene_of(placard: Placard, *, lon: float | None = None, lat: float | None = None,
             assignment: Assignment | None = None) -> Scene:
    """The placard now: its grid resolved from its point (or from the given point, a pin the
    reporter moved; or the assignment the intake just made there), its micro-units and the
    四长 board."""
    where = placard.location
    x = where.x if lon is None else lon
    y = where.y if lat is None else lat
    day = timezone.localdate()
    if assignment is None:
        assignment = assign_point(x, y, details=False)
    units = micro_units_of(placard)
    return Scene(placard, x, y, assignment, units, _leaders(placard, assignment, units, day))


def grid_code_of(placard: Placard) -> str | None:
    """The code of the grid the placard's point lies in now (for scope checks)."""
    where = placard.location
    return assign_point(where.x, where.y, details=False).code
