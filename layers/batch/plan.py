"""Partitions of appeals: district code × calendar month of reported_at (local time).

Plain SQL on `layers_appeal`, so it works whether the table is one heap or partitioned by month
(a range on reported_at prunes to one partition). A partition's rows are read by
`district_code = %s AND reported_at >= start AND reported_at < next month's start`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import timezone


@dataclass(frozen=True, order=True)
class Part:
    district_code: str
    month: dt.date  # the first of the month

    @property
    def start(self) -> dt.datetime:
        return local_midnight(self.month)

    @property
    def end(self) -> dt.datetime:
        return local_midnight(next_month(self.month))

    @property
    def label(self) -> str:
        return f"{self.district_code}/{self.month:%Y-%m}"


def local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=timezone.get_default_timezone())


def next_month(month: dt.date) -> dt.date:
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def partitions(*, since: dt.date | None = None, until: dt.date | None = None,
               districts: list[str] | tuple[str, ...] = ()) -> list[tuple[Part, int]]:
    """The non-empty partitions with located appeals reported in [since, until) (local dates;
    whole months: `since` and `until` are rounded down to their month, `until` exclusive), with
    their row counts, largest first (so the long tasks start first)."""
    where = ["location IS NOT NULL"]
    params: list = [settings.TIME_ZONE]
    if since is not None:
        where.append("reported_at >= %s")
        params.append(local_midnight(month_of(since)))
    if until is not None:
        where.append("reported_at < %s")
        params.append(local_midnight(month_of(until)))
    if districts:
        where.append("district_code = ANY(%s)")
        params.append(list(districts))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT district_code, date_trunc('month', reported_at AT TIME ZONE %s)::date AS m,"
            " count(*) FROM layers_appeal"
            f" WHERE {' AND '.join(where)} GROUP BY 1, 2",
            params,
        )
        rows = cursor.fetchall()
    found = [(Part(d, m), int(n)) for d, m, n in rows]
    found.sort(key=lambda pn: (-pn[1], pn[0]))
    return found
