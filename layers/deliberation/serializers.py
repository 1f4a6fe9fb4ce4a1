"""What the API answers about proposals, meetings, the three lists and the figures.

Nothing personal: a proposal names its grid, the role it was proposed in and (for staff) the
tracking numbers of its appeals, never a person; the timeline shows roles; meetings are counts
by kind. The public of a grid (a published decision) gets the title, stage, decision and the
meetings without their minutes (free text, which staff keep)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rest_framework import serializers

from layers.appeals.actors import Actor
from layers.deliberation.access import Level
from layers.deliberation.models import Meeting, Offer, Project, Proposal, Stage
from layers.deliberation.services import PROPOSAL_ACTIONS


def _iso(moment: dt.datetime | dt.date | None) -> str | None:
    return moment.isoformat() if moment else None


def _grid(grid: Any) -> dict:
    return {"code": grid.code, "name": grid.name}


def meeting_out(m: Meeting, level: Level) -> dict:
    return {"id": m.pk, "held_at": _iso(m.held_at), "venue": m.venue,
            "venue_label": m.get_venue_display(), "place": m.place,
            "attendance": {k: getattr(m, k) for k in Meeting.ATTENDANCE},
            "total": m.attendance,
            "minutes": m.minutes if level >= Level.OWN else None}


def decision_out(p: Proposal) -> dict | None:
    d = getattr(p, "decision", None) if p.decided_at else None
    if d is None:
        return None
    return {"text": d.text, "votes_for": d.votes_for, "votes_against": d.votes_against,
            "votes_abstain": d.votes_abstain, "published_from": _iso(d.published_from),
            "publish_until": _iso(d.publish_until)}


def project_out(pr: Project, now: dt.datetime) -> dict:
    return {"owner": pr.owner, "due_on": _iso(pr.due_on), "status": pr.status,
            "status_label": pr.get_status_display(), "started_at": _iso(pr.started_at),
            "ended_at": _iso(pr.ended_at),
            "overdue": pr.status == Project.Status.RUNNING and pr.due_on < now.date()}


def proposal_out(p: Proposal, actor: Actor, level: Level, now: dt.datetime, *,
                 full: bool = True) -> dict:
    meetings = list(p.meetings.all())
    out: dict[str, Any] = {
        "id": p.pk, "level": level.name.lower(), "stage": p.stage,
        "stage_label": p.get_stage_display(), "status": p.status, "size": p.size,
        "size_label": p.get_size_display(), "title": p.title, "grid": _grid(p.scope),
        "community": _grid(p.community), "meetings": len(meetings),
        "first_meeting_at": _iso(min((m.held_at for m in meetings), default=None)),
        "decision": decision_out(p),
    }
    if level >= Level.OWN:
        project = getattr(p, "project", None) if p.implementing_at else None
        out.update({
            "version": p.version, "description": p.description, "source": p.source,
            "proposed_role": p.proposed_role, "proposed_at": _iso(p.proposed_at),
            "assess_due_at": _iso(p.assess_due_at),
            "assess_overdue": (p.assessed_at or now) > p.assess_due_at,
            "assessment": ({"outcome": p.assessment, "reason": p.assessment_reason,
                            "at": _iso(p.assessed_at)} if p.assessed_at else None),
            "project": project_out(project, now) if project else None,
            "evaluation": ({"effect": p.effect, "text": p.evaluation,
                            "at": _iso(p.evaluated_at)} if p.evaluated_at else None),
            "withdrawn": ({"reason": p.withdraw_reason, "at": _iso(p.withdrawn_at)}
                          if p.withdrawn_at else None),
            "closed_at": _iso(p.closed_at),
            "appeals": ([a.tracking for a in p.appeals.all()] if level == Level.STAFF
                        else None),
            "wish": (p.wish.code if p.wish_id and p.wish else None)
            if level == Level.STAFF else None,
            "actions": PROPOSAL_ACTIONS.available(p.stage, actor, p),
        })
    if full:
        out["meeting_list"] = [meeting_out(m, level) for m in meetings]
        if level >= Level.OWN:
            out["timeline"] = [{
                "at": _iso(e.at), "kind": e.kind, "actor_role": e.actor_role,
                "from_stage": e.from_stage, "to_stage": e.to_stage, "note": e.note,
            } for e in p.events.all()]
    return out


def offer_out(o: Offer) -> dict:
    who = o.partner_unit.name if o.partner_unit else o.volunteer.display_name if o.volunteer \
        else ""
    return {"id": o.pk, "community": _grid(o.community), "kind": o.kind,
            "kind_label": o.get_kind_display(), "offered_by": who, "resource": o.resource,
            "description": o.description, "offered_at": _iso(o.offered_at),
            "status": o.status}


# -- the schema of the answers ----------------------------------------------------------------
class DelibGridRefOut(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class DelibAttendanceOut(serializers.Serializer):
    residents = serializers.IntegerField()
    owners_committee = serializers.IntegerField()
    property_company = serializers.IntegerField()
    community = serializers.IntegerField()
    units = serializers.IntegerField()


class DelibMeetingOut(serializers.Serializer):
    id = serializers.IntegerField()
    held_at = serializers.DateTimeField()
    venue = serializers.CharField()
    venue_label = serializers.CharField()
    place = serializers.CharField(allow_blank=True)
    attendance = DelibAttendanceOut()
    total = serializers.IntegerField()
    minutes = serializers.CharField(allow_null=True, allow_blank=True,
                                    help_text="null for the public of the grid")


class DelibDecisionOut(serializers.Serializer):
    text = serializers.CharField()
    votes_for = serializers.IntegerField(allow_null=True)
    votes_against = serializers.IntegerField(allow_null=True)
    votes_abstain = serializers.IntegerField(allow_null=True)
    published_from = serializers.DateTimeField()
    publish_until = serializers.DateTimeField()


class DelibAssessmentOut(serializers.Serializer):
    outcome = serializers.CharField()
    reason = serializers.CharField()
    at = serializers.DateTimeField()


class DelibProjectOut(serializers.Serializer):
    owner = serializers.CharField()
    due_on = serializers.DateField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)
    overdue = serializers.BooleanField()


class DelibEvaluationOut(serializers.Serializer):
    effect = serializers.CharField()
    text = serializers.CharField()
    at = serializers.DateTimeField()


class DelibWithdrawnOut(serializers.Serializer):
    reason = serializers.CharField()
    at = serializers.DateTimeField()


class DelibEventOut(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    actor_role = serializers.CharField(allow_blank=True)
    from_stage = serializers.CharField(allow_blank=True)
    to_stage = serializers.CharField()
    note = serializers.CharField(allow_blank=True)


class DelibProposalOut(serializers.Serializer):
    """A proposal as the viewer may see it: `level` public (a published decision of their
    grid), own (the proposer) or staff; the fields after `decision` are the proposer's and
    staff's, `appeals` and `wish` staff's (null for the proposer)."""

    id = serializers.IntegerField()
    level = serializers.ChoiceField(choices=["public", "own", "staff"])
    stage = serializers.ChoiceField(choices=Stage.values)
    stage_label = serializers.CharField()
    status = serializers.ChoiceField(choices=["open", "closed", "rejected", "withdrawn"])
    size = serializers.CharField()
    size_label = serializers.CharField()
    title = serializers.CharField()
    grid = DelibGridRefOut()
    community = DelibGridRefOut()
    meetings = serializers.IntegerField()
    first_meeting_at = serializers.DateTimeField(allow_null=True)
    decision = DelibDecisionOut(allow_null=True)
    version = serializers.IntegerField(required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    source = serializers.CharField(required=False)  # type: ignore[assignment]
    proposed_role = serializers.CharField(required=False)
    proposed_at = serializers.DateTimeField(required=False)
    assess_due_at = serializers.DateTimeField(required=False)
    assess_overdue = serializers.BooleanField(required=False)
    assessment = DelibAssessmentOut(required=False, allow_null=True)
    project = DelibProjectOut(required=False, allow_null=True)
    evaluation = DelibEvaluationOut(required=False, allow_null=True)
    withdrawn = DelibWithdrawnOut(required=False, allow_null=True)
    closed_at = serializers.DateTimeField(required=False, allow_null=True)
    appeals = serializers.ListField(child=serializers.CharField(), required=False,
                                    allow_null=True)
    wish = serializers.CharField(required=False, allow_null=True)
    actions = serializers.ListField(child=serializers.CharField(), required=False)
    meeting_list = DelibMeetingOut(many=True, required=False)
    timeline = DelibEventOut(many=True, required=False)


class DelibProposalPageOut(serializers.Serializer):
    count = serializers.IntegerField()
    page_size = serializers.IntegerField()
    results = DelibProposalOut(many=True)


class DelibMeetingsOut(serializers.Serializer):
    proposal = serializers.IntegerField()
    meetings = DelibMeetingOut(many=True)


class DelibKeyAppealOut(serializers.Serializer):
    tracking = serializers.CharField()
    category = serializers.CharField()
    status = serializers.CharField()
    grid = serializers.CharField(allow_null=True)
    reported_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField(allow_null=True)
    limit_at = serializers.DateTimeField(allow_null=True)
    first_meeting_at = serializers.DateTimeField(allow_null=True)
    on_time = serializers.BooleanField(allow_null=True)
    proposals = serializers.ListField(child=serializers.IntegerField())


class DelibNeedsOut(serializers.Serializer):
    grid = serializers.CharField()
    proposals = DelibProposalOut(many=True)
    key_appeals = DelibKeyAppealOut(many=True)


class DelibOfferOut(serializers.Serializer):
    id = serializers.IntegerField()
    community = DelibGridRefOut()
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    offered_by = serializers.CharField(allow_blank=True)
    resource = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    offered_at = serializers.DateTimeField()
    status = serializers.CharField()


class DelibOffersOut(serializers.Serializer):
    grid = serializers.CharField()
    offers = DelibOfferOut(many=True)


class DelibProjectRowOut(DelibProjectOut):
    proposal = serializers.IntegerField()
    title = serializers.CharField()
    grid = DelibGridRefOut()
    stage = serializers.CharField()


class DelibProjectsOut(serializers.Serializer):
    grid = serializers.CharField()
    projects = DelibProjectRowOut(many=True)


class DelibKeyCountsOut(serializers.Serializer):
    linked = serializers.IntegerField()
    timed = serializers.IntegerField()
    on_time = serializers.IntegerField()
    late = serializers.IntegerField()
    pending = serializers.IntegerField()
    untimed = serializers.IntegerField()
    on_time_rate = serializers.FloatField(allow_null=True)


class DelibCommunityFiguresOut(serializers.Serializer):
    community = serializers.CharField()
    name = serializers.CharField()
    proposals = serializers.IntegerField()
    open = serializers.IntegerField()
    by_stage = serializers.DictField(child=serializers.IntegerField())
    assessed_late = serializers.IntegerField()
    meetings = serializers.IntegerField()
    participants = serializers.IntegerField()
    decisions = serializers.IntegerField()
    projects_done = serializers.IntegerField()
    mean_days_to_first_meeting = serializers.FloatField(allow_null=True)
    key_appeals = DelibKeyCountsOut()


class DelibFiguresOut(serializers.Serializer):
    grid = serializers.CharField()
    name = serializers.CharField(allow_blank=True)
    # "from" is a Python keyword: declared below.
    to = serializers.DateTimeField()
    at = serializers.DateTimeField()
    communities = DelibCommunityFiguresOut(many=True)
    key_appeals = DelibKeyCountsOut()


DelibFiguresOut._declared_fields["from"] = serializers.DateTimeField()
