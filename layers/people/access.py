"""Who sees which households, and how much of them (geogrid.capabilities applied to people).

A `Viewer` is read once per request: the user's capability grants plus the micro-units and
buildings they lead (open leader terms, only while they hold a leader post). For a household it
answers a `Level`:

- FULL: every field, identifiers masked — grid workers/leaders/zone leaders on their grids,
  community/subdistrict staff on their subtree, superusers;
- UNIT: room, head's name, size, tags, masked contact phone — the leader of the household's
  micro-unit or building;
- SELF: a resident's own household (masked, as FULL for its members);
- NONE: not visible (→ 404, the same answer as for a household that does not exist).

`Household.objects` filtered by `viewer.households_q()` is the only way views list households.
"""

from __future__ import annotations

import datetime as dt
from enum import IntEnum
from functools import cached_property, reduce
from operator import or_

from django.db.models import Q
from django.utils import timezone

from geogrid.capabilities import Capability, GrantedViewer
from layers.people.models import BuildingLeaderTerm, MicroUnitLeaderTerm, Residence


class Level(IntEnum):
    NONE = 0
    UNIT = 1
    SELF = 2
    FULL = 3


# What each level may see of a household (the serializers and the access log use these names).
UNIT_FIELDS = ("room", "head_name", "size", "tags", "contact_phone", "status")
FULL_FIELDS = (*UNIT_FIELDS, "kind", "members", "id_number", "phone", "birth_date", "gender",
               "relation", "presence", "population_kind", "party_member")


def open_terms(model, user, on: dt.date | None = None):
    day = on or timezone.localdate()
    return model.objects.filter(Q(until__isnull=True) | Q(until__gte=day), user=user,
                                since__lte=day)


class LeaderViewer(GrantedViewer):
    """A viewer who may hold leader terms: the micro-units and buildings they lead today (the
    OWN_UNIT capability; the people and wishes layers use them)."""

    @cached_property
    def unit_ids(self) -> frozenset[int]:
        if not self.grants.codes(Capability.OWN_UNIT):
            return frozenset()
        return frozenset(open_terms(MicroUnitLeaderTerm, self.user)
                         .values_list("micro_unit_id", flat=True))

    @cached_property
    def building_ids(self) -> frozenset[int]:
        if not self.grants.codes(Capability.OWN_UNIT):
            return frozenset()
        return frozenset(open_terms(BuildingLeaderTerm, self.user)
                         .values_list("building_id", flat=True))


class Viewer(LeaderViewer):
    @cached_property
    def full_roots(self) -> list[str]:
        return sorted({*self.grants.codes(Capability.GRID),
                       *self.grants.codes(Capability.SUBTREE)})


    @cached_property
    def own_household_ids(self) -> frozenset[int]:
        if not (self.user.is_authenticated and self.user.is_active):
            return frozenset()
        return frozenset(Residence.objects.filter(person__user=self.user, valid_to__isnull=True)
                         .values_list("household_id", flat=True))

    def dwellings_q(self, prefix: str = "") -> Q:
        """Dwellings in this viewer's grids (FULL) or units/buildings (UNIT); `prefix` for
        lookups from a related model ("dwelling__" from households)."""
        if self.is_super:
            return Q()
        parts = [Q(**{f"{prefix}building__grid__code__startswith": r}) for r in self.full_roots]
        if self.unit_ids:
            parts.append(Q(**{f"{prefix}micro_unit_id__in": self.unit_ids}))
        if self.building_ids:
            parts.append(Q(**{f"{prefix}building_id__in": self.building_ids}))
        return reduce(or_, parts) if parts else Q(pk__in=[])

    def households_q(self) -> Q:
        """Households this viewer may see at any level: their dwellings', and their own."""
        if self.is_super or not self.own_household_ids:
            return self.dwellings_q("dwelling__")
        return self.dwellings_q("dwelling__") | Q(id__in=self.own_household_ids)

    def level(self, *, grid_code: str | None, micro_unit_id: int | None, building_id: int,
              household_id: int | None = None) -> Level:
        if self.is_super or (grid_code and any(grid_code.startswith(r) for r in self.full_roots)):
            return Level.FULL
        if household_id is not None and household_id in self.own_household_ids:
            return Level.SELF
        if micro_unit_id in self.unit_ids or building_id in self.building_ids:
            return Level.UNIT
        return Level.NONE

    def level_of(self, household) -> Level:
        d = household.dwelling
        grid = d.building.grid
        return self.level(grid_code=grid.code if grid else None, micro_unit_id=d.micro_unit_id,
                          building_id=d.building_id, household_id=household.pk)

    def may_report(self, household) -> bool:
        """Leaders of its unit/building, and FULL viewers with the report capability."""
        if self.level_of(household) == Level.UNIT:
            return True
        return self.may(Capability.REPORT, _grid_code(household))

    def may_verify(self, household) -> bool:
        return self.may(Capability.VERIFY, _grid_code(household))

    def post_for_log(self, level: Level) -> str:
        if level == Level.UNIT:
            return self.grants.post_for(Capability.OWN_UNIT)
        if level == Level.SELF:
            return "resident"
        return self.grants.post_for(Capability.GRID, Capability.SUBTREE)


def _grid_code(household) -> str | None:
    grid = household.dwelling.building.grid
    return grid.code if grid else None
