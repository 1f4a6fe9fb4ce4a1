"""12345 hotline exports (CSV/XLSX) → appeals: read → validate → locate → write, column-wise.

The rules are the reference importer's (importers/hotline_reference.py, which the tests hold
this path to: the same accepted and rejected rows, the same report, the same appeals, grids,
tracking numbers and timeline rows); what differs is that no step loops over rows in Python:

1. read (importers.hotline_read): only the mapped columns, through pandas' C reader, cells
   stripped with numpy's string functions.
2. validate (importers.hotline_validate): every check of the reference, in its order, one
   vectorised pass per column; a column with a problem gets the reference's messages. Each bad
   cell is a rejection naming row and column; one rejection and nothing is located or written.
   The result is an `AppealRows` batch (arrays, file order).
3. locate (`locate`): rows without coordinates are geocoded from their address against the
   building register — each distinct address once; every point is assigned set-based
   (geogrid.locate.assign_many); the district — whose queue the appeal joins and whose code
   starts its tracking number — is the grid's code prefix, else the one
   geogrid.locate.district_for_point gives (one query for all distinct points). Rows that
   stay unlocated are imported as such and listed for a dispatcher to pin.
4. write (`write`), one transaction: a row whose (channel, order id) was imported before is
   left as it is and counted unchanged (the workflow owns it since; re-running is safe); the
   others get tracking numbers — one block reserved per district and local day, in that order,
   by one statement, numbered by time of report and file order — ids from the table's own
   sequence, and are written by one binary COPY built from the columns (geogrid.copybin);
   each gets one `imported` timeline row (layers.appeals.timeline), from no status to the
   imported one, by the importing user's role, or `system` when no user is named.

Every constraint and trigger of the tables is in force when the transaction commits: the foreign
keys are checked at commit, as for any insert — except in a large batch, where the keys to
layers_appeal (KEYS_TO; every key with `exclusive`) are dropped for the load and added back
before commit, which checks the whole table set-based (a violation aborts the import, nothing
written); see `_keys_checked_once` and docs/benchmarks.md, "Hotline import (issue 16)", for
where the time goes. Dry run by default: the write runs and is rolled back, so the report says
what a commit would do.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from django.conf import settings
from django.db import connection
from django.utils import timezone
from psycopg.copy import QueuedLibpqWriter

from geogrid import copybin as cb
from geogrid.bulkload import foreign_keys_checked_once
from geogrid.hierarchy import Level, code_lengths
from geogrid.locate import METHOD_CODE, METHODS, BulkAssignment, assign_many
from importers.hotline_read import open_table
from importers.hotline_reference import import_appeals_reference
from importers.hotline_rows import (
    COLUMNS,
    REQUIRED,
    STATUS_MAP,
    AppealImportParams,
    AppealImportReport,
    AppealRows,
    Placement,
    UnlocatedRow,
)
from importers.hotline_validate import validate
from importers.tables import run_table_import
from layers.appeals import partitions, timeline
from layers.appeals.actors import SYSTEM_ROLE
from layers.appeals.intake import submitter_role
from layers.appeals.models import AppealEvent
from layers.buildings.geocoding import address_index

__all__ = [
    "COLUMNS", "REQUIRED", "STATUS_MAP", "AppealImportParams", "AppealImportReport",
    "AppealRows", "Placement", "UnlocatedRow", "import_appeals", "import_appeals_reference",
    "locate", "validate", "write",
]

# Seconds of the last import's finer stages (the benchmark prints them; the report keeps the
# reference's four steps).
last_stages: dict[str, float] = {}


@contextmanager
def _stage(name: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        last_stages[name] = last_stages.get(name, 0.0) + time.perf_counter() - started


def import_appeals(params: AppealImportParams) -> AppealImportReport:
    """Read, validate, locate and (with `commit`) store a hotline export, all or nothing."""
    last_stages.clear()
    report = AppealImportReport(path=str(params.path), dry_run=not params.commit)
    return run_table_import(params, report, COLUMNS, REQUIRED, validate, locate, write,
                            read=open_table)


# --- locate -----------------------------------------------------------------------------------


def locate(rows: AppealRows, params: AppealImportParams, report: AppealImportReport,
           ) -> Placement:
    """Geocode the rows without coordinates, assign every point, find each row's district."""
    n = len(rows)
    lon, lat = rows.lon.copy(), rows.lat.copy()
    building = np.full(n, -1, dtype=np.int64)
    score = np.full(n, np.nan)
    need = np.flatnonzero(np.isnan(lon) & (rows.address != ""))
    with _stage("geocode"):
        if len(need):
            index = address_index()
            threshold = settings.GEOGRID["GEOCODE_MIN_SCORE"]
            codes, texts = pd.factorize(rows.address[need])
            hits = [index.lookup(text, threshold) for text in texts]  # each address once
            found = np.array([h is not None for h in hits], dtype=bool)[codes]
            at, which = need[found], codes[found]
            lon[at] = np.array([h.lon if h else np.nan for h in hits])[which]
            lat[at] = np.array([h.lat if h else np.nan for h in hits])[which]
            building[at] = np.array([h.building_id if h else -1 for h in hits])[which]
            score[at] = np.array([h.score if h else np.nan for h in hits])[which]
    report.geocoded = int((building >= 0).sum())
    located = np.isfinite(lon)
    placed = BulkAssignment(np.full(n, -1, dtype=np.int64),
                            np.full(n, METHOD_CODE["unlocated"], dtype=np.uint8),
                            np.full(n, np.nan))
    with _stage("assign"):
        if located.any():
            part = assign_many(lon[located], lat[located])
            placed.grid_id[located], placed.method[located] = part.grid_id, part.method
            placed.distance_m[located] = part.distance_m
    report.assignment = placed.counts()
    report.unlocated = [UnlocatedRow(int(rows.row[i]), rows.source_ref[i], rows.address[i])
                        for i in np.flatnonzero(placed.method == METHOD_CODE["unlocated"])]
    with _stage("districts"):
        district = _districts(placed.grid_id, lon, lat)
    return Placement(lon, lat, building, score, placed, district)


