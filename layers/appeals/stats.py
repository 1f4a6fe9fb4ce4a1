"""Closed-loop statistics of a grid and its descendants for a period — one SQL query per report.

A grid's subtree is a code prefix, so "rolled up over descendants" is one indexed LIKE on the
appeal's grid code (unlocated appeals count for their district). Totals and the breakdown by
category or channel come from the same statement (GROUPING SETS). Definitions (docs/workflow.md);
the rates and the counts behind them (received, completed, timed, on_time, rated, satisfied,
redone) are defined once in layers.appeals.rates, shared with the map layers:

    received      appeals reported in [since, until)
    accepted      accepted by the centre (accepted_at set, or a state only reached after it)
    completed     办结: resolved, checked or closed
    rates         completion, on time, satisfaction, redo: see layers.appeals.rates
    handling      working hours from dispatch to resolution, pauses excluded (mean, p90)
    escalated     appeals escalated at least once; escalations = sum of escalation levels
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from geogrid.dbrouting import read_connection
from layers.appeals import rates
from layers.appeals.models import CLOCK_STATUSES, Status

BY_CHOICES = ("category", "channel")
_NOT_ACCEPTED = [Status.RECEIVED.value, Status.REJECTED.value, Status.MERGED.value]

_KEYS = {
    "category": ("c.code", "c.name_zh", "c.name_en", "(c.code, c.name_zh, c.name_en)"),
    "channel": ("a.channel", "NULL::text", "NULL::text", "(a.channel)"),
}

_SQL = """
SELECT {head},
       {rate_counts},
       count(*) FILTER (WHERE a.accepted_at IS NOT NULL
                          OR a.status <> ALL(%(not_accepted)s)) AS accepted,
       count(*) FILTER (WHERE a.status = 'closed') AS closed,
       count(*) FILTER (WHERE a.status = 'rejected') AS rejected,
       count(*) FILTER (WHERE a.status = 'merged') AS merged,
       count(*) FILTER (WHERE a.status = ANY(%(clock)s) AND a.due_at < %(now)s) AS overdue_open,
       avg(a.handling_minutes) FILTER (WHERE {completed}) / 60.0 AS mean_handling_hours,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY a.handling_minutes)
           FILTER (WHERE {completed}) / 60.0 AS p90_handling_hours,
       count(*) FILTER (WHERE a.escalation_level > 0) AS escalated,
       coalesce(sum(a.escalation_level), 0) AS escalations,
       coalesce(sum(a.supporters), 0) AS supporters
  FROM layers_appeal a
  JOIN layers_category c ON c.id = a.category_id
  LEFT JOIN geogrid_grid g ON g.id = a.grid_id
 WHERE coalesce(g.code, a.district_code) LIKE %(prefix)s
   AND (%(since)s::timestamptz IS NULL OR a.reported_at >= %(since)s)
   AND (%(until)s::timestamptz IS NULL OR a.reported_at < %(until)s)
 {tail}
"""

COUNTS = ("received", "accepted", "completed", "closed", "rejected", "merged", "timed",
          "on_time", "overdue_open", "rated", "satisfied", "redone", "escalated", "escalations",
          "supporters")


@dataclass
class StatsQuery:
    grid_code: str
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    by: str | None = None


def _figures(row: dict[str, Any]) -> dict[str, int | float | None]:
    counts = {name: int(row[name]) for name in COUNTS}
    out: dict[str, int | float | None] = {**counts, **rates.rates(counts)}
    for name in ("mean_handling_hours", "p90_handling_hours"):
        out[name] = None if row[name] is None else round(float(row[name]), 2)
    return out


def grid_stats(query: StatsQuery, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """Totals for the subtree and period, and rows by category or channel when asked."""
    from django.utils import timezone

    if query.by not in (None, *BY_CHOICES):
        raise ValueError(f"by must be one of {BY_CHOICES}")
    if query.by:
        key, zh, en, group = _KEYS[query.by]
        head = f"GROUPING({key}) AS total_row, {key} AS key, {zh} AS name_zh, {en} AS name_en"
        tail = (f"GROUP BY GROUPING SETS ((), {group})"
                " ORDER BY total_row DESC, received DESC, key")
    else:  # no GROUP BY: an aggregate over no rows still yields the one (zero) row
        head = "1 AS total_row, NULL AS key, NULL AS name_zh, NULL AS name_en"
        tail = ""
    sql = _SQL.format(head=head, tail=tail, rate_counts=rates.count_sql(rates.COUNTS),
                      completed=rates.condition("completed"))
    params = {
        "prefix": query.grid_code + "%",
        "since": query.since,
        "until": query.until,
        "now": now or timezone.now(),
        "not_accepted": _NOT_ACCEPTED,
        "clock": [s.value for s in CLOCK_STATUSES],
    }
    with read_connection().cursor() as cursor:
        cursor.execute(sql, params)
        names = [c.name for c in cursor.description]
        rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    total = next((r for r in rows if r["total_row"] == 1), None)
    by_rows: list[dict[str, Any]] = []
    for row in rows:
        if row["total_row"] == 1:
            continue
        item: dict[str, Any] = {"key": row["key"], **_figures(row)}
        if query.by == "category":
            item.update(name_zh=row["name_zh"], name_en=row["name_en"])
        by_rows.append(item)
    return {"totals": _figures(total) if total else _figures(_empty()), "by": query.by,
            "rows": by_rows}


def _empty() -> dict[str, Any]:
    return {**dict.fromkeys(COUNTS, 0), "mean_handling_hours": None, "p90_handling_hours": None}
