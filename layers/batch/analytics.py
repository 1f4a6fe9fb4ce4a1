"""Hotspots and closed-loop statistics as Dask jobs, with the service's answers.

Hotspots: DBSCAN is not additive over district × month partitions (a cluster can straddle a
district edge or a month end), but the service already clusters each category on its own
(`PARTITION BY category`), so the job runs one task per category — the service's own `detect`
with that one category — and the union is the service's result. Clustering across categories
(`per_category=False`) is one task: nothing to split.

Statistics: every count is a sum over disjoint partitions, so each task computes the service's
`grid_stats` for one district and one month and the client adds them up; the rates come from
the summed counts (layers.appeals.rates), the mean and 90th percentile of handling time from
the tasks' handling times (numpy's linear percentile is PostgreSQL's percentile_cont).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import numpy as np
from django.db import connection

from layers.analytics.hotspots import Found, HotspotParams, detect, local_midnight
from layers.appeals import partitions as appeal_months
from layers.appeals import rates
from layers.appeals.stats import COUNTS, StatsQuery, grid_stats
from layers.batch.tasks import Context, DjangoSetup, hotspots_task, stats_task


def hotspot_categories(params: HotspotParams) -> list[str]:
    """The categories with appeals in the period (the tasks to run), or the ones asked for."""
    if params.category_codes:
        return sorted(params.category_codes)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT c.code FROM layers_appeal a JOIN layers_category c"
            " ON c.id = a.category_id WHERE a.location IS NOT NULL AND a.reported_at >= %s"
            " AND a.reported_at < %s ORDER BY 1",
            [local_midnight(params.date_from),
             local_midnight(params.date_to + dt.timedelta(days=1))])
        return [r[0] for r in cursor.fetchall()]


def detect_batch(params: HotspotParams, client: Any = None) -> list[Found]:
    """`detect(params)`, one task per category; in this process when `client` is None."""
    if params.per_category:
        jobs = [dataclasses.replace(params, category_codes=(code,))
                for code in hotspot_categories(params)]
    else:
        jobs = [params]
    if client is None:
        parts = [detect(p) for p in jobs]
    else:
        ctx = Context.here()
        client.register_plugin(DjangoSetup(ctx))
        parts = client.gather([client.submit(hotspots_task, ctx, p, pure=False)
                               for p in jobs])
    found = [f for part in parts for f in part]
    found.sort(key=lambda f: -f.count)  # the service's order (ORDER BY count DESC)
    return found


def partial_stats(grid_code: str, since: dt.datetime, until: dt.datetime,
                  now: dt.datetime) -> dict:
    """One partition's counts and handling times (minutes) of completed appeals."""
    totals = grid_stats(StatsQuery(grid_code=grid_code, since=since, until=until),
                        now=now)["totals"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.handling_minutes FROM layers_appeal a"
            " LEFT JOIN geogrid_grid g ON g.id = a.grid_id"
            " WHERE coalesce(g.code, a.district_code) LIKE %s"
            " AND a.reported_at >= %s AND a.reported_at < %s AND a.handling_minutes IS NOT NULL"
            f" AND {rates.condition('completed')}",
            [grid_code + "%", since, until])
        minutes = np.array([r[0] for r in cursor.fetchall()], dtype=float)
    return {"counts": {k: totals[k] for k in COUNTS}, "minutes": minutes}


def month_ranges(since: dt.datetime, until: dt.datetime) -> list[tuple[dt.datetime,
                                                                      dt.datetime]]:
    """[since, until) cut at local month starts (the appeal partitions' boundaries)."""
    out = []
    month = appeal_months.month_of(since)
    while (bounds := appeal_months.bounds(month))[0] < until:
        lo, hi = max(since, bounds[0]), min(until, bounds[1])
        if lo < hi:
            out.append((lo, hi))
        month = appeal_months.next_month(month)
    return out


def stats_batch(grid_codes: list[str], since: dt.datetime, until: dt.datetime, *,
                now: dt.datetime, client: Any = None) -> dict[str, dict]:
    """Per grid code (a district's, typically), the service's totals for [since, until),
    from one task per (grid, month)."""
    tasks = [(code, lo, hi) for code in grid_codes for lo, hi in month_ranges(since, until)]
    if client is None:
        parts = [partial_stats(code, lo, hi, now) for code, lo, hi in tasks]
    else:
        ctx = Context.here()
        client.register_plugin(DjangoSetup(ctx))
        parts = client.gather([client.submit(stats_task, ctx, code, lo, hi, now, pure=False)
                               for code, lo, hi in tasks])
    out: dict[str, dict] = {}
    for code in grid_codes:
        mine = [p for (c, _, _), p in zip(tasks, parts, strict=True) if c == code]
        counts = {k: sum(int(p["counts"][k]) for p in mine) for k in COUNTS}
        minutes = (np.concatenate([p["minutes"] for p in mine]) if mine
                   else np.zeros(0))
        figures: dict[str, Any] = {**counts, **rates.rates(counts)}
        figures["mean_handling_hours"] = (round(float(minutes.mean()) / 60.0, 2)
                                          if len(minutes) else None)
        figures["p90_handling_hours"] = (round(float(np.percentile(minutes, 90)) / 60.0, 2)
                                         if len(minutes) else None)
        out[code] = figures
    return out
