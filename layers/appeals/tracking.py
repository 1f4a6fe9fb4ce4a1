"""Tracking numbers: district code + local date + daily sequence, e.g. 350427-20250601-00042.

The sequence is one upsert on a (district, day) row, so concurrent submissions serialise on that
row lock and never share a number; a block of numbers can be reserved for bulk imports.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.utils import timezone

# The upsert that reserves numbers (also a CTE of layers.appeals.intake_sql).
RESERVE_SQL = """
    INSERT INTO layers_trackingsequence (district_code, day, last) VALUES (%s, %s, %s)
    ON CONFLICT (district_code, day)
    DO UPDATE SET last = layers_trackingsequence.last + EXCLUDED.last
    RETURNING last
"""


def tracking_prefix(district_code: str, day: dt.date) -> str:
    return f"{district_code}-{day:%Y%m%d}-"


def format_tracking(district_code: str, day: dt.date, seq: int) -> str:
    return f"{tracking_prefix(district_code, day)}{seq:05d}"


def local_day(moment: dt.datetime | None = None) -> dt.date:
    return timezone.localtime(moment or timezone.now()).date()


def reserve(district_code: str, day: dt.date, count: int = 1) -> range:
    """Reserve `count` consecutive sequence numbers; call inside the writing transaction."""
    with connection.cursor() as cursor:
        cursor.execute(RESERVE_SQL, (district_code, day, count))
        last = cursor.fetchone()[0]
    return range(last - count + 1, last + 1)


def next_tracking(district_code: str, moment: dt.datetime | None = None) -> str:
    day = local_day(moment)
    return format_tracking(district_code, day, reserve(district_code, day)[0])
