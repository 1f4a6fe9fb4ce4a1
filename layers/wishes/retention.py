"""Retention of micro-wishes (PIPL Art. 19; docs/privacy.md, "Retention"), a step of the people
purge (`manage.py purge_people`, layers.people.retention): a wish names its wisher and
household, so it goes when the purge deletes either (`_gone_person`, `_gone_household`) — with
its claims, participants, delivery photos and timeline. Points a volunteer earned for it stay:
the ledger names the claim by id only, and a volunteer's points are theirs.

Set-based DELETEs inside the purge's transaction (which may delete from the append-only
timeline); photo files are deleted once it commits.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction


def purge_wishes(cur: Any, today: dt.date) -> dict[str, int]:
    cur.execute("""
        CREATE TEMP TABLE _gone_wish ON COMMIT DROP AS
        SELECT w.id FROM wishes_wish w
         WHERE w.wisher_id IN (SELECT id FROM _gone_person)
            OR w.household_id IN (SELECT id FROM _gone_household)
    """)
    claims = "IN (SELECT id FROM wishes_claim WHERE wish_id IN (SELECT id FROM _gone_wish))"
    cur.execute(f"SELECT image, thumbnail FROM wishes_claimphoto WHERE claim_id {claims}")
    files = [name for row in cur.fetchall() for name in row if name]
    steps = (
        ("wish_events",
         "DELETE FROM wishes_wishevent WHERE wish_id IN (SELECT id FROM _gone_wish)"),
        ("wish_photos", f"DELETE FROM wishes_claimphoto WHERE claim_id {claims}"),
        ("wish_participants", f"DELETE FROM wishes_claimparticipant WHERE claim_id {claims}"),
        ("wish_claims", "DELETE FROM wishes_claim WHERE wish_id IN (SELECT id FROM _gone_wish)"),
        ("wishes", "DELETE FROM wishes_wish WHERE id IN (SELECT id FROM _gone_wish)"),
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
