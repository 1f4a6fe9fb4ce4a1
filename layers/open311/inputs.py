"""Every Open311 input, checked at the edge before a service runs (400 in the spec's shape,
nothing stored).

Lengths follow the columns the values go to (address 300, phone 20, the category code 16,
the update id 64) and the spec (description ≤ 4,000; the appeals layer then applies its own
limit, APPEAL_DESCRIPTION_MAX_CHARS, with the same 400). Text may not contain NUL (DRF's
CharField refuses it); numbers must be finite and in range; dates are W3C date-times (a naive
one is local time) or plain dates, read by the one parser (geogrid.periods). Fields the spec
defines that GeoGrid does not store (email, first_name, last_name, device_id, account_id,
media_url, attribute[…]) are length-checked and dropped: what is not needed is not kept.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers

from geogrid.inputs import FiniteFloatField
from geogrid.periods import PeriodError, parse_moment
from layers.appeals.models import CONTACT_PHONE_MAX_LENGTH, Category
from layers.open311 import ids
from layers.open311.errors import as_open311, bad
from layers.open311.models import STATUS_MAX_CHARS, UPDATE_ID_MAX_CHARS

DESCRIPTION_MAX_CHARS = 4000  # the spec's limit
ADDRESS_MAX_CHARS = 300  # Appeal.address
DEFAULT_DAYS = 90  # the spec's default window, and the longest one asked for
MAX_ROWS = 1000  # the spec's default page
MAX_IDS = 1000


def _text(max_length: int, **kwargs: Any) -> serializers.CharField:
    return serializers.CharField(max_length=max_length, required=False, allow_blank=True,
                                 **kwargs)


class _Personal(serializers.Serializer):
    """Spec fields accepted and dropped."""

    jurisdiction_id = _text(64)
    email = _text(254)
    first_name = _text(150)
    last_name = _text(150)
    account_id = _text(64)
    device_id = _text(64)
    media_url = _text(2000)


class RequestIn(_Personal):
    """POST requests: a category and a location (lat + long, address_string, or address_id =
    a building's id)."""

    service_code = serializers.CharField(max_length=16)
    lat = FiniteFloatField(required=False, min_value=-90.0, max_value=90.0)
    long = FiniteFloatField(required=False, min_value=-180.0, max_value=180.0)
    address_string = _text(ADDRESS_MAX_CHARS)
    address_id = serializers.RegexField(r"^\d{1,18}$", required=False, max_length=18)
    phone = _text(CONTACT_PHONE_MAX_LENGTH)
    description = _text(DESCRIPTION_MAX_CHARS, trim_whitespace=False)
    channel = _text(16)  # GeoGrid's extension: the intake channel (see views.submit)

    def validate(self, attrs: dict) -> dict:
        if ("lat" in attrs) != ("long" in attrs):
            raise serializers.ValidationError(
                {"long" if "lat" in attrs else "lat": _("send both lat and long")})
        if not ("lat" in attrs or attrs.get("address_string", "").strip()
                or attrs.get("address_id")):
            raise serializers.ValidationError(
                _("a location is required: lat and long, address_string or address_id"))
        return attrs


class UpdateIn(_Personal):
    """POST servicerequestupdates (mySociety)."""

    service_request_id = serializers.RegexField(ids.TRACKING.pattern, max_length=40)
    update_id = serializers.CharField(max_length=UPDATE_ID_MAX_CHARS)
    status = serializers.CharField(max_length=STATUS_MAX_CHARS)
    updated_datetime = _text(40)
    description = _text(DESCRIPTION_MAX_CHARS, trim_whitespace=False)

    def validate_updated_datetime(self, value: str) -> dt.datetime | None:
        try:
            return parse_moment(value) if value else None
        except PeriodError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate_status(self, value: str) -> str:
        return value.strip().upper()


class _Window(serializers.Serializer):
    jurisdiction_id = _text(64)
    start_date = _text(40)
    end_date = _text(40)

    def _moment(self, attrs: dict, name: str, end: bool) -> dt.datetime | None:
        try:
            return parse_moment(attrs.get(name) or None, end=end)
        except PeriodError as exc:
            raise serializers.ValidationError({name: str(exc)}) from None


@dataclass(frozen=True)
class Window:
    start: dt.datetime
    end: dt.datetime


def _window(start: dt.datetime | None, end: dt.datetime | None) -> Window:
    days = dt.timedelta(days=DEFAULT_DAYS)
    if start is None:
        end = end or timezone.now()
        start = end - days
    elif end is None:
        end = start + days
    if start > end:
        raise serializers.ValidationError({"start_date": _("start_date is after end_date")})
    return Window(start, end)


class RequestsQuery(_Window):
    """GET requests: service_request_id (a comma list that overrides the rest), service_code,
    start_date / end_date (the last 90 days by default; at most 90 days), status."""

    service_request_id = _text(40 * MAX_IDS)
    service_code = _text(2000)
    status = _text(20)

    def validate(self, attrs: dict) -> dict:
        out: dict[str, Any] = {"ids": [], "codes": [], "statuses": []}
        if raw := attrs.get("service_request_id", "").strip():
            refs = [r.strip() for r in raw.split(",") if r.strip()]
            if len(refs) > MAX_IDS:
                raise serializers.ValidationError(
                    {"service_request_id": _("at most %(n)d ids") % {"n": MAX_IDS}})
            if bad_ref := next((r for r in refs if not (ids.is_tracking(r)
                                                        or ids.FEED_ID.fullmatch(r))), None):
                raise serializers.ValidationError(
                    {"service_request_id": _("not a service request id: %(v)r")
                     % {"v": bad_ref[:40]}})
            out["ids"] = refs
            return out
        if raw := attrs.get("service_code", "").strip():
            codes = sorted({c.strip() for c in raw.split(",") if c.strip()})
            known = set(Category.objects.filter(code__in=codes).values_list("code", flat=True))
            if unknown := [c for c in codes if c not in known]:
                raise serializers.ValidationError(
                    {"service_code": _("unknown service code %(c)r") % {"c": unknown[0][:20]}})
            out["codes"] = codes
        if raw := attrs.get("status", "").strip():
            statuses = {s.strip().lower() for s in raw.split(",") if s.strip()}
            if statuses - {"open", "closed"}:
                raise serializers.ValidationError({"status": _("open, closed or both")})
            out["statuses"] = sorted(statuses)
        window = _window(self._moment(attrs, "start_date", False),
                         self._moment(attrs, "end_date", True))
        if window.end - window.start > dt.timedelta(days=DEFAULT_DAYS, seconds=1):
            raise serializers.ValidationError(
                {"end_date": _("the range may span at most %(n)d days") % {"n": DEFAULT_DAYS}})
        out["window"] = window
        return out


class UpdatesQuery(_Window):
    """GET servicerequestupdates: start_date and end_date both or neither (the last 90 days)."""

    def validate(self, attrs: dict) -> dict:
        start = self._moment(attrs, "start_date", False)
        end = self._moment(attrs, "end_date", True)
        if (start is None) != (end is None):
            raise serializers.ValidationError(
                _("send start_date and end_date together, or neither"))
        return {"window": _window(start, end)}


def clean(serializer: type[serializers.Serializer], data: Any) -> dict:
    """The validated data, or a 400 naming the first bad field."""
    s = serializer(data=data)
    if not s.is_valid():
        raise as_open311(serializers.ValidationError(s.errors)) or bad(_("not valid"))
    return dict(s.validated_data)
