"""Storing a new appeal (without photos) and its timeline rows in one SQL statement.

The ORM way — reserve the tracking number, INSERT the appeal, INSERT its two timeline rows,
inside BEGIN … COMMIT — is five round trips to PostgreSQL and about a third of a submission's
Python time (Django prepares ~45 columns per model instance). Here the same rows are written by
one statement of data-modifying CTEs:

    WITH seq AS (the tracking upsert of layers.appeals.tracking … RETURNING last),
         a   AS (INSERT INTO layers_appeal (…) SELECT <tracking from seq.last>, … FROM seq
                 RETURNING <id and the other columns the database fills>),
         e1  AS (INSERT INTO layers_appealevent (…) SELECT a.id, … FROM a RETURNING appeal_id),
         e2  AS (INSERT INTO layers_appealevent (…) SELECT e1.appeal_id, … FROM e1)
    SELECT … FROM a

A single statement is atomic by itself, so in autocommit mode (a view) there is no BEGIN and
no COMMIT to wait for; inside a caller's transaction it simply takes part. The columns, their
placeholders and values come from Django's own insert compiler for the model instances, so
defaults, `auto_now_add`, geometry placeholders and JSON adaptation are exactly the ORM's; the
tracking number is formatted in SQL as `tracking.format_tracking` does (tested against it), and
e2 reads e1 so the timeline rows get ascending ids in order, as bulk_create gives them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.db.models import Model
from django.db.models.sql import InsertQuery

from layers.appeals import partitions
from layers.appeals.models import Appeal, AppealEvent
from layers.appeals.tracking import RESERVE_SQL, local_day, tracking_prefix

# format_tracking's "{seq:05d}": at least five digits, more when the sequence needs them.
_TRACKING_SQL = "%s || lpad(seq.last::text, greatest(5, length(seq.last::text)), '0')"


def _columns(obj: Model, replace: dict[str, tuple[str, list]]) -> tuple[str, str, list]:
    """(column list, select list, params) of an INSERT of `obj` as the ORM would write it;
    `replace` maps a field name to the SQL (and params) to write instead of its value."""
    meta = obj._meta
    fields = [f for f in meta.local_concrete_fields
              if not f.generated and f is not meta.auto_field]
    query = InsertQuery(type(obj))
    query.insert_values(fields, [obj], raw=False)
    compiler = query.get_compiler(connection=connection)
    qn = connection.ops.quote_name
    columns, selects, params = [], [], []
    for field in fields:
        columns.append(qn(field.column))
        if field.name in replace:
            sql, extra = replace[field.name]
        else:
            value = compiler.prepare_value(field, compiler.pre_save_val(field, obj))
            sql, extra = compiler.field_as_sql(field, getattr(field, "get_placeholder", None),
                                               value)
        selects.append(sql)
        params.extend(extra)
    return ", ".join(columns), ", ".join(selects), params


def insert_appeal(appeal: Appeal, events: tuple[AppealEvent, AppealEvent],
                  district: str, moment: dt.datetime) -> None:
    """Reserve the next tracking number of `district` on the local day of `moment`, insert
    `appeal` under it and the two timeline `events` (whose appeal is `appeal`), in one
    statement. Sets the appeal's id, tracking number and the columns the database fills, as
    `Appeal.objects.create` does."""
    day = local_day(moment)
    partitions.ensure_month(moment)
    for event in events:  # the district trigger cannot see an appeal of the same statement
        event.district_code = appeal.district_code
    returning = Appeal._meta.db_returning_fields
    qn = connection.ops.quote_name
    a_cols, a_select, a_params = _columns(
        appeal, {"tracking": (_TRACKING_SQL, [tracking_prefix(district, day)])})
    e1_cols, e1_select, e1_params = _columns(events[0], {"appeal": ("a.id", [])})
    e2_cols, e2_select, e2_params = _columns(events[1], {"appeal": ("e1.appeal_id", [])})
    returned = ", ".join(qn(f.column) for f in [*returning, Appeal._meta.get_field("tracking")])
    table, events_table = qn(Appeal._meta.db_table), qn(AppealEvent._meta.db_table)
    sql = (
        f"WITH seq AS ({RESERVE_SQL}),"
        f" a AS (INSERT INTO {table} ({a_cols}) SELECT {a_select} FROM seq RETURNING {returned}),"
        f" e1 AS (INSERT INTO {events_table} ({e1_cols}) SELECT {e1_select} FROM a"
        f" RETURNING appeal_id),"
        f" e2 AS (INSERT INTO {events_table} ({e2_cols}) SELECT {e2_select} FROM e1)"
        f" SELECT {returned} FROM a"
    )
    params: list[Any] = [district, day, 1, *a_params, *e1_params, *e2_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    for value, field in zip(row, returning, strict=False):
        setattr(appeal, field.attname, value)
    appeal.tracking = row[-1]
    appeal._state.adding = False
    appeal._state.db = connection.alias
