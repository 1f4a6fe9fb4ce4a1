"""The people purge takes the wishes of the persons and households it deletes — with their
claims, delivery photos (the files too) and timeline — and leaves the volunteer's points and
everyone else's wishes; without this step the purge would stop at the wishes' foreign keys."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from layers.people import services as people_services
from layers.people.access import Viewer
from layers.volunteering.models import PointsEntry
from layers.wishes import services
from layers.wishes.models import Claim, ClaimPhoto, Wish, WishEvent
from tests.layers.wishes.conftest import viewer

pytestmark = pytest.mark.django_db


def test_the_people_purge_takes_the_wishes_of_a_household_gone_long_ago(
        square, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path / "media"
    gone = square.delivered("h2")
    services.confirm(gone.pk, viewer(square.users["gw"]), note="电话确认")
    photo = ClaimPhoto.objects.get(claim__wish=gone)
    kept = square.published("h1")
    h2 = square.town.households["h2"]
    people_services.move_out(h2.pk, Viewer(square.users["gw"]),
                             effective_date=dt.date(2022, 6, 1), version=h2.version)
    earned = PointsEntry.objects.filter(source_type="claim").count()
    assert earned == 1

    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_people")  # no PROTECT error from the wishes
    assert not Wish.objects.filter(pk=gone.pk).exists()
    assert not Claim.objects.filter(wish_id=gone.pk).exists()
    assert not WishEvent.objects.filter(wish_id=gone.pk).exists()
    assert not photo.image.storage.exists(photo.image.name)
    assert Wish.objects.filter(pk=kept.pk).exists()
    assert PointsEntry.objects.filter(source_type="claim").count() == earned
