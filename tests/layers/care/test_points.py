"""A counting visit by an assigned volunteer earns the care_visit rule's points, once; a visit
that does not count for the colour, or by someone who is not a volunteer visitor, earns none."""

from __future__ import annotations

import pytest

from layers.care.models import Visit
from layers.volunteering.models import PointsEntry, Volunteer
from tests.layers.care.test_visits import NEAR, body, record
from tests.layers.factories import COMMUNITY
from tests.layers.volunteering.factories import make_volunteer

pytestmark = pytest.mark.django_db


def volunteer_of(ward, username: str) -> Volunteer:
    return make_volunteer(ward.town.grids[COMMUNITY], user=ward.users[username],
                          display_name=username)


def entries(volunteer: Volunteer):
    return PointsEntry.objects.filter(account__volunteer=volunteer)


def test_a_home_visit_by_the_volunteer_visitor_earns_five_points_once(ward):
    vol = volunteer_of(ward, "vol")
    answer = record(ward.users["vol"], ward.subjects["s1"],
                    body(lon=NEAR[0], lat=NEAR[1], accuracy_m=10))
    assert answer.status_code == 201, answer.content
    visit = Visit.objects.get(pk=answer.json()["id"])
    (entry,) = entries(vol)
    assert (entry.amount, entry.kind, entry.rule) == (5, "earn", "care_visit")
    assert (entry.source_type, entry.source_id) == ("visit", visit.pk)
    assert vol.account.balance == 5


def test_a_phone_call_to_a_red_subject_does_not_count_and_earns_nothing(ward):
    vol = volunteer_of(ward, "vol")
    answer = record(ward.users["vol"], ward.subjects["s1"], body(mode="chat"))
    assert answer.status_code == 201, answer.content
    assert not entries(vol).exists()


def test_a_visit_by_a_volunteer_who_is_not_its_volunteer_visitor_earns_nothing(ward):
    # mul visits s1 as its micro-unit leader; being a registered volunteer too changes nothing
    mul = volunteer_of(ward, "mul")
    answer = record(ward.users["mul"], ward.subjects["s1"],
                    body(lon=NEAR[0], lat=NEAR[1], accuracy_m=10))
    assert answer.status_code == 201, answer.content
    assert not entries(mul).exists()
