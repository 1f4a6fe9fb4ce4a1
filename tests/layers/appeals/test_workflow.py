"""Every transition, for every role: allowed ones succeed, others get 403 (role or grid scope);
from every state: allowed source states succeed, others get 409 and change nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from geogrid.errors import Conflict
from layers.appeals import transitions
from layers.appeals.actors import Actor
from layers.appeals.models import Appeal, AppealEvent, Status
from layers.appeals.transitions import APPEAL_ACTIONS
from tests.layers.appeals.workflow_fixtures import (
    ZONE,
    A,
    B,
    build_city,
    checked,
    dispatched,
    in_progress,
    new_appeal,
    resolved,
)

pytestmark = pytest.mark.django_db

S = Status
DISPATCHERS = {"dispatcher", "sub_dispatcher"}
HANDLERS = {"leader_A", "worker_A", "zone_leader", "manager"}
CHECKERS = DISPATCHERS | {"leader_A", "zone_leader", "manager"}
STAFF = ["dispatcher", "sub_dispatcher", "leader_A", "worker_A", "leader_B", "worker_B",
         "worker_C", "zone_leader", "manager", "dept"]
EVERYONE = [*STAFF, "resident", "reporter", "anonymous"]

# Who may take each action on an appeal lying in (and dispatched to) micro-grid A.
ALLOWED = {
    "accept": DISPATCHERS, "reject": DISPATCHERS, "merge": DISPATCHERS,
    "dispatch": DISPATCHERS, "extend": DISPATCHERS, "suspend": DISPATCHERS,
    "resume": DISPATCHERS, "close": DISPATCHERS,
    "return": HANDLERS, "start": HANDLERS, "resolve": HANDLERS,
    "escalate": HANDLERS | DISPATCHERS,
    "check_pass": CHECKERS, "check_fail": CHECKERS,
    "rate": DISPATCHERS | {"reporter"},
    "support": {"resident", "anonymous"},
}
# The first state each action is tried from, and the fields it needs.
SOURCE = {
    "accept": S.RECEIVED, "reject": S.RECEIVED, "merge": S.RECEIVED, "dispatch": S.ACCEPTED,
    "return": S.DISPATCHED, "start": S.DISPATCHED, "escalate": S.IN_PROGRESS,
    "extend": S.IN_PROGRESS, "suspend": S.IN_PROGRESS, "resume": S.SUSPENDED,
    "resolve": S.IN_PROGRESS, "check_pass": S.RESOLVED, "check_fail": S.RESOLVED,
    "close": S.CHECKED, "rate": S.CHECKED, "support": S.DISPATCHED,
}
TARGET = {
    "accept": S.ACCEPTED, "reject": S.REJECTED, "merge": S.MERGED, "dispatch": S.DISPATCHED,
    "return": S.RETURNED, "start": S.IN_PROGRESS, "escalate": S.DISPATCHED,
    "extend": S.IN_PROGRESS, "suspend": S.SUSPENDED, "resume": S.IN_PROGRESS,
    "resolve": S.RESOLVED, "check_pass": S.CHECKED, "check_fail": S.IN_PROGRESS,
    "close": S.CLOSED, "rate": S.CLOSED, "support": S.DISPATCHED,
}
ALL_STATES = [S.RECEIVED, S.ACCEPTED, S.RETURNED, S.DISPATCHED, S.IN_PROGRESS, S.SUSPENDED,
              S.RESOLVED, S.CHECKED, S.CLOSED, S.REJECTED, S.MERGED]


def appeal_in(city, state: str) -> tuple[Appeal, str]:
    """An appeal in micro-grid A in `state`, reached through the workflow; and its token."""
    d = city.actor("dispatcher")
    appeal, token = new_appeal(A)
    t = appeal.tracking
    steps = {
        S.ACCEPTED: [lambda: transitions.accept(t, d)],
        S.RETURNED: [lambda: transitions.accept(t, d), lambda: transitions.dispatch(t, d),
                     lambda: transitions.return_(t, city.actor("worker_A"), note="not ours")],
        S.DISPATCHED: [lambda: transitions.accept(t, d), lambda: transitions.dispatch(t, d)],
    }
    steps[S.IN_PROGRESS] = [*steps[S.DISPATCHED],
                            lambda: transitions.start(t, city.actor("worker_A"))]
    steps[S.SUSPENDED] = [*steps[S.IN_PROGRESS],
                          lambda: transitions.suspend(t, d, note="waiting for spring")]
    steps[S.RESOLVED] = [*steps[S.IN_PROGRESS],
                         lambda: transitions.resolve(t, city.actor("worker_A"), result="fixed")]
    steps[S.CHECKED] = [*steps[S.RESOLVED],
                        lambda: transitions.check_pass(t, city.actor("leader_A"))]
    steps[S.CLOSED] = [*steps[S.CHECKED], lambda: transitions.close(t, d)]
    steps[S.REJECTED] = [lambda: transitions.reject(t, d, note="not a grid matter")]
    steps[S.MERGED] = [lambda: transitions.merge(t, d, master=new_appeal(A)[0].tracking)]
    for step in steps.get(state, []):
        step()
    return Appeal.objects.get(pk=appeal.pk), token


def actor_named(city, name: str, token: str) -> Actor:
    if name == "reporter":
        return Actor(token_ok=True)
    if name == "anonymous":
        return Actor(client_key="client-1")
    return city.actor(name)


def fields_for(action: str) -> dict:
    return {
        "reject": {"note": "invalid"}, "return": {"note": "wrong grid"},
        "suspend": {"note": "seasonal"}, "check_fail": {"note": "still dirty"},
        "extend": {"hours": 4}, "resolve": {"result": "cleaned up"},
        "merge": {"master": new_appeal(A)[0].tracking},
        "rate": {"resolution": "solved", "satisfaction": "satisfied"},
    }.get(action, {})


@pytest.fixture
def city():
    return build_city()


@pytest.mark.parametrize("action", APPEAL_ACTIONS.names)
def test_each_role_may_or_may_not_take_the_action(city, action):
    for name in EVERYONE:
        appeal, token = appeal_in(city, SOURCE[action])
        events = appeal.events.count()
        actor = actor_named(city, name, token)
        call = APPEAL_ACTIONS[action].service
        if name in ALLOWED[action]:
            assert action in APPEAL_ACTIONS.available(appeal.status, actor, appeal), (action, name)
            result = call(appeal.tracking, actor, **fields_for(action))
            assert result.status == TARGET[action], (action, name)
            assert appeal.events.count() == events + 1, (action, name)
        else:
            offered = APPEAL_ACTIONS.available(appeal.status, actor, appeal)
            assert action not in offered, (action, name)
            with pytest.raises(PermissionDenied):
                call(appeal.tracking, actor, **fields_for(action))
            fresh = Appeal.objects.get(pk=appeal.pk)
            assert (fresh.status, fresh.version) == (appeal.status, appeal.version), (action, name)
            assert appeal.events.count() == events, (action, name)


@pytest.mark.parametrize("action", APPEAL_ACTIONS.names)
def test_each_state_allows_the_action_or_answers_409(city, action):
    allowed_actor = {
        "accept": "dispatcher", "reject": "dispatcher", "merge": "dispatcher",
        "dispatch": "dispatcher", "extend": "dispatcher", "suspend": "dispatcher",
        "resume": "dispatcher", "close": "dispatcher", "return": "worker_A",
        "start": "worker_A", "resolve": "worker_A", "escalate": "worker_A",
        "check_pass": "leader_A", "check_fail": "leader_A", "rate": "reporter",
        "support": "resident",
    }[action]
    for state in ALL_STATES:
        appeal, token = appeal_in(city, state)
        actor = actor_named(city, allowed_actor, token)
        call = APPEAL_ACTIONS[action].service
        if state in APPEAL_ACTIONS[action].sources:
            call(appeal.tracking, actor, **fields_for(action))
            assert Appeal.objects.get(pk=appeal.pk).events.count() > 0
        else:
            with pytest.raises(Conflict):
                call(appeal.tracking, actor, **fields_for(action))
            fresh = Appeal.objects.get(pk=appeal.pk)
            assert (fresh.status, fresh.version) == (state, appeal.version), (action, state)


def test_a_grid_worker_cannot_act_on_another_micro_grids_appeal(city):
    appeal = dispatched(city, A)
    for name in ("worker_B", "leader_B", "worker_C"):
        with pytest.raises(PermissionDenied):
            transitions.start(appeal.tracking, city.actor(name), version=appeal.version)
    assert Appeal.objects.get(pk=appeal.pk).status == S.DISPATCHED


def test_a_stale_version_is_refused_and_changes_nothing(city):
    appeal = dispatched(city, A)
    worker = city.actor("worker_A")
    transitions.start(appeal.tracking, worker, version=appeal.version)
    with pytest.raises(Conflict, match="changed by someone else"):
        transitions.resolve(appeal.tracking, worker, version=appeal.version, result="done")
    fresh = Appeal.objects.get(pk=appeal.pk)
    assert fresh.status == S.IN_PROGRESS and fresh.version == appeal.version + 1
    assert not fresh.events.filter(kind="resolve").exists()


def test_the_happy_path_leaves_one_timeline_row_per_step(city):
    appeal = checked(city, A)
    kinds = list(appeal.events.values_list("kind", "from_status", "to_status"))
    assert kinds == [
        ("received", "", "received"), ("assigned", "received", "received"),
        ("accept", "received", "accepted"), ("dispatch", "accepted", "dispatched"),
        ("start", "dispatched", "in_progress"), ("resolve", "in_progress", "resolved"),
        ("check_pass", "resolved", "checked"),
    ]
    assert appeal.version == 1 + 5
    assert appeal.events.get(kind="start").actor.username == "worker_A"


def test_timeline_rows_cannot_be_edited(city):
    from django.db import DatabaseError, transaction

    appeal = dispatched(city, A)
    event = appeal.events.get(kind="dispatch")
    with pytest.raises(ValueError, match="immutable"):
        event.save()
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        AppealEvent.objects.filter(pk=event.pk).update(note="rewritten")


def test_return_clears_the_assignee_and_redispatch_restarts_the_clock(city):
    d = city.actor("dispatcher")
    appeal = dispatched(city, A)
    returned = transitions.return_(appeal.tracking, city.actor("worker_A"), note="belongs to B")
    assert returned.status == S.RETURNED and returned.assigned_grid is None
    assert returned.due_at is None
    again = transitions.dispatch(appeal.tracking, d, grid=B)
    assert again.assigned_grid.code == B and again.due_at is not None
    # B's worker now handles it, A's no longer may.
    with pytest.raises(PermissionDenied):
        transitions.start(appeal.tracking, city.actor("worker_A"))
    assert transitions.start(appeal.tracking, city.actor("worker_B")).status == S.IN_PROGRESS


def test_escalation_climbs_the_grid_levels_then_needs_a_department(city):
    appeal = in_progress(city, A)
    worker = city.actor("worker_A")
    after = transitions.escalate(appeal.tracking, worker, note="needs the zone")
    assert (after.assigned_grid.code, after.escalation_level, after.status) == (
        ZONE, 1, S.DISPATCHED)
    # The micro-grid's worker is no longer responsible; the zone leader is.
    with pytest.raises(PermissionDenied):
        transitions.start(appeal.tracking, worker)
    zone = city.actor("zone_leader")
    transitions.start(appeal.tracking, zone)
    d = city.actor("dispatcher")
    levels = []
    for _ in range(3):  # community, subdistrict, district
        levels.append(transitions.escalate(appeal.tracking, d).assigned_grid.level)
    assert levels == [3, 2, 1]
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as err:
        transitions.escalate(appeal.tracking, d)
    assert "department" in err.value.error_dict
    final = transitions.escalate(appeal.tracking, d, department="CGJ")
    assert final.department.code == "CGJ" and final.assigned_grid is None
    assert final.escalation_level == 5
    assert transitions.start(appeal.tracking, city.actor("dept")).status == S.IN_PROGRESS


def test_failed_check_sends_it_back_as_redo(city):
    appeal = resolved(city, A)
    back = transitions.check_fail(appeal.tracking, city.actor("leader_A"), note="still there")
    assert back.status == S.IN_PROGRESS and back.redo_count == 1
    assert back.resolved_at is None
    # a grid worker (not a leader) may not check
    transitions.resolve(appeal.tracking, city.actor("worker_A"), result="really fixed")
    with pytest.raises(PermissionDenied):
        transitions.check_pass(appeal.tracking, city.actor("worker_A"))


def test_merge_closes_the_duplicate_and_counts_a_supporter(city):
    d = city.actor("dispatcher")
    master, _ = new_appeal(A)
    duplicate, _ = new_appeal(A)
    merged = transitions.merge(duplicate.tracking, d, master=master.tracking)
    assert merged.status == S.MERGED and merged.merged_into_id == master.pk
    master.refresh_from_db()
    assert master.supporters == 1
    assert master.events.filter(kind="merged_in").exists()
    from django.core.exceptions import ValidationError

    other, _ = new_appeal(A)
    with pytest.raises(ValidationError) as err:
        transitions.merge(other.tracking, d, master=duplicate.tracking)  # merged: not open
    assert "master" in err.value.error_dict
    with pytest.raises(ValidationError):
        transitions.merge(other.tracking, d, master=other.tracking)


def test_a_subdistrict_dispatcher_cannot_dispatch_outside_its_subtree(city):
    appeal, _ = new_appeal(A)
    sub = city.actor("sub_dispatcher")
    transitions.accept(appeal.tracking, sub)
    with pytest.raises(PermissionDenied):
        transitions.dispatch(appeal.tracking, sub, grid="350427")  # the district itself
