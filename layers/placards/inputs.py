"""Input of the placard endpoints, checked at the edge: text is text (no NUL, within the column),
numbers are finite and on Earth, ids and codes have their shapes. Anything else is a 400 in the
one error shape before a service runs, so a bad request changes nothing."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from geogrid.inputs import FiniteFloatField, StrictCharField
from layers.placards.models import NAME_MAX, REASON_MAX, Placard

GRID_CODE = r"^[0-9]{1,32}$"
ID_MAX = 2**63 - 1


class RevokeInput(serializers.Serializer):
    reason = StrictCharField(max_length=REASON_MAX, label=_("reason"))


class ReprintInput(serializers.Serializer):
    new_token = serializers.BooleanField(
        required=False, allow_null=True, default=None, label=_("new token"),
        help_text="revoke the old token (default: GEOGRID['PLACARDS']['REPRINT_NEW_TOKEN'])")


class CreateInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Placard.Kind.choices)
    building = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                        max_value=ID_MAX, default=None)
    unit_no = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                       max_value=99, default=None)
    name = StrictCharField(required=False, allow_blank=True, max_length=NAME_MAX, default="")
    lon = FiniteFloatField(required=False, allow_null=True, min_value=-180, max_value=180,
                           default=None)
    lat = FiniteFloatField(required=False, allow_null=True, min_value=-90, max_value=90,
                           default=None)


class BulkInput(serializers.Serializer):
    grid = serializers.RegexField(GRID_CODE, label=_("grid code"))
    kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=[Placard.Kind.BUILDING, Placard.Kind.STAIRWELL]),
        min_length=1, max_length=2, required=False,
        default=lambda: [Placard.Kind.BUILDING, Placard.Kind.STAIRWELL])


class ListParams(serializers.Serializer):
    """Query parameters of the list and the map layer."""

    grid = serializers.RegexField(GRID_CODE, required=False, default=None,
                                  help_text="a grid code: placards lying in its subtree now")
    building = serializers.IntegerField(required=False, default=None, min_value=1,
                                        max_value=ID_MAX)
    kind = serializers.ChoiceField(choices=Placard.Kind.choices, required=False, default=None)
    status = serializers.ChoiceField(choices=Placard.Status.choices, required=False,
                                     default=None)
    page = serializers.IntegerField(required=False, default=1, min_value=1, max_value=100_000)
    page_size = serializers.IntegerField(required=False, default=100, min_value=1,
                                         max_value=1000)


class SheetParams(serializers.Serializer):
    """Which placards a sheet holds: one placard, a building's, or a grid subtree's (active)."""

    placard = serializers.IntegerField(required=False, default=None, min_value=1,
                                       max_value=ID_MAX)
    building = serializers.IntegerField(required=False, default=None, min_value=1,
                                        max_value=ID_MAX)
    grid = serializers.RegexField(GRID_CODE, required=False, default=None)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = [k for k in ("placard", "building", "grid") if attrs.get(k) is not None]
        if len(given) != 1:
            raise serializers.ValidationError(
                _("name exactly one of placard, building or grid"))
        return attrs


def _description_max() -> int:
    return int(settings.GEOGRID["APPEAL_DESCRIPTION_MAX_CHARS"])


class ReportInput(serializers.Serializer):
    """A report through a placard: the category and what is wrong; the pin only if the reporter
    moved it (the placard's point otherwise)."""

    category = StrictCharField(max_length=16)
    description = StrictCharField(required=False, allow_blank=True, default="")
    contact_phone = serializers.RegexField(
        r"^\+?[0-9][0-9 -]{4,19}$", max_length=20, required=False, allow_blank=True,
        default="", error_messages={"invalid": _("not a phone number")})
    lon = FiniteFloatField(required=False, allow_null=True, min_value=-180, max_value=180,
                           default=None)
    lat = FiniteFloatField(required=False, allow_null=True, min_value=-90, max_value=90,
                           default=None)
    photos = serializers.ListField(child=serializers.FileField(allow_empty_file=False),
                                   required=False, default=list)

    def validate_description(self, value: str) -> str:
        limit = _description_max()
        if len(value) > limit:
            raise serializers.ValidationError(
                _("the description has %(n)d characters; at most %(limit)d are allowed")
                % {"n": len(value), "limit": limit})
        return value

    def validate_photos(self, value: list) -> list:
        limit = int(settings.GEOGRID["APPEAL_MAX_PHOTOS"])
        if len(value) > limit:
            raise serializers.ValidationError(_("at most %(n)d photos") % {"n": limit})
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if (attrs.get("lon") is None) != (attrs.get("lat") is None):
            missing = "lon" if attrs.get("lon") is None else "lat"
            raise serializers.ValidationError({missing: [_("both lon and lat, or neither")]})
        return attrs
