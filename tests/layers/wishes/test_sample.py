"""The sample city's wishes (fixtures.city.wishes, fixtures.load_wishes) on the small city, as
load_city loads them after the points sample (claimed by its volunteers and partner units), and
without it (the loader makes its own): every community has wishes in every kind of state, the
claims keep the rules the services keep (no own household, the claimant cap, one live claim),
the timeout job finds nothing to do right after loading, and the wall names nobody."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection, transaction
from django.db.models import Count, F, Q

from fixtures import load_wishes
from fixtures.load import LoadParams, load_city
from geogrid.models import Grid
from layers.people.models import Person
from layers.volunteering.models import Volunteer
from layers.wishes.models import Claim, Wish, WishEvent
from layers.wishes.timeouts import run_timeouts
from tests.layers.wishes.conftest import client_for

pytestmark = pytest.mark.django_db


def test_sample_wishes_are_claimed_by_the_points_samples_volunteers(small_city_dir: Path):
    report = load_city(LoadParams(directory=small_city_dir, appeals=False, progress=False))
    assert report.points and report.wishes["volunteers_made"] == 0
    assert Claim.objects.filter(volunteer__isnull=False).exists()
    assert_sample_wishes()


def test_without_the_points_sample_the_wish_loader_makes_its_own_volunteers(
        small_city_dir: Path, monkeypatch):
    monkeypatch.setattr("fixtures.load.load_points.present", lambda directory: False)
    monkeypatch.setattr("fixtures.load.load_wishes.present", lambda directory: False)
    load_city(LoadParams(directory=small_city_dir, appeals=False, progress=False))
    assert not Volunteer.objects.exists()
    with transaction.atomic(), connection.cursor() as cursor:
        result = load_wishes.load_wishes(cursor.cursor, small_city_dir, {})
    assert result["volunteers_made"] > 0 and result["seconds"] > 0
    assert load_wishes.lines(result)[0].strip().startswith("wishes")
    assert_sample_wishes()


def assert_sample_wishes() -> None:
    communities = Grid.objects.current().filter(level=3).count()
    assert Wish.objects.values("community").distinct().count() == communities
    states = dict(Wish.objects.values_list("status").annotate(n=Count("id")))
    assert set(states) >= {"submitted", "published", "claimed", "delivered", "disputed",
                           "confirmed", "expired", "rejected", "withdrawn", "closed"}
    assert states["confirmed"] > states["published"] > states["disputed"]
    claims = dict(Claim.objects.values_list("status").annotate(n=Count("id")))
    assert set(claims) >= {"active", "delivered", "confirmed", "timed_out", "cancelled"}
    assert Claim.objects.filter(partner_unit__isnull=False).exists()
    assert Claim.objects.filter(mode="many_to_one", participants__isnull=False).exists()
    # A timed-out claim put its wish back on the wall, and another volunteer took it later.
    assert Wish.objects.filter(claims__status="timed_out", status="published").exists()
    assert Wish.objects.filter(claims__status="timed_out").filter(
        claims__status="confirmed").exists()
    # The services' rules hold in the sample too.
    assert not Claim.objects.filter(
        volunteer__person__residences__valid_to__isnull=True,
        volunteer__person__residences__household=F("wish__household")).exists()
    active = (Claim.objects.filter(status="active").values("volunteer")
              .annotate(n=Count("id")).order_by("-n").first())
    assert active is None or active["n"] <= 3
    assert not (Wish.objects.annotate(live=Count("claims", filter=Q(claims__status__in=Claim.LIVE)))
                .filter(live__gt=1).exists())
    assert WishEvent.objects.filter(kind="posted").count() == Wish.objects.count()
    report = run_timeouts()
    assert (report.timed_out, report.lapsed, report.expired) == ([], [], [])

    wall = client_for(None).get("/api/v1/wishes/wall/?page_size=1000")
    assert wall.status_code == 200 and wall.json()["count"] == states["published"]
    text = wall.content.decode()
    heads = Person.objects.filter(wishes__status="published").values_list("name", flat=True)
    assert not [n for n in heads if n in text]

