"""What PostgreSQL itself holds for whistles: exactly one lead, one department once, one open
whistle per appeal, scores in range, an append-only timeline."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from layers.whistles.models import Whistle, WhistleEvent, WhistleUnit
from tests.layers.whistles.factories import PLACE, appeal_at, make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return make_world()


def _whistle(world, status="blown", **kw):
    return Whistle.objects.create(
        code=f"T{Whistle.objects.count()}", district_code="350427",
        subdistrict=world.grids["350427001"], reason="appeal", title="t", status=status,
        created_by=world.office, **kw)


def _unit(whistle, dep, role="lead", status="notified"):
    now = timezone.now()
    return WhistleUnit.objects.create(whistle=whistle, department=dep, role=role, status=status,
                                      notified_at=now, report_due_at=now, report_warn_at=now)


def _at_commit():
    """Run the deferred constraint triggers now (a test transaction never commits)."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_two_leads_are_refused(world):
    whistle = _whistle(world)
    _unit(whistle, world.departments["CG"])
    with pytest.raises(IntegrityError), transaction.atomic():
        _unit(whistle, world.departments["ZJ"])


def test_a_replaced_lead_frees_the_place_for_its_successor(world):
    whistle = _whistle(world)
    old = _unit(whistle, world.departments["CG"])
    WhistleUnit.objects.filter(pk=old.pk).update(status="replaced")
    _unit(whistle, world.departments["SW"])
    _at_commit()


def test_a_blown_whistle_without_a_lead_cannot_commit(world):
    with pytest.raises(IntegrityError, match="exactly one"), transaction.atomic():
        whistle = _whistle(world)
        _unit(whistle, world.departments["ZJ"], role="assist")
        _at_commit()


def test_a_request_needs_no_lead_until_it_is_blown(world):
    whistle = _whistle(world, status="requested")
    _at_commit()
    with pytest.raises(IntegrityError), transaction.atomic():
        Whistle.objects.filter(pk=whistle.pk).update(status="blown")
        _at_commit()


def test_a_department_once_per_whistle(world):
    whistle = _whistle(world)
    _unit(whistle, world.departments["CG"])
    with pytest.raises(IntegrityError), transaction.atomic():
        _unit(whistle, world.departments["CG"], role="assist")


def test_one_open_whistle_per_appeal(world):
    appeal = appeal_at(*PLACE)
    first = _whistle(world, status="requested", appeal=appeal)
    with pytest.raises(IntegrityError), transaction.atomic():
        _whistle(world, status="requested", appeal=appeal)
    Whistle.objects.filter(pk=first.pk).update(status="cancelled")
    _whistle(world, status="requested", appeal=appeal)


@pytest.mark.parametrize("values", [{"speed": 0}, {"quality": 6},
                                    {"rating": "satisfied", "rated_at": None}])
def test_scores_and_ratings_are_checked(world, values):
    whistle = _whistle(world)
    unit = _unit(whistle, world.departments["CG"])
    with pytest.raises(IntegrityError), transaction.atomic():
        WhistleUnit.objects.filter(pk=unit.pk).update(**values)


def test_the_timeline_is_append_only(world):
    whistle = _whistle(world, status="requested")
    event = WhistleEvent.objects.create(whistle=whistle, kind="request")
    with pytest.raises(DatabaseError), transaction.atomic():
        WhistleEvent.objects.filter(pk=event.pk).update(note="changed")
    with pytest.raises(DatabaseError), transaction.atomic():
        WhistleEvent.objects.filter(pk=event.pk).delete()