def _districts(grid_id: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The district of each row's grid (its code's prefix); for a row without a grid, the one
    district_for_point gives (`districts_for_points`)."""
    width = code_lengths()[Level.DISTRICT]
    ids = np.unique(grid_id[grid_id >= 0])
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, left(code, %s) FROM geogrid_grid WHERE id = ANY(%s)",
                       [width, ids.tolist()])
        prefix_of = dict(cursor.fetchall())
    prefixes = np.array([prefix_of[g] for g in ids.tolist()] + [""], dtype=object)
    has = grid_id >= 0
    district = np.full(len(grid_id), "", dtype=object)
    district[has] = prefixes[np.searchsorted(ids, grid_id[has])]
    missing = np.flatnonzero(~has)
    if len(missing):
        district[missing] = districts_for_points(lon[missing], lat[missing])
    return district


def districts_for_points(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """geogrid.locate.district_for_point of every point (NaN: no point), asked of the
    database once for all distinct points instead of once per point: its ordering (distance,
    then code) over the current districts, read once."""
    default = settings.GEOGRID.get("DEFAULT_DISTRICT_CODE") or ""
    has = np.isfinite(lon)
    points = pd.DataFrame({"lon": lon[has], "lat": lat[has]}).drop_duplicates()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH d AS MATERIALIZED (
                SELECT code, boundary FROM geogrid_grid WHERE level = 1 AND valid_to IS NULL)
            SELECT p.lon, p.lat,
                   (SELECT code FROM d
                     ORDER BY boundary <-> ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326), code
                     LIMIT 1)
              FROM unnest(%s::float8[], %s::float8[]) AS p(lon, lat)
            """,
            [points["lon"].tolist(), points["lat"].tolist()],
        )
        nearest = {(x, y): code for x, y, code in cursor.fetchall()}
        cursor.execute("SELECT code FROM geogrid_grid WHERE level = 1 AND valid_to IS NULL"
                       " ORDER BY code LIMIT 1")
        first = cursor.fetchone()
    fallback = default or "0" * code_lengths()[Level.DISTRICT]
    out = np.full(len(lon), default or (first[0] if first else fallback), dtype=object)
    for i in np.flatnonzero(has).tolist():
        code = nearest[(float(lon[i]), float(lat[i]))]
        out[i] = code if code is not None else fallback
    return out


