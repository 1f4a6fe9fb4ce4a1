"""The wish timeouts (`manage.py wish_timeouts`, every 15 minutes from cron).

Three steps, each set-based, each in its own transaction:

1. claims   active claims past due_at + CLAIM_GRACE_DAYS → timed_out; their wishes go back to
            the wall (published, for at least CLAIM_DAYS more); the claimant and the wisher
            are told;
2. directed wishes directed to a volunteer who did not accept by direct_until → back to the
            wall; the reviewers are told;
3. expiry   published wishes past publish_until → expired; the wisher is told.

The order matters: a wish republished by step 1 has a fresh publish_until and is not expired by
step 3 of the same run. Each step is `UPDATE … WHERE <still in that state and late> RETURNING`,
so a second run finds nothing to do; a step first locks the wishes it will change (ordered by
id, the lock order of the services: wish, then claim), and a concurrent delivery that committed
first leaves its wish out (READ COMMITTED re-checks the WHERE on the newest row).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from layers.appeals.notifications import notify_rows
from layers.volunteering.models import PartnerUnit
from layers.wishes.conf import days
from layers.wishes.models import Claim, WishEvent
from layers.wishes.notices import REVIEW_POSTS

_LOCK_CLAIMED = """
    SELECT w.id FROM wishes_wish w
    WHERE w.status = 'claimed' AND EXISTS (
        SELECT 1 FROM wishes_claim c WHERE c.wish_id = w.id AND c.status = 'active'
        AND c.due_at + %(grace)s <= %(now)s)
    ORDER BY w.id FOR UPDATE
"""
_CLAIMS = """
    WITH ended AS (
        UPDATE wishes_claim c SET status = 'timed_out', ended_at = %(now)s,
               end_note = 'timed out', version = c.version + 1
        WHERE c.wish_id = ANY(%(ids)s) AND c.status = 'active'
          AND c.due_at + %(grace)s <= %(now)s
        RETURNING c.id, c.wish_id, c.volunteer_id, c.partner_unit_id
    ), wishes AS (
        UPDATE wishes_wish w SET status = 'published', version = w.version + 1,
               publish_until = greatest(w.publish_until, %(now)s + %(again)s)
        FROM ended WHERE w.id = ended.wish_id AND w.status = 'claimed'
        RETURNING w.id, w.code, w.wisher_id, w.posted_by_id
    ), events AS (
        INSERT INTO wishes_wishevent (wish_id, claim_id, kind, at, role, data)
        SELECT ended.wish_id, ended.id, %(event)s, %(now)s, 'system',
               jsonb_build_object('claim', ended.id)
        FROM ended RETURNING 1
    )
    SELECT wishes.code, 'claim_ended', who.user_id
    FROM ended JOIN wishes ON wishes.id = ended.wish_id
    JOIN LATERAL (
        SELECT v.user_id FROM volunteering_volunteer v WHERE v.id = ended.volunteer_id
        UNION SELECT v.user_id FROM wishes_claimparticipant p
              JOIN volunteering_volunteer v ON v.id = p.volunteer_id WHERE p.claim_id = ended.id
        UNION SELECT m.user_id FROM {members} m WHERE m.partnerunit_id = ended.partner_unit_id
    ) who ON true
    UNION ALL
    SELECT wishes.code, 'wish_released', who.user_id FROM wishes
    JOIN LATERAL (
        SELECT p.user_id FROM people_person p
        WHERE p.id = wishes.wisher_id AND p.user_id IS NOT NULL
        UNION SELECT wishes.posted_by_id
    ) who ON true
