"""The appeal timeline: every row is written here, one row per thing that happened.

`record` writes one row (the transition frame, intake, warnings); `insert_from_select` writes
many from a SELECT (re-assignment after a boundary change, the hotline import), so set-based
writers fill the same columns — actor, actor role, from/to status — as a person's action does.
Rows are immutable: a database trigger refuses UPDATE (layers/migrations/0005).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from layers.appeals.models import Appeal, AppealEvent

# The columns `insert_from_select` fills, in this order.
COLUMNS = ("appeal_id", "kind", "at", "actor_id", "actor_role", "from_status", "to_status",
           "note", "data")


def record(appeal: Appeal, kind: str, *, role: str, actor: Any = None,
           at: dt.datetime | None = None, from_status: str | None = None,
           to_status: str | None = None, note: str = "", data: dict | None = None,
           ) -> AppealEvent:
    """One timeline row; from/to status default to the appeal's current status."""
    return AppealEvent.objects.create(**row(
        appeal, kind, role=role, actor=actor, at=at, from_status=from_status,
        to_status=to_status, note=note, data=data))


def row(appeal: Appeal, kind: str, *, role: str, actor: Any = None,
        at: dt.datetime | None = None, from_status: str | None = None,
        to_status: str | None = None, note: str = "", data: dict | None = None) -> dict:
    """The fields of one timeline row, for `record` or a bulk_create of AppealEvent(**row)."""
    return {
        "appeal": appeal, "district_code": appeal.district_code,
        "kind": kind, "at": at or timezone.now(), "actor": actor,
        "actor_role": role,
        "from_status": appeal.status if from_status is None else from_status,
        "to_status": appeal.status if to_status is None else to_status,
        "note": note, "data": data or {},
    }


def insert_from_select(cursor: CursorWrapper, select: str, params: Any = None) -> int:
    """Timeline rows from `select`, which yields the COLUMNS in order (data as jsonb)."""
    cursor.execute(
        f"INSERT INTO {AppealEvent._meta.db_table} ({', '.join(COLUMNS)}) {select}", params)
    return cursor.rowcount
