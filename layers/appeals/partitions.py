"""Monthly partitions of the appeals (`layers_appeal`, by `reported_at`) and their timeline
(`layers_appealevent`, by `at`): PostgreSQL's native RANGE partitioning, one partition per
calendar month in the product's time zone (settings.TIME_ZONE, Asia/Shanghai: a month's appeals
are those the statistics and the tracking numbers count in it), named `<table>_pYYYYMM`, plus a
DEFAULT partition (`<table>_default`) that takes any row no month partition covers, so no write
is ever refused for a missing month. See docs/partitioning.md.

What partitioning changes, and where it is kept:
- The primary keys are (id, reported_at) and (id, at); `id` keeps its identity sequence, so ids
  stay unique over all partitions, and Django keeps `id` as the pk.
- Unique keys without the partition key — tracking number, public id, (channel, source_ref) of
  imported appeals — live in the side table `layers_appeal_key` (one row per appeal, kept by
  statement triggers on layers_appeal), under the constraint names they had, so a duplicate
  raises the same IntegrityError as before.
- References *to* the partitioned tables by id alone cannot be foreign keys: they are constraint
  triggers (geogrid.dbtriggers.reference_sql), listed in REFERENCES.
- Keys *from* the partitioned tables (grid, category, user, …) stay foreign keys.

Maintenance (`manage.py appeal_partitions`): `ensure` creates missing months (moving rows the
DEFAULT partition holds for them), `list_partitions`, `detach` and `attach` a month of both
tables. The daily `close_unrated` run and every migrate keep MONTHS_AHEAD months ahead; the
importers, the sample loaders and the intake ensure the months they write.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from geogrid.dbtriggers import reference_sql

# Partitioned table → its partition key.
TABLES = {"layers_appeal": "reported_at", "layers_appealevent": "at"}
KEY_TABLE = "layers_appeal_key"
MONTHS_AHEAD = 3
# Months an importer or loader may create in one call; rows of other months go to DEFAULT (a
# stray date such as 1900-01-01 must not create a thousand partitions).
MAX_NEW_MONTHS = 60
# DETACH takes ACCESS EXCLUSIVE on the parent for a moment; it waits at most this long for
# running queries rather than queueing every new reader behind it.
DETACH_LOCK_TIMEOUT = "5s"

# (child table, column, parent table): every reference by id to a partitioned table. Appeals
# are looked up in the side table (one probe, and archived months keep their keys).
REFERENCES: tuple[tuple[str, str, str], ...] = (
    ("layers_appeal", "merged_into_id", "layers_appeal"),
    ("layers_appealevent", "appeal_id", "layers_appeal"),
    ("layers_appealphoto", "appeal_id", "layers_appeal"),
    ("layers_appealphoto", "event_id", "layers_appealevent"),
    ("layers_support", "appeal_id", "layers_appeal"),
    ("layers_notification", "appeal_id", "layers_appeal"),
    ("layers_reassignment", "appeal_id", "layers_appeal"),
    ("whistles_whistle", "appeal_id", "layers_appeal"),
    ("care_visit", "appeal_id", "layers_appeal"),
    ("deliberation_proposalappeal", "appeal_id", "layers_appeal"),
    ("open311_open311update", "appeal_id", "layers_appeal"),
    ("open311_open311update", "event_id", "layers_appealevent"),
    ("people_householdissue", "appeal_id", "layers_appeal"),
)
# Tables that carry their appeal's district code (filled by a BEFORE INSERT trigger when not
# given), for the sharding plan (docs/scale-out.md).
DISTRICT_TABLES = ("layers_appealevent", "layers_appealphoto", "layers_support")

_NAME = re.compile(r"^(layers_appeal|layers_appealevent)_p(\d{4})(\d{2})$")


class PartitionError(ValueError):
    """A maintenance request that cannot be done (the message says why)."""


def reference_sqls() -> list[tuple[str, str]]:
    """(install, remove) SQL of every reference in REFERENCES."""
    out = []
    for child, column, parent in REFERENCES:
        lookup = (KEY_TABLE, "appeal_id") if parent == "layers_appeal" else None
        out.append(reference_sql(child, column, parent, lookup=lookup))
    return out


# --- months --------------------------------------------------------------------------------------

Month = tuple[int, int]


def _zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def month_of(moment: dt.datetime) -> Month:
    """The (year, month) of an aware datetime in the product's time zone."""
    local = moment.astimezone(_zone())
    return local.year, local.month