"""
_DIRECTED = """
    WITH lapsed AS (
        UPDATE wishes_wish w SET directed_to_id = NULL, direct_until = NULL,
               version = w.version + 1
        WHERE w.status = 'published' AND w.direct_until <= %(now)s
        RETURNING w.id, w.code, w.grid_id
    ), events AS (
        INSERT INTO wishes_wishevent (wish_id, kind, at, role, data)
        SELECT id, %(event)s, %(now)s, 'system', '{}'::jsonb FROM lapsed RETURNING 1
    )
    SELECT DISTINCT lapsed.code, 'direct_lapsed', sa.user_id FROM lapsed
    JOIN geogrid_grid g ON g.id = lapsed.grid_id
    JOIN geogrid_staffassignment sa ON sa.post = ANY(%(posts)s) AND sa.since <= %(today)s
         AND (sa.until IS NULL OR sa.until >= %(today)s)
    JOIN geogrid_grid sg ON sg.id = sa.grid_id AND sg.valid_to IS NULL
         AND g.code LIKE sg.code || '%%'
    JOIN auth_user u ON u.id = sa.user_id AND u.is_active
"""
_EXPIRED = """
    WITH gone AS (
        UPDATE wishes_wish w SET status = 'expired', ended_at = %(now)s, directed_to_id = NULL,
               direct_until = NULL, version = w.version + 1
        WHERE w.status = 'published' AND w.publish_until <= %(now)s
        RETURNING w.id, w.code, w.wisher_id, w.posted_by_id
    ), events AS (
        INSERT INTO wishes_wishevent (wish_id, kind, at, role, data)
        SELECT id, %(event)s, %(now)s, 'system', '{}'::jsonb FROM gone RETURNING 1
    )
    SELECT gone.code, 'wish_expired', who.user_id FROM gone
    JOIN LATERAL (
        SELECT p.user_id FROM people_person p
        WHERE p.id = gone.wisher_id AND p.user_id IS NOT NULL
        UNION SELECT gone.posted_by_id
    ) who ON true
"""
_LOCK_DIRECTED = """SELECT id FROM wishes_wish WHERE status = 'published'
    AND direct_until <= %(now)s ORDER BY id FOR UPDATE"""
_LOCK_EXPIRED = """SELECT id FROM wishes_wish WHERE status = 'published'
    AND publish_until <= %(now)s ORDER BY id FOR UPDATE"""


@dataclass
class TimeoutReport:
    timed_out: list[str] = field(default_factory=list)  # wish codes
    lapsed: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)
    notifications: int = 0

    def lines(self) -> list[str]:
        return [f"claims timed out, wishes republished: {len(self.timed_out)}",
                f"directed wishes back on the wall: {len(self.lapsed)}",
                f"wishes expired: {len(self.expired)}", f"notifications: {self.notifications}"]


def _run(lock: str, sql: str, params: dict) -> tuple[list[str], int]:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(lock, params)
        ids = [r[0] for r in cursor.fetchall()]
        if not ids:
            return [], 0
        cursor.execute(sql, {**params, "ids": ids})
        rows: list[tuple[str, str, int | None]] = cursor.fetchall()
        how = str(Claim.Status.TIMED_OUT.label)
        sent = notify_rows((user, kind, {"wish": code, "how": how})
                           for code, kind, user in sorted(set(rows)) if user is not None)
    codes = sorted({code for code, _kind, _user in rows})
    return codes, sent


def run_timeouts(now: dt.datetime | None = None) -> TimeoutReport:
    now = now or timezone.now()
    members = PartnerUnit.members.through._meta.db_table
    base = {"now": now, "today": timezone.localdate(now), "grace": days("CLAIM_GRACE_DAYS"),
            "again": days("CLAIM_DAYS"), "posts": list(REVIEW_POSTS)}
    report = TimeoutReport()
    report.timed_out, sent_c = _run(_LOCK_CLAIMED, _CLAIMS.format(members=members),
                                    {**base, "event": WishEvent.Kind.TIMED_OUT})
    report.lapsed, sent_d = _run(_LOCK_DIRECTED, _DIRECTED,
                                 {**base, "event": WishEvent.Kind.DIRECT_LAPSED})
    report.expired, sent_e = _run(_LOCK_EXPIRED, _EXPIRED,
                                  {**base, "event": WishEvent.Kind.EXPIRED})
    report.notifications = sent_c + sent_d + sent_e
    return report

