"""The deliberation workflow through its services: the 122 stages in order, one timeline row
per action, every skip a 409 that changes nothing, closing only after the evaluation, reasons
required, who may propose, lateness of the assessment, offers taken by a project."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from geogrid.errors import Conflict, NotFound
from layers.appeals.actors import Actor
from layers.deliberation import services
from layers.deliberation.models import Offer, Project, Proposal, ProposalEvent, Stage
from layers.volunteering.models import PartnerUnit, Volunteer
from tests.factories import make_user
from tests.layers.deliberation.factories import (
    GENERAL_CATEGORY,
    MEETING,
    POINT_B,
    T0,
    act,
    appeal,
    at,
    make_world,
    propose,
    through,
)
from tests.layers.factories import COMMUNITY, A, B

pytestmark = pytest.mark.django_db
S = Stage
ORDER = ["proposed", "assessed", "deliberating", "decided", "implementing", "evaluated",
         "closed"]
# A valid body for each action (the moment is added per call).
BODIES = {
    "assess": {"outcome": "accept", "reason": "涉及全楼"},
    "link_appeals": {"appeals": []},
    "hold_meeting": {"held_at": at(2), **MEETING},
    "decide": {"text": "周六统一清理"},
    "start_project": {"owner": "物业公司", "due_on": at(10).date()},
    "evaluate": {"effect": "effective", "evaluation": "楼道已清空"},
    "close": {},
    "withdraw": {"reason": "已自行解决"},
}


@pytest.fixture
def world():
    return make_world()


def snapshot(proposal: Proposal) -> tuple:
    row = Proposal.objects.get(pk=proposal.pk)
    return row.stage, row.version, ProposalEvent.objects.filter(proposal=proposal).count()


def test_the_whole_122_loop_writes_one_timeline_row_per_action(world):
    proposal = propose(world, "resident")
    assert proposal.stage == S.PROPOSED and proposal.source == "resident"
    assert proposal.assess_due_at == dt.datetime(2026, 3, 9, 1, 0, tzinfo=dt.UTC)  # Mon 09:00
    closed = through(world, proposal, "closed")
    assert closed.stage == S.CLOSED and closed.status == "closed" and closed.version == 7
    events = list(ProposalEvent.objects.filter(proposal=proposal).order_by("at", "id"))
    assert [(e.kind, e.from_stage, e.to_stage) for e in events] == [
        ("propose", "", "proposed"), ("assess", "proposed", "assessed"),
        ("hold_meeting", "assessed", "deliberating"), ("decide", "deliberating", "decided"),
        ("start_project", "decided", "implementing"),
        ("evaluate", "implementing", "evaluated"), ("close", "evaluated", "closed")]
    assert events[1].note == "涉及全楼" and events[1].data["late"] is False
    assert {e.actor_role for e in events[1:]} == {"staff"}
    assert events[0].actor_role == "resident"
    closed.refresh_from_db()
    assert closed.decision.publish_until == at(3) + dt.timedelta(days=7)
    assert (closed.decision.votes_for, closed.decision.votes_against) == (20, 1)
    project = Project.objects.get(proposal=proposal)
    assert project.status == Project.Status.DONE and project.ended_at == at(5)


@pytest.mark.parametrize("stage", ORDER)
def test_every_action_from_a_wrong_stage_is_a_409_and_changes_nothing(world, stage):
    proposal = propose(world)
    if stage != "proposed":
        proposal = through(world, proposal, stage)
    before = snapshot(proposal)
    allowed = {a.name for a in services.PROPOSAL_ACTIONS if stage in a.sources}
    refused = [a.name for a in services.PROPOSAL_ACTIONS if a.name not in allowed]
    assert refused, stage
    for name in refused:
        with pytest.raises(Conflict) as caught:
            act(world, name, proposal, **BODIES[name], at=at(7))
        assert caught.value.current["stage"] == stage
        assert snapshot(proposal) == before, name


def test_a_meeting_cannot_be_held_before_the_assessment_nor_a_decision_before_a_meeting(world):
    proposal = propose(world)
    with pytest.raises(Conflict):
        act(world, "hold_meeting", proposal, **BODIES["hold_meeting"], at=at(2, 60))
    proposal = through(world, proposal, "assessed")
    with pytest.raises(Conflict):
        act(world, "decide", proposal, text="跳过商议", at=at(2))
    assert Proposal.objects.get(pk=proposal.pk).stage == S.ASSESSED


def test_closing_needs_the_evaluation(world):
    proposal = through(world, propose(world), "implementing")
    with pytest.raises(Conflict) as caught:
        act(world, "close", proposal, at=at(5))
    assert "evaluation" in str(caught.value.detail)
    assert snapshot(proposal) == ("implementing", 5, 5)
    with pytest.raises(ValidationError):  # an evaluation needs its text
        act(world, "evaluate", proposal, effect="effective", evaluation="   ", at=at(5))
    act(world, "evaluate", proposal, effect="partly", evaluation="部分清理", project="dropped",
        at=at(5))
    assert act(world, "close", proposal, at=at(6)).stage == S.CLOSED
    assert Project.objects.get(proposal=proposal).status == Project.Status.DROPPED


def test_the_assessment_needs_a_reason_either_way_and_a_rejection_ends_it(world):
    proposal = propose(world)
    for outcome in ("accept", "reject"):
        with pytest.raises(ValidationError) as caught:
            act(world, "assess", proposal, outcome=outcome, reason="  ", at=at(1))
        assert "reason" in caught.value.message_dict
    assert snapshot(proposal) == ("proposed", 1, 1)
    rejected = act(world, "assess", proposal, outcome="reject", reason="属于物业合同义务",
                   at=at(1))
    assert rejected.stage == S.REJECTED and rejected.status == "rejected"
    assert rejected.assessment_reason == "属于物业合同义务"
    for name in ("hold_meeting", "withdraw", "close"):
        with pytest.raises(Conflict):
            act(world, name, rejected, **BODIES[name], at=at(2))


def test_a_late_assessment_is_recorded_as_late(world):
    proposal = propose(world)
    act(world, "assess", proposal, outcome="accept", reason="同意", at=at(8))  # due at(7)
    event = ProposalEvent.objects.get(proposal=proposal, kind="assess")
    assert event.data["late"] is True


def test_the_assessment_limit_is_configurable(world, settings):
    settings.GEOGRID = {**settings.GEOGRID, "DELIBERATION": {
        **settings.GEOGRID["DELIBERATION"], "ASSESS_WORKING_DAYS": 1,
        "DECISION_PUBLISH_DAYS": 3}}
    proposal = propose(world)
    assert proposal.assess_due_at == at(1)  # Tuesday 09:00
    decided = through(world, proposal, "decided")
    assert decided.decision.publish_until == at(3) + dt.timedelta(days=3)


def test_a_stale_version_is_a_409(world):
    proposal = propose(world)
    with pytest.raises(Conflict) as caught:
        act(world, "assess", proposal, outcome="accept", reason="同意", version=7, at=at(1))
    assert caught.value.current == {"stage": "proposed", "version": 1}
    assert act(world, "assess", proposal, outcome="accept", reason="同意", version=1,
               at=at(1)).version == 2


def test_meetings_are_recorded_once_held_with_someone_present(world):
    proposal = through(world, propose(world), "assessed")
    with pytest.raises(ValidationError) as caught:
        act(world, "hold_meeting", proposal, held_at=at(3), venue="hall", residents=5,
            at=at(2))
    assert "held_at" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        act(world, "hold_meeting", proposal, held_at=at(2), venue="online", at=at(2))
    assert "residents" in caught.value.message_dict
    with pytest.raises(ValidationError):  # before the proposal
        act(world, "hold_meeting", proposal, held_at=at(-1), venue="hall", residents=3,
            at=at(2))
    first = act(world, "hold_meeting", proposal, held_at=at(2), venue="hall", residents=3,
                at=at(2))
    second = act(world, "hold_meeting", first, held_at=at(2, 120), venue="online",
                 residents=9, units=2, at=at(2, 180))
    assert second.stage == S.DELIBERATING and second.meetings.count() == 2
    assert second.deliberating_at == at(2)  # the first meeting opened it


def test_votes_are_all_three_or_none(world):
    proposal = through(world, propose(world), "deliberating")
    with pytest.raises(ValidationError):
        act(world, "decide", proposal, text="清理", votes_for=3, at=at(3))
    decided = act(world, "decide", proposal, text="清理", at=at(3))
    assert decided.decision.votes_for is None


def test_withdrawing_the_proposer_or_staff_with_a_reason_before_the_decision(world):
    proposal = propose(world, "resident")
    with pytest.raises(NotFound):  # not theirs, nothing published: out of sight
        act(world, "withdraw", proposal, "leader", reason="不要了", at=at(1))
    with pytest.raises(ValidationError):
        act(world, "withdraw", proposal, "resident", reason="", at=at(1))
    gone = act(world, "withdraw", proposal, "resident", reason="邻居已协商解决", at=at(1))
    assert gone.stage == S.WITHDRAWN and gone.withdraw_reason == "邻居已协商解决"
    decided = through(world, propose(world), "decided")
    with pytest.raises(Conflict):
        act(world, "withdraw", decided, reason="太晚", at=at(4))


def test_who_may_propose_where(world):
    assert propose(world, "resident", grid=A).proposed_role == "resident"
    assert propose(world, "resident", grid=COMMUNITY).scope.code == COMMUNITY  # above A
    assert propose(world, "leader", grid=A).source == "micro_unit_leader"
    assert propose(world, "office", grid=B).proposed_role == "staff"  # subdistrict above
    for who, grid in (("resident", B), ("neighbour", A), ("leader", B), ("worker", A),
                      ("stranger", A), ("staff2", A), ("dispatcher", A)):
        with pytest.raises(PermissionDenied):
            propose(world, who, grid=grid)
    with pytest.raises(ValidationError):  # a subdistrict is above what a proposal is for
        propose(world, "office", grid=world.grids[COMMUNITY].code[:9])
    with pytest.raises(ValidationError):
        propose(world, "staff", grid="350427999999")


def test_staff_raise_proposals_from_appeals_of_their_community_only(world):
    own = appeal(GENERAL_CATEGORY)
    raised = propose(world, appeals=[own.tracking, str(own.public_id)])
    assert raised.source == "appeals" and list(raised.appeals.all()) == [own]
    with pytest.raises(PermissionDenied):
        propose(world, "resident", appeals=[own.tracking])
    with pytest.raises(ValidationError) as caught:
        propose(world, appeals=["350427-20990101-00001"])
    assert "appeals" in caught.value.message_dict
    outside = appeal(GENERAL_CATEGORY, (117.84, 26.40))  # in COMMUNITY2
    with pytest.raises(ValidationError):
        propose(world, appeals=[outside.tracking])
    assert Proposal.objects.count() == 1


def test_staff_outside_the_community_see_nothing_and_the_proposer_may_not_assess(world):
    proposal = propose(world, "resident")
    with pytest.raises(NotFound):
        act(world, "assess", proposal, "staff2", **BODIES["assess"], at=at(1))
    with pytest.raises(PermissionDenied):
        act(world, "assess", proposal, "resident", **BODIES["assess"], at=at(1))
    assert act(world, "assess", proposal, "office", **BODIES["assess"], at=at(1)).stage == \
        S.ASSESSED


def test_a_project_takes_open_offers_of_the_community(world):
    community = world.grids[COMMUNITY]
    unit = PartnerUnit.objects.create(name="县供电公司", kind="business", community=community)
    member = make_user()
    volunteer = Volunteer.objects.create(user=member, display_name="李师傅",
                                         kind=Volunteer.Kind.PARTY_MEMBER, community=community)
    by_staff = services.record_offer(world.actor("staff"), community=COMMUNITY,
                                     kind="partner_unit", partner_unit=unit.pk,
                                     resource="一辆清运车")
    own = services.record_offer(Actor(user=member), community=COMMUNITY,
                                kind="party_member", volunteer=volunteer.pk, resource="周末帮忙")
    with pytest.raises(PermissionDenied):
        services.record_offer(world.actor("resident"), community=COMMUNITY,
                              kind="partner_unit", partner_unit=unit.pk, resource="x")
    with pytest.raises(ValidationError):  # a party member is not a plain volunteer
        services.record_offer(Actor(user=member), community=COMMUNITY,
                              kind="volunteer", volunteer=volunteer.pk, resource="x")
    proposal = through(world, propose(world), "decided")
    with pytest.raises(ValidationError):
        act(world, "start_project", proposal, owner="物业", due_on=at(10).date(),
            offers=[by_staff.pk, 999_999], at=at(4))
    with pytest.raises(ValidationError):  # due in the past
        act(world, "start_project", proposal, owner="物业", due_on=at(-3).date(), at=at(4))
    act(world, "start_project", proposal, owner="物业", due_on=at(10).date(),
        offers=[by_staff.pk, own.pk], at=at(4))
    assert set(Offer.objects.filter(proposal=proposal).values_list("status", flat=True)) == {
        "taken"}


def test_an_appeal_linked_later_is_linked_once(world):
    proposal = through(world, propose(world), "assessed")
    linked = appeal(point=POINT_B)
    act(world, "link_appeals", proposal, appeals=[linked.tracking], at=at(1, 30))
    act(world, "link_appeals", proposal, appeals=[linked.tracking], at=at(1, 40))
    assert proposal.appeals.count() == 1
    events = ProposalEvent.objects.filter(proposal=proposal, kind="link_appeals")
    assert [e.data["appeals"] for e in events.order_by("at")] == [[linked.tracking], []]


def test_meeting_counts_are_bounded_at_the_edge():
    from layers.deliberation.inputs import MeetingInput

    bad = MeetingInput(data={"held_at": T0.isoformat(), "venue": "hall", "residents": -1,
                             "units": 10**9, "place": "a\x00b", "minutes": "x" * 4001})
    assert not bad.is_valid()
    assert set(bad.errors) == {"residents", "units", "place", "minutes"}
    for moment in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2026-13-01",
                   7):
        check = MeetingInput(data={"held_at": moment, "venue": "hall", "residents": 1})
        assert not check.is_valid() and "held_at" in check.errors, moment
