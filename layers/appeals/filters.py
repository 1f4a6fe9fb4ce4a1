"""Query parameters of the appeal list (GET /api/v1/appeals/): filters and paging.

Parsing only: each parameter is checked (known statuses, channels; dates; finite, bounded
numbers) and a bad one is a 400 naming it (geogrid.errors), never a 500."""

from __future__ import annotations

import datetime as dt
import math

from django.db.models import Q
from django.http import QueryDict
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from geogrid.periods import PeriodError, parse_moment
from layers.appeals.models import CLOCK_STATUSES, Channel, Status

MAX_PAGE_SIZE = 1000
MAX_PAGE = 10**6
MAX_DUE_WITHIN_HOURS = 24 * 366


def _csv(query: QueryDict, name: str) -> list[str]:
    raw = query.get(name, "")
    return [v.strip() for v in raw.split(",") if v.strip()]


def _moment(query: QueryDict, name: str, *, end: bool = False) -> dt.datetime | None:
    try:
        return parse_moment(query.get(name), end=end)
    except PeriodError as exc:
        raise ValidationError({name: [str(exc)]}) from None


def list_filter(query: QueryDict, now: dt.datetime) -> Q:
    """The appeal list's filters as one Q (status, category, channel, grid, since, until,
    overdue, due_within_hours, q)."""
    where = Q()
    statuses = _csv(query, "status")
    bad = [s for s in statuses if s not in Status.values]
    if bad:
        raise ValidationError({"status": [_("unknown status: %(s)s") % {"s": ", ".join(bad)}]})
    if statuses:
        where &= Q(status__in=statuses)
    if categories := _csv(query, "category"):
        where &= Q(category__code__in=categories)
    channels = _csv(query, "channel")
    bad = [c for c in channels if c not in Channel.values]
    if bad:
        raise ValidationError({"channel": [_("unknown channel: %(c)s") % {
            "c": ", ".join(bad)}]})
    if channels:
        where &= Q(channel__in=channels)
    if grid := query.get("grid"):
        if not grid.isdigit() or len(grid) > 32:
            raise ValidationError({"grid": [_("a grid code (digits)")]})
        where &= Q(grid__code__startswith=grid) | Q(grid__isnull=True, district_code=grid)
    if since := _moment(query, "since"):
        where &= Q(reported_at__gte=since)
    if until := _moment(query, "until", end=True):
        where &= Q(reported_at__lt=until)
    if query.get("overdue") in ("1", "true", "yes"):
        where &= Q(status__in=CLOCK_STATUSES, due_at__lt=now) | Q(on_time=False)
    if (hours := query.get("due_within_hours")) not in (None, ""):
        try:
            value = float(hours)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and 0 <= value <= MAX_DUE_WITHIN_HOURS):
            raise ValidationError({"due_within_hours": [
                _("a number of hours from 0 to %(n)d") % {"n": MAX_DUE_WITHIN_HOURS}]})
        where &= Q(status__in=CLOCK_STATUSES, due_at__gte=now,
                   due_at__lte=now + dt.timedelta(hours=value))
    if q := query.get("q", "").strip():
        where &= (Q(tracking__icontains=q) | Q(address__icontains=q)
                  | Q(description__icontains=q))
    return where


def page_params(query: QueryDict, default_size: int = 200) -> tuple[int, int]:
    """(page, page_size) from ?page=&page_size=, both whole numbers in range."""
    out = []
    for name, default, top in (("page", 1, MAX_PAGE), ("page_size", default_size,
                                                       MAX_PAGE_SIZE)):
        raw = query.get(name) or str(default)
        if not raw.isdigit() or not 1 <= int(raw[:12]) <= top:
            raise ValidationError({name: [_("a whole number from 1 to %(n)d") % {"n": top}]})
        out.append(int(raw))
    return out[0], out[1]
