"""Input of the volunteering endpoints and actions, checked at the edge: lengths match the
columns, grid codes are digits, hours 0.5–24 in half hours, dates not in the future."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from geogrid.inputs import StrictCharField
from layers.volunteering.models import NOTE_MAX, Volunteer

BACKDATE_DAYS = 90  # a service record may be entered up to this long after the service
MAX_ADJUSTMENT = 10_000


class Id(serializers.IntegerField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, max_value=2**62, **kwargs)


class GridCode(serializers.RegexField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(r"^[0-9]{1,32}$", **kwargs)


class RegisterInput(serializers.Serializer):
    """Staff register a volunteer for a community of theirs (the user exists already)."""

    username = StrictCharField(max_length=150, label=_("user name"))
    display_name = StrictCharField(max_length=40, label=_("display name"))
    community = GridCode(label=_("community (grid code)"))
    kind = serializers.ChoiceField(choices=Volunteer.Kind.choices,
                                   default=Volunteer.Kind.VOLUNTEER, label=_("kind"))
    partner_unit = Id(required=False, default=None, label=_("sent by (partner unit id)"))


class ApplyInput(serializers.Serializer):
    """A signed-in resident asks to serve a community."""

    community = GridCode(label=_("community (grid code)"))
    display_name = StrictCharField(max_length=40, label=_("display name"))
    kind = serializers.ChoiceField(choices=Volunteer.Kind.choices,
                                   default=Volunteer.Kind.VOLUNTEER, label=_("kind"))
    note = StrictCharField(max_length=NOTE_MAX, required=False, allow_blank=True, default="")


class RecordInput(serializers.Serializer):
    volunteer = Id(required=False, default=None,
                   help_text="the volunteer (staff only; a volunteer records their own)")
    activity = StrictCharField(max_length=100, label=_("activity"))
    grid = GridCode(label=_("grid where the service was given (code)"))
    served_on = serializers.DateField(label=_("served on"))
    hours = serializers.DecimalField(max_digits=4, decimal_places=1, min_value=Decimal("0.5"),
                                     max_value=Decimal(24), label=_("hours"))

    def validate_served_on(self, value: dt.date) -> dt.date:
        today = timezone.localdate()
        if value > today:
            raise serializers.ValidationError(_("must not be in the future"))
        if value < today - dt.timedelta(days=BACKDATE_DAYS):
            raise serializers.ValidationError(
                _("more than %(d)d days ago") % {"d": BACKDATE_DAYS})
        return value

    def validate_hours(self, value: Decimal) -> Decimal:
        if value * 2 != int(value * 2):
            raise serializers.ValidationError(_("in half hours"))
        return value


class AdjustmentInput(serializers.Serializer):
    amount = serializers.IntegerField(min_value=-MAX_ADJUSTMENT, max_value=MAX_ADJUSTMENT,
                                      label=_("points (+ or −)"))
    reason = StrictCharField(max_length=NOTE_MAX, label=_("reason"))

    def validate_amount(self, value: int) -> int:
        if value == 0:
            raise serializers.ValidationError(_("must not be zero"))
        return value


class ReasonInput(serializers.Serializer):
    reason = StrictCharField(max_length=NOTE_MAX, label=_("reason"))