# --- write ------------------------------------------------------------------------------------

APPEAL_COPY = """COPY layers_appeal (id, tracking, token_hash, district_code, location, raw_x,
    raw_y, raw_crs, address, building_id, geocode_score, category_id, description, channel,
    source_ref, contact_phone, status, grid_id, assignment, assignment_distance_m, reported_at,
    created_at, updated_at) FROM STDIN (FORMAT BINARY)"""


@dataclass
class TrackingNumbers:
    """Per row: the (district, day) block it belongs to (-1: not numbered) and its sequence."""

    group: np.ndarray  # int64 index into `prefix`
    prefix: list[str]  # "350427-20250601-" per block
    seq: np.ndarray  # int64

    def strings(self) -> np.ndarray:
        """The numbers as text ('' for rows not numbered), as tracking.format_tracking has them."""
        out = np.full(len(self.group), "", dtype=object)
        for i in np.flatnonzero(self.group >= 0).tolist():
            out[i] = f"{self.prefix[self.group[i]]}{self.seq[i]:05d}"
        return out

    def blobs(self, chosen: np.ndarray) -> list[cb.Blob]:
        """The numbers of rows `chosen` as COPY segments: the block's prefix, the sequence."""
        digits = np.strings.zfill(self.seq[chosen].astype("S20"), 5)
        width = digits.dtype.itemsize
        return [cb.Blob.dictionary(self.group[chosen], [p.encode() for p in self.prefix]),
                cb.Blob(digits.view(np.uint8).ravel(),
                        np.arange(len(chosen), dtype=np.int64) * width,
                        np.strings.str_len(digits).astype(np.int64))]


def write(rows: AppealRows, placed: Placement, params: AppealImportParams,
          report: AppealImportReport) -> None:
    """Store the rows not imported before, with tracking numbers and timeline rows; runs inside
    importers.report.write_atomically (one transaction, rolled back for a dry run)."""
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with _stage("imported before"):
            new = ~_imported_before(raw, rows)
        report.created = rows.source_ref[new].tolist()
        report.unchanged = rows.source_ref[~new].tolist()
        if not new.any():
            return
        with _stage("tracking numbers"):
            numbers = _tracking_numbers(rows, placed.district, new)
        chosen = np.flatnonzero(new)
        with _stage("partitions"):
            _ensure_months(rows.reported_at[chosen])
        large = _large_batch(raw, len(chosen))
        with _keys_checked_once(raw, large, None if params.exclusive else KEYS_TO):
            _write_new(cursor, raw, rows, placed, params, numbers, chosen, large)


def _ensure_months(at: pd.DatetimeIndex) -> None:
    """The month partitions of the rows' report times exist (layers.appeals.partitions)."""
    local = at.tz_convert(settings.TIME_ZONE)
    months = sorted({(int(y), int(m)) for y, m in zip(local.year, local.month, strict=True)})
    partitions.ensure(months[-partitions.MAX_NEW_MONTHS:])


