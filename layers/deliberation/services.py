"""The deliberation actions: one service function per action, each declared once in
PROPOSAL_ACTIONS (geogrid.actions); `propose` and `record_offer` create and stand outside it.

    propose        residents and micro-unit leaders for their own grid, staff anywhere in
                   theirs; staff may raise it from appeals or a micro-wish      → proposed
    assess         staff: accept or reject, with the reason, within ASSESS_WORKING_DAYS
                   (a late assessment is recorded as late, not refused)
                                                                    → assessed | rejected
    link_appeals   staff: more appeals about the same matter                    (stage unchanged)
    hold_meeting   staff record a meeting; the first one opens the deliberation → deliberating
    decide         staff: the collective decision, published to the grid for
                   DECISION_PUBLISH_DAYS (or the days given)                    → decided
    start_project  staff: who carries it out and by when; open offers taken     → implementing
    evaluate       staff: the effect evaluation; the project ends               → evaluated
    close          staff, only after the evaluation                             → closed
    withdraw       staff or the proposer, before the decision, with the reason  → withdrawn

Stages cannot be skipped: an action from any other stage is a 409 and changes nothing. Every
action runs in one transaction: the proposal row is locked (SELECT … FOR UPDATE); the actor
must see it (else 404), be allowed the action (403), send the version they read (409), and the
stage must allow it (409); the action bumps the version and writes exactly one ProposalEvent
(actor, role, from and to stage, the reason as its note). A constraint the database enforces
(one decision per proposal, the stage's timestamps and reasons) turns into a 409.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from geogrid.actions import ActionRegistry
from geogrid.calendar_db import working_calendar
from geogrid.errors import Conflict, NotFound, integrity_conflict
from geogrid.hierarchy import Level as GridLevel
from geogrid.hierarchy import code_lengths
from geogrid.models import Grid
from layers.appeals.actors import ADMIN_ROLE, Actor
from layers.appeals.deadlines import category_limit_minutes
from layers.appeals.models import Appeal, Status
from layers.deliberation import access
from layers.deliberation.access import as_staff, as_staff_or_proposer
from layers.deliberation.inputs import (
    MAX_PROJECT_YEARS,
    AssessInput,
    DecideInput,
    EvaluateInput,
    LinkInput,
    MeetingInput,
    ProjectInput,
    WithdrawInput,
)
from layers.deliberation.models import (
    Assessment,
    Decision,
    Meeting,
    Offer,
    Project,
    Proposal,
    ProposalAppeal,
    ProposalEvent,
    Source,
    Stage,
)
from layers.volunteering.models import PartnerUnit, Volunteer
from layers.wishes.models import Wish

PROPOSAL_ACTIONS = ActionRegistry("proposal")
S = Stage
# Appeals that cannot be linked: they were refused or live on in another appeal.
UNLINKABLE = (Status.REJECTED, Status.MERGED)
# A meeting is recorded once held; this much ahead of the clock is tolerated (phones' clocks).
CLOCK_SLACK = dt.timedelta(minutes=10)


def conf(name: str) -> Any:
    return settings.GEOGRID["DELIBERATION"][name]


# -- the frame --------------------------------------------------------------------------------
@dataclass
class Step:
    proposal: Proposal
    actor: Actor
    role: str
    action: str
    at: dt.datetime
    note: str = ""
    data: dict = field(default_factory=dict)


def _lock(pk: int) -> Proposal:
    found = (Proposal.objects.select_for_update(of=("self",))
             .select_related("scope", "community").filter(pk=pk).first())
    if found is None:
        raise NotFound(_("no such proposal"))
    return found


# Why an action is refused from a stage, when there is more to say than the stage.
_HINTS = {"close": gettext_lazy("closing needs the effect evaluation first")}


@contextmanager
def _step(pk: int, actor: Actor, name: str, version: int | None,
          at: dt.datetime | None) -> Iterator[Step]:
    rule = PROPOSAL_ACTIONS[name]
    at = at or timezone.now()
    try:
        with transaction.atomic():
            proposal = _lock(pk)
            if access.level(actor, proposal, at) == access.Level.NONE:
                raise NotFound(_("no such proposal"))
            role = rule.who(actor, proposal)
            if not role:
                raise PermissionDenied(_("you may not take this action: %(a)s")
                                       % {"a": rule.label})
            if version is not None and version != proposal.version:
                raise Conflict(_("it was changed by someone else (version %(now)d, you sent "
                                 "%(sent)d); reload it")
                               % {"now": proposal.version, "sent": version},
                               current={"stage": proposal.stage, "version": proposal.version})
            if proposal.stage not in rule.sources:
                hint = _HINTS.get(name)
                raise Conflict(
                    _("%(a)s is not possible now: it is %(s)s") % {
                        "a": rule.label, "s": proposal.get_stage_display()}
                    + (f" ({hint})" if hint else ""),
                    current={"stage": proposal.stage, "version": proposal.version})
            before = proposal.stage
            step = Step(proposal=proposal, actor=actor, role=str(role), action=name, at=at)
            yield step
            proposal.version += 1
            proposal.save()
            proposal.refresh_from_db(fields=["status"])  # generated by the database
            _event(step, before)
    except IntegrityError as exc:
        raise integrity_conflict(exc) from exc


def _event(step: Step, before: str) -> ProposalEvent:
    return ProposalEvent.objects.create(
        proposal=step.proposal, kind=step.action, at=step.at, actor=step.actor.user_or_none,
        actor_role=step.role, from_stage=before, to_stage=step.proposal.stage, note=step.note,
        data=step.data)


def _required(text: str, name: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({name: _("this is required")})
    return text


# -- helpers ----------------------------------------------------------------------------------
def _grid(code: str) -> Grid:
    grid = (Grid.objects.current().filter(code=code, level__gte=GridLevel.COMMUNITY)
            .first() if code else None)
    if grid is None:
        raise ValidationError({"grid": _("no such current grid at community level or below: "
                                         "%(c)s") % {"c": code}})
    return grid


def _community_of(grid: Grid) -> Grid:
    if grid.level == GridLevel.COMMUNITY:
        return grid
    code = grid.code[:code_lengths()[GridLevel.COMMUNITY]]
    found = Grid.objects.current().filter(code=code, level=GridLevel.COMMUNITY).first()
    if found is None:
        raise ValidationError({"grid": _("the grid lies in no current community")})
    return found


def fallback_limit(appeal: Appeal) -> dt.datetime | None:
    """The appeal's limit computed from its dispatch, for an appeal without a deadline of its
    own (imported history); None when it has a deadline or was never dispatched."""
    if appeal.due_at is not None or appeal.dispatched_at is None:
        return None
    cal = working_calendar()
    return cal.add_working_minutes(appeal.dispatched_at,
                                   category_limit_minutes(appeal.category, cal))


def _appeals(refs: list[str], community: Grid) -> list[Appeal]:
    found: dict[int, Appeal] = {}
    for ref in refs:
        appeal = (Appeal.objects.by_ref(ref).select_related("grid", "category").first()
                  if ref else None)
        if appeal is None:
            raise ValidationError({"appeals": _("no such appeal: %(r)s") % {"r": ref}})
        if appeal.grid is None or not appeal.grid.code.startswith(community.code):
            raise ValidationError({"appeals": _("the appeal %(r)s lies outside the community")
                                   % {"r": appeal.tracking}})
        if appeal.status in UNLINKABLE:
            raise ValidationError({"appeals": _("the appeal %(r)s was rejected or merged")
                                   % {"r": appeal.tracking}})
        found[appeal.pk] = appeal
    return list(found.values())


def _link(proposal: Proposal, appeals: list[Appeal], at: dt.datetime) -> list[str]:
    linked = []
    for appeal in appeals:
        _row, made = ProposalAppeal.objects.get_or_create(
            proposal=proposal, appeal=appeal,
            defaults={"linked_at": at, "fallback_limit_at": fallback_limit(appeal)})
        if made:
            linked.append(appeal.tracking)
    return linked


# -- creating ---------------------------------------------------------------------------------
def propose(actor: Actor, *, grid: str, title: str, size: str, description: str = "",
            appeals: list[str] | None = None, wish: str = "",
            at: dt.datetime | None = None) -> Proposal:
    """提案: a proposal for a grid (a community or a grid in it)."""
    at = at or timezone.now()
    scope = _grid(grid)
    role = access.may_propose(actor, scope.code)
    if not role:
        raise PermissionDenied(_("you may propose only for your own grid"))
    staff = role in (access.STAFF_ROLE, ADMIN_ROLE)
    if (appeals or wish) and not staff:
        raise PermissionDenied(_("only staff raise proposals from appeals or micro-wishes"))
    community = _community_of(scope)
    linked = _appeals(list(appeals or []), community)
    raised_from = None
    if wish:
        raised_from = Wish.objects.filter(code=wish, community__code=community.code).first()
        if raised_from is None:
            raise ValidationError({"wish": _("no such micro-wish in the community")})
    source = (Source.APPEALS if linked else Source.WISH if raised_from else
              Source.STAFF if staff else role)
    due = working_calendar().add_working_days(at, float(conf("ASSESS_WORKING_DAYS")))
    try:
        with transaction.atomic():
            proposal = Proposal.objects.create(
                scope=scope, community=community, district_code=scope.code[
                    :code_lengths()[GridLevel.DISTRICT]],
                source=source, wish=raised_from, size=size, title=_required(title, "title"),
                description=description, proposed_by=actor.user, proposed_role=role,
                proposed_at=at, assess_due_at=due)
            proposal.refresh_from_db(fields=["status"])
            step = Step(proposal=proposal, actor=actor, role=role, action="propose", at=at,
                        data={"grid": scope.code, "source": source, "size": size,
                              "assess_due_at": due.isoformat()})
            if linked:
                step.data["appeals"] = _link(proposal, linked, at)
            if raised_from is not None:
                step.data["wish"] = raised_from.code
            _event(step, "")
    except IntegrityError as exc:
        raise integrity_conflict(exc) from exc
    return proposal


def record_offer(actor: Actor, *, community: str, kind: str, resource: str,
                 partner_unit: int | None = None, volunteer: int | None = None,
                 description: str = "", at: dt.datetime | None = None) -> Offer:
    """认领: a partner unit or a volunteer (a party member) offers the community a resource.
    Staff of the community record it, or the volunteer / a member of the unit offers it."""
    at = at or timezone.now()
    grid = Grid.objects.current().filter(code=community, level=GridLevel.COMMUNITY).first()
    if grid is None:
        raise ValidationError({"community": _("no such current community")})
    staff = access.staff_role(actor, grid.code)
    if not staff and not (Volunteer.objects.filter(user=actor.user, active=True).exists()
                          or PartnerUnit.objects.filter(members=actor.user).exists()):
        raise PermissionDenied(_("the community's staff, or whoever offers it, record an "
                                 "offer"))
    offer = Offer(community=grid, kind=kind, resource=_required(resource, "resource"),
                  description=description, offered_at=at, recorded_by=actor.user)
    if kind == Offer.Kind.PARTNER_UNIT:
        offer.partner_unit = (PartnerUnit.objects.filter(
            pk=partner_unit, active=True, community__code=grid.code).first()
            if partner_unit else None)
        if offer.partner_unit is None:
            raise ValidationError({"partner_unit": _("no such active partner unit of the "
                                                     "community")})
        own = offer.partner_unit.members.filter(pk=actor.user.pk).exists()
    else:
        offer.volunteer = (Volunteer.objects.filter(
            pk=volunteer, active=True, community__code=grid.code).first()
            if volunteer else None)
        if offer.volunteer is None:
            raise ValidationError({"volunteer": _("no such active volunteer of the community")})
        party = offer.volunteer.kind == Volunteer.Kind.PARTY_MEMBER
        if party != (kind == Offer.Kind.PARTY_MEMBER):
            raise ValidationError({"kind": _("the volunteer is not of that kind")})
        own = offer.volunteer.user_id == actor.user.pk
    if not (own or staff):
        raise PermissionDenied(_("the community's staff, or whoever offers it, record an "
                                 "offer"))
    offer.save()
    return offer


# -- the actions ------------------------------------------------------------------------------
@PROPOSAL_ACTIONS.action("assess", label=gettext_lazy("Assess the need"),
                         sources=(S.PROPOSED,), who=as_staff, inputs=AssessInput, note="none")
def assess(ref: int, actor: Actor, *, outcome: str, reason: str, version: int | None = None,
           at: dt.datetime | None = None) -> Proposal:
    """需求评估: accept the proposal for deliberation or reject it, saying why. Due within
    ASSESS_WORKING_DAYS working days of the proposal; a later one is recorded as late."""
    with _step(ref, actor, "assess", version, at) as step:
        p = step.proposal
        p.assessment, p.assessment_reason = outcome, _required(reason, "reason")
        p.assessed_at = step.at
        p.stage = S.ASSESSED if outcome == Assessment.ACCEPT else S.REJECTED
        step.note = p.assessment_reason
        step.data = {"outcome": outcome, "due_at": p.assess_due_at.isoformat(),
                     "late": step.at > p.assess_due_at}
    return step.proposal


@PROPOSAL_ACTIONS.action("link_appeals", label=gettext_lazy("Link appeals"),
                         sources=(S.PROPOSED, S.ASSESSED, S.DELIBERATING), who=as_staff,
                         inputs=LinkInput)
def link_appeals(ref: int, actor: Actor, *, appeals: list[str], version: int | None = None,
                 note: str = "", at: dt.datetime | None = None) -> Proposal:
    """More appeals about the same matter: they are settled by this proposal's meetings."""
    with _step(ref, actor, "link_appeals", version, at) as step:
        found = _appeals(appeals, step.proposal.community)
        step.note = note
        step.data = {"appeals": _link(step.proposal, found, step.at)}
    return step.proposal


