"""Retention of care data (PIPL Art. 19; docs/privacy.md, "Retention"), a step of the people
purge (`manage.py purge_people`, layers.people.retention):

- every care row of a person the people purge deletes (`_gone_person`);
- a subject that exited, or was not enrolled, more than RETENTION_DAYS["care_exited"] ago,
  with its proposals, visitors, dues, visits, photos and timeline.

Set-based DELETEs inside the purge's transaction (which may delete from the append-only visit
and timeline tables); photo files are deleted once it commits.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction


def purge_care(cur: Any, today: dt.date) -> dict[str, int]:
    cutoff = today - dt.timedelta(days=settings.GEOGRID["RETENTION_DAYS"]["care_exited"])
    cur.execute("""
        CREATE TEMP TABLE _gone_subject ON COMMIT DROP AS
        SELECT s.id FROM care_caresubject s
         WHERE s.person_id IN (SELECT id FROM _gone_person)
            OR (s.status IN ('exited', 'rejected')
                AND COALESCE(s.exited_at, s.created_at)::date < %s)
    """, [cutoff])
    cur.execute("""SELECT p.image, p.thumbnail FROM care_visitphoto p
                   JOIN care_visit v ON v.id = p.visit_id
                   WHERE v.subject_id IN (SELECT id FROM _gone_subject)""")
    files = [name for row in cur.fetchall() for name in row if name]
    gone = "IN (SELECT id FROM _gone_subject)"
    steps = (
        ("care_photos", f"DELETE FROM care_visitphoto WHERE visit_id IN "
                        f"(SELECT id FROM care_visit WHERE subject_id {gone})"),
        ("care_dues", f"DELETE FROM care_visitdue WHERE subject_id {gone}"),
        ("care_visits", f"DELETE FROM care_visit WHERE subject_id {gone}"),
        ("care_events", f"DELETE FROM care_careevent WHERE subject_id {gone}"),
        ("care_proposals", f"DELETE FROM care_careproposal WHERE subject_id {gone}"),
        ("care_visitors", f"DELETE FROM care_carevisitor WHERE subject_id {gone}"),
        ("care_groups", f"DELETE FROM care_caresubject_groups WHERE caresubject_id {gone}"),
        ("care_subjects", f"DELETE FROM care_caresubject WHERE id {gone}"),
    )
    counts = {}
    for name, sql in steps:
        cur.execute(sql)
        counts[name] = cur.rowcount
    transaction.on_commit(lambda: _delete_files(files))
    return counts


def _delete_files(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)