def _write_new(cursor: Any, raw: psycopg.Cursor, rows: AppealRows, placed: Placement,
               params: AppealImportParams, numbers: TrackingNumbers, chosen: np.ndarray,
               large: bool) -> None:
    """COPY the rows `chosen` (for a large batch: plain indexes dropped and rebuilt) and add
    their timeline rows."""
    rebuilt = _drop_plain_indexes(raw) if large else []
    with _stage("ids"):
        ids = _new_ids(raw, len(chosen), locked=large)
        raw.execute("SELECT now()")
        now = _one(raw)
    with _stage("COPY appeals"):
        _send(raw, APPEAL_COPY, _copy_rows(rows, placed, numbers, chosen, ids, now))
    if rebuilt:
        _rebuild(raw, rebuilt)
    with _stage("COPY timeline"):
        raw.execute("DROP TABLE IF EXISTS _imp_event")  # a caller's transaction may hold one
        raw.execute("CREATE TEMP TABLE _imp_event (appeal_id bigint, row int, status text,"
                    " method text, grid_id bigint) ON COMMIT DROP")
        events = cb.CopyRows(len(chosen))
        events.fixed(ids, "int8")
        events.fixed(rows.row[chosen], "int4")
        events.text(rows.status[chosen])
        method = placed.assignment.method[chosen]
        events.segments([cb.Blob.dictionary(method, [m.encode() for m in METHODS])])
        grid = placed.assignment.grid_id[chosen]
        events.fixed(grid, "int8", null=grid < 0)
        _send(raw, "COPY _imp_event FROM STDIN (FORMAT BINARY)", events)
        actor = params.actor
        timeline.insert_from_select(
            cursor,
            """
            SELECT appeal_id, %s, now(), %s, %s, '', status, '',
                   jsonb_build_object('file', %s::text, 'row', row, 'method', method,
                                      'version_id', grid_id)
              FROM _imp_event ORDER BY appeal_id
            """,
            (AppealEvent.Kind.IMPORTED.value, actor.pk if actor else None,
             submitter_role(actor) if actor else SYSTEM_ROLE, Path(params.path).name),
        )


# A batch this large, and at least this share of the rows already stored, is loaded with the
# table's plain (non-unique, not constraint-backing) indexes dropped and built again afterwards
# in the same transaction: building an index from sorted rows is several times cheaper than
# inserting a million random keys into it one by one (measured: docs/benchmarks.md). Only plain
# column indexes: not the unique ones, the primary key, or the partial ones (their predicates
# would come back from pg_get_indexdef in another, if equivalent, form). The cost: DROP INDEX
# locks layers_appeal (ACCESS EXCLUSIVE) until commit, so only bulk loads of this size do it.
REBUILD_MIN_ROWS = 100_000
REBUILD_MIN_SHARE = 0.5


def _large_batch(raw: psycopg.Cursor, n: int) -> bool:
    """Whether `n` new rows are a large batch (see REBUILD_MIN_ROWS)."""
    if n < REBUILD_MIN_ROWS:
        return False
    # Partitioned: the partitions hold the rows (and the estimates).
    raw.execute("SELECT coalesce(sum(greatest(c.reltuples, 0)), 0) FROM pg_inherits i"
                " JOIN pg_class c ON c.oid = i.inhrelid"
                " WHERE i.inhparent = 'layers_appeal'::regclass")
    stored = float(_one(raw))
    return n >= REBUILD_MIN_SHARE * stored


# For a large batch the foreign keys of the appeals and their timeline rows are also dropped for
# the load and added back before commit (geogrid.bulkload.foreign_keys_checked_once): adding a
# key checks the whole table in one anti-join, where the kept keys check (and lock FOR KEY
# SHARE) each new row's referenced row one by one. A row a key refuses aborts the import with
# nothing written. Dropping a key also locks the table it references (ACCESS EXCLUSIVE, until
# commit), so by default only the keys to layers_appeal itself — which the load holds anyway —
# go: the timeline rows' appeal and merged_into. None: every key of both tables, which also
# locks grids, buildings, categories, departments and users against every reader until commit
# (measured: docs/benchmarks.md, "Hotline import (issue 16)"): `params.exclusive`, for a load
# with the site closed (`import_appeals --exclusive`). The keys kept are checked at the
# end of each statement during the load (PostgreSQL alters no table with checks pending), which
# costs what checking them at commit did.
KEY_TABLES = ("layers_appeal", "layers_appealevent")
KEYS_TO: tuple[str, ...] | None = ("layers_appeal",)


