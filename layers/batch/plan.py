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

# The month boundaries are the appeal partitions' own (local midnights in TIME_ZONE).
from layers.appeals.partitions import bounds as month_bounds


@dataclass(frozen=True, order=True)
class Part:
    district_code: str
    month: dt.date  # the first of the month

    @property
    def start(self) -> dt.datetime:
        return month_bounds((self.month.year, self.month.month))[0]

    @property
    def end(self) -> dt.datetime:
        return month_bounds((self.month.year, self.month.month))[1]

    @property
    def label(self) -> str:
        return f"{self.district_code}/{self.month:%Y-%m}"


def partitions(*, since: dt.date | None = None, until: dt.date | None = None,
               districts: list[str] | tuple[str, ...] = ()) -> list[tuple[Part, int]]:
    """The non-empty partitions with located appeals reported in [since, until) (local dates;
    whole months: `since` and `until` are rounded down to their month, `until` exclusive), with
    their row counts, largest first (so the long tasks start first)."""
    where = ["location IS NOT NULL"]
    params: list = [settings.TIME_ZONE]
    if since is not None:
        where.append("reported_at >= %s")
        params.append(month_bounds((since.year, since.month))[0])
    if until is not None:
        where.append("reported_at < %s")
        params.append(month_bounds((until.year, until.month))[0])
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
