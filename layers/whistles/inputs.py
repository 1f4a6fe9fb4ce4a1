"""The fields of each whistle action, checked at the edge (lengths match the columns)."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from geogrid.inputs import FiniteFloatField, StrictCharField
from layers.whistles.models import NOTE_MAX, TEXT_MAX, TITLE_MAX, Rating, Reason, WhistleHelper

CODE_MAX = 32  # Department.code
MAX_ASSISTS = 20


class UnitsInput(serializers.Serializer):
    lead = StrictCharField(max_length=CODE_MAX, help_text="the lead (主办) department's code")
    assists = serializers.ListField(
        child=StrictCharField(max_length=CODE_MAX), required=False, default=list,
        max_length=MAX_ASSISTS, help_text="assisting (协办) departments' codes")


class BlowInput(UnitsInput):
    """Blow (the subdistrict, a dispatcher) or request (a community) a whistle."""

    reason = serializers.ChoiceField(choices=Reason.choices)
    title = StrictCharField(max_length=TITLE_MAX)
    description = StrictCharField(max_length=TEXT_MAX, required=False, allow_blank=True,
                                  default="")
    appeal = StrictCharField(max_length=40, required=False, allow_blank=True, default="",
                             help_text="the appeal's tracking number or public id")
    grid = StrictCharField(max_length=32, required=False, allow_blank=True, default="",
                           help_text="the subdistrict (or, for a request, the community); "
                                     "default: where the appeal or the place lies")
    lon = FiniteFloatField(required=False, allow_null=True, default=None, min_value=-180,
                           max_value=180)
    lat = FiniteFloatField(required=False, allow_null=True, default=None, min_value=-90,
                           max_value=90)
    note = StrictCharField(max_length=NOTE_MAX, required=False, allow_blank=True, default="")


class ApproveInput(serializers.Serializer):
    lead = StrictCharField(max_length=CODE_MAX, required=False, allow_blank=True, default="",
                           help_text="override the requested lead")
    assists = serializers.ListField(child=StrictCharField(max_length=CODE_MAX), required=False,
                                    allow_null=True, default=None, max_length=MAX_ASSISTS)


class ReportInput(serializers.Serializer):
    mode = serializers.ChoiceField(choices=[("on_site", "on site"), ("remote", "remote")])
    lon = FiniteFloatField(required=False, allow_null=True, default=None, min_value=-180,
                           max_value=180, help_text="the phone's location (on site)")
    lat = FiniteFloatField(required=False, allow_null=True, default=None, min_value=-90,
                           max_value=90)


class RefuseInput(serializers.Serializer):
    reason = StrictCharField(max_length=NOTE_MAX)


class FinishInput(serializers.Serializer):
    result = StrictCharField(max_length=TEXT_MAX)


class ReplaceInput(serializers.Serializer):
    department = StrictCharField(max_length=CODE_MAX)


class AddUnitInput(serializers.Serializer):
    department = StrictCharField(max_length=CODE_MAX)


class RateInput(serializers.Serializer):
    rating = serializers.ChoiceField(choices=Rating.choices)
    speed = serializers.IntegerField(min_value=1, max_value=5)
    quality = serializers.IntegerField(min_value=1, max_value=5)


class HelperInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=WhistleHelper.Kind.choices)
    volunteer = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False,
                                         allow_null=True, default=None)
    partner_unit = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False,
                                            allow_null=True, default=None)


class HoursInput(serializers.Serializer):
    helper = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    hours = serializers.DecimalField(max_digits=4, decimal_places=1, min_value=Decimal("0.5"),
                                     max_value=Decimal("24"))