@PROPOSAL_ACTIONS.action("hold_meeting", label=gettext_lazy("Record a meeting"),
                         sources=(S.ASSESSED, S.DELIBERATING), who=as_staff,
                         inputs=MeetingInput)
def hold_meeting(ref: int, actor: Actor, *, held_at: dt.datetime, venue: str, place: str = "",
                 residents: int = 0, owners_committee: int = 0, property_company: int = 0,
                 community: int = 0, units: int = 0, minutes: str = "",
                 version: int | None = None, note: str = "",
                 at: dt.datetime | None = None) -> Proposal:
    """民主商议: a meeting held (议事厅, 院坝会 or online), who came by kind, the minutes. The
    first one opens the deliberation."""
    with _step(ref, actor, "hold_meeting", version, at) as step:
        p = step.proposal
        if held_at > step.at + CLOCK_SLACK:
            raise ValidationError({"held_at": _("record a meeting once it is held")})
        if held_at < p.proposed_at:
            raise ValidationError({"held_at": _("the meeting is before the proposal")})
        counts = {"residents": residents, "owners_committee": owners_committee,
                  "property_company": property_company, "community": community,
                  "units": units}
        if not any(counts.values()):
            raise ValidationError({"residents": _("count who came")})
        first = not p.meetings.exists()
        meeting = Meeting.objects.create(proposal=p, held_at=held_at, venue=venue, place=place,
                                         minutes=minutes, recorded_by=actor.user,
                                         recorded_at=step.at, **counts)
        if p.stage == S.ASSESSED:
            p.stage, p.deliberating_at = S.DELIBERATING, step.at
        step.note = note
        step.data = {"meeting": meeting.pk, "held_at": held_at.isoformat(), "venue": venue,
                     "attendance": sum(counts.values()), "first": first}
    return step.proposal


