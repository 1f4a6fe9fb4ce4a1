"""What the staff API answers about placards (the token is shown: staff print it)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Sum
from rest_framework import serializers

from layers.placards.models import Placard, PlacardEvent, PlacardScanDay
from layers.placards.services import PLACARD_ACTIONS


def scan_totals(ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """Placard id → (scans, reports) over all days."""
    rows = (PlacardScanDay.objects.filter(placard_id__in=list(ids)).values("placard_id")
            .annotate(s=Sum("scans"), r=Sum("reports")))
    return {r["placard_id"]: (r["s"] or 0, r["r"] or 0) for r in rows}


def placard_out(p: Placard, grid: str | None, totals: tuple[int, int] = (0, 0),
                actions: list[str] | None = None) -> dict[str, Any]:
    where = p.location
    out = {
        "id": p.pk, "token": p.token, "url": f"/q/{p.token}", "kind": p.kind,
        "label": p.label, "building": p.building_id, "unit_no": p.unit_no, "name": p.name,
        "lon": round(where.x, 7) if where else None, "lat": round(where.y, 7) if where else None,
        "grid": grid, "status": p.status, "revoked_at": _iso(p.revoked_at),
        "revoke_reason": p.revoke_reason, "print_version": p.print_version,
        "replaces": p.replaces_id, "created_at": _iso(p.created_at), "version": p.version,
        "scans": totals[0], "reports": totals[1],
    }
    if actions is not None:
        out["actions"] = actions
    return out


def detail_out(p: Placard, grid: str | None, viewer: Any) -> dict[str, Any]:
    out = placard_out(p, grid, scan_totals([p.pk]).get(p.pk, (0, 0)),
                      PLACARD_ACTIONS.available(p.status, viewer, p))
    replaced = Placard.objects.filter(replaces=p).values_list("pk", flat=True).first()
    out["replaced_by"] = replaced
    out["days"] = [
        {"day": d.isoformat(), "scans": s, "reports": r}
        for d, s, r in PlacardScanDay.objects.filter(placard=p).order_by("-day")
        .values_list("day", "scans", "reports")[:60]]
    out["events"] = [
        {"kind": e.kind, "at": e.at.isoformat(), "data": e.data}
        for e in PlacardEvent.objects.filter(placard=p).order_by("at", "id")]
    return out


def feature_out(p: Placard, grid: str | None, totals: tuple[int, int], *,
                manage: bool = True) -> dict[str, Any]:
    """A placard on the dashboard's map; `manage`: the viewer may print and revoke it."""
    where = p.location
    return {
        "type": "Feature", "id": p.pk,
        "geometry": {"type": "Point", "coordinates": [round(where.x, 7), round(where.y, 7)]},
        "properties": {"kind": p.kind, "label": p.label, "status": p.status, "grid": grid,
                       "print_version": p.print_version, "scans": totals[0],
                       "reports": totals[1], "url": f"/api/v1/placards/{p.pk}/",
                       "manage": manage},
    }


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment else None


class PlacardOut(serializers.Serializer):
    """The schema of a placard in the API docs."""

    id = serializers.IntegerField()
    token = serializers.CharField()
    url = serializers.CharField()
    kind = serializers.ChoiceField(choices=Placard.Kind.choices)
    label = serializers.CharField()  # type: ignore[assignment]  # a field named "label"
    building = serializers.IntegerField(allow_null=True)
    unit_no = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    lon = serializers.FloatField(allow_null=True)
    lat = serializers.FloatField(allow_null=True)
    grid = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=Placard.Status.choices)
    print_version = serializers.IntegerField()
    version = serializers.IntegerField()
    scans = serializers.IntegerField()
    reports = serializers.IntegerField()


class PlacardDetailOut(PlacardOut):
    actions = serializers.ListField(child=serializers.CharField())
    replaced_by = serializers.IntegerField(allow_null=True)
    days = serializers.ListField(child=serializers.DictField(),
                                 help_text="scans and reports per day, newest first")
    events = serializers.ListField(child=serializers.DictField(), help_text="the timeline")


class PlacardPageOut(serializers.Serializer):
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    results = PlacardOut(many=True)


class BulkOut(serializers.Serializer):
    grid = serializers.CharField()
    building = serializers.IntegerField(help_text="building placards created")
    stairwell = serializers.IntegerField(help_text="stairwell placards created")
    seconds = serializers.FloatField()


class PlacardLayerOut(serializers.Serializer):
    type = serializers.CharField(help_text="FeatureCollection")
    count = serializers.IntegerField()
    truncated = serializers.BooleanField()
    features = serializers.ListField(child=serializers.DictField(),
                                     help_text="GeoJSON Point features")


class ReportCreatedOut(serializers.Serializer):
    tracking = serializers.CharField()
    token = serializers.CharField(help_text="the reporter's secret to follow the appeal")
    public_id = serializers.CharField()
    share_url = serializers.CharField()
    status = serializers.CharField()
    at_door = serializers.BooleanField(help_text="filed at the placard, not at a moved pin")
    assignment = serializers.DictField()
    told = serializers.DictField(child=serializers.IntegerField(),
                                 help_text="how many were told, per role")