def next_month(month: Month, n: int = 1) -> Month:
    index = month[0] * 12 + month[1] - 1 + n
    return index // 12, index % 12 + 1


def bounds(month: Month) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a month: local midnights of its first day and of the next month's."""
    lo = dt.datetime(month[0], month[1], 1, tzinfo=_zone())
    y, m = next_month(month)
    return lo, dt.datetime(y, m, 1, tzinfo=_zone())


def partition_name(table: str, month: Month) -> str:
    return f"{table}_p{month[0]:04d}{month[1]:02d}"


def months_between(first: Month, last: Month) -> list[Month]:
    out, month = [], first
    while month <= last:
        out.append(month)
        month = next_month(month)
    return out


# --- ensure --------------------------------------------------------------------------------------


def _lock(cursor: Any) -> None:
    # One maintainer at a time (the sweep, an import and the intake may all ensure a month).
    cursor.execute("SELECT pg_advisory_xact_lock(hashtext('layers_appeal partitions'))")


def _exists(cursor: Any, name: str) -> bool:
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
    return bool(cursor.fetchone()[0])


def _columns(cursor: Any, table: str) -> list[str]:
    """The stored (not generated) columns of `table`, in order, quoted."""
    cursor.execute(
        "SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = %s::regclass"
        " AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum", [table])
    return [c for (c,) in cursor.fetchall()]


def _create_month(cursor: Any, table: str, month: Month) -> None:
    """Create and attach one month of `table`; rows the DEFAULT partition holds for it move in
    (same transaction). The table is made apart and attached, which locks the parent less than
    CREATE TABLE … PARTITION OF (SHARE UPDATE EXCLUSIVE instead of ACCESS EXCLUSIVE)."""
    key = TABLES[table]
    name = partition_name(table, month)
    lo, hi = bounds(month)
    cursor.execute(
        f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS"
        " INCLUDING GENERATED INCLUDING STORAGE)")
    default = f"{table}_default"
    if _exists(cursor, default):
        cols = ", ".join(_columns(cursor, table))
        # Straight into the unattached table: no trigger of the parent sees a move as a new
        # row (the side table keeps its keys); the delete from DEFAULT is checked at commit,
        # when the rows are back under the parent.
        # The checks are immediate here (ensure): the flag tells the parents' reference
        # triggers that these deletes are a move (geogrid.dbtriggers).
        cursor.execute("SET LOCAL geogrid.partition_move = 'on'")
        cursor.execute(
            f"WITH moved AS (DELETE FROM {default} WHERE {key} >= %s AND {key} < %s"
            f" RETURNING {cols}) INSERT INTO {name} ({cols}) SELECT {cols} FROM moved",
            [lo, hi])
        cursor.execute("SET LOCAL geogrid.partition_move = 'off'")
    cursor.execute(f"ALTER TABLE {name} ADD CONSTRAINT {name}_bounds"
                   f" CHECK ({key} >= %s AND {key} < %s)", [lo, hi])
    cursor.execute(f"ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES FROM (%s) TO (%s)",
                   [lo, hi])
    # The check let ATTACH skip its scan; the partition bound says the same from now on.
    cursor.execute(f"ALTER TABLE {name} DROP CONSTRAINT {name}_bounds")


