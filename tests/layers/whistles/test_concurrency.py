"""Races on real connections: a double-tapped report-in and two dispatchers replacing the same
refusing lead at once — one wins, the other gets a 409, and the whistle keeps one lead."""

from __future__ import annotations

import pytest

from geogrid.errors import Conflict
from layers.whistles import services
from layers.whistles.models import WhistleUnit
from tests.concurrency import race
from tests.factories import assign, make_user
from tests.layers.whistles.factories import PLACE, make_world

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_double_tapped_report_in_counts_once():
    world = make_world()
    whistle = services.blow(world.actor(world.office), reason="emergency", title="t",
                            lead="CG", lon=PLACE[0], lat=PLACE[1])
    lead = WhistleUnit.objects.get(whistle=whistle)
    member = world.actor(world.members["CG"])
    results = race(*[lambda: services.report_in(lead.pk, member, mode="remote",
                                                version=lead.version)] * 2)
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "WhistleUnit"]
    assert whistle.events.filter(kind="report_in").count() == 1


def test_two_replacements_of_one_lead_leave_one_lead():
    world = make_world()
    whistle = services.blow(world.actor(world.office), reason="appeal", title="t", lead="CG",
                            lon=PLACE[0], lat=PLACE[1])
    lead = WhistleUnit.objects.get(whistle=whistle)
    services.refuse(lead.pk, world.actor(world.members["CG"]), reason="不归我们")
    second = make_user("dispatcher")
    assign(second, world.grids["350427"], "dispatcher")
    results = race(
        lambda: services.replace(lead.pk, world.actor(world.dispatcher), department="SW"),
        lambda: services.replace(lead.pk, world.actor(second), department="ZJ"))
    assert sum(isinstance(r, Conflict) for r in results) == 1
    assert WhistleUnit.objects.filter(whistle=whistle, role="lead").exclude(
        status="replaced").count() == 1