@contextmanager
def _keys_checked_once(raw: psycopg.Cursor, large: bool,
                       keys_to: tuple[str, ...] | None) -> Iterator[None]:
    """For a large batch: layers_appeal locked for the load, KEY_TABLES' keys (to `keys_to`;
    None: all of them) dropped for the body and added back after it, and the session's memory
    for index builds and the keys' anti-joins raised (SET LOCAL: this transaction only)."""
    if not large:
        yield
        return
    raw.execute("LOCK TABLE layers_appeal IN ACCESS EXCLUSIVE MODE")
    raw.execute("SET LOCAL maintenance_work_mem = '512MB'")
    raw.execute("SET LOCAL work_mem = '256MB'")
    figures: dict[str, float] = {}
    with foreign_keys_checked_once(raw, KEY_TABLES, figures, to=keys_to):
        last_stages["drop foreign keys"] = figures.pop("seconds_keys_dropped")
        yield
        with _stage("references to the appeals (trigger-kept)"):
            _check_references_now(raw)
    last_stages["add foreign keys (set-based checks)"] = figures["seconds_keys_added"]


def _check_references_now(raw: psycopg.Cursor) -> None:
    """Run the pending checks of the references to the (partitioned) appeals and timeline —
    constraint triggers, not keys (docs/partitioning.md) — before the import reports: a row
    pointing nowhere fails the import here, as adding a dropped key back did."""
    raw.execute("SELECT string_agg(DISTINCT quote_ident(conname), ', ') FROM pg_constraint"
                " WHERE contype = 't' AND condeferrable AND condeferred"
                " AND conrelid = ANY(%s::regclass[])", (list(KEY_TABLES),))
    names = _one(raw)
    if names:
        raw.execute(f"SET CONSTRAINTS {names} IMMEDIATE")
        raw.execute(f"SET CONSTRAINTS {names} DEFERRED")


def _drop_plain_indexes(raw: psycopg.Cursor) -> list[str]:
    """Drop layers_appeal's plain indexes; their definitions."""
    with _stage("drop plain indexes"):
        raw.execute(
            """
            SELECT c.relname, pg_get_indexdef(i.indexrelid)
              FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
             WHERE i.indrelid = 'layers_appeal'::regclass
               AND NOT i.indisunique AND NOT i.indisprimary AND NOT i.indisexclusion
               AND i.indpred IS NULL AND i.indexprs IS NULL
               AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
             ORDER BY c.relname
            """)
        plain = raw.fetchall()
        for name, _definition in plain:
            raw.execute(f'DROP INDEX "{name}"')
    # A partitioned index reads "ON ONLY layers_appeal" (the parent alone); built again on
    # every partition.
    return [definition.replace(" ON ONLY ", " ON ", 1) for _name, definition in plain]


def _rebuild(raw: psycopg.Cursor, definitions: list[str]) -> None:
    """Run layers_appeal's pending foreign-key checks now (an index cannot be built on a table
    with pending checks), build the dropped indexes again, and defer the keys again as they
    were."""
    # The keys of layers_appeal and those referring to it (a caller's transaction may have
    # deleted appeals: their checks are pending on this table too).
    # With the partitions' own copies (conparentid) and the trigger-kept references ('t').
    raw.execute("SELECT string_agg(DISTINCT quote_ident(conname), ', ') FROM pg_constraint"
                " WHERE ('layers_appeal'::regclass IN (conrelid, confrelid)"
                " OR conrelid IN (SELECT inhrelid FROM pg_inherits"
                "                 WHERE inhparent = 'layers_appeal'::regclass))"
                " AND contype IN ('f', 't') AND condeferrable AND condeferred")
    keys = _one(raw)
    with _stage("foreign-key checks (appeals)"):
        if keys:
            raw.execute(f"SET CONSTRAINTS {keys} IMMEDIATE")
    with _stage("index builds"):
        for definition in definitions:
            raw.execute(definition)
    if keys:
        raw.execute(f"SET CONSTRAINTS {keys} DEFERRED")


