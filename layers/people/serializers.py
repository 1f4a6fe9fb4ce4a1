"""What a viewer receives of households and persons, by access level (layers.people.access).

Identifiers leave the server masked in every answer (`id_number`, `phone`, `contact_phone`
carry the stored masked form); the clear values exist only in the unmask answer. The fields
each level receives are listed in access.UNIT_FIELDS / FULL_FIELDS, and the access log names
the same fields. These classes are also the OpenAPI response schemas.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from layers.people.access import Level
from layers.people.models import ChangeEvent, Dwelling, Household, Residence


class MemberOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    relation = serializers.CharField()
    presence = serializers.CharField()
    gender = serializers.CharField()
    birth_date = serializers.DateField(allow_null=True)
    id_type = serializers.CharField()
    id_number = serializers.CharField(help_text="masked, e.g. 350***********1234")
    phone = serializers.CharField(help_text="masked, e.g. 138****5678")
    population_kind = serializers.CharField()
    party_member = serializers.BooleanField()
    since = serializers.DateField()


class HouseholdOut(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField()
    level = serializers.ChoiceField(choices=["unit", "self", "full"],
                                    help_text="how much of it you may see")
    building = serializers.CharField(help_text="the building's standard address")
    building_id = serializers.IntegerField()
    dwelling_id = serializers.IntegerField()
    grid = serializers.CharField(allow_null=True)
    micro_unit = serializers.CharField(allow_null=True)
    room = serializers.CharField()
    status = serializers.CharField()
    head_name = serializers.CharField(allow_blank=True)
    size = serializers.IntegerField()
    tags = serializers.ListField(child=serializers.CharField())
    contact_phone = serializers.CharField(help_text="masked")
    kind = serializers.CharField(required=False)
    profile_verified_at = serializers.DateTimeField(required=False, allow_null=True)
    occupancy_verified_at = serializers.DateTimeField(required=False, allow_null=True)
    members = MemberOut(many=True, required=False)
    actions = serializers.ListField(child=serializers.CharField(),
                                    help_text="actions you may take on it now")


class HouseholdPage(serializers.Serializer):
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    results = HouseholdOut(many=True)


def room_label(dwelling: Dwelling) -> str:
    unit = f"{dwelling.unit_no}单元" if dwelling.unit_no else ""
    return f"{unit}{dwelling.room_no}室"


def household_out(household: Household, level: Level, open_rows: list[Residence],
                  actions: list[str]) -> dict[str, Any]:
    """`open_rows`: the household's open residences with their persons (head first)."""
    d = household.dwelling
    head = next((r for r in open_rows if r.relation == Residence.Relation.HEAD), None)
    out: dict[str, Any] = {
        "id": household.pk, "version": household.version,
        "level": {Level.UNIT: "unit", Level.SELF: "self"}.get(level, "full"),
        "building": d.building.address, "building_id": d.building_id, "dwelling_id": d.pk,
        "grid": d.building.grid.code if d.building.grid else None,
        "micro_unit": d.micro_unit.code if d.micro_unit else None,
        "room": room_label(d), "status": household.status,
        "head_name": head.person.name if head else "", "size": len(open_rows),
        "tags": list(household.tags), "contact_phone": household.contact_phone_masked,
        "actions": actions,
    }
    if level >= Level.SELF:
        out.update({
            "kind": household.kind,
            "profile_verified_at": household.profile_verified_at,
            "occupancy_verified_at": d.occupancy_verified_at,
            "members": [member_out(r) for r in open_rows],
        })
    return out


def member_out(r: Residence) -> dict[str, Any]:
    p = r.person
    return {"id": p.pk, "name": p.name, "relation": r.relation, "presence": r.presence,
            "gender": p.gender, "birth_date": p.birth_date, "id_type": p.id_type,
            "id_number": p.id_masked, "phone": p.phone_masked,
            "population_kind": p.population_kind, "party_member": p.party_member,
            "since": r.valid_from}


class UnmaskOut(serializers.Serializer):
    id = serializers.IntegerField()
    id_number = serializers.CharField(required=False)
    phone = serializers.CharField(required=False)
    unmasks_left_today = serializers.IntegerField()


class DwellingOut(serializers.Serializer):
    id = serializers.IntegerField()
    building = serializers.CharField()
    building_id = serializers.IntegerField()
    room = serializers.CharField()
    usage = serializers.CharField()
    micro_unit = serializers.CharField(allow_null=True)
    households = serializers.IntegerField(help_text="active households living there")
    occupancy_verified_at = serializers.DateTimeField(allow_null=True)
    actions = serializers.ListField(child=serializers.CharField())


class ChangeOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    household = serializers.IntegerField(allow_null=True)
    dwelling = serializers.IntegerField(allow_null=True)
    micro_unit = serializers.CharField(allow_null=True)
    effective_date = serializers.DateField()
    source = serializers.CharField()  # type: ignore[assignment]  # popped by DRF
    reported_by = serializers.CharField(allow_blank=True)
    reported_at = serializers.DateTimeField()
    diff = serializers.DictField()
    note = serializers.CharField(allow_blank=True)
    state = serializers.ChoiceField(choices=["pending", "confirmed", "rejected"])
    verified_by = serializers.CharField(allow_blank=True)
    verified_at = serializers.DateTimeField(allow_null=True)


class ChangePage(serializers.Serializer):
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    results = ChangeOut(many=True)


def change_out(c: ChangeEvent) -> dict[str, Any]:
    v = getattr(c, "verification", None)
    return {"id": c.pk, "kind": c.kind, "household": c.household_id, "dwelling": c.dwelling_id,
            "micro_unit": c.micro_unit.code if c.micro_unit else None,
            "effective_date": c.effective_date, "source": c.source,
            "reported_by": c.reported_by.get_full_name() or c.reported_by.username
            if c.reported_by else "",
            "reported_at": c.reported_at, "diff": c.diff, "note": c.note,
            "state": v.outcome if v else "pending",
            "verified_by": (v.verified_by.get_full_name() or v.verified_by.username)
            if v and v.verified_by else "",
            "verified_at": v.verified_at if v else None}


class IssueOut(serializers.Serializer):
    id = serializers.IntegerField()
    household = serializers.IntegerField()
    text = serializers.CharField()
    status = serializers.CharField()
    appeal = serializers.CharField(allow_null=True, help_text="tracking number")
    raised_at = serializers.DateTimeField()


class ReaderOut(serializers.Serializer):
    user_id = serializers.IntegerField()
    username = serializers.CharField()
    post = serializers.CharField()
    reads = serializers.IntegerField()
    subjects = serializers.IntegerField()
    unmasks = serializers.IntegerField()
