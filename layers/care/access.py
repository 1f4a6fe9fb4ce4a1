"""Who sees which care subjects, and how much (geogrid.capabilities applied to care).

The group a person is in — 低保, hardship, disability, severe mental disorder — is sensitive
personal information (PIPL Art. 28), so care data has its own levels per subject:

- FULL: every care field including the groups, identifiers masked — grid workers on their
  grids (care.grid), community staff and the care officer on their subtree (care.subtree);
- VISITOR: the subjects a user is assigned to visit (building/micro-unit leader, volunteer…):
  name, address, masked phone, colour, checklist and due date — never the groups;
- MASKED: subdistrict staff over their subtree (care.list): masked name, address, colour, due
  date; one record opens to FULL with a reason (care.unmask, logged, daily limit);
- NONE: not visible (→ 404, like a subject that does not exist).

Aggregates (layers.care.stats) are open to care.counts; cells under MIN_CELL are suppressed
for viewers without FULL access there.

A subject's place is the home of the person's open residence: household → dwelling →
building → micro-grid. `CareViewer.subjects_q()` is the only way views list subjects.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from functools import cached_property, reduce
from operator import or_
from typing import Any

from django.db.models import Q

from geogrid.capabilities import Capability, GrantedViewer
from layers.care.models import CareSubject, CareVisitor
from layers.people.models import Residence
from layers.people.serializers import room_label


class Level(IntEnum):
    NONE = 0
    MASKED = 1
    VISITOR = 2
    FULL = 3


# What each level may see (the serializers and the access log use these names).
MASKED_FIELDS = ("name_masked", "address", "colour", "status", "next_due")
VISITOR_FIELDS = ("name", "address", "room", "phone_masked", "colour", "status", "next_due",
                  "checklist", "visitors")
FULL_FIELDS = (*VISITOR_FIELDS, "groups", "colour_reason", "id_masked", "review_due",
               "assessed", "notice", "proposals", "timeline")


@dataclass(frozen=True)
class Home:
    """Where a subject lives now (their open residence), or nothing known."""

    grid_code: str | None
    building_id: int | None
    micro_unit_id: int | None
    address: str
    room: str
    location: Any  # a Point, or None
    grid_name: str = ""


def home_of(subject: CareSubject) -> Home:
    """From the prefetched `open_rows` (care.views prefetches them) or one query."""
    rows = getattr(subject.person, "open_rows", None)
    if rows is None:
        rows = list(Residence.objects.filter(person_id=subject.person_id, valid_to__isnull=True)
                    .select_related("household__dwelling__building__grid"))
    if not rows:
        return Home(None, None, None, "", "", None)
    d = rows[0].household.dwelling
    grid = d.building.grid
    return Home(grid.code if grid else None, d.building_id, d.micro_unit_id, d.building.address,
                room_label(d), d.building.location, grid.name if grid else "")


def in_roots(code: str | None, roots: list[str]) -> bool:
    return bool(code) and any(code.startswith(r) for r in roots)  # type: ignore[union-attr]


def persons_in(roots: list[str], field: str = "person_id") -> Q:
    """Rows whose person (`field`) has their open residence in one of the grid subtrees
    `roots` (a semi-join)."""
    if not roots:
        return Q(pk__in=[])
    where = reduce(or_, [Q(household__dwelling__building__grid__code__startswith=r)
                         for r in roots])
    return Q(**{f"{field}__in": Residence.objects.filter(where, valid_to__isnull=True)
                .values("person_id")})


class CareViewer(GrantedViewer):
    @cached_property
    def full_roots(self) -> list[str]:
        return sorted({*self.grants.codes(Capability.CARE_GRID),
                       *self.grants.codes(Capability.CARE_SUBTREE)})

    @cached_property
    def masked_roots(self) -> list[str]:
        return self.grants.codes(Capability.CARE_LIST)

    @cached_property
    def counts_roots(self) -> list[str]:
        return self.grants.codes(Capability.CARE_COUNTS)

    @cached_property
    def visiting_ids(self) -> frozenset[int]:
        """Subjects this user is an open visitor of."""
        if not (self.user.is_authenticated and self.user.is_active):
            return frozenset()
        return frozenset(CareVisitor.objects.filter(user=self.user, until__isnull=True)
                         .values_list("subject_id", flat=True))

    def subjects_q(self) -> Q:
        """Subjects this viewer may see at any level."""
        if self.is_super:
            return Q()
        parts = [persons_in([*self.full_roots, *self.masked_roots])]
        if self.visiting_ids:
            parts.append(Q(pk__in=self.visiting_ids))
        return reduce(or_, parts)

    def level(self, subject: CareSubject, home: Home) -> Level:
        if self.is_super or in_roots(home.grid_code, self.full_roots):
            return Level.FULL
        if subject.pk in self.visiting_ids:
            return Level.VISITOR
        if in_roots(home.grid_code, self.masked_roots):
            return Level.MASKED
        return Level.NONE

    def sees_groups_everywhere_in(self, code: str) -> bool:
        """FULL over the whole subtree `code` (aggregates are then not suppressed)."""
        return self.is_super or in_roots(code, self.full_roots)

    def post_for_log(self, level: Level) -> str:
        if level == Level.VISITOR:
            return "care_visitor"
        if level == Level.MASKED:
            return self.grants.post_for(Capability.CARE_LIST)
        return self.grants.post_for(Capability.CARE_GRID, Capability.CARE_SUBTREE)