def _one(raw: psycopg.Cursor) -> Any:
    """The single value the last statement returned."""
    row = raw.fetchone()
    assert row is not None
    return row[0]


def _send(raw: psycopg.Cursor, sql: str, rows: cb.CopyRows) -> None:
    """COPY `rows`; a writer thread sends each chunk while the next one is built, so building
    the payload overlaps the server's inserting."""
    with raw.copy(sql, writer=QueuedLibpqWriter(raw)) as copy:
        for chunk in rows.chunks():
            copy.write(chunk)


def _imported_before(raw: psycopg.Cursor, rows: AppealRows) -> np.ndarray:
    """True for rows whose (channel, order id) is already stored (one COPY and one join;
    nothing to compare when no appeal of these channels has an order id)."""
    raw.execute("SELECT EXISTS (SELECT 1 FROM layers_appeal WHERE channel = ANY(%s)"
                " AND source_ref <> '')", (pd.unique(rows.channel).tolist(),))
    if not _one(raw):
        return np.zeros(len(rows), dtype=bool)
    raw.execute("DROP TABLE IF EXISTS _imp_key")
    raw.execute("CREATE TEMP TABLE _imp_key (i int, channel text, source_ref text)"
                " ON COMMIT DROP")
    keys = cb.CopyRows(len(rows))
    keys.fixed(np.arange(len(rows)), "int4")
    keys.text(rows.channel)
    keys.text(rows.source_ref)
    _send(raw, "COPY _imp_key FROM STDIN (FORMAT BINARY)", keys)
    raw.execute("ANALYZE _imp_key")
    raw.execute(
        """SELECT k.i FROM _imp_key k
             JOIN layers_appeal a ON a.channel = k.channel AND a.source_ref = k.source_ref
            WHERE a.source_ref <> ''""")
    before = np.zeros(len(rows), dtype=bool)
    before[np.array([i for (i,) in raw.fetchall()], dtype=np.int64)] = True
    return before


