"""The retention purge deletes what has passed its time, and nothing else."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from geogrid import accesslog
from geogrid.models import AccessLog
from layers.people import services
from layers.people.access import Viewer
from layers.people.models import ChangeEvent, Household, Person, Residence
from layers.people.retention import purge

pytestmark = pytest.mark.django_db


def test_purge_removes_long_gone_households_and_old_log_rows_only(town, rf):
    gw = Viewer(town.users["gw"])
    h2 = town.households["h2"]
    services.move_out(h2.pk, gw, effective_date=dt.date(2022, 6, 1), version=1)
    h1 = town.households["h1"]
    services.move_out(h1.pk, gw, members=[town.person("h1", 2).pk],
                      effective_date=dt.date(2026, 6, 1), version=1)  # recent: kept
    gone = set(Residence.objects.filter(household=h2).values_list("person_id", flat=True))
    AccessLog.objects.create(  # as if written four years ago
        at=timezone.now() - dt.timedelta(days=4 * 365), user=town.users["gw"],
        post="grid_worker", action="read", subject_type="household", subject_ids=[h1.pk])
    recent = accesslog.record(None, user=None, post="", action="read", subject_type="x",
                              subject_ids=[1])
    people_before = Person.objects.count()

    dry = purge(dt.date(2026, 12, 1), dry_run=True)
    assert dry["households"] == 1 and Household.objects.filter(pk=h2.pk).exists()

    call_command("purge_people")
    assert not Household.objects.filter(pk=h2.pk).exists()
    assert not Person.objects.filter(pk__in=gone).exists()
    assert Person.objects.count() == people_before - len(gone)
    assert not ChangeEvent.objects.filter(household_id=h2.pk).exists()
    assert Household.objects.filter(pk=h1.pk).exists()  # its member left in 2026: kept
    assert list(AccessLog.objects.values_list("pk", flat=True)) == [recent.pk]
