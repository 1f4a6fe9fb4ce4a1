"""The care reminders (`manage.py care_reminders`, every 15 minutes from cron).

Three steps, each over every open due of an active subject, each set-based and stamped:

1. warn   the subject's visitors WARN_DAYS_BEFORE (2) days before a regular or extra visit
          is due (a 必要访's visitors are told when it is triggered);
2. due    the grid worker(s) of the subject's micro-grid when it falls due;
3. escalate community staff and the care officer ESCALATE_DAYS_AFTER (3) days after it was due
          (NECESSARY_ESCALATE_HOURS, 12, for a 必要访).

Each step is one UPDATE … WHERE <stamp> IS NULL … RETURNING that sets its stamp, writes the
timeline rows and yields the recipients, in one transaction. A second run finds the stamps
set and does nothing, and two runs at once cannot both act on a due: the second waits for the
first's row locks and then re-checks `<stamp> IS NULL` (READ COMMITTED).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from layers.appeals.notifications import notify_rows
from layers.care.models import CareEvent
from layers.care.notices import CARE_STAFF_POSTS, GRID_POSTS
from layers.care.plan import care_setting

# The subject's current micro-grid code (open residence → … → building → grid).
_HOME = """
    JOIN people_residence r ON r.person_id = s.person_id AND r.valid_to IS NULL
    JOIN people_household h ON h.id = r.household_id
    JOIN people_dwelling dw ON dw.id = h.dwelling_id
    JOIN layers_building b ON b.id = dw.building_id
    JOIN geogrid_grid g ON g.id = b.grid_id
"""
_OPEN = """d.met_at IS NULL AND d.cancelled_at IS NULL AND s.status = 'active'"""
_STAFF = """
    SELECT hit.id, hit.subject_id, hit.due_at, sa.user_id
    FROM hit
    JOIN geogrid_staffassignment sa ON sa.post = ANY(%(posts)s) AND sa.since <= %(today)s
         AND (sa.until IS NULL OR sa.until >= %(today)s)
    JOIN geogrid_grid sg ON sg.id = sa.grid_id AND sg.valid_to IS NULL AND {match}
    JOIN auth_user u ON u.id = sa.user_id AND u.is_active
"""
_VISITORS = """
    SELECT hit.id, hit.subject_id, hit.due_at, v.user_id
    FROM hit
    JOIN care_carevisitor v ON v.subject_id = hit.subject_id AND v.until IS NULL {role}
    JOIN auth_user u ON u.id = v.user_id AND u.is_active
"""


@dataclass
class ReminderReport:
    warned: list[int] = field(default_factory=list)  # due ids
    due: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)
    notifications: int = 0

    def lines(self) -> list[str]:
        return [f"warned: {len(self.warned)} dues", f"due, grid workers told: {len(self.due)}",
                f"overdue, care staff told: {len(self.escalated)}",
                f"notifications: {self.notifications}"]


def _step(stamp: str, condition: str, event: str, kind: str, recipients: str,
          params: dict) -> tuple[list[int], int]:
    sql = f"""
        WITH hit AS (
            UPDATE care_visitdue d SET {stamp} = %(now)s
            FROM care_caresubject s {_HOME}
            WHERE d.subject_id = s.id AND {_OPEN} AND d.{stamp} IS NULL AND {condition}
            RETURNING d.id, d.subject_id, d.due_at, g.code
        ), events AS (
            INSERT INTO care_careevent (subject_id, kind, at, role, data)
            SELECT subject_id, %(event)s, %(now)s, 'system',
                   jsonb_build_object('due', id, 'due_at', due_at)
            FROM hit RETURNING 1
        )
        SELECT id, subject_id, due_at, user_id FROM ({recipients}) who
        UNION ALL SELECT id, subject_id, due_at, NULL FROM hit
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, {**params, "event": event})
        rows: list[tuple[int, int, dt.datetime, int | None]] = cursor.fetchall()
        dues = sorted({r[0] for r in rows})
        told = sorted({(d, s, at, u) for d, s, at, u in rows if u is not None})
        sent = notify_rows(
            (user_id, kind, {"subject": subject_id, "due": due_at.isoformat(), "due_id": due_id})
            for due_id, subject_id, due_at, user_id in told)
    return dues, sent


def remind(now: dt.datetime | None = None) -> ReminderReport:
    now = now or timezone.now()
    today = timezone.localdate(now)
    warn = dt.timedelta(days=care_setting("WARN_DAYS_BEFORE"))
    late = dt.timedelta(days=care_setting("ESCALATE_DAYS_AFTER"))
    late_necessary = dt.timedelta(hours=care_setting("NECESSARY_ESCALATE_HOURS"))
    base = {"now": now, "today": today, "warn": warn, "late": late,
            "late_necessary": late_necessary}
    report = ReminderReport()
    report.warned, sent_w = _step(
        "warned_at", "d.kind <> 'necessary' AND d.due_at > %(now)s "
        "AND d.due_at - %(warn)s <= %(now)s", CareEvent.Kind.WARNED, "care_due_soon",
        _VISITORS.format(role=""), base)
    report.due, sent_d = _step(
        "notified_at", "d.due_at <= %(now)s", CareEvent.Kind.DUE, "care_due",
        _STAFF.format(match="sg.code = hit.code") + " UNION "
        + _VISITORS.format(role="AND v.role = 'grid_worker'"),
        {**base, "posts": list(GRID_POSTS)})
    report.escalated, sent_e = _step(
        "escalated_at", "d.due_at + CASE WHEN d.kind = 'necessary' THEN %(late_necessary)s "
        "ELSE %(late)s END <= %(now)s", CareEvent.Kind.ESCALATED, "care_overdue",
        _STAFF.format(match="hit.code LIKE sg.code || '%%'"),
        {**base, "posts": list(CARE_STAFF_POSTS)})
    report.notifications = sent_w + sent_d + sent_e
    return report
