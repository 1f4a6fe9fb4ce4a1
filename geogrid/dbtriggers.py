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


# --- references to partitioned tables ----------------------------------------------------------
# PostgreSQL cannot point a FOREIGN KEY at a partitioned table by a column that is not its whole
# unique key (the appeals' key is (id, reported_at); layers/appeals/partitions.py). Such a
# reference is kept by two constraint triggers instead, deferred to commit like Django's keys:
# on the child, a new or changed value must exist (in `lookup`: the parent, or a side table
# that holds its keys); on the parent, a deleted row may not leave children behind (Django's
# collector deletes or nulls them first, so CASCADE/SET_NULL models still work). The errors
# read like PostgreSQL's own (SQLSTATE 23503, the reference's name), so callers that catch
# IntegrityError or quote the message keep working.
#
# One template, instantiated per reference as a small function with static SQL: one generic
# function taking the names as trigger arguments needs EXECUTE per row, and that measured
# 50 µs per checked row against 8.8 µs (113,000 timeline rows checked at commit, 6.2 s against
# 1.0 s: docs/benchmarks.md, "Appeal partitions") — a million imported rows would pay 45 s.
_REFERENCE_FUNCTION = """
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        -- Rows moved out of a DEFAULT partition into a new month (partition maintenance,
        -- layers.appeals.partitions) are deleted and inserted again by the same transaction.
        IF current_setting('geogrid.partition_move', true) = 'on' THEN
            RETURN NULL;
        END IF;
        -- Still there: the row moved to another partition (its partition key changed).
        IF EXISTS (SELECT 1 FROM {parent} WHERE {parent_key} = OLD.{parent_key}) THEN
            RETURN NULL;
        END IF;
        IF EXISTS (SELECT 1 FROM {child} WHERE {column} = OLD.{parent_key}) THEN
            RAISE EXCEPTION USING
                MESSAGE = 'update or delete on table "{parent}" violates foreign key constraint'
                          || ' "{name}" on table "{child}"',
                ERRCODE = 'foreign_key_violation', CONSTRAINT = '{name}', TABLE = '{parent}',
                DETAIL = format('Key ({parent_key})=(%s) is still referenced from table'
                                || ' "{child}".', OLD.{parent_key});
        END IF;
    ELSIF NOT EXISTS (SELECT 1 FROM {lookup} WHERE {lookup_key} = NEW.{column})
          -- A row this transaction wrote and deleted again is no violation (PostgreSQL's own
          -- keys skip such rows too): only a row still pointing there is.
          AND EXISTS (SELECT 1 FROM {child} WHERE {column} = NEW.{column}) THEN
        RAISE EXCEPTION USING
            MESSAGE = 'insert or update on table "{child}" violates foreign key constraint'
                      || ' "{name}"',
            ERRCODE = 'foreign_key_violation', CONSTRAINT = '{name}', TABLE = '{child}',
            COLUMN = '{column}',
            DETAIL = format('Key ({column})=(%s) is not present in table "{parent}".',
                            NEW.{column});
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""


def reference_name(child: str, column: str) -> str:
    """The name of a trigger-kept reference (what its errors quote), at most 63 bytes."""
    return f"{child}_{column}_fk"[:63]


def reference_sql(child: str, column: str, parent: str, *, parent_key: str = "id",
                  lookup: tuple[str, str] | None = None) -> tuple[str, str]:
    """(install, remove) SQL of the reference child.column → parent.parent_key, looked up in
    `lookup` (table, key column; default: the parent itself — a side table holding the
    parent's keys answers with one index probe where a partitioned parent probes every
    partition)."""
    name = reference_name(child, column)
    function = f"{name[:57]}_check"
    on_parent = f"{name[:59]}_del"  # the parent's trigger (a self-reference has both)
    look, look_key = lookup or (parent, parent_key)
    install = (
        _REFERENCE_FUNCTION.format(function=function, name=name, child=child, column=column,
                                   parent=parent, parent_key=parent_key, lookup=look,
                                   lookup_key=look_key)
        + f"CREATE CONSTRAINT TRIGGER {name} AFTER INSERT OR UPDATE OF {column} ON {child}"
        f" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.{column} IS NOT NULL)"
        f" EXECUTE FUNCTION {function}();"
        f"CREATE CONSTRAINT TRIGGER {on_parent} AFTER DELETE ON {parent}"
        f" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {function}();"
    )
    remove = (f"DROP TRIGGER IF EXISTS {name} ON {child};"
              f"DROP TRIGGER IF EXISTS {on_parent} ON {parent};"
              f"DROP FUNCTION IF EXISTS {function}();")
    return install, remove


def reference(child: str, column: str, parent: str, *, parent_key: str = "id",
              lookup: tuple[str, str] | None = None) -> migrations.RunSQL:
    """A migration operation installing `reference_sql` (reversible)."""
    install, remove = reference_sql(child, column, parent, parent_key=parent_key, lookup=lookup)
    return migrations.RunSQL(install, remove)
