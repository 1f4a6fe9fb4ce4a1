"""Scan counting: one statement per scan or report, the day's row created on first use.

`INSERT … ON CONFLICT DO UPDATE` increments under the row lock, so concurrent scans from any
number of workers are all counted. Only the placard and the local day are stored: no address,
no user agent, no user, no time of day — a scan cannot be traced to a person.
"""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

_COUNT_SQL = """
INSERT INTO placards_placardscanday AS d (placard_id, day, scans, reports)
VALUES (%(placard)s, %(day)s, %(scans)s, %(reports)s)
ON CONFLICT (placard_id, day) DO UPDATE SET
    scans = LEAST(d.scans::bigint + EXCLUDED.scans, 2147483647),
    reports = LEAST(d.reports::bigint + EXCLUDED.reports, 2147483647)
"""


def _count(placard_id: int, *, scans: int = 0, reports: int = 0) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_COUNT_SQL, {"placard": placard_id, "day": timezone.localdate(),
                                    "scans": scans, "reports": reports})


def count_scan(placard_id: int) -> None:
    _count(placard_id, scans=1)


def count_report(placard_id: int) -> None:
    _count(placard_id, reports=1)