@PROPOSAL_ACTIONS.action("decide", label=gettext_lazy("Record the decision"),
                         sources=(S.DELIBERATING,), who=as_staff, inputs=DecideInput)
def decide(ref: int, actor: Actor, *, text: str, votes_for: int | None = None,
           votes_against: int | None = None, votes_abstain: int | None = None,
           publish_days: int | None = None, version: int | None = None, note: str = "",
           at: dt.datetime | None = None) -> Proposal:
    """集体决议: the decision of the meetings, published to the grid for the set days."""
    with _step(ref, actor, "decide", version, at) as step:
        p = step.proposal
        votes = (votes_for, votes_against, votes_abstain)
        if any(v is not None for v in votes) and any(v is None for v in votes):
            raise ValidationError({"votes_for": _("give the votes for, against and abstaining, "
                                                  "or none")})
        days = int(publish_days or conf("DECISION_PUBLISH_DAYS"))
        decision = Decision.objects.create(
            proposal=p, meeting=p.meetings.order_by("-held_at", "-id").first(),
            text=_required(text, "text"), votes_for=votes_for, votes_against=votes_against,
            votes_abstain=votes_abstain, published_from=step.at,
            publish_until=step.at + dt.timedelta(days=days), decided_by=actor.user)
        p.stage, p.decided_at = S.DECIDED, step.at
        step.note = note
        step.data = {"publish_until": decision.publish_until.isoformat(),
                     "votes": list(votes) if votes_for is not None else None}
    return step.proposal


