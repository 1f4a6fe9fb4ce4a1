"""escalate_overdue: warns at 80 % of the limit, escalates overdue appeals one grid level with
a timeline row and notifications, and is idempotent (the second run does nothing)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from layers.appeals import transitions
from layers.appeals.escalation import escalate_overdue
from layers.appeals.models import Appeal, Notification
from tests.layers.appeals.workflow_fixtures import COMMUNITY, ZONE, A, at, build_city, dispatched

pytestmark = pytest.mark.django_db


@pytest.fixture
def city():
    return build_city()


def test_warns_at_eighty_percent_then_escalates_once_when_overdue(city):
    # E0102: 4 working hours from Monday 09:00 → due 15:00; 80 % (192 min) → warn at 14:12.
    appeal = dispatched(city, A, category="E0102", when=at(2026, 11, 16, 9, 0))
    assert appeal.warn_at == at(2026, 11, 16, 14, 12)

    assert escalate_overdue(at(2026, 11, 16, 14, 0)).warned == []
    report = escalate_overdue(at(2026, 11, 16, 14, 30))
    assert report.warned == [appeal.tracking] and report.escalated == []
    assert escalate_overdue(at(2026, 11, 16, 14, 31)).warned == []
    warned = Appeal.objects.get(pk=appeal.pk)
    assert warned.version == appeal.version  # a warning does not change the state
    workers = {city.users["leader_A"].pk, city.users["worker_A"].pk}
    assert set(Notification.objects.filter(kind="warning").values_list("user_id", flat=True)) \
        == workers

    report = escalate_overdue(at(2026, 11, 16, 15, 30))
    assert report.escalated == [appeal.tracking]
    again = escalate_overdue(at(2026, 11, 16, 15, 31))
    assert again.escalated == [] and again.warned == []

    escalated = Appeal.objects.get(pk=appeal.pk)
    assert escalated.assigned_grid.code == ZONE and escalated.escalation_level == 1
    assert escalated.status == "dispatched"
    row = escalated.events.get(kind="overdue")
    assert (row.from_status, row.to_status, row.actor_role) == ("dispatched", "dispatched",
                                                                "system")
    assert row.data["grid"] == ZONE and row.data["escalated"] is True
    told = set(Notification.objects.filter(kind="overdue").values_list("user_id", flat=True))
    assert told == {city.users["zone_leader"].pk, city.users["dispatcher"].pk,
                    city.users["sub_dispatcher"].pk}


def test_an_extension_after_escalation_arms_the_next_deadline(city):
    appeal = dispatched(city, A, category="E0102", when=at(2026, 11, 16, 9, 0))
    escalate_overdue(at(2026, 11, 16, 15, 30))
    transitions.extend(appeal.tracking, city.actor("dispatcher"), hours=8,
                    at=at(2026, 11, 16, 16, 0))
    # New deadline Tuesday 16:00-ish; escalating again only once that passes.
    assert escalate_overdue(at(2026, 11, 16, 16, 1)).escalated == []
    report = escalate_overdue(at(2026, 11, 18, 9, 0))
    assert report.escalated == [appeal.tracking]
    assert Appeal.objects.get(pk=appeal.pk).assigned_grid.code == COMMUNITY


def test_suspended_and_resolved_appeals_are_not_escalated(city):
    d = city.actor("dispatcher")
    paused = dispatched(city, A, category="E0102", when=at(2026, 11, 16, 9, 0))
    transitions.suspend(paused.tracking, d, note="waiting", at=at(2026, 11, 16, 10, 0))
    report = escalate_overdue(at(2026, 11, 20, 9, 0))
    assert report.escalated == [] and report.warned == []


def test_an_overdue_department_appeal_is_reported_not_escalated(city):
    appeal = dispatched(city, A, category="E0102", when=at(2026, 11, 16, 9, 0))
    transitions.escalate(appeal.tracking, city.actor("dispatcher"), department="CGJ",
                      at=at(2026, 11, 16, 9, 30))
    report = escalate_overdue(at(2026, 11, 17, 9, 0))
    assert report.overdue_at_top == [appeal.tracking] and report.escalated == []
    assert escalate_overdue(at(2026, 11, 17, 9, 5)).overdue_at_top == []


def test_the_command_run_twice_escalates_nothing_the_second_time(city):
    long_ago = timezone.now() - dt.timedelta(days=30)
    appeal = dispatched(city, A, category="E0102", when=long_ago)
    first, second = io.StringIO(), io.StringIO()
    call_command("escalate_overdue", stdout=first)
    call_command("escalate_overdue", stdout=second)
    assert f"escalated: 1 {appeal.tracking}" in first.getvalue()
    assert "escalated: 0" in second.getvalue() and "warned: 0" in second.getvalue()
    assert Appeal.objects.get(pk=appeal.pk).events.filter(kind="overdue").count() == 1