def ensure(months: Iterable[Month], tables: Iterable[str] = tuple(TABLES)) -> list[str]:
    """Create the missing month partitions of `months` (both tables by default); the names
    created. Runs in (or as) one transaction."""
    wanted = sorted(set(months))
    created: list[str] = []
    if not wanted:
        return created
    with transaction.atomic(), connection.cursor() as cursor:
        missing = [(t, m) for t in tables for m in wanted
                   if not _exists(cursor, partition_name(t, m))]
        if not missing:
            return created
        _lock(cursor)
        # PostgreSQL alters no table with deferred checks pending (rows this transaction wrote
        # before): run them now, defer them again after (every deferrable constraint of the
        # project is INITIALLY DEFERRED).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table, month in missing:
            name = partition_name(table, month)
            if _exists(cursor, name):  # made meanwhile
                continue
            _create_month(cursor, table, month)
            created.append(name)
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    return created


def ensure_range(first: Month, last: Month) -> list[str]:
    if last < first:
        raise PartitionError(f"the range ends ({last[0]}-{last[1]:02d}) before it starts"
                             f" ({first[0]}-{first[1]:02d})")
    return ensure(months_between(first, last))


def ensure_ahead(now: dt.datetime | None = None, ahead: int = MONTHS_AHEAD) -> list[str]:
    """This month and the `ahead` next ones (the daily sweep and migrate run it)."""
    this = month_of(now or dt.datetime.now(dt.UTC))
    return ensure_range(this, next_month(this, ahead))


def ensure_for(moments: Iterable[dt.datetime]) -> list[str]:
    """The months rows reported at `moments` fall in (at most MAX_NEW_MONTHS of them, the
    newest: older strays go to DEFAULT)."""
    months = sorted({month_of(m) for m in moments if m is not None})
    return ensure(months[-MAX_NEW_MONTHS:])


_known: set[Month] = set()


def ensure_month(moment: dt.datetime) -> None:
    """The month of `moment` exists (for the intake: one check per month and process). Only
    near today: a report time a client backdates by months goes to DEFAULT rather than
    creating partitions on a request (and locking DEFAULT for it)."""
    month = month_of(moment)
    if abs(dt.datetime.now(dt.UTC) - moment) > dt.timedelta(days=62):
        return
    if month not in _known:
        ensure([month])
        _known.add(month)


def ensure_for_query(sql: str, params: Any = None) -> list[str]:
    """The months of the timestamps `sql` yields (one column), found in the database — for
    loaders whose rows are in a staging table."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT date_trunc('month', t AT TIME ZONE %s) FROM ({sql}) AS s(t)"
            " WHERE t IS NOT NULL", [settings.TIME_ZONE, *(params or [])])
        months = sorted((d.year, d.month) for (d,) in cursor.fetchall())
    return ensure(months[-MAX_NEW_MONTHS:])


# --- list, detach, attach ------------------------------------------------------------------------


@dataclass(frozen=True)
class Partition:
    table: str  # the partitioned table
    name: str
    bound: str  # PostgreSQL's text of the bound ("DEFAULT", "FOR VALUES FROM … TO …"); "" detached
    rows: int
    attached: bool

    @property
    def month(self) -> Month | None:
        match = _NAME.match(self.name)
        return (int(match.group(2)), int(match.group(3))) if match else None


def list_partitions(*, count: bool = True) -> list[Partition]:
    """Every partition of both tables, and detached month tables (archives), in name order;
    `count`: exact row counts (a full count of each), else the planner's estimates."""
    out = []
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(
                "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid), c.reltuples::bigint"
                " FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                " WHERE i.inhparent = %s::regclass ORDER BY c.relname", [table])
            attached = cursor.fetchall()
            names = {n for n, _b, _r in attached}
            cursor.execute(
                "SELECT relname, '', reltuples::bigint FROM pg_class WHERE relkind = 'r'"
                " AND relname ~ %s AND NOT relispartition ORDER BY relname",
                [f"^{table}_p[0-9]{{6}}$"])
            detached = [r for r in cursor.fetchall() if r[0] not in names]
            for name, bound, estimate in [*attached, *detached]:
                rows = max(int(estimate), 0)
                if count:
                    cursor.execute(f"SELECT count(*) FROM {name}")
                    rows = int(cursor.fetchone()[0])
                out.append(Partition(table, name, bound, rows, name in names))
    return sorted(out, key=lambda p: (p.table, p.name))


def _attached(cursor: Any, table: str, name: str) -> bool:
    cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_inherits WHERE inhparent = %s::regclass"
                   " AND inhrelid = to_regclass(%s))", [table, name])
    return bool(cursor.fetchone()[0])