@PROPOSAL_ACTIONS.action("start_project", label=gettext_lazy("Start the project"),
                         sources=(S.DECIDED,), who=as_staff, inputs=ProjectInput)
def start_project(ref: int, actor: Actor, *, owner: str, due_on: dt.date,
                  offers: list[int] | None = None, version: int | None = None,
                  note: str = "", at: dt.datetime | None = None) -> Proposal:
    """组织实施: who carries the decision out and by when; open offers it takes."""
    with _step(ref, actor, "start_project", version, at) as step:
        p = step.proposal
        today = timezone.localdate(step.at)
        if not today <= due_on <= today + dt.timedelta(days=366 * MAX_PROJECT_YEARS):
            raise ValidationError({"due_on": _("the due date is in the past or too far ahead")})
        wanted = sorted(set(offers or []))
        taken = list(Offer.objects.select_for_update().filter(
            pk__in=wanted, community=p.community, status=Offer.Status.OPEN))
        if len(taken) != len(wanted):
            raise ValidationError({"offers": _("an offer is not open in this community")})
        for offer in taken:
            offer.status, offer.proposal = Offer.Status.TAKEN, p
            offer.save(update_fields=["status", "proposal"])
        Project.objects.create(proposal=p, owner=_required(owner, "owner"), due_on=due_on,
                               started_at=step.at)
        p.stage, p.implementing_at = S.IMPLEMENTING, step.at
        step.note = note
        step.data = {"owner": owner, "due_on": due_on.isoformat(), "offers": wanted}
    return step.proposal


