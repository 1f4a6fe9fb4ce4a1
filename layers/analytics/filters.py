"""The appeal filters shared by tiles, heat, counts and reports: category, status, channel,
period and grid subtree (code prefix), plus the viewer's grid scope.

A filter renders itself as SQL for each of the three places counts come from: the cube
(pre-aggregated bins), the fact table (one narrow row per appeal, Morton-ordered) and the live
appeal table (appeals newer than the last refresh, and points at high zoom).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field

from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from geogrid.access import assigned_codes
from layers.appeals.models import OPEN_STATUSES, Category, Channel, Status

from .conf import conf

EPOCH_MONTH = dt.date(1970, 1, 1)  # the cube's "all months" value


class FilterError(ValueError):
    """A filter parameter is malformed; the message names it (shown to the client as a 400)."""


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
            need.add("month" if self.months() is not None else "day")
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

    # --- SQL ---------------------------------------------------------------------------
    def cube_sql(self, dims: tuple[str, ...]) -> tuple[str, list]:
        where, params = [], []
        if "category" in dims and self.category_ids:
            where.append("category_id = ANY(%s)")
            params.append(list(self.category_ids))
        if "status" in dims and self.statuses:
            where.append("status = ANY(%s)")
            params.append(list(self.statuses))
        if "month" in dims and (self.date_from or self.date_to):
            where.append("month = ANY(%s)")
            params.append(self.months())
        if "sub" in dims and self.prefixes is not None:
            where.append(_any_prefix("sub", self.prefixes, params))
        if "channel" in dims and self.channels:
            where.append("channel = ANY(%s)")
            params.append(list(self.channels))
        return _join(where), params

    def fact_sql(self) -> tuple[str, list]:
        where, params = [], []
        if self.category_ids:
            where.append("category_id = ANY(%s)")
            params.append(list(self.category_ids))
        if self.statuses:
            where.append("status = ANY(%s)")
            params.append(list(self.statuses))
        if self.channels:
            where.append("channel = ANY(%s)")
            params.append(list(self.channels))
        if self.date_from:
            where.append("day >= %s")
            params.append(self.date_from)
        if self.date_to:
            where.append("day <= %s")
            params.append(self.date_to)
        if self.prefixes is not None:
            where.append(_any_prefix("grid_code", self.prefixes, params))
        return _join(where), params

    def appeal_sql(self, alias: str = "a") -> tuple[str, list]:
        """Conditions on layers_appeal (the live table)."""
        where, params = [f"{alias}.location IS NOT NULL"], []
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
            where.append(f"{alias}.grid_id IN (SELECT id FROM geogrid_grid WHERE {inner})")
        return _join(where), params


def _any_prefix(column: str, prefixes: tuple[str, ...], params: list) -> str:
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


def _list(query: QueryDict, name: str) -> list[str]:
    out: list[str] = []
    for value in query.getlist(name):
        out.extend(v.strip() for v in value.split(",") if v.strip())
    return out


def _date(query: QueryDict, name: str) -> dt.date | None:
    value = query.get(name, "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise FilterError(
            _("%(name)s must be a date like 2026-05-01, not %(value)r") % {"name": name,
                                                                        "value": value}
        ) from None


def scope_prefixes(user, requested: str | None) -> tuple[str, ...] | None:
    """The grid prefixes a user may see, narrowed to `requested`. None means everywhere."""
    if user.is_authenticated and user.is_active and user.is_superuser:
        return None if not requested else (requested,)
    roots = assigned_codes(user)
    if not requested:
        return tuple(roots)
    if any(requested.startswith(root) for root in roots):
        return (requested,)
    return tuple(root for root in roots if root.startswith(requested))


def parse_filter(query: QueryDict, user=None) -> AppealFilter:
    """Read ?category=&status=&channel=&from=&to=&days=&grid= (lists comma-separated or
    repeated; status=open means every open status)."""
    codes = _list(query, "category")
    ids: list[int] = []
    if codes:
        found = dict(Category.objects.filter(code__in=codes).values_list("code", "id"))
        unknown = sorted(set(codes) - set(found))
        if unknown:
            raise FilterError(_("unknown category: %(codes)s") % {"codes": ", ".join(unknown)})
        ids = sorted(found.values())
    statuses: list[str] = []
    for status in _list(query, "status"):
        if status == "open":
            statuses.extend(s.value for s in OPEN_STATUSES)
        elif status in Status.values:
            statuses.append(status)
        else:
            raise FilterError(_("unknown status: %(status)s") % {"status": status})
    channels = _list(query, "channel")
    bad = sorted(set(channels) - set(Channel.values))
    if bad:
        raise FilterError(_("unknown channel: %(channel)s") % {"channel": ", ".join(bad)})
    date_from, date_to = _date(query, "from"), _date(query, "to")
    days = query.get("days", "").strip()
    if days:
        if not days.isdigit() or not 0 < int(days) <= 3660:
            raise FilterError(_("days must be a whole number from 1 to 3660"))
        date_to = date_to or timezone.localdate()
        date_from = date_to - dt.timedelta(days=int(days) - 1)
    if date_from and date_to and date_from > date_to:
        raise FilterError(_("the period starts after it ends"))
    grid = query.get("grid", "").strip() or None
    if grid is not None and not grid.isdigit():
        raise FilterError(_("grid must be a grid code (digits)"))
    prefixes = scope_prefixes(user, grid) if user is not None else ((grid,) if grid else None)
    return AppealFilter(
        category_ids=tuple(ids),
        statuses=tuple(dict.fromkeys(statuses)),
        channels=tuple(dict.fromkeys(channels)),
        date_from=date_from,
        date_to=date_to,
        prefixes=prefixes,
    )
