"""Serializer fields every layer uses at the edge (see geogrid.errors for the error shape)."""

from __future__ import annotations

import math
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


class FiniteFloatField(serializers.FloatField):
    """A float that is a real number: 'nan', 'inf' and 1e999 are refused (Python's float()
    accepts them, and NaN slips past every min/max comparison)."""

    default_error_messages = {"finite": _("A finite number is required.")}

    def to_internal_value(self, data: Any) -> float:
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            self.fail("finite")
        return value


class StrictCharField(serializers.CharField):
    """Text that must arrive as text: a number, list or object where a string is expected is
    refused (DRF would turn 7 into "7"), as are NUL characters (DRF's CharField default)."""

    default_error_messages = {"not_text": _("Text is required.")}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_text")
        return super().to_internal_value(data)
