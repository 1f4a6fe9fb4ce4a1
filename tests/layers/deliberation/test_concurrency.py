"""Two staff record the decision at the same moment, on two connections: exactly one wins,
the other gets a 409, and there is one decision and one decide row."""

from __future__ import annotations

import pytest

from geogrid.errors import Conflict
from layers.appeals.categories import load_categories
from layers.deliberation import services
from layers.deliberation.models import Decision, ProposalEvent
from tests.concurrency import race
from tests.layers.deliberation.factories import make_world, propose, through

# Real transactions on separate connections (a transactional test starts from a flushed
# database: the category taxonomy is loaded again).
pytestmark = pytest.mark.django_db(transaction=True)


def test_two_staff_deciding_at_once_one_wins_one_conflicts():
    load_categories()
    world = make_world()
    proposal = through(world, propose(world), "deliberating")
    actors = [world.actor("staff"), world.actor("office")]
    for actor in actors:  # read the posts before the race
        _ = actor.posts

    def decide(actor, text):
        return lambda: services.decide(proposal.pk, actor, text=text, version=proposal.version)

    results = race(decide(actors[0], "周六清理"), decide(actors[1], "周日清理"))
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "Proposal"], results
    assert any(isinstance(r, Conflict) for r in results)
    assert Decision.objects.filter(proposal=proposal).count() == 1
    assert ProposalEvent.objects.filter(proposal=proposal, kind="decide").count() == 1
