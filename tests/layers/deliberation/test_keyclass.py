"""The key-class rule: a key-class appeal linked to a proposal is on time when the first
meeting on it is held within the appeal's limit (due_at, or the limit from its dispatch when it
has none). Frozen moments (`at=`), both sides of the limit."""

from __future__ import annotations

import datetime as dt

import pytest

from layers.appeals.models import Appeal
from layers.deliberation import figures
from layers.deliberation.services import fallback_limit
from tests.layers.deliberation.factories import (
    GENERAL_CATEGORY,
    MEETING,
    act,
    appeal,
    at,
    make_world,
    propose,
)
from tests.layers.factories import COMMUNITY

pytestmark = pytest.mark.django_db
LIMIT = at(4)  # the appeal's due_at: Friday 09:00
MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def world():
    return make_world()


def meet(world, proposal, held_at, recorded=None):
    return act(world, "hold_meeting", proposal, held_at=held_at, at=recorded or held_at,
               **MEETING)


def raised(world, *appeals):
    proposal = propose(world, appeals=[a.tracking for a in appeals])
    return act(world, "assess", proposal, outcome="accept", reason="重点类诉求", at=at(0, 30))


def state(a: Appeal, moment: dt.datetime) -> bool | None:
    return figures.with_key_timeliness(Appeal.objects.filter(pk=a.pk), moment).get().key_on_time


@pytest.mark.parametrize(("offset", "on_time"), [(-MINUTE, True), (dt.timedelta(0), True),
                                                 (MINUTE, False)])
def test_the_first_meeting_one_minute_either_side_of_due_at(world, offset, on_time):
    key = appeal(due_at=LIMIT, dispatched_at=at(-1))
    proposal = raised(world, key)
    meet(world, proposal, LIMIT + offset)
    later = LIMIT + dt.timedelta(days=3)
    assert state(key, later) is on_time
    counts = figures.key_appeals_on_time(COMMUNITY, at=later)
    assert (counts["on_time"], counts["late"]) == ((1, 0) if on_time else (0, 1))
    assert counts["on_time_rate"] == (1.0 if on_time else 0.0)


def test_only_the_first_meeting_counts(world):
    key = appeal(due_at=LIMIT)
    proposal = raised(world, key)
    meet(world, proposal, LIMIT - MINUTE)
    meet(world, proposal, LIMIT + dt.timedelta(days=2))  # a later meeting does not undo it
    assert state(key, at(10)) is True


def test_without_a_meeting_it_is_pending_until_the_limit_then_late(world):
    key = appeal(due_at=LIMIT)
    raised(world, key)
    assert state(key, LIMIT - MINUTE) is None
    assert state(key, LIMIT + MINUTE) is False
    before = figures.key_appeals_on_time(COMMUNITY, at=LIMIT - MINUTE)
    assert (before["pending"], before["late"], before["on_time_rate"]) == (1, 0, None)


def test_as_of_a_moment_a_meeting_held_later_is_not_yet_there(world):
    key = appeal(due_at=LIMIT)
    proposal = raised(world, key)
    meet(world, proposal, LIMIT - MINUTE)
    assert state(key, LIMIT - 2 * MINUTE) is None
    assert state(key, LIMIT - MINUTE) is True


@pytest.mark.parametrize(("offset", "on_time"), [(-MINUTE, True), (MINUTE, False)])
def test_without_due_at_the_limit_comes_from_the_dispatch(world, offset, on_time):
    # Imported history: dispatched Monday 09:00, no deadline stored. Key class: 5 working days
    # → the next Monday 09:00.
    key = appeal(dispatched_at=at(0), due_at=None)
    limit = fallback_limit(key)
    assert limit == at(7)
    proposal = raised(world, key)
    meet(world, proposal, limit + offset, recorded=limit + dt.timedelta(hours=2))
    assert state(key, at(20)) is on_time


def test_an_appeal_never_dispatched_has_no_limit_and_is_left_out_of_the_rate(world):
    key = appeal(due_at=None, dispatched_at=None)
    raised(world, key)
    counts = figures.key_appeals_on_time(COMMUNITY, at=at(20))
    assert counts == {"linked": 1, "timed": 0, "on_time": 0, "late": 0, "pending": 0,
                      "untimed": 1, "on_time_rate": None}


def test_only_key_class_appeals_count(world):
    general = appeal(GENERAL_CATEGORY, due_at=LIMIT)
    key = appeal(due_at=LIMIT)
    proposal = raised(world, general, key)
    meet(world, proposal, LIMIT - MINUTE)
    counts = figures.key_appeals_on_time(COMMUNITY, at=at(10))
    assert (counts["linked"], counts["on_time"]) == (1, 1)


def test_the_key_class_is_configurable(world, settings):
    settings.GEOGRID = {**settings.GEOGRID, "DELIBERATION": {
        **settings.GEOGRID["DELIBERATION"], "KEY_CLASS": "urgent"}}
    proposal = raised(world, appeal(GENERAL_CATEGORY, due_at=LIMIT))
    meet(world, proposal, LIMIT + MINUTE)
    assert figures.key_appeals_on_time(COMMUNITY, at=at(10))["late"] == 1
