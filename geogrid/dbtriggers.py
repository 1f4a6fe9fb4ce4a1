"""Append-only tables, enforced by PostgreSQL rather than by code paths.

`append_only(table)` is a migration operation: a BEFORE UPDATE OR DELETE trigger that raises,
so no ORM call, raw SQL or admin can rewrite history. The one way around it is the retention
purge (docs/privacy.md), which deletes inside a transaction that has run
`SET LOCAL geogrid.purge = 'on'`; updates are never allowed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, migrations

_FUNCTION = """
CREATE OR REPLACE FUNCTION geogrid_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('geogrid.purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def append_only(table: str) -> migrations.RunSQL:
    trigger = f"{table}_append_only"
    return migrations.RunSQL(
        _FUNCTION + f"CREATE TRIGGER {trigger} BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION geogrid_append_only();",
        f"DROP TRIGGER IF EXISTS {trigger} ON {table};",
    )


@contextmanager
def purging() -> Iterator[None]:
    """Allow deletes from append-only tables inside this block (the retention purge only).
    Must run inside a transaction; the permission never outlives it."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL geogrid.purge = 'on'")
        try:
            yield
        finally:
            cursor.execute("SET LOCAL geogrid.purge = 'off'")
