"""What a viewer receives of care subjects, visits and proposals, by level (layers.care.access).

A subject's groups appear only at FULL; visitors get the person, the address, the masked phone,
the colour, the checklist and the due date; MASKED viewers a masked name. Identifiers are always
the stored masked forms. The functions shape; the classes are the OpenAPI response schemas.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework import serializers

from layers.care.access import Home, Level
from layers.care.models import (
    FINDING_AREAS,
    CareEvent,
    CareGroup,
    CareProposal,
    CareSubject,
    Finding,
    Visit,
    VisitDue,
)
from layers.care.photos import photo_urls


def mask_name(name: str) -> str:
    return name[:1] + "*" * max(1, len(name) - 1) if name else ""


def due_out(due: VisitDue | None) -> dict | None:
    if due is None:
        return None
    now = timezone.now()
    late = (now - due.due_at).total_seconds() / 86400
    return {"id": due.pk, "kind": due.kind, "trigger": due.trigger, "due_at": due.due_at,
            "overdue": due.due_at < now, "days_overdue": int(late) if late > 0 else 0}


def checklist() -> list[dict]:
    """The four areas a visit looks at, with the answers (for the phone form)."""
    labels = {a: str(getattr(Visit._meta.get_field(a), "verbose_name", a))
              for a in FINDING_AREAS}
    return [{"area": a, "label": labels[a], "answers": [[k, str(v)] for k, v in Finding.choices]}
            for a in FINDING_AREAS]


def subject_out(s: CareSubject, level: Level, home: Home, due: VisitDue | None,
                actions: list[str], groups: dict[int, CareGroup] | None = None) -> dict:
    person = s.person
    out: dict[str, Any] = {
        "id": s.pk, "version": s.version, "level": level.name.lower(), "status": s.status,
        "colour": s.colour, "address": home.address, "grid": home.grid_code,
        "next_due": due_out(due), "last_visit_at": s.last_visit_at, "actions": actions,
    }
    if level == Level.MASKED:
        out["name"] = mask_name(person.name)
        return out
    out.update({"name": person.name, "room": home.room, "phone": person.phone_masked,
                "location": [home.location.x, home.location.y] if home.location else None,
                "visitors": [{"user": v.user_id, "name": v.user.get_full_name() or
                              v.user.username, "role": v.role}
                             for v in s.visitors.all() if v.until is None]})
    if level == Level.FULL:
        out.update({
            "groups": sorted(g.code for g in s.groups.all()),
            "colour_reason": s.colour_reason, "id_number": person.id_masked,
            "review_due": s.review_due, "assessed_at": s.assessed_at,
            "assessed_by": s.assessed_by_id, "notice_given_on": s.notice_given_on,
            "notice_method": s.notice_method, "exit_reason": s.exit_reason,
        })
    return out


def proposal_out(p: CareProposal, full: bool) -> dict:
    out = {"id": p.pk, "subject": p.subject_id, "kind": p.kind, "outcome": p.outcome,
           "proposed_by": p.proposed_by_id, "proposed_at": p.proposed_at,
           "decided_by": p.decided_by_id, "decided_at": p.decided_at, "version": p.version}
    if full:
        out.update({"colour": p.colour, "groups": p.groups, "reason": p.reason,
                    "decision_note": p.decision_note})
    return out


def visit_out(v: Visit) -> dict:
    return {
        "id": v.pk, "subject": v.subject_id, "kind": v.kind, "mode": v.mode,
        "started_at": v.started_at, "ended_at": v.ended_at, "recorded_by": v.recorded_by_id,
        "visitor_role": v.visitor_role, "accuracy_m": v.accuracy_m, "distance_m": v.distance_m,
        "far": v.far, "counts": v.counts, "urgent": v.urgent,
        "findings": {a: {"answer": getattr(v, a), "note": getattr(v, f"{a}_note")}
                     for a in FINDING_AREAS},
        "suggested_colour": v.suggested_colour, "note": v.note,
        "appeal": v.appeal.tracking if v.appeal else None,
        "photos": [photo_urls(v.pk, p.pk) for p in v.photos.all()],
    }


def event_out(e: CareEvent, full: bool) -> dict:
    data = dict(e.data or {})
    if not full:
        data.pop("groups", None)
    return {"kind": e.kind, "at": e.at, "actor": e.actor_id, "role": e.role, "data": data}


# -- OpenAPI schemas --------------------------------------------------------------------------
class DueOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    trigger = serializers.CharField()
    due_at = serializers.DateTimeField()
    overdue = serializers.BooleanField()
    days_overdue = serializers.IntegerField(help_text="whole days past due")


class SubjectOut(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField()
    level = serializers.ChoiceField(choices=["masked", "visitor", "full"])
    status = serializers.CharField()
    colour = serializers.CharField()
    address = serializers.CharField()
    grid = serializers.CharField(allow_null=True)
    name = serializers.CharField(help_text="masked at level `masked`")
    next_due = DueOut(allow_null=True)
    actions = serializers.ListField(child=serializers.CharField())
    room = serializers.CharField(required=False)
    phone = serializers.CharField(required=False, help_text="masked")
    groups = serializers.ListField(child=serializers.CharField(), required=False,
                                   help_text="only at level `full`")
    colour_reason = serializers.CharField(required=False)
    id_number = serializers.CharField(required=False, help_text="masked")


class SubjectPage(serializers.Serializer):
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    results = SubjectOut(many=True)


class ProposalOut(serializers.Serializer):
    id = serializers.IntegerField()
    subject = serializers.IntegerField()
    kind = serializers.CharField()
    outcome = serializers.CharField()
    colour = serializers.CharField(required=False)
    groups = serializers.ListField(child=serializers.CharField(), required=False)
    reason = serializers.CharField(required=False)


class VisitOut(serializers.Serializer):
    id = serializers.IntegerField()
    subject = serializers.IntegerField()
    kind = serializers.CharField()
    mode = serializers.CharField()
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField()
    distance_m = serializers.FloatField(allow_null=True)
    far = serializers.BooleanField()
    counts = serializers.BooleanField()
    urgent = serializers.BooleanField()
    appeal = serializers.CharField(allow_null=True)
    findings = serializers.DictField()
    photos = serializers.ListField(child=serializers.DictField())


class DueRowOut(serializers.Serializer):
    due = DueOut()
    subject = serializers.IntegerField(allow_null=True, help_text="null for counts-only posts")
    grid = serializers.CharField(allow_null=True)
    grid_name = serializers.CharField(allow_blank=True)
    name = serializers.CharField(required=False)
    address = serializers.CharField(required=False)
    colour = serializers.CharField(required=False)


class ExtraRoundOut(serializers.Serializer):
    id = serializers.IntegerField()
    grid = serializers.CharField()
    due_at = serializers.DateTimeField()
    reason = serializers.CharField()
    colours = serializers.ListField(child=serializers.CharField())
    subjects = serializers.IntegerField(help_text="visits owed: one per active subject")