def _tracking_numbers(rows: AppealRows, district: np.ndarray, new: np.ndarray,
                      ) -> TrackingNumbers:
    """Tracking numbers of the `new` rows: one block of sequence numbers reserved per (district,
    local day) — by one statement, in that order, so concurrent imports lock alike — then
    numbered by time of report and file order (layers.appeals.tracking's numbers)."""
    chosen = np.flatnonzero(new)
    at = rows.reported_at[chosen]
    # tracking.local_day of every row, vectorised: the day in the current time zone.
    day = at.tz_convert(timezone.get_current_timezone()).normalize()
    d_codes, d_names = pd.factorize(district[chosen], sort=True)
    day_codes, days = pd.factorize(day, sort=True)
    order = np.lexsort((chosen, at.asi8, day_codes, d_codes))  # district, day, time, file order
    key = d_codes[order].astype(np.int64) * len(days) + day_codes[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, len(order)))
    block_district = [d_names[c] for c in d_codes[order][starts].tolist()]
    block_day = [days[c].date() for c in day_codes[order][starts].tolist()]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO layers_trackingsequence (district_code, day, last)
            SELECT d, day, n FROM unnest(%s::text[], %s::date[], %s::int[])
                   WITH ORDINALITY AS b(d, day, n, k)
             ORDER BY k
            ON CONFLICT (district_code, day)
            DO UPDATE SET last = layers_trackingsequence.last + EXCLUDED.last
            RETURNING district_code, day, last
            """,
            (block_district, block_day, counts.tolist()),
        )
        last = {(d, day_): n for d, day_, n in cursor.fetchall()}
    block_last = np.array([last[(d, day_)] for d, day_ in zip(block_district, block_day,
                                                              strict=True)], dtype=np.int64)
    block = np.cumsum(first) - 1  # the block of each row in `order`
    rank = np.arange(len(order)) - starts[block]
    group = np.full(len(rows), -1, dtype=np.int64)
    seq = np.zeros(len(rows), dtype=np.int64)
    group[chosen[order]] = block
    seq[chosen[order]] = block_last[block] - counts[block] + 1 + rank
    prefix = [f"{d}-{day_:%Y%m%d}-" for d, day_ in zip(block_district, block_day, strict=True)]
    return TrackingNumbers(group, prefix, seq)


def _new_ids(raw: psycopg.Cursor, n: int, *, locked: bool = False) -> np.ndarray:
    """`n` ids from layers_appeal's identity sequence, ascending. `locked`: this transaction
    holds layers_appeal exclusively (the index rebuild), so nobody else can be drawing ids for
    it and one block is taken by moving the sequence on; else one nextval per id (read back as
    binary COPY)."""
    if locked:
        raw.execute("SELECT nextval(pg_get_serial_sequence('layers_appeal', 'id'))")
        first = int(_one(raw))
        raw.execute("SELECT setval(pg_get_serial_sequence('layers_appeal', 'id'), %s)",
                    (first + n - 1,))
        return np.arange(first, first + n, dtype=np.int64)
    out = bytearray()
    with raw.copy("COPY (SELECT nextval(pg_get_serial_sequence('layers_appeal', 'id'))"
                  f" FROM generate_series(1, {int(n)})) TO STDOUT (FORMAT BINARY)") as copy:
        for data in copy:
            out += data
    body = np.frombuffer(bytes(out[len(cb.SIGNATURE):len(out) - len(cb.TRAILER)]),
                         dtype=np.dtype([("count", ">i2"), ("len", ">i4"), ("id", ">i8")]))
    return body["id"].astype(np.int64)


def _copy_rows(rows: AppealRows, placed: Placement, numbers: TrackingNumbers,
               chosen: np.ndarray, ids: np.ndarray, now: object) -> cb.CopyRows:
    """The COPY rows of `chosen`, in APPEAL_COPY's column order (NaN and -1 → NULL)."""
    n = len(chosen)
    out = cb.CopyRows(n)

    def floats(values: np.ndarray) -> None:
        part = values[chosen]
        out.fixed(part, "float8", null=np.isnan(part))

    def ids_of(values: np.ndarray) -> None:
        part = values[chosen]
        out.fixed(part, "int8", null=part < 0)

    lon, lat = placed.lon[chosen], placed.lat[chosen]
    stamp = np.full(n, cb.timestamps(pd.DatetimeIndex([now]))[0], dtype=np.int64)
    out.fixed(ids, "int8")
    out.segments(numbers.blobs(chosen))
    out.segments([cb.Blob.const(b"", n)])  # token_hash
    out.text(placed.district[chosen])
    out.fixed(cb.ewkb_points(lon, lat), "geometry", null=np.isnan(lon))
    floats(rows.raw_x)
    floats(rows.raw_y)
    out.text(rows.raw_crs[chosen])
    out.text(rows.address[chosen])
    ids_of(placed.building_id)
    floats(placed.geocode_score)
    out.fixed(rows.category_id[chosen], "int8")
    out.text(rows.description[chosen])
    out.text(rows.channel[chosen])
    out.text(rows.source_ref[chosen])
    out.text(rows.contact_phone[chosen])
    out.text(rows.status[chosen])
    ids_of(placed.assignment.grid_id)
    out.segments([cb.Blob.dictionary(placed.assignment.method[chosen],
                                     [m.encode() for m in METHODS])])
    floats(placed.assignment.distance_m)
    out.fixed(cb.timestamps(rows.reported_at[chosen]), "timestamptz")
    out.fixed(stamp, "timestamptz")
    out.fixed(stamp, "timestamptz")
    return out