@PROPOSAL_ACTIONS.action("evaluate", label=gettext_lazy("Evaluate the effect"),
                         sources=(S.IMPLEMENTING,), who=as_staff, inputs=EvaluateInput)
def evaluate(ref: int, actor: Actor, *, effect: str, evaluation: str,
             project: str = Project.Status.DONE, version: int | None = None, note: str = "",
             at: dt.datetime | None = None) -> Proposal:
    """效果评估: how well it worked; the project ends (done, or dropped)."""
    with _step(ref, actor, "evaluate", version, at) as step:
        p = step.proposal
        p.effect, p.evaluation = effect, _required(evaluation, "evaluation")
        p.stage, p.evaluated_at = S.EVALUATED, step.at
        Project.objects.filter(proposal=p, status=Project.Status.RUNNING).update(
            status=project, ended_at=step.at)
        step.note = note or p.evaluation
        step.data = {"effect": effect, "project": project}
    return step.proposal


@PROPOSAL_ACTIONS.action("close", label=gettext_lazy("Close"), sources=(S.EVALUATED,),
                         who=as_staff)
def close(ref: int, actor: Actor, *, version: int | None = None, note: str = "",
          at: dt.datetime | None = None) -> Proposal:
    """Close the proposal: only once its effect is evaluated."""
    with _step(ref, actor, "close", version, at) as step:
        p = step.proposal
        if p.evaluated_at is None or not p.evaluation:  # the stage says so; the row must too
            raise Conflict(str(_HINTS["close"]), current={"stage": p.stage,
                                                          "version": p.version})
        p.stage, p.closed_at = S.CLOSED, step.at
        step.note = note
    return step.proposal


@PROPOSAL_ACTIONS.action("withdraw", label=gettext_lazy("Withdraw"),
                         sources=(S.PROPOSED, S.ASSESSED, S.DELIBERATING),
                         who=as_staff_or_proposer, inputs=WithdrawInput, note="none")
def withdraw(ref: int, actor: Actor, *, reason: str, version: int | None = None,
             at: dt.datetime | None = None) -> Proposal:
    """The proposer or staff withdraw it before a decision, saying why."""
    with _step(ref, actor, "withdraw", version, at) as step:
        p = step.proposal
        p.withdraw_reason = _required(reason, "reason")
        p.stage, p.withdrawn_at = S.WITHDRAWN, step.at
        step.note = p.withdraw_reason
    return step.proposal
