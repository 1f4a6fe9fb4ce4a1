"""Care rows leave with the person the people purge deletes, and a subject that exited more
than three years ago is purged with its visits, photos and timeline; active care stays."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from layers.care import services
from layers.care.models import CareEvent, CareProposal, CareSubject, Visit, VisitPhoto
from layers.people import services as people_services
from layers.people.access import Viewer
from layers.people.models import Person
from layers.people.retention import purge
from tests.layers.care.conftest import viewer
from tests.layers.care.test_visits import jpeg_with_gps

pytestmark = pytest.mark.django_db


def _visit_with_photo(ward, name: str) -> Visit:
    end = timezone.now() - dt.timedelta(hours=2)
    return services.record_visit(
        ward.subjects[name].pk, viewer(ward.users["cs"]), kind="regular", mode="home",
        started_at=end - dt.timedelta(minutes=30), ended_at=end, living="ok", safety="ok",
        family_care="ok", services="ok", photos=[jpeg_with_gps()])


def test_a_subject_exited_long_ago_is_purged_with_its_visits_photos_and_timeline(
        ward, django_capture_on_commit_callbacks):
    s3, s1 = ward.subjects["s3"], ward.subjects["s1"]
    _visit_with_photo(ward, "s3")
    kept_visit = _visit_with_photo(ward, "s1")
    photo = VisitPhoto.objects.get(visit__subject=s3)
    services.exit_care(s3.pk, viewer(ward.users["gw_b"]), reason="moved to a care home")
    services.approve(CareProposal.objects.get(subject=s3, outcome="pending").pk,
                     viewer(ward.users["co"]))
    recent = purge(timezone.localdate(), dry_run=True)
    assert recent["care_subjects"] == 0  # exited today: kept

    with django_capture_on_commit_callbacks(execute=True):  # the files go once it commits
        counts = purge(timezone.localdate() + dt.timedelta(days=3 * 365 + 1))
    assert counts["care_subjects"] == 1 and counts["care_visits"] == 1
    assert not CareSubject.objects.filter(pk=s3.pk).exists()
    assert not CareEvent.objects.filter(subject_id=s3.pk).exists()
    assert not photo.image.storage.exists(photo.image.name)
    assert Visit.objects.filter(pk=kept_visit.pk).exists()  # s1 is active
    assert CareSubject.objects.filter(pk=s1.pk, status="active").exists()


def test_the_people_purge_takes_the_care_rows_of_the_persons_it_deletes(ward):
    s2 = ward.subjects["s2"]
    h2 = ward.town.households["h2"]
    people_services.move_out(h2.pk, Viewer(ward.users["gw"]),
                             effective_date=dt.date(2022, 6, 1), version=h2.version)
    call_command("purge_people")  # the person is long gone: no PROTECT error, nothing left
    assert not Person.objects.filter(pk=s2.person_id).exists()
    assert not CareSubject.objects.filter(pk=s2.pk).exists()
    assert CareSubject.objects.count() == 2
