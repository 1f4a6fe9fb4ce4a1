"""What the shop API answers (one serializer per shape, built from dicts like the volunteering
layer's). An operator sees a volunteer's display name only; a pickup code is shown to its
volunteer only."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from layers.shop.models import Item, Redemption, Shop, StockMovement
from layers.volunteering.serializers import shaped


class ShopOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    community = serializers.CharField()
    community_name = serializers.CharField()
    lon = serializers.FloatField()
    lat = serializers.FloatField()
    opening_note = serializers.CharField()
    active = serializers.BooleanField()
    operator = serializers.BooleanField(help_text="you work its counter")


class ItemOut(serializers.Serializer):
    id = serializers.IntegerField()
    shop = serializers.IntegerField()
    name = serializers.CharField()
    price_points = serializers.IntegerField()
    stock = serializers.IntegerField()
    monthly_limit = serializers.IntegerField(allow_null=True)
    active = serializers.BooleanField()


class RedemptionOut(serializers.Serializer):
    id = serializers.IntegerField()
    shop = serializers.IntegerField()
    shop_name = serializers.CharField()
    item = serializers.IntegerField()
    item_name = serializers.CharField()
    quantity = serializers.IntegerField()
    points = serializers.IntegerField()
    status = serializers.CharField()
    display_name = serializers.CharField()
    pickup_code = serializers.CharField(allow_null=True,
                                        help_text="to its volunteer only, while reserved")
    reserved_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)


class MovementOut(serializers.Serializer):
    id = serializers.IntegerField()
    item = serializers.IntegerField()
    kind = serializers.CharField()
    quantity = serializers.IntegerField()
    stock_after = serializers.IntegerField()
    donor = serializers.CharField()
    note = serializers.CharField()
    at = serializers.DateTimeField()


class CardOut(serializers.Serializer):
    code = serializers.CharField()
    valid_until = serializers.DateTimeField()
    display_name = serializers.CharField()


def shop_out(s: Shop, operator: bool) -> dict[str, Any]:
    return shaped(ShopOut, {
        "id": s.pk, "name": s.name, "community": s.community.code,
        "community_name": s.community.name, "lon": s.location.x, "lat": s.location.y,
        "opening_note": s.opening_note, "active": s.active, "operator": operator})


def item_out(i: Item) -> dict[str, Any]:
    return shaped(ItemOut, {
        "id": i.pk, "shop": i.shop_id, "name": i.name, "price_points": i.price_points,
        "stock": i.stock, "monthly_limit": i.monthly_limit, "active": i.active})


def redemption_out(r: Redemption, *, own: bool) -> dict[str, Any]:
    return shaped(RedemptionOut, {
        "id": r.pk, "shop": r.shop_id, "shop_name": r.shop.name, "item": r.item_id,
        "item_name": r.item.name, "quantity": r.quantity, "points": r.points,
        "status": r.status, "display_name": r.account.volunteer.display_name,
        "pickup_code": r.pickup_code if own and r.status == Redemption.Status.RESERVED
        else None,
        "reserved_at": r.reserved_at, "expires_at": r.expires_at, "closed_at": r.closed_at})


def movement_out(m: StockMovement) -> dict[str, Any]:
    donor = m.donor_unit.name if m.donor_unit_id and m.donor_unit else m.donor_name
    return shaped(MovementOut, {
        "id": m.pk, "item": m.item_id, "kind": m.kind, "quantity": m.quantity,
        "stock_after": m.stock_after, "donor": donor, "note": m.note, "at": m.created_at})
