"""Volunteers and partner units for tests (layers.volunteering)."""

from __future__ import annotations

from typing import Any

from geogrid.models import Grid
from layers.volunteering.models import PartnerUnit, Volunteer
from layers.volunteering.rules import ensure_default_rules
from tests.factories import make_user


def make_volunteer(community: Grid, *, user: Any = None, display_name: str = "小王",
                   kind: str = Volunteer.Kind.VOLUNTEER, person: Any = None,
                   partner_unit: PartnerUnit | None = None) -> Volunteer:
    """A volunteer serving `community` (a new user with the `resident` role unless given)."""
    ensure_default_rules()  # a flush by an earlier transactional test empties the rules
    return Volunteer.objects.create(
        user=user or make_user("resident"), community=community, display_name=display_name,
        kind=kind, person=person, partner_unit=partner_unit)


def make_partner_unit(community: Grid, *, name: str = "县供电公司", members: tuple = (),
                      kind: str = PartnerUnit.Kind.UNIT) -> PartnerUnit:
    unit = PartnerUnit.objects.create(community=community, name=name, kind=kind)
    unit.members.add(*members)
    return unit
