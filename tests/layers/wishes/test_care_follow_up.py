"""The care follow-up: a visit with a concern or an urgent finding raises a micro-wish for the
subject's household, posted by the visiting grid worker, the subject the wisher; a visit with
nothing to help refuses."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from layers.care import services as care
from layers.care.access import CareViewer
from layers.wishes.care import wish_from_visit
from layers.wishes.models import WishEvent
from tests.layers.care.conftest import build_ward

pytestmark = pytest.mark.django_db


def _visit(ward, living: str):
    end = timezone.now() - dt.timedelta(hours=1)
    return care.record_visit(ward.subjects["s1"].pk, CareViewer(ward.users["gw"]), kind="key",
                             mode="home", started_at=end - dt.timedelta(minutes=30),
                             ended_at=end, living=living, safety="ok", family_care="ok",
                             services="ok")


def test_a_visit_with_a_concern_raises_a_wish_for_the_subjects_household():
    ward = build_ward()
    visit = _visit(ward, "concern")
    wish = wish_from_visit(visit, ward.users["gw"], category="material", title="需要一床冬被",
                           public_title="一户居民需要冬被", est_value=200)
    s1 = ward.subjects["s1"]
    assert wish.wisher_id == s1.person_id and wish.household == ward.town.households["h1"]
    assert (wish.status, wish.posted_role, wish.posted_by) == ("submitted", "grid_worker",
                                                               ward.users["gw"])
    posted = WishEvent.objects.get(wish=wish, kind="posted")
    assert posted.data["visit"] == visit.pk and "groups" not in posted.data


def test_a_visit_with_nothing_to_help_raises_no_wish():
    ward = build_ward()
    visit = _visit(ward, "ok")
    with pytest.raises(ValidationError):
        wish_from_visit(visit, ward.users["gw"], category="material", title="x", est_value=1)
    assert not WishEvent.objects.exists()
