"""The input fields of the appeal actions beyond `version` and `note` (which the registry adds):
checked at the edge — types, lengths that fit the columns, finite numbers, no NUL bytes
(DRF's CharField refuses them) — before the service runs. The service then checks what needs
the database (does the grid exist, does the department serve the district)."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from geogrid.inputs import FiniteFloatField, StrictCharField
from layers.appeals.models import Resolution, Satisfaction

CODE_MAX = 32  # grid codes and department codes (Department.code is varchar(32))
TRACKING_MAX = 32  # Appeal.tracking


class DispatchInput(serializers.Serializer):
    grid = serializers.RegexField(r"^\d{1,32}$", required=False, allow_blank=True,
                                  label=_("grid code"),
                                  help_text="default: the micro-grid the appeal lies in")
    department = StrictCharField(required=False, allow_blank=True, max_length=CODE_MAX,
                                       label=_("department code"))


class EscalateInput(serializers.Serializer):
    department = StrictCharField(
        required=False, allow_blank=True, max_length=CODE_MAX, label=_("department code"),
        help_text="default: one grid level up")


def _extension_limit() -> float:
    return float(settings.GEOGRID.get("EXTENSION_MAX_HOURS", 240))


class ExtendInput(serializers.Serializer):
    hours = FiniteFloatField(label=_("working hours"), min_value=0.01,
                                   help_text="working hours to add (at most EXTENSION_MAX_HOURS)")

    def validate_hours(self, value: float) -> float:
        limit = _extension_limit()
        if value > limit:
            raise serializers.ValidationError(
                _("between 0 and %(n)d working hours") % {"n": limit})
        return value


class MergeInput(serializers.Serializer):
    master = StrictCharField(max_length=TRACKING_MAX, label=_("merge into (tracking)"))


class ResolveInput(serializers.Serializer):
    result = StrictCharField(max_length=2000, label=_("result"))
    photos = serializers.ListField(child=serializers.FileField(), required=False, default=list,
                                   label=_("after-photos"))


class RateInput(serializers.Serializer):
    resolution = serializers.ChoiceField(choices=Resolution.choices, label=_("resolved?"))
    satisfaction = serializers.ChoiceField(choices=Satisfaction.choices,
                                           label=_("satisfaction"))
    comment = StrictCharField(required=False, allow_blank=True, max_length=2000,
                                    default="", label=_("comment"))
