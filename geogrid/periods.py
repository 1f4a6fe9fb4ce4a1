"""The one parser of dates and moments in query parameters.

A date (2026-10-31) means the start of that day in the deployment's time zone, or with
`end=True` the start of the next day (so until=2026-10-31 includes the 31st); a datetime is
exact (naive ones are local). Years outside 1900–2200 are refused: they mean a typing error,
and 9999-12-31 plus one day overflows.

`DayField` and `MomentField` are the same parsers as serializer fields, for query parameters
read with a DRF serializer (the message then names the parameter: geogrid.errors)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

FIRST_YEAR, LAST_YEAR = 1900, 2200


class PeriodError(ValueError):
    """The value is not a usable date or moment; the message says what is expected."""


def parse_day(raw: str | None) -> dt.date | None:
    """A plain date (YYYY-MM-DD) within the accepted years, or None when empty."""
    if raw is None or not raw.strip():
        return None
    try:
        day = parse_date(raw.strip())
    except ValueError:
        day = None
    if day is None:
        raise PeriodError(_("a date like 2026-05-01, not %(value)r") % {"value": raw[:40]})
    check_year(day.year)
    return day


def parse_moment(raw: str | None, *, end: bool = False) -> dt.datetime | None:
    """A date or an ISO datetime, as an aware datetime; None when empty."""
    if raw is None or not raw.strip():
        return None
    raw = raw.strip()
    try:
        day = parse_date(raw)
        moment = None if day else parse_datetime(raw)
    except ValueError:
        day = moment = None
    if day is not None:
        check_year(day.year)
        moment = dt.datetime.combine(day + dt.timedelta(days=1 if end else 0), dt.time.min)
    if moment is None:
        raise PeriodError(_("a date (YYYY-MM-DD) or an ISO datetime"))
    check_year(moment.year)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    # In local time: PostgreSQL refuses offsets beyond ±15:59, which Python parses
    # (…T00:00-16:08).
    try:
        moment = timezone.localtime(moment)
    except OverflowError:
        raise PeriodError(_("years from %(first)d to %(last)d") % {"first": FIRST_YEAR,
                                                                  "last": LAST_YEAR}) from None
    check_year(moment.year)
    return moment


def check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise PeriodError(_("years from %(first)d to %(last)d") % {"first": FIRST_YEAR,
                                                                  "last": LAST_YEAR})


@extend_schema_field(OpenApiTypes.DATE)
class DayField(serializers.Field):
    """A query parameter holding a date (`parse_day`)."""

    def to_internal_value(self, data: object) -> dt.date | None:
        try:
            return parse_day(str(data))
        except PeriodError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def to_representation(self, value: dt.date) -> str:
        return value.isoformat()


@extend_schema_field(OpenApiTypes.STR)
class MomentField(serializers.Field):
    """A query parameter holding a date or an ISO datetime (`parse_moment`); with `end=True`
    a date means the start of the next day (the period's exclusive end)."""

    def __init__(self, *, end: bool = False, **kwargs: Any) -> None:
        self.end = end
        super().__init__(**kwargs)

    def to_internal_value(self, data: object) -> dt.datetime | None:
        try:
            return parse_moment(str(data), end=self.end)
        except PeriodError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def to_representation(self, value: dt.datetime) -> str:
        return value.isoformat()
