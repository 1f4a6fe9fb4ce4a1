"""Input of the shop endpoints, checked at the edge."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from geogrid.inputs import StrictCharField
from layers.shop.models import NOTE_MAX

MAX_QUANTITY = 20  # one redemption
MAX_STOCK_MOVE = 10_000


class Id(serializers.IntegerField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, max_value=2**62, **kwargs)


class Key(serializers.RegexField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(r"^[A-Za-z0-9_.:-]{8,80}$", required=False, default=None, **kwargs)


class ReserveInput(serializers.Serializer):
    item = Id(label=_("item"))
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY, default=1,
                                        label=_("quantity"))
    key = Key(help_text="an idempotency key (8–80 characters): a retry returns the first "
                        "reservation")


class CounterRedeemInput(ReserveInput):
    card = StrictCharField(max_length=20, label=_("the volunteer's card code"))


class CancelInput(serializers.Serializer):
    reason = StrictCharField(max_length=NOTE_MAX, required=False, allow_blank=True, default="")


class RestockInput(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_STOCK_MOVE,
                                        label=_("quantity"))
    donor_unit = Id(required=False, default=None, label=_("donor (partner unit id)"))
    donor_name = StrictCharField(max_length=100, required=False, allow_blank=True, default="",
                                 label=_("donor (a business, by name)"))
    note = StrictCharField(max_length=NOTE_MAX, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["donor_unit"] is not None and attrs["donor_name"].strip():
            raise serializers.ValidationError(
                {"donor_name": _("name a partner unit or a business, not both")})
        return attrs


class AdjustStockInput(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=-MAX_STOCK_MOVE, max_value=MAX_STOCK_MOVE,
                                        label=_("change (+ or −)"))
    reason = StrictCharField(max_length=NOTE_MAX, label=_("reason"))

    def validate_quantity(self, value: int) -> int:
        if value == 0:
            raise serializers.ValidationError(_("must not be zero"))
        return value


class ItemInput(serializers.Serializer):
    name = StrictCharField(max_length=100, label=_("name"))
    price_points = serializers.IntegerField(min_value=1, max_value=100_000,
                                            label=_("price (points)"))
    monthly_limit = serializers.IntegerField(min_value=1, max_value=1000, required=False,
                                             default=None,
                                             label=_("per volunteer and month at most"))
