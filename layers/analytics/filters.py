"""The appeal filter of tiles, heat, counts, per-grid rates and reports: the shared appeal filter
(layers.appeals.filters: category, status incl. open, channel, grid subtree — the appeal list
reads the same parameters) plus a period of local dates, and the viewer's grid scope.

`MapFilterParams` reads and documents the parameters; `parse_filter(query, user)` gives the
`AppealFilter`. An appeal without a grid counts for its district (its district_code), as in the
appeal list and the statistics.

A filter renders itself as SQL for each of the three places counts come from: the cube
(pre-aggregated bins), the fact table (one narrow row per appeal, Morton-ordered) and the live
appeal table (appeals newer than the last refresh, and points at high zoom).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers

from geogrid.access import assigned_codes
from geogrid.periods import DayField
from layers.appeals.filters import AppealFilterParams, FilterError, whole_number

from .conf import conf

__all__ = ["AppealFilter", "FilterError", "MapFilterParams", "parse_filter", "scope_prefixes"]

EPOCH_MONTH = dt.date(1970, 1, 1)  # the cube's "all months" value
MAX_DAYS = 3660
ANY_DAYS = 400  # periods up to this long are read day by day from the facts


@dataclass(frozen=True)
class AppealFilter:
    category_ids: tuple[int, ...] = ()
    statuses: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    date_from: dt.date | None = None  # inclusive, local (Asia/Shanghai) dates
    date_to: dt.date | None = None  # inclusive
    prefixes: tuple[str, ...] | None = None  # grid code prefixes; None = everywhere
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def empty_scope(self) -> bool:
        return self.prefixes == ()

    def canonical(self) -> str:
        """A stable text for cache keys and ETags."""
        return "|".join(
            [
                ",".join(map(str, sorted(self.category_ids))),
                ",".join(sorted(self.statuses)),
                ",".join(sorted(self.channels)),
                str(self.date_from or ""),
                str(self.date_to or ""),
                "*" if self.prefixes is None else ",".join(sorted(self.prefixes)),
            ]
        )

    # --- which cube rows can answer this filter ------------------------------------------
    def dims(self) -> set[str]:
        need = set()
        if self.category_ids:
            need.add("category")
        if self.statuses:
            need.add("status")
        if self.channels:
            need.add("channel")
        if self.date_from or self.date_to:
            # Whole months from the month cuboids, a bounded run of days from the day
            # cuboids, any other period (open-ended, over ANY_DAYS) from the facts.
            if self.months() is not None:
                need.add("month")
            else:
                need.add("day" if self.days() is not None else "period")
        if self.prefixes is not None:
            short = all(len(p) <= conf("SUBTREE_CODE_LEN") for p in self.prefixes)
            need.add("sub" if short else "grid")
        return need

    def months(self) -> list[dt.date] | None:
        """The whole months the period spans, or None when it does not align with months."""
        start, end = self.date_from, self.date_to
        if start is None or end is None or start.day != 1:
            return None
        if end.day != calendar.monthrange(end.year, end.month)[1] or end < start:
            return None
        out, month = [], start
        while month <= end:
            out.append(month)
            month = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return out

    def days(self) -> list[dt.date] | None:
        """Every day of a bounded period of at most ANY_DAYS days, else None."""
        start, end = self.date_from, self.date_to
        if start is None or end is None or not 0 <= (end - start).days < ANY_DAYS:
            return None
        return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]

    # --- SQL ---------------------------------------------------------------------------
    def cube_sql(self, dims: tuple[str, ...]) -> tuple[str, list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        if "category" in dims and self.category_ids:
            where.append("category_id = ANY(%s)")
            params.append(list(self.category_ids))
        if "status" in dims and self.statuses:
            where.append("status = ANY(%s)")
            params.append(list(self.statuses))
        if "month" in dims and (self.date_from or self.date_to):
            where.append("month = ANY(%s)")
            params.append(self.months())
        if "day" in dims and (self.date_from or self.date_to):
            where.append("day = ANY(%s)")
            params.append(self.days())
        if "sub" in dims and self.prefixes is not None:
            where.append(_any_prefix("sub", self.prefixes, params))
        if "channel" in dims and self.channels:
            where.append("channel = ANY(%s)")
            params.append(list(self.channels))
        return _join(where), params

    def fact_sql(self) -> tuple[str, list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        if self.category_ids:
            where.append("category_id = ANY(%s)")
            params.append(list(self.category_ids))
        if self.statuses:
            where.append("status = ANY(%s)")
            params.append(list(self.statuses))
        if self.channels:
            where.append("channel = ANY(%s)")
            params.append(list(self.channels))
        days = self.days()
        if days is not None:
            # One index descent per day on (day, key): reads only the tile's rows of those days,
            # where `day BETWEEN` reads every key of every day in the range.
            where.append("day = ANY(%s)")
            params.append(days)
        else:
            if self.date_from:
                where.append("day >= %s")
                params.append(self.date_from)
            if self.date_to:
                where.append("day <= %s")
                params.append(self.date_to)
        if self.prefixes is not None:
            where.append(_any_prefix("grid_code", self.prefixes, params))
        return _join(where), params

    def appeal_sql(self, alias: str = "a") -> tuple[str, list[Any]]:
        """Conditions on layers_appeal (the live table)."""
        where = [f"{alias}.location IS NOT NULL"]
        params: list[Any] = []
        if self.category_ids:
            where.append(f"{alias}.category_id = ANY(%s)")
            params.append(list(self.category_ids))
        if self.statuses:
            where.append(f"{alias}.status = ANY(%s)")
            params.append(list(self.statuses))
        if self.channels:
            where.append(f"{alias}.channel = ANY(%s)")
            params.append(list(self.channels))
        if self.date_from:
            where.append(f"{alias}.reported_at >= %s")
            params.append(local_midnight(self.date_from))
        if self.date_to:
            where.append(f"{alias}.reported_at < %s")
            params.append(local_midnight(self.date_to + dt.timedelta(days=1)))
        if self.prefixes is not None:
            inner = _any_prefix("code", self.prefixes, params)
            district = _any_prefix(f"{alias}.district_code", self.prefixes, params)
            where.append(f"({alias}.grid_id IN (SELECT id FROM geogrid_grid WHERE {inner})"
                         f" OR ({alias}.grid_id IS NULL AND {district}))")
        return _join(where), params


def _any_prefix(column: str, prefixes: tuple[str, ...], params: list[Any]) -> str:
    if not prefixes:
        return "false"
    # One LIKE per prefix (not LIKE ANY) so that a varchar_pattern_ops index is used.
    parts = []
    for prefix in prefixes:
        parts.append(f"{column} LIKE %s")
        params.append(prefix.replace("\\", "").replace("%", "").replace("_", "") + "%")
    return "(" + " OR ".join(parts) + ")"


def _join(where: list[str]) -> str:
    return " AND ".join(where) if where else "true"


def local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=timezone.get_default_timezone())


def scope_prefixes(user: User | AnonymousUser, requested: str | None) -> tuple[str, ...] | None:
    """The grid prefixes a user may see, narrowed to `requested`. None means everywhere."""
    if user.is_authenticated and user.is_active and user.is_superuser:
        return None if not requested else (requested,)
    roots = assigned_codes(user)
    if not requested:
        return tuple(roots)
    if any(requested.startswith(root) for root in roots):
        return (requested,)
    return tuple(root for root in roots if root.startswith(requested))


class MapFilterParams(AppealFilterParams):
    """The map layers' filter: the shared appeal filter (category, status, channel, grid) and a
    period of local dates, `from`/`to` (inclusive) or the last `days`. The validated `filter`
    is the AppealFilter, limited to the grids of the user in the context (if any)."""

    days = whole_number(1, MAX_DAYS, default=None,
                        help_text="the last N days up to `to` (default today); replaces `from`")

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        # "from" and "to" are Python keywords, so they cannot be declared as attributes.
        fields["from"] = DayField(required=False, default=None,
                                  help_text="first day reported (local date), inclusive")
        fields["to"] = DayField(required=False, default=None,
                                help_text="last day reported (local date), inclusive")
        return fields

    def validate(self, attrs: dict) -> dict:
        date_from, date_to = attrs["from"], attrs["to"]
        if attrs["days"]:
            date_to = date_to or timezone.localdate()
            date_from = date_to - dt.timedelta(days=attrs["days"] - 1)
        if date_from and date_to and date_from > date_to:
            raise serializers.ValidationError({"from": [_("the period starts after it ends")]})
        grid, user = attrs["grid"], self.context.get("user")
        prefixes = scope_prefixes(user, grid) if user is not None else ((grid,) if grid else None)
        attrs["filter"] = AppealFilter(
            category_ids=attrs["category"],
            statuses=attrs["status"],
            channels=attrs["channel"],
            date_from=date_from,
            date_to=date_to,
            prefixes=prefixes,
        )
        return attrs


def parse_filter(query: Mapping[str, Any], user: User | AnonymousUser | None = None,
                 ) -> AppealFilter:
    """The map layers' filter from ?category=&status=&channel=&from=&to=&days=&grid=, limited to
    `user`'s grids when given; FilterError (a 400 naming the parameter) when one is bad."""
    return MapFilterParams.parse(query, user=user)["filter"]
