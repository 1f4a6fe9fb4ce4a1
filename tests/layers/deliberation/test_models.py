"""What the database itself refuses: raw updates and inserts past the services."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from layers.deliberation.models import (
    Decision,
    Meeting,
    Offer,
    Project,
    Proposal,
    ProposalEvent,
)
from tests.layers.deliberation.factories import at, make_world, propose, through
from tests.layers.factories import COMMUNITY

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return make_world()


def refused(fn) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        fn()


def test_a_stage_needs_its_timestamps_and_reasons(world):
    p = propose(world)
    rows = Proposal.objects.filter(pk=p.pk)
    refused(lambda: rows.update(stage="assessed"))  # no assessment
    refused(lambda: rows.update(stage="rejected", assessed_at=at(1), assessment="accept",
                                assessment_reason="x"))
    refused(lambda: rows.update(stage="withdrawn", withdrawn_at=at(1)))  # no reason
    refused(lambda: rows.update(stage="decided"))
    refused(lambda: rows.update(assessed_at=at(-1)))  # before the proposal
    decided = through(world, p, "implementing")
    rows = Proposal.objects.filter(pk=decided.pk)
    refused(lambda: rows.update(stage="closed", closed_at=at(9)))  # closing without evaluation
    refused(lambda: rows.update(stage="evaluated", evaluated_at=at(9), effect="effective"))
    refused(lambda: rows.update(decided_at=at(9)))  # after the project began
    assert Proposal.objects.get(pk=decided.pk).stage == "implementing"


def test_one_decision_per_proposal_and_a_publishing_window(world):
    p = through(world, propose(world), "decided")
    d = Decision.objects.get(proposal=p)
    refused(lambda: Decision.objects.create(proposal=p, text="again", published_from=at(3),
                                            publish_until=at(4), decided_by=d.decided_by))
    rows = Decision.objects.filter(pk=d.pk)
    refused(lambda: rows.update(publish_until=d.published_from))
    refused(lambda: rows.update(votes_against=None))  # all three or none
    refused(lambda: rows.update(votes_for=-1))
    refused(lambda: rows.update(text=""))


def test_meeting_counts_are_never_negative_and_someone_came(world):
    p = through(world, propose(world), "deliberating")
    m = Meeting.objects.get(proposal=p)
    rows = Meeting.objects.filter(pk=m.pk)
    for field in Meeting.ATTENDANCE:
        refused(lambda field=field: rows.update(**{field: -1}))
    refused(lambda: rows.update(**dict.fromkeys(Meeting.ATTENDANCE, 0)))

    def raw_insert() -> None:
        with connection.cursor() as cur:
            cur.execute(
                "INSERT INTO deliberation_meeting (proposal_id, held_at, venue, place, residents,"
                " owners_committee, property_company, community, units, minutes, recorded_by_id,"
                " recorded_at) VALUES (%s, now(), 'hall', '', -3, 0, 0, 1, 0, '', %s, now())",
                [p.pk, m.recorded_by_id])
    refused(raw_insert)


def test_projects_and_offers_keep_their_states_straight(world):
    p = through(world, propose(world), "implementing")
    refused(lambda: Project.objects.filter(proposal=p).update(status="done"))  # no end time
    refused(lambda: Project.objects.filter(proposal=p).update(owner=""))
    staff = world.users["staff"]
    community = world.grids[COMMUNITY]
    refused(lambda: Offer.objects.create(community=community, kind="partner_unit",
                                         resource="车", recorded_by=staff))  # nobody offers
    refused(lambda: Project.objects.create(proposal=p, owner="x", due_on=dt.date(2026, 4, 1),
                                           started_at=at(4)))  # one per proposal


def test_the_timeline_is_append_only(world):
    p = propose(world)
    event = ProposalEvent.objects.get(proposal=p)
    with pytest.raises(DatabaseError), transaction.atomic():
        ProposalEvent.objects.filter(pk=event.pk).update(note="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("DELETE FROM deliberation_proposalevent WHERE id = %s", [event.pk])
    assert ProposalEvent.objects.get(pk=event.pk).note == ""
