"""What a viewer receives of a wish, by access level (layers.wishes.access).

The wall's fields (`wall_out`) carry nothing of the wisher: no name, no household, no
micro-grid, no exact value (a band). Higher levels add to them; the wisher's phone appears only
masked here, in full only in the contact answer (`contact_out`), which only a live claimant
gets. These classes are also the OpenAPI response schemas.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from layers.people.serializers import room_label
from layers.wishes.access import Level
from layers.wishes.conf import value_band
from layers.wishes.models import Category, Claim, Wish, WishEvent
from layers.wishes.photos import photo_urls

LEVEL_NAMES = {Level.PUBLIC: "public", Level.CLAIMANT: "claimant", Level.WISHER: "wisher",
               Level.UNIT: "unit", Level.FULL: "full"}


def wall_out(w: Wish) -> dict[str, Any]:
    return {"id": w.pk, "code": w.code, "public_title": w.public_title, "category": w.category,
            "category_label": str(Category(w.category).label), "community": w.community.name,
            "value_band": value_band(w.est_value), "points_reward": w.points_reward,
            "publish_until": w.publish_until, "directed": w.directed_to_id is not None}


def claim_out(c: Claim, *, names: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": c.pk, "wish": c.wish_id, "status": c.status, "mode": c.mode,
        "claimant_kind": c.claimant_kind, "claimed_at": c.claimed_at, "due_at": c.due_at,
        "delivered_at": c.delivered_at, "confirmed_at": c.confirmed_at,
        "confirmed_as": c.confirmed_as, "ended_at": c.ended_at,
        "photos": [photo_urls(c.pk, p.pk) for p in c.photos.all()],
    }
    if names:
        out["claimant_name"] = c.claimant_name
        out["participants"] = [p.volunteer.display_name
                               for p in c.participants.select_related("volunteer")]
    return out


def event_out(e: WishEvent, full: bool) -> dict[str, Any]:
    data = dict(e.data or {}) if full else {}
    return {"kind": e.kind, "at": e.at, "role": e.role, "data": data}


def wish_out(w: Wish, level: Level, live: Claim | None, actions: list[str]) -> dict[str, Any]:
    out = {**wall_out(w), "level": LEVEL_NAMES[level], "status": w.status, "actions": actions,
           "version": w.version}
    if level < Level.CLAIMANT:
        return out
    out.update({"title": w.title, "description": w.description,
                "claim": claim_out(live) if live is not None else None})
    if level < Level.WISHER:
        return out
    out.update({"est_value": w.est_value, "posted_at": w.posted_at,
                "published_at": w.published_at, "ended_at": w.ended_at,
                "review_note": w.review_note if w.status == Wish.Status.REJECTED else "",
                "timeline": [event_out(e, False) for e in w.events.all()]})
    if level < Level.UNIT:
        return out
    d = w.household.dwelling
    out.update({"wisher_name": w.wisher.name, "phone_masked": w.wisher.phone_masked
                or w.household.contact_phone_masked, "address": d.building.address,
                "room": room_label(d), "grid": w.grid.code, "grid_name": w.grid.name,
                "household": w.household_id, "posted_role": w.posted_role,
                "directed_to": w.directed_to.display_name if w.directed_to else None,
                "direct_until": w.direct_until})
    if level == Level.FULL:
        out.update({"review_note": w.review_note, "reviewed_at": w.reviewed_at,
                    "timeline": [event_out(e, True) for e in w.events.all()]})
    return out


# -- OpenAPI schemas --------------------------------------------------------------------------
class WallOut(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    public_title = serializers.CharField()
    category = serializers.ChoiceField(choices=Category.choices)
    category_label = serializers.CharField()
    community = serializers.CharField(help_text="the community's name")
    value_band = serializers.CharField(help_text="estimated value band in yuan, e.g. 51-100")
    points_reward = serializers.IntegerField()
    publish_until = serializers.DateTimeField(allow_null=True)
    directed = serializers.BooleanField()


class WallPage(serializers.Serializer):
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    results = WallOut(many=True)


class ClaimOut(serializers.Serializer):
    id = serializers.IntegerField()
    wish = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Claim.Status.choices)
    mode = serializers.ChoiceField(choices=Claim.Mode.choices)
    claimant_kind = serializers.CharField()
    claimant_name = serializers.CharField(required=False)
    participants = serializers.ListField(child=serializers.CharField(), required=False)
    claimed_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    confirmed_at = serializers.DateTimeField(allow_null=True)
    confirmed_as = serializers.CharField()
    ended_at = serializers.DateTimeField(allow_null=True)
    photos = serializers.ListField(child=serializers.DictField())


class WishOut(WallOut):
    level = serializers.ChoiceField(choices=list(LEVEL_NAMES.values()))
    status = serializers.ChoiceField(choices=Wish.Status.choices)
    actions = serializers.ListField(child=serializers.CharField(),
                                    help_text="actions you may take on it now")
    version = serializers.IntegerField()
    title = serializers.CharField(required=False)
    description = serializers.CharField(required=False)
    claim = ClaimOut(required=False, allow_null=True)
    est_value = serializers.IntegerField(required=False)
    wisher_name = serializers.CharField(required=False, help_text="staff levels only")
    phone_masked = serializers.CharField(required=False)
    address = serializers.CharField(required=False)
    room = serializers.CharField(required=False)
    grid = serializers.CharField(required=False)
    timeline = serializers.ListField(child=serializers.DictField(), required=False)


class WishPage(serializers.Serializer):
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    results = WishOut(many=True)


class MyClaimOut(serializers.Serializer):
    claim = ClaimOut()
    wish = WishOut()


class MyClaimsOut(serializers.Serializer):
    claims = MyClaimOut(many=True)
    offers = WishOut(many=True, help_text="wishes directed to you, to accept or decline")
    active = serializers.IntegerField(help_text="your active claims")
    max_active = serializers.IntegerField()


class ContactOut(serializers.Serializer):
    wish = serializers.CharField()
    name = serializers.CharField()
    phone = serializers.CharField(help_text="in full: call to arrange the delivery")
    address = serializers.CharField()
    room = serializers.CharField()
