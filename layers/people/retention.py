"""Retention: personal data is kept while it is needed and then deleted (PIPL Art. 19;
docs/privacy.md, "Retention").

- A person with no open residence whose last one ended more than RETENTION_DAYS["moved_out"]
  ago is deleted, with their residences and their rows in the change log;
- a household that ended that long ago, with nobody left in it, is deleted with its change
  log and its issues (an appeal made from an issue stays: it is the appeal's own record);
- access-log rows older than RETENTION_DAYS["access_log"] are deleted.

The logs are append-only; the purge alone may delete from them (geogrid.dbtriggers.purging),
in one transaction. Set-based: a few DELETE statements, whatever the numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from geogrid.dbtriggers import purging

# Layers holding rows about persons (care subjects…) register a step here (in their
# AppConfig.ready): called with the cursor and the day, after `_gone_person` is filled and
# before persons are deleted; it deletes its own rows of those persons (and whatever its own
# retention says) and returns its counts.
DEPENDENTS: list[Callable[[Any, dt.date], dict[str, int]]] = []


def purge(today: dt.date | None = None, *, dry_run: bool = False) -> dict[str, int]:
    today = today or timezone.localdate()
    days = settings.GEOGRID["RETENTION_DAYS"]
    moved_cutoff = today - dt.timedelta(days=days["moved_out"])
    log_cutoff = timezone.now() - dt.timedelta(days=days["access_log"])
    with transaction.atomic():
        counts = _delete(today, moved_cutoff, log_cutoff)
        if dry_run:
            transaction.set_rollback(True)
    return counts


def _delete(today: dt.date, moved_cutoff: dt.date, log_cutoff: dt.datetime) -> dict[str, int]:
    counts: dict[str, int] = {}
    with purging(), connection.cursor() as cur:
        cur.execute("""
            CREATE TEMP TABLE _gone_person ON COMMIT DROP AS
            SELECT p.id FROM people_person p
             WHERE NOT EXISTS (SELECT 1 FROM people_residence r
                                WHERE r.person_id = p.id AND r.valid_to IS NULL)
               AND COALESCE((SELECT max(r.valid_to) FROM people_residence r
                              WHERE r.person_id = p.id), p.died_on, p.created_at::date) < %s;
            CREATE TEMP TABLE _gone_household ON COMMIT DROP AS
            SELECT h.id FROM people_household h
             WHERE h.status <> 'active' AND h.ended_on < %s
               AND NOT EXISTS (SELECT 1 FROM people_residence r
                                WHERE r.household_id = h.id
                                  AND (r.valid_to IS NULL OR r.valid_to >= %s));
        """, [moved_cutoff, moved_cutoff, moved_cutoff])
        for dependent in DEPENDENTS:
            counts.update(dependent(cur, today))
        steps = (
            ("verifications", """DELETE FROM people_changeverification v USING people_changeevent c
                WHERE v.change_id = c.id AND (c.person_id IN (SELECT id FROM _gone_person)
                   OR c.household_id IN (SELECT id FROM _gone_household))"""),
            ("changes", """DELETE FROM people_changeevent
                WHERE person_id IN (SELECT id FROM _gone_person)
                   OR household_id IN (SELECT id FROM _gone_household)"""),
            ("residences", """DELETE FROM people_residence
                WHERE person_id IN (SELECT id FROM _gone_person)
                   OR household_id IN (SELECT id FROM _gone_household)"""),
            ("issues", """DELETE FROM people_householdissue
                WHERE household_id IN (SELECT id FROM _gone_household)"""),
            ("households",
             "DELETE FROM people_household WHERE id IN (SELECT id FROM _gone_household)"),
            ("persons", """DELETE FROM people_person WHERE id IN (SELECT id FROM _gone_person)
                AND NOT EXISTS (SELECT 1 FROM people_residence r
                                 WHERE r.person_id = people_person.id)"""),
            ("access_log", "DELETE FROM geogrid_accesslog WHERE at < %s"),
        )
        for name, sql in steps:
            cur.execute(sql, [log_cutoff] if "%s" in sql else [])
            counts[name] = cur.rowcount
    return counts
