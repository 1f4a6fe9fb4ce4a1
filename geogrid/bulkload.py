"""Foreign keys checked once per bulk load instead of once per row (PostgreSQL's "Populating a
Database" advice), shared by the sample loaders (fixtures.copying) and the hotline importer.

A key is dropped inside the load's transaction and added back, with the definition
pg_get_constraintdef gave (DEFERRABLE INITIALLY DEFERRED as Django creates them), before the
transaction ends: ADD CONSTRAINT checks every row of the table in one anti-join, and a row it
refuses aborts the transaction — the drop is rolled back with everything else, so no row that
was not checked can commit, and other transactions never see the table without its key.

The price is the locks: dropping a key takes ACCESS EXCLUSIVE on the table *and on the table it
references* (its triggers live on both), held until the transaction ends — nobody else reads
either meanwhile. `to` limits the keys to those referencing the given tables. References kept by
constraint triggers (geogrid.dbtriggers.reference_sql: those to partitioned tables) are not
dropped; their pending checks are run like the keys' before any table is altered.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from psycopg import Cursor


@contextmanager
def foreign_keys_checked_once(raw: Cursor[Any], tables: tuple[str, ...],
                              result: dict[str, float] | None = None, *,
                              to: tuple[str, ...] | None = None) -> Iterator[list[str]]:
    """Drop the foreign keys of `tables` (only those referencing `to`, when given) for the
    body, add them back exactly as they were after it; yields the keys' names. `result` gets
    seconds_keys_dropped and seconds_keys_added (added up). An exception in the body skips the
    re-adding: the caller's rollback undoes the drop.

    PostgreSQL refuses to alter a table with deferred checks pending (rows this transaction
    wrote before): every deferred key on or to a table whose keys are altered is checked now,
    as it would be at commit, and deferred again afterwards."""
    only = None if to is None else list(to)
    raw.execute(
        """
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), confrelid
        FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])
          AND (%s::regclass[] IS NULL OR confrelid = ANY(%s::regclass[]))
        ORDER BY 1, 2
        """, (list(tables), only, only))
    keys = raw.fetchall()
    altered = sorted({k[3] for k in keys})
    raw.execute(
        """
        SELECT quote_ident(n.nspname) || '.' || quote_ident(c.conname)
        FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
        WHERE c.contype IN ('f', 't') AND c.condeferrable AND c.condeferred
          AND (c.conrelid = ANY(%s) OR c.conrelid = ANY(%s::regclass[])
               OR c.confrelid = ANY(%s) OR c.confrelid = ANY(%s::regclass[]))
        ORDER BY 1
        """, (altered, list(tables), altered, list(tables)))
    pending = ", ".join(name for (name,) in raw.fetchall())
    figures = {} if result is None else result
    started = time.perf_counter()
    if keys and pending:
        raw.execute(f"SET CONSTRAINTS {pending} IMMEDIATE")
    for table, name, _definition, _referenced in keys:
        raw.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    _lap(figures, "seconds_keys_dropped", started)
    yield [name for _table, name, _definition, _referenced in keys]
    started = time.perf_counter()
    for table, name, definition, _referenced in keys:
        raw.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    if keys and pending:
        raw.execute(f"SET CONSTRAINTS {pending} DEFERRED")
    _lap(figures, "seconds_keys_added", started)


def _lap(result: dict[str, float], key: str, started: float) -> None:
    result[key] = result.get(key, 0.0) + time.perf_counter() - started
