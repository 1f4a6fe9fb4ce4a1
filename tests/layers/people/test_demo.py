"""`manage.py demo_people` hands the demo micro-unit leader a unit of their micro-grid."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from geogrid.models import Post
from layers.people.models import MicroUnitLeaderTerm
from tests.factories import assign, make_user
from tests.layers.factories import A

pytestmark = pytest.mark.django_db


def test_demo_unit_leader_takes_over_the_first_unit_of_their_micro_grid(town):
    leader = make_user("grid_worker", username="unitleader")
    assign(leader, town.grids[A], Post.MICRO_UNIT_LEADER)
    call_command("demo_people")
    call_command("demo_people")  # idempotent
    unit = town.units["U1"]
    open_terms = MicroUnitLeaderTerm.objects.filter(micro_unit=unit, until__isnull=True)
    assert [t.user.username for t in open_terms] == ["unitleader"]
    assert MicroUnitLeaderTerm.objects.filter(micro_unit=unit, user=town.users["mul"],
                                              until__isnull=False).exists()
