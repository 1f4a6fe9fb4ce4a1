"""What the volunteering API answers: each shape one serializer, used for the schema and for the
answer (built from a dict, so the schema and the body cannot drift apart). A volunteer appears by
display name; login names, register names and phones never do."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from layers.volunteering.models import (
    PointsAccount,
    PointsAdjustment,
    PointsEntry,
    ServiceRecord,
    Volunteer,
    VolunteerApplication,
)


class VolunteerOut(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()
    kind = serializers.CharField()
    community = serializers.CharField(help_text="grid code")
    community_name = serializers.CharField()
    partner_unit = serializers.CharField(allow_null=True)
    active = serializers.BooleanField()
    account = serializers.IntegerField(allow_null=True)
    balance = serializers.IntegerField()


class EntryOut(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    amount = serializers.IntegerField()
    balance_after = serializers.IntegerField()
    rule = serializers.CharField()
    source_type = serializers.CharField(help_text="what it is for: service_record, claim, "
                                                  "redemption, adjustment …")
    source_id = serializers.IntegerField(allow_null=True)
    note = serializers.CharField()
    reverses = serializers.IntegerField(allow_null=True)
    reversed = serializers.BooleanField()


class EntryPage(serializers.Serializer):
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    results = EntryOut(many=True)


class ApplicationOut(serializers.Serializer):
    id = serializers.IntegerField()
    community = serializers.CharField()
    display_name = serializers.CharField()
    kind = serializers.CharField()
    note = serializers.CharField()
    status = serializers.CharField()
    applied_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_note = serializers.CharField()
    actions = serializers.ListField(child=serializers.CharField())


class MeOut(serializers.Serializer):
    volunteer = VolunteerOut(allow_null=True)
    application = ApplicationOut(allow_null=True)


class RecordOut(serializers.Serializer):
    id = serializers.IntegerField()
    volunteer = serializers.IntegerField()
    display_name = serializers.CharField()
    activity = serializers.CharField()
    grid = serializers.CharField()
    served_on = serializers.DateField()
    hours = serializers.DecimalField(max_digits=4, decimal_places=1, coerce_to_string=True)
    status = serializers.CharField()
    submitted_at = serializers.DateTimeField()
    verified_at = serializers.DateTimeField(allow_null=True)
    rejected_at = serializers.DateTimeField(allow_null=True)
    reject_reason = serializers.CharField()
    points = serializers.IntegerField(allow_null=True, help_text="earned by verification")
    reversed = serializers.BooleanField()
    actions = serializers.ListField(child=serializers.CharField())


class AdjustmentOut(serializers.Serializer):
    id = serializers.IntegerField()
    account = serializers.IntegerField()
    display_name = serializers.CharField()
    amount = serializers.IntegerField()
    reason = serializers.CharField()
    status = serializers.CharField()
    proposed_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    entry = serializers.IntegerField(allow_null=True)
    actions = serializers.ListField(child=serializers.CharField())


def shaped(serializer: type[serializers.Serializer], data: dict[str, Any]) -> dict[str, Any]:
    return dict(serializer(data).data)


def volunteer_out(v: Volunteer, account: PointsAccount | None = None) -> dict[str, Any]:
    account = account if account is not None else getattr(v, "account", None)
    return shaped(VolunteerOut, {
        "id": v.pk, "display_name": v.display_name, "kind": v.kind,
        "community": v.community.code, "community_name": v.community.name,
        "partner_unit": v.partner_unit.name if v.partner_unit_id and v.partner_unit else None,
        "active": v.active, "account": account.pk if account else None,
        "balance": account.balance if account else 0})


def entry_out(e: PointsEntry, reversed_ids: set[int]) -> dict[str, Any]:
    return shaped(EntryOut, {
        "id": e.pk, "at": e.created_at, "kind": e.kind, "amount": e.amount,
        "balance_after": e.balance_after, "rule": e.rule, "source_type": e.source_type,
        "source_id": e.source_id, "note": e.note, "reverses": e.reverses_id,
        "reversed": e.pk in reversed_ids})


def application_out(a: VolunteerApplication, actions: list[str]) -> dict[str, Any]:
    return shaped(ApplicationOut, {
        "id": a.pk, "community": a.community.code, "display_name": a.display_name,
        "kind": a.kind, "note": a.note, "status": a.status, "applied_at": a.applied_at,
        "decided_at": a.decided_at, "decision_note": a.decision_note, "actions": actions})


def record_out(r: ServiceRecord, actions: list[str]) -> dict[str, Any]:
    return shaped(RecordOut, {
        "id": r.pk, "volunteer": r.volunteer_id, "display_name": r.volunteer.display_name,
        "activity": r.activity, "grid": r.grid.code, "served_on": r.served_on,
        "hours": r.hours, "status": r.status, "submitted_at": r.submitted_at,
        "verified_at": r.verified_at, "rejected_at": r.rejected_at,
        "reject_reason": r.reject_reason, "points": r.entry.amount if r.entry else None,
        "reversed": r.reversal_id is not None, "actions": actions})


def adjustment_out(a: PointsAdjustment, actions: list[str]) -> dict[str, Any]:
    return shaped(AdjustmentOut, {
        "id": a.pk, "account": a.account_id, "display_name": a.account.volunteer.display_name,
        "amount": a.amount, "reason": a.reason, "status": a.status,
        "proposed_at": a.proposed_at, "decided_at": a.decided_at, "entry": a.entry_id,
        "actions": actions})


# -- figures (the schema of layers.volunteering.figures and layers.shop.figures) ----------------
class PointsFigures(serializers.Serializer):
    earned = serializers.IntegerField()
    redeemed = serializers.IntegerField()
    expired = serializers.IntegerField()
    adjusted = serializers.IntegerField()
    net = serializers.IntegerField(help_text="the sum of the grid's entries")
    volunteers = serializers.IntegerField(allow_null=True,
                                          help_text="volunteers serving here (null above "
                                                    "the community level)")
    outstanding = serializers.IntegerField(allow_null=True,
                                           help_text="their balances (null as volunteers)")
    value = serializers.FloatField(allow_null=True, help_text="outstanding × YUAN_PER_POINT")


class PointsFigureRow(PointsFigures):
    code = serializers.CharField()
    name = serializers.CharField()


class PointsFiguresOut(serializers.Serializer):
    grid = serializers.CharField()
    by = serializers.IntegerField()
    yuan_per_point = serializers.FloatField()
    rows = PointsFigureRow(many=True)
    total = PointsFigures()


class PointsFeature(serializers.Serializer):
    type = serializers.CharField()
    id = serializers.CharField()
    geometry = serializers.JSONField(allow_null=True, help_text="the grid's boundary (GeoJSON)")
    properties = PointsFigureRow()


class PointsLayerOut(serializers.Serializer):
    type = serializers.CharField(help_text="FeatureCollection")
    total = PointsFigures()
    features = PointsFeature(many=True)


class ShopFigures(serializers.Serializer):
    shops = serializers.IntegerField()
    items = serializers.IntegerField()
    stock_units = serializers.IntegerField()
    stock_points = serializers.IntegerField()
    stock_value = serializers.FloatField(help_text="stock_points × YUAN_PER_POINT")
    reserved = serializers.IntegerField()
    collected = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    expired = serializers.IntegerField()
    points_redeemed = serializers.IntegerField()
    restocks = serializers.IntegerField()
    donated_units = serializers.IntegerField()


class ShopFigureRow(ShopFigures):
    code = serializers.CharField()
    name = serializers.CharField()


class ShopFiguresOut(serializers.Serializer):
    grid = serializers.CharField()
    by = serializers.IntegerField()
    yuan_per_point = serializers.FloatField()
    rows = ShopFigureRow(many=True)
    total = ShopFigures()
