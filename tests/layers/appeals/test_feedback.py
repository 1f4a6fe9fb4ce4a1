"""Feedback (回访): ratings, the one reopening, a dispatcher recording a phone call-back, and
closing appeals nobody rated within FEEDBACK_DAYS."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from geogrid.errors import Conflict
from layers.appeals import transitions
from layers.appeals.actors import Actor
from layers.appeals.feedback import close_unrated
from layers.appeals.models import Appeal
from tests.layers.appeals.workflow_fixtures import A, build_city, checked, new_appeal

pytestmark = pytest.mark.django_db


@pytest.fixture
def city():
    return build_city()


def test_an_unsatisfied_rating_reopens_with_a_fresh_deadline(city):
    appeal = checked(city, A)
    reporter = Actor(token_ok=True)
    later = timezone.now() + dt.timedelta(days=1)
    reopened = transitions.rate(appeal.tracking, reporter, resolution="unsolved",
                               satisfaction="unsatisfied", comment="nothing changed", at=later)
    assert reopened.status == "in_progress" and reopened.reopen_count == 1
    assert reopened.clock_started_at == later and reopened.due_at > later
    assert reopened.resolved_at is None and reopened.checked_at is None
    # The responsible grid hears about it.
    assert reopened.notifications.filter(kind="reopened",
                                         user=city.users["worker_A"]).exists()


def test_a_satisfied_rating_closes(city):
    appeal = checked(city, A)
    closed = transitions.rate(appeal.tracking, Actor(token_ok=True),
                             resolution="solved", satisfaction="basically_satisfied")
    assert closed.status == "closed" and closed.closed_at is not None
    assert closed.events.last().kind == "rate"


def test_a_dispatcher_records_a_phone_call_back(city):
    appeal = checked(city, A)
    closed = transitions.rate(appeal.tracking, city.actor("dispatcher"), resolution="partly",
                           satisfaction="satisfied", comment="by phone")
    assert closed.status == "closed"
    assert closed.events.last().actor_role == "dispatcher"


def test_ratings_must_use_the_known_words(city):
    appeal = checked(city, A)
    with pytest.raises(ValidationError) as err:
        transitions.rate(appeal.tracking, Actor(token_ok=True), resolution="fixed",
                        satisfaction="satisfied")
    assert "resolution" in err.value.error_dict
    assert Appeal.objects.get(pk=appeal.pk).status == "checked"


def test_unrated_checked_appeals_close_after_the_feedback_days(city, settings):
    settings.GEOGRID = {**settings.GEOGRID, "FEEDBACK_DAYS": 7}
    old = checked(city, A)
    recent = checked(city, A)
    Appeal.objects.filter(pk=old.pk).update(checked_at=timezone.now() - dt.timedelta(days=8))
    assert close_unrated() == [old.tracking]
    assert close_unrated() == []  # idempotent
    closed = Appeal.objects.get(pk=old.pk)
    assert closed.status == "closed" and closed.version == old.version + 1
    row = closed.events.last()
    assert (row.kind, row.from_status, row.to_status, row.actor_role) == (
        "auto_close", "checked", "closed", "system")
    assert Appeal.objects.get(pk=recent.pk).status == "checked"
    out = io.StringIO()
    call_command("close_unrated", "--days", "0", stdout=out)
    assert "closed without feedback: 1" in out.getvalue()


def test_open_appeals_are_not_rated(city):
    appeal, _ = new_appeal(A)
    with pytest.raises(Conflict):
        transitions.rate(appeal.tracking, Actor(token_ok=True), resolution="solved",
                        satisfaction="satisfied")