def detach(month: Month) -> list[str]:
    """Detach one month of the appeals and of the timeline (one transaction); the archive
    tables' names. They stay in the database as plain tables with their rows, indexes and keys
    to grids/categories/users (`pg_dump -t` them, then DROP them to free the space, or
    `attach` them back). The side table keeps the month's tracking numbers and public ids, so
    they are never issued again; photos, supports and other rows that point at the archived
    appeals stay where they are. Not CONCURRENTLY: PostgreSQL refuses DETACH … CONCURRENTLY
    while the table has a DEFAULT partition; the plain DETACH holds ACCESS EXCLUSIVE on the
    parent for a catalog change and waits at most DETACH_LOCK_TIMEOUT for it."""
    names = [partition_name(t, month) for t in TABLES]
    with transaction.atomic(), connection.cursor() as cursor:
        for table, name in zip(TABLES, names, strict=True):
            if not _exists(cursor, name):
                raise PartitionError(f"{name} does not exist")
            if not _attached(cursor, table, name):
                raise PartitionError(f"{name} is already detached")
        _lock(cursor)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # see ensure
        cursor.execute(f"SET LOCAL lock_timeout = '{DETACH_LOCK_TIMEOUT}'")
        for table, name in zip(TABLES, names, strict=True):
            cursor.execute(f"ALTER TABLE {table} DETACH PARTITION {name}")
            # Kept as a CHECK so `attach` need not scan the archive again.
            lo, hi = bounds(month)
            key = TABLES[table]
            cursor.execute(f"ALTER TABLE {name} ADD CONSTRAINT {name}_bounds"
                           f" CHECK ({key} >= %s AND {key} < %s)", [lo, hi])
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    return names


def attach(month: Month) -> list[str]:
    """Attach a detached month of both tables back (one transaction). Refused while the
    DEFAULT partition holds rows of that month (they came in while it was away: move them into
    the archive table first, or they would be in two places)."""
    names = [partition_name(t, month) for t in TABLES]
    lo, hi = bounds(month)
    with transaction.atomic(), connection.cursor() as cursor:
        for table, name in zip(TABLES, names, strict=True):
            if not _exists(cursor, name):
                raise PartitionError(f"{name} does not exist (dropped, or never made)")
            if _attached(cursor, table, name):
                raise PartitionError(f"{name} is attached already")
            key = TABLES[table]
            cursor.execute(f"SELECT count(*) FROM {table}_default WHERE {key} >= %s"
                           f" AND {key} < %s", [lo, hi])
            stray = int(cursor.fetchone()[0])
            if stray:
                raise PartitionError(f"{table}_default holds {stray} rows of"
                                     f" {month[0]}-{month[1]:02d}: move them into {name} first")
        _lock(cursor)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # see ensure
        for table, name in zip(TABLES, names, strict=True):
            cursor.execute(f"ALTER TABLE {table} ATTACH PARTITION {name}"
                           " FOR VALUES FROM (%s) TO (%s)", [lo, hi])
            cursor.execute(f"ALTER TABLE {name} DROP CONSTRAINT IF EXISTS {name}_bounds")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    return names


def parse_month(text: str) -> Month:
    """'2025-06' → (2025, 6); PartitionError for anything else."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1970:
        raise PartitionError(f"{text!r} is not a month: write YYYY-MM, e.g. 2025-06")
    return int(match.group(1)), int(match.group(2))
