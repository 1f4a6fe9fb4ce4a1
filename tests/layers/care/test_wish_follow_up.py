"""A visit that finds a need raises a micro-wish for the household in the same step (the API of
record_visit): the wish waits for review, the visit's timeline names it; a wish from a visit
that found nothing, or half a wish, is refused with nothing saved."""

from __future__ import annotations

import pytest

from layers.care.models import CareEvent, Visit
from layers.wishes.models import Wish
from tests.layers.care.test_visits import body, record

pytestmark = pytest.mark.django_db
WISH = {"wish_category": "material", "wish_title": "需要一床冬被", "wish_est_value": 150,
        "wish_public_title": "一户居民需要冬被"}


def test_a_visit_with_a_concern_raises_a_wish_for_review_in_the_same_step(ward):
    answer = record(ward.users["gw"], ward.subjects["s1"], body(living="concern", **WISH))
    assert answer.status_code == 201, answer.content
    wish = Wish.objects.get()
    assert (wish.household, wish.wisher_id, wish.status, wish.est_value) == (
        ward.town.households["h1"], ward.subjects["s1"].person_id, "submitted", 150)
    assert wish.public_title == "一户居民需要冬被"
    visited = CareEvent.objects.get(subject=ward.subjects["s1"], kind="visited")
    assert visited.data["wish"] == wish.code


@pytest.mark.parametrize("extra, field", [
    ({"living": "ok", **WISH}, "wish_title"),  # nothing found that a wish could meet
    ({"living": "concern", **{**WISH, "wish_category": ""}}, "wish_category"),
    ({"living": "concern", **{**WISH, "wish_est_value": 501}}, "wish_est_value"),
    ({"living": "concern", "wish_category": "material", "wish_est_value": 10}, "wish_title"),
])
def test_a_wish_the_visit_cannot_raise_is_refused_with_nothing_saved(ward, extra, field):
    answer = record(ward.users["gw"], ward.subjects["s1"], body(**extra))
    assert answer.status_code == 400, answer.content
    assert field in answer.json()["fields"]
    assert not Visit.objects.exists() and not Wish.objects.exists()
