"""The whistle clocks' watcher: warnings at half a limit, escalation to the district at the
limit, each once however often it runs; through `manage.py escalate_overdue` too."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from layers.appeals.models import Notification
from layers.whistles import services
from layers.whistles.models import WhistleEvent, WhistleUnit
from layers.whistles.watcher import sweep
from tests.layers.whistles.factories import PLACE, make_world

pytestmark = pytest.mark.django_db

# 2026-12-05 is a Saturday: 22:00 Shanghai.
SATURDAY_NIGHT = dt.datetime(2026, 12, 5, 14, 0, tzinfo=dt.UTC)


@pytest.fixture
def world():
    return make_world()


def blow(world, reason, at):
    return services.blow(world.actor(world.office), reason=reason, title="t", lead="CG",
                         assists=["ZJ"], lon=PLACE[0], lat=PLACE[1], at=at)


def notices_to(user):
    return Notification.objects.filter(user=user, kind="whistle")


def test_an_emergency_escalates_after_30_minutes_at_night_and_only_once(world):
    whistle = blow(world, "emergency", SATURDAY_NIGHT)
    lead = WhistleUnit.objects.get(whistle=whistle, department__code="CG")
    services.report_in(lead.pk, world.actor(world.members["CG"]), mode="remote",
                       at=SATURDAY_NIGHT + dt.timedelta(minutes=10))
    before = notices_to(world.dispatcher).count()
    assert sweep(SATURDAY_NIGHT + dt.timedelta(minutes=29)).units_late == []
    report = sweep(SATURDAY_NIGHT + dt.timedelta(minutes=31))
    late = WhistleUnit.objects.get(whistle=whistle, department__code="ZJ")
    assert report.units_late == [late.pk]  # the lead reported in: only the assist is late
    assert notices_to(world.dispatcher).count() == before + 1
    again = sweep(SATURDAY_NIGHT + dt.timedelta(minutes=45))
    assert again.units_late == [] and notices_to(world.dispatcher).count() == before + 1
    assert WhistleEvent.objects.filter(whistle=whistle, kind="late").count() == 1


def test_a_working_time_clock_does_not_run_over_the_weekend(world):
    blow(world, "appeal", SATURDAY_NIGHT)
    monday_morning = dt.datetime(2026, 12, 7, 1, 0, tzinfo=dt.UTC)  # 09:00 Monday
    assert sweep(monday_morning).units_late == []
    # One working day from Saturday night: due Monday 17:30, warned at 50 % (Monday 12:00…).
    report = sweep(dt.datetime(2026, 12, 7, 9, 31, tzinfo=dt.UTC))
    assert len(report.units_late) == 2


def test_warnings_come_at_half_the_limit_once(world):
    whistle = blow(world, "emergency", SATURDAY_NIGHT)
    first = sweep(SATURDAY_NIGHT + dt.timedelta(minutes=16))
    assert len(first.units_warned) == 2 and first.units_late == []
    assert sweep(SATURDAY_NIGHT + dt.timedelta(minutes=17)).units_warned == []
    assert notices_to(world.members["CG"]).filter(data__event="warn").count() == 1
    assert WhistleEvent.objects.filter(whistle=whistle, kind="warn").count() == 2


def test_an_overdue_whistle_goes_to_the_district_once_through_the_cron_command(world):
    # The command runs at the real now: an emergency blown two days ago is past its 24 hours.
    whistle = blow(world, "emergency", timezone.now() - dt.timedelta(days=2))
    out = StringIO()
    call_command("escalate_overdue", stdout=out)
    assert "whistles overdue, escalated to the district: 1" in out.getvalue()
    call_command("escalate_overdue", stdout=out)
    assert WhistleEvent.objects.filter(whistle=whistle, kind="overdue").count() == 1
    assert notices_to(world.dispatcher).filter(data__event="overdue", data__what="completion"
                                               ).count() == 1


def test_a_closed_or_cancelled_whistle_is_left_alone(world):
    whistle = blow(world, "emergency", SATURDAY_NIGHT)
    services.cancel(whistle.pk, world.actor(world.office), note="误报")
    report = sweep(SATURDAY_NIGHT + dt.timedelta(days=3))
    assert report.units_late == [] and report.whistles_overdue == []
