"""What the database itself enforces for wishes, and races on real connections.

- one live claim per wish (a partial unique index): two claims at once through the API → one
  201 and one 409; two raw inserts at once → one of them refused by the index;
- a claim has exactly one claimant, of the right kind; a wish's value is within the limit;
- the timeline is append-only;
- the claimant cap holds when one volunteer claims two wishes at once (the claimant's row lock).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest
from django.db import IntegrityError, transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from layers.wishes.models import Claim, Wish, WishEvent
from tests.concurrency import race
from tests.layers.wishes.conftest import build_square, client_for

LIVE_INDEX = "claim_one_live_per_wish"


def _raw_claim(wish: Wish, volunteer, status: str = "active", **extra) -> Claim:
    now = timezone.now()
    return Claim.objects.create(wish=wish, volunteer=volunteer, claimant_kind="volunteer",
                                acted_by=volunteer.user, claimed_at=now,
                                due_at=now + dt.timedelta(days=7), status=status, **extra)


@pytest.mark.django_db(transaction=True)
def test_two_volunteers_claiming_one_wish_at_once_get_one_201_and_one_409():
    sq = build_square()
    wish = sq.published("h1")
    url = f"/api/v1/wishes/{wish.pk}/actions/claim/"

    def claim(user) -> Callable[[], object]:
        return lambda: client_for(user).post(url, {}, content_type="application/json")

    results = race(claim(sq.users["v1"]), claim(sq.users["v2"]))
    statuses = sorted(r.status_code for r in results)
    assert statuses == [201, 409], [getattr(r, "content", r) for r in results]
    loser = next(r for r in results if r.status_code == 409)
    assert loser.json()["code"] == "conflict" and set(loser.json()) >= {"detail", "fields"}
    assert Claim.objects.filter(wish=wish).count() == 1
    wish.refresh_from_db()
    assert wish.status == "claimed"


@pytest.mark.django_db(transaction=True)
def test_the_index_refuses_a_second_live_claim_inserted_at_the_same_time():
    sq = build_square()
    wish = sq.published("h1")
    v1, v2 = sq.volunteers["v1"], sq.volunteers["v2"]
    gate = threading.Barrier(2)

    def insert(volunteer) -> Callable[[], object]:
        def run() -> object:
            with transaction.atomic():
                gate.wait()
                return _raw_claim(wish, volunteer)
        return run

    results = race(insert(v1), insert(v2))
    assert sum(isinstance(r, Claim) for r in results) == 1
    refused = [r for r in results if isinstance(r, IntegrityError)]
    assert len(refused) == 1 and LIVE_INDEX in str(refused[0])
    assert Claim.objects.filter(wish=wish).count() == 1


@pytest.mark.django_db(transaction=True)
def test_one_volunteer_claiming_two_wishes_at_once_stays_under_the_cap(settings):
    settings.GEOGRID = {**settings.GEOGRID,
                        "WISHES": {**settings.GEOGRID["WISHES"], "MAX_ACTIVE_CLAIMS": 1}}
    sq = build_square()
    first, second = sq.published("h1"), sq.published("h2")

    def claim(wish: Wish) -> Callable[[], object]:
        return lambda: client_for(sq.users["v1"]).post(
            f"/api/v1/wishes/{wish.pk}/actions/claim/", {}, content_type="application/json")

    results = race(claim(first), claim(second))
    assert sorted(r.status_code for r in results) == [201, 409]
    assert Claim.objects.filter(volunteer=sq.volunteers["v1"], status="active").count() == 1


@pytest.mark.django_db
def test_released_claims_do_not_count_as_live(square):
    wish = square.published("h1")
    now = timezone.now()
    _raw_claim(wish, square.volunteers["v1"], status="cancelled", ended_at=now)
    _raw_claim(wish, square.volunteers["v2"], status="timed_out", ended_at=now)
    _raw_claim(wish, square.volunteers["v3"])  # live: allowed beside the released ones
    with pytest.raises(IntegrityError, match=LIVE_INDEX), transaction.atomic():
        _raw_claim(wish, square.volunteers["v1"], status="delivered", delivered_at=now)


@pytest.mark.django_db
def test_a_claim_has_one_claimant_of_the_right_kind(square):
    wish = square.published("h1")
    v1 = square.volunteers["v1"]
    now = timezone.now()
    with pytest.raises(IntegrityError, match="claim_one_claimant"), transaction.atomic():
        Claim.objects.create(wish=wish, volunteer=v1, partner_unit=square.unit,
                             claimant_kind="volunteer", acted_by=v1.user,
                             due_at=now + dt.timedelta(days=1))
    with pytest.raises(IntegrityError, match="claim_kind_matches"), transaction.atomic():
        Claim.objects.create(wish=wish, partner_unit=square.unit, claimant_kind="volunteer",
                             acted_by=v1.user, due_at=now + dt.timedelta(days=1))
    with pytest.raises(IntegrityError, match="claim_pairing_is_a_unit"), transaction.atomic():
        Claim.objects.create(wish=wish, volunteer=v1, claimant_kind="volunteer",
                             mode="unit_pairing", acted_by=v1.user,
                             due_at=now + dt.timedelta(days=1))


@pytest.mark.django_db
def test_a_wish_over_the_value_limit_is_refused_by_the_database(square):
    wish = square.posted("h1")
    with pytest.raises(IntegrityError, match="wish_value_within_limit"), transaction.atomic():
        Wish.objects.filter(pk=wish.pk).update(est_value=501)


@pytest.mark.django_db
def test_the_timeline_is_append_only(square):
    wish = square.posted("h1")
    event = WishEvent.objects.get(wish=wish)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        WishEvent.objects.filter(pk=event.pk).update(kind="published")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        event.delete()
