"""Feedback (回访): the reporter's rating, and closing appeals nobody rated in time.

The rating itself is the workflow's `rate` transition (an unsatisfied rating reopens once);
`close_unrated` closes checked appeals after GEOGRID["FEEDBACK_DAYS"] calendar days without a
rating, set-based: one UPDATE … RETURNING and one INSERT of timeline rows, so it is idempotent
and cheap to run from cron.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from layers.appeals import timeline
from layers.appeals.models import Status


def feedback_days() -> int:
    return int(settings.GEOGRID.get("FEEDBACK_DAYS", 7))


def close_unrated(now: dt.datetime | None = None, days: int | None = None) -> list[str]:
    """Close checked appeals whose check is older than `days`; returns their tracking numbers."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=feedback_days() if days is None else days)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            WITH due AS (
                SELECT id FROM layers_appeal
                 WHERE status = %(checked)s AND checked_at <= %(cutoff)s
                 ORDER BY id FOR UPDATE SKIP LOCKED
            )
            UPDATE layers_appeal a
               SET status = %(closed)s, closed_at = %(now)s, version = a.version + 1,
                   updated_at = %(now)s
              FROM due WHERE a.id = due.id
            RETURNING a.id, a.tracking
            """,
            {"checked": Status.CHECKED.value, "closed": Status.CLOSED.value, "cutoff": cutoff,
             "now": now},
        )
        rows = cursor.fetchall()
        if rows:
            timeline.insert_from_select(
                cursor,
                """
                SELECT id, 'auto_close', %(now)s, NULL, 'system', %(checked)s, %(closed)s, '',
                       jsonb_build_object('days', %(days)s)
                  FROM unnest(%(ids)s::bigint[]) AS id
                """,
                {"now": now, "checked": Status.CHECKED.value, "closed": Status.CLOSED.value,
                 "days": feedback_days() if days is None else days,
                 "ids": [r[0] for r in rows]},
            )
    return sorted(r[1] for r in rows)
