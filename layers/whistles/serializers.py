"""What the API answers about a whistle: its units with their clocks, helpers, the timeline and
the actions the viewer may take. No resident's data: a whistle names departments, grids, an
appeal's tracking number; helpers by their volunteer display name; the timeline by role."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from layers.appeals.actors import Actor
from layers.whistles.models import Whistle, WhistleUnit
from layers.whistles.services import UNIT_ACTION_WHISTLE_STATES, UNIT_ACTIONS, WHISTLE_ACTIONS


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _clock(due: dt.datetime | None, done: dt.datetime | None, now: dt.datetime) -> dict:
    """A clock as the screens draw it: due, and minutes left (negative: overdue)."""
    if due is None:
        return {"due_at": None, "minutes_left": None, "overdue": False}
    end = done or now
    return {"due_at": due.isoformat(), "minutes_left": round((due - end).total_seconds() / 60),
            "overdue": end > due}


def unit_out(unit: WhistleUnit, actor: Actor, whistle: Whistle, now: dt.datetime) -> dict:
    actions = [a.name for a in UNIT_ACTIONS.public()
               if a.allowed(unit.status, actor, unit)
               and whistle.status in UNIT_ACTION_WHISTLE_STATES[a.name]]
    return {
        "id": unit.pk, "version": unit.version, "role": unit.role, "status": unit.status,
        "status_label": unit.get_status_display(),
        "department": {"code": unit.department.code, "name_zh": unit.department.name_zh,
                       "name_en": unit.department.name_en},
        "notified_at": _iso(unit.notified_at),
        "report_clock": _clock(unit.report_due_at, unit.reported_at, now),
        "reported_at": _iso(unit.reported_at), "report_mode": unit.report_mode or None,
        "report_distance_m": (round(unit.report_distance_m, 1)
                              if unit.report_distance_m is not None else None),
        "done_at": _iso(unit.done_at), "result": unit.result,
        "refused_reason": unit.refused_reason, "released_at": _iso(unit.released_at),
        "rating": unit.rating or None, "speed": unit.speed, "quality": unit.quality,
        "sent_back": unit.sent_back, "actions": actions,
    }


def whistle_out(whistle: Whistle, actor: Actor, *, full: bool = True) -> dict:
    now = timezone.now()
    # Lists leave out replaced units; the whole record keeps them (who refused, who came).
    units = [u for u in whistle.units.all()
             if full or u.status != WhistleUnit.Status.REPLACED]
    finished = whistle.resolved_at or whistle.closed_at
    out: dict[str, Any] = {
        "id": whistle.pk, "code": whistle.code, "version": whistle.version,
        "status": whistle.status, "status_label": whistle.get_status_display(),
        "reason": whistle.reason, "reason_label": whistle.get_reason_display(),
        "title": whistle.title, "description": whistle.description,
        "district": whistle.district_code,
        "subdistrict": {"code": whistle.subdistrict.code, "name": whistle.subdistrict.name},
        "requested_by": ({"code": whistle.requested_by_grid.code,
                          "name": whistle.requested_by_grid.name}
                         if whistle.requested_by_grid else None),
        "appeal": whistle.appeal.tracking if whistle.appeal else None,
        "location": ({"lon": whistle.location.x, "lat": whistle.location.y}
                     if whistle.location else None),
        "proposal": whistle.proposal or None,
        "created_at": _iso(whistle.created_at), "blown_at": _iso(whistle.blown_at),
        "completion_clock": _clock(whistle.due_at, finished, now),
        "resolved_at": _iso(whistle.resolved_at), "closed_at": _iso(whistle.closed_at),
        "units": [unit_out(u, actor, whistle, now) for u in units],
        "actions": WHISTLE_ACTIONS.available(whistle.status, actor, whistle),
    }
    if full:
        out["helpers"] = [{
            "id": h.pk, "kind": h.kind,
            "name": (h.volunteer.display_name if h.volunteer else
                     h.partner_unit.name if h.partner_unit else ""),
            "reported_at": _iso(h.reported_at),
            "hours": str(h.hours) if h.hours is not None else None,
            "service_record": h.service_record_id,
        } for h in whistle.helpers.select_related("volunteer", "partner_unit")]
        out["timeline"] = [{
            "at": e.at.isoformat(), "kind": e.kind, "actor_role": e.actor_role,
            "department": e.data.get("department"), "note": e.note,
        } for e in whistle.events.all()]
    return out


class WhistleClockOut(serializers.Serializer):
    due_at = serializers.DateTimeField(allow_null=True)
    minutes_left = serializers.IntegerField(allow_null=True)
    overdue = serializers.BooleanField()


class WhistleDepartmentOut(serializers.Serializer):
    code = serializers.CharField()
    name_zh = serializers.CharField()
    name_en = serializers.CharField()


class WhistleUnitOut(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField()
    role = serializers.ChoiceField(choices=["lead", "assist"])
    status = serializers.CharField()
    status_label = serializers.CharField()
    department = WhistleDepartmentOut()
    notified_at = serializers.DateTimeField()
    report_clock = WhistleClockOut()
    reported_at = serializers.DateTimeField(allow_null=True)
    report_mode = serializers.CharField(allow_null=True)
    report_distance_m = serializers.FloatField(allow_null=True)
    done_at = serializers.DateTimeField(allow_null=True)
    result = serializers.CharField(allow_blank=True)
    refused_reason = serializers.CharField(allow_blank=True)
    released_at = serializers.DateTimeField(allow_null=True)
    rating = serializers.CharField(allow_null=True)
    speed = serializers.IntegerField(allow_null=True)
    quality = serializers.IntegerField(allow_null=True)
    sent_back = serializers.IntegerField()
    actions = serializers.ListField(child=serializers.CharField())


class WhistleGridOut(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class WhistlePointOut(serializers.Serializer):
    lon = serializers.FloatField()
    lat = serializers.FloatField()


class WhistleHelperOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    name = serializers.CharField()
    reported_at = serializers.DateTimeField()
    hours = serializers.CharField(allow_null=True)
    service_record = serializers.IntegerField(allow_null=True)


class WhistleEventOut(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    actor_role = serializers.CharField(allow_blank=True)
    department = serializers.CharField(allow_null=True)
    note = serializers.CharField(allow_blank=True)


class WhistleOut(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    version = serializers.IntegerField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    reason = serializers.CharField()
    reason_label = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    district = serializers.CharField()
    subdistrict = WhistleGridOut()
    requested_by = WhistleGridOut(allow_null=True)
    appeal = serializers.CharField(allow_null=True)
    location = WhistlePointOut(allow_null=True)
    proposal = serializers.JSONField(allow_null=True)
    created_at = serializers.DateTimeField()
    blown_at = serializers.DateTimeField(allow_null=True)
    completion_clock = WhistleClockOut()
    resolved_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    units = WhistleUnitOut(many=True)
    actions = serializers.ListField(child=serializers.CharField())
    helpers = WhistleHelperOut(many=True, required=False)
    timeline = WhistleEventOut(many=True, required=False)
