"""Two dispatchers dispatch the same appeal at the same moment, on two connections: exactly
one succeeds, the other gets a conflict, and the timeline has one dispatch row."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from geogrid.errors import Conflict
from layers.appeals import transitions
from layers.appeals.categories import load_categories
from layers.appeals.models import Appeal
from tests.layers.appeals.workflow_fixtures import A, B, build_city, new_appeal

# Real transactions on separate connections. A transactional test starts from (and leaves) a
# flushed database after other transactional tests: reload the category taxonomy if needed.
pytestmark = pytest.mark.django_db(transaction=True)


def _categories() -> None:
    load_categories()


def test_two_concurrent_dispatches_one_wins_one_conflicts():
    _categories()
    city = build_city()
    appeal, _ = new_appeal(A)
    accepted = transitions.accept(appeal.tracking, city.actor("dispatcher"))
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def dispatch(name: str, grid: str) -> None:
        try:
            actor = city.actor(name)
            _ = actor.posts, actor.roles  # read scope before the race
            barrier.wait(timeout=10)
            transitions.dispatch(appeal.tracking, actor, grid=grid, version=accepted.version)
            outcomes[name] = "ok"
        except Conflict:
            outcomes[name] = "conflict"
        except Exception as exc:  # surfaced by the assertion below
            outcomes[name] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatch, args=("dispatcher", A)),
               threading.Thread(target=dispatch, args=("sub_dispatcher", B))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes.values()) == ["conflict", "ok"], outcomes
    fresh = Appeal.objects.get(pk=appeal.pk)
    assert fresh.events.filter(kind="dispatch").count() == 1
    assert fresh.version == accepted.version + 1
    winner = next(name for name, result in outcomes.items() if result == "ok")
    assert fresh.assigned_grid.code == (A if winner == "dispatcher" else B)
