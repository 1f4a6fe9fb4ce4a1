"""The reference path of the hotline importer (the row-wise importer it replaced; the fast path,
importers.appeals, must give its answers — tests/importers/test_hotline_fast.py): validate →
locate → write over one typed batch.

1. validate (`validate`): every cell is checked set-wise — category, channel (and, with an
   importing user, that the user may file appeals on it), status (the export's workflow words
   mapped by STATUS_MAP), time of report, order id, text lengths — and coordinates are converted
   to WGS 84 per CRS. Each bad cell is a rejection naming row and column; one rejection and
   nothing is located or written. The result is an `AppealRows` batch (arrays, file order).
2. locate (`locate`): rows without coordinates are geocoded from their address against the
   building register; every point is assigned set-based (geogrid.locate.assign_many); the
   district — whose queue the appeal joins and whose code starts its tracking number — is the
   grid's, else the one geogrid.locate.district_for_point gives. Rows that stay unlocated are
   imported as such and listed for a dispatcher to pin. The result is a `Placement`.
3. write (`write`), one transaction: a row whose (channel, order id) was imported before is left
   as it is and counted unchanged (the workflow owns it since; re-running is safe); the others
   are created with tracking numbers from layers.appeals.tracking (one block reserved per
   district and local day, numbered by time of report) and one `imported` timeline row each
   (layers.appeals.timeline), from no status to the imported one, by the importing user's role,
   or `system` when no user is named.

Dry run by default: the write runs and is rolled back, so the report says what a commit would do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.utils import timezone
from django.utils.translation import gettext as _

from geogrid.hierarchy import Level, code_lengths
from geogrid.locate import (
    METHOD_CODE,
    METHODS,
    BulkAssignment,
    assign_many,
    district_for_point,
)
from geogrid.models import Grid
from importers.hotline_rows import (
    COLUMNS,
    REQUIRED,
    STATUS_MAP,
    AppealImportParams,
    AppealImportReport,
    AppealRows,
    Placement,
    UnlocatedRow,
    length_limits,
)
from importers.tables import (
    Table,
    check_filled,
    check_lengths,
    check_unique,
    coordinates_to_wgs84,
    run_table_import,
    to_float,
)
from layers.appeals import timeline, tracking
from layers.appeals.actors import SYSTEM_ROLE
from layers.appeals.intake import allowed_channels, submitter_role
from layers.appeals.models import AppealEvent, Category, Channel, Status
from layers.buildings.geocoding import address_index


def import_appeals_reference(params: AppealImportParams) -> AppealImportReport:
    """The reference import: read, validate, locate and (with `commit`) store, all or nothing."""
    report = AppealImportReport(path=str(params.path), dry_run=not params.commit)
    return run_table_import(params, report, COLUMNS, REQUIRED, validate, locate, write)


# --- 1. validate ------------------------------------------------------------------------------


def validate(table: Table, params: AppealImportParams, report: AppealImportReport) -> AppealRows:
    """Every cell checked, every problem rejected with its row and column; the typed batch."""
    rows = table.rows
    check_filled(table, REQUIRED, report)
    check_unique(table, "source_ref", report)
    check_lengths(table, length_limits(), report)

    category_ids = dict(Category.objects.values_list("code", "id"))
    category = table.column("category")
    unknown = (~category.isin(category_ids) & (category != "")).to_numpy()
    report.reject_rows(rows[unknown], [_("unknown category %(code)r") % {"code": c}
                                       for c in category[unknown]], table.name("category"))

    channel = table.column("channel").replace("", str(params.channel)).to_numpy(dtype=object)
    allowed = set(Channel.values) if params.actor is None else allowed_channels(params.actor)
    for bad, message in (
        (~np.isin(channel, Channel.values), _("unknown channel %(channel)r")),
        (np.isin(channel, Channel.values) & ~np.isin(channel, list(allowed)),
         _("you may not import appeals on the channel %(channel)r")),
    ):
        report.reject_rows(rows[bad], [message % {"channel": c} for c in channel[bad]],
                           table.name("channel"))

    status_text = table.column("status").str.lower()
    words = {**{s: s for s in Status.values}, **STATUS_MAP}  # ours, and the exports' words
    status = status_text.map(words)
    unmapped = status.isna().to_numpy()
    report.reject_rows(rows[unmapped], [_("unknown status %(status)r") % {"status": s}
                                        for s in status_text[unmapped]], table.name("status"))

    when_text = table.column("reported_at")
    reported = _times(when_text)
    not_time = reported.isna() & (when_text != "").to_numpy()
    report.reject_rows(rows[not_time], [_("%(column)s %(value)r is not a date and time")
                                        % {"column": table.name("reported_at"), "value": v}
                                        for v in when_text[not_time]],
                       table.name("reported_at"))

    has_xy = ((table.column("x") != "") | (table.column("y") != "")).to_numpy()
    lon, lat = coordinates_to_wgs84(table, report, params.crs, where=has_xy)
    crs = table.column("crs").replace("", params.crs).to_numpy(dtype=object)
    return AppealRows(
        row=rows,
        source_ref=table.column("source_ref").to_numpy(dtype=object),
        category_id=category.map(category_ids).fillna(-1).astype(np.int64).to_numpy(),
        channel=channel,
        status=status.fillna("").astype(str).to_numpy(dtype=object),
        reported_at=reported,
        raw_x=np.where(has_xy, to_float(table.column("x")).to_numpy(dtype=float), np.nan),
        raw_y=np.where(has_xy, to_float(table.column("y")).to_numpy(dtype=float), np.nan),
        raw_crs=np.where(has_xy, crs, ""),
        lon=lon,
        lat=lat,
        address=table.column("address").to_numpy(dtype=object),
        description=table.column("description").to_numpy(dtype=object),
        contact_phone=table.column("contact_phone").to_numpy(dtype=object),
    )


def _times(text: pd.Series) -> pd.DatetimeIndex:
    """Times as written; one without a UTC offset is local time of the deployment. NaT where
    the text is not a time (or a local time that does not exist)."""
    zone = timezone.get_default_timezone()
    try:
        parsed = pd.DatetimeIndex(pd.to_datetime(text, errors="coerce", format="mixed"))
    except ValueError:  # some rows carry a UTC offset and others do not: one by one
        return pd.DatetimeIndex([_time(v, zone) for v in text], tz="UTC").tz_convert(zone)
    if parsed.tz is None:
        return parsed.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
    return parsed.tz_convert(zone)


def _time(text: str, zone: dt.tzinfo) -> pd.Timestamp:
    moment = pd.to_datetime(text, errors="coerce")
    if pd.isna(moment):
        return pd.NaT
    if moment.tzinfo is None:
        moment = moment.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
    return moment.tz_convert("UTC")


# --- 2. locate --------------------------------------------------------------------------------


def locate(rows: AppealRows, params: AppealImportParams, report: AppealImportReport,
           ) -> Placement:
    """Geocode the rows without coordinates, assign every point, find each row's district."""
    n = len(rows)
    lon, lat = rows.lon.copy(), rows.lat.copy()
    building = np.full(n, -1, dtype=np.int64)
    score = np.full(n, np.nan)
    need = np.flatnonzero(np.isnan(lon) & (rows.address != ""))
    if len(need):
        index = address_index()
        threshold = settings.GEOGRID["GEOCODE_MIN_SCORE"]
        for i in need:
            hit = index.lookup(rows.address[i], threshold)
            if hit is not None:
                lon[i], lat[i], building[i], score[i] = hit.lon, hit.lat, hit.building_id, hit.score
    report.geocoded = int((building >= 0).sum())
    located = np.isfinite(lon)
    placed = BulkAssignment(np.full(n, -1, dtype=np.int64),
                            np.full(n, METHOD_CODE["unlocated"], dtype=np.uint8),
                            np.full(n, np.nan))
    if located.any():
        part = assign_many(lon[located], lat[located])
        placed.grid_id[located], placed.method[located] = part.grid_id, part.method
        placed.distance_m[located] = part.distance_m
    report.assignment = placed.counts()
    report.unlocated = [UnlocatedRow(int(rows.row[i]), rows.source_ref[i], rows.address[i])
                        for i in np.flatnonzero(placed.method == METHOD_CODE["unlocated"])]
    return Placement(lon, lat, building, score, placed, _districts(placed.grid_id, lon, lat))


def _districts(grid_id: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The district of each row's grid (its code's prefix); for a row without a grid, the one
    district_for_point gives — asked once per distinct point, unlocated rows being few."""
    width = code_lengths()[Level.DISTRICT]
    ids = np.unique(grid_id[grid_id >= 0]).tolist()
    codes = dict(Grid.objects.filter(pk__in=ids).values_list("pk", "code"))
    district = np.array([codes[g][:width] if g >= 0 else "" for g in grid_id.tolist()],
                        dtype=object)
    asked: dict[tuple[float | None, float | None], str] = {}
    for i in np.flatnonzero(grid_id < 0):
        point = (None, None) if np.isnan(lon[i]) else (float(lon[i]), float(lat[i]))
        if point not in asked:
            asked[point] = district_for_point(*point)
        district[i] = asked[point]
    return district


# --- 3. write ---------------------------------------------------------------------------------


def write(rows: AppealRows, placed: Placement, params: AppealImportParams,
          report: AppealImportReport) -> None:
    """Store the rows not imported before, with tracking numbers and timeline rows; runs inside
    importers.report.write_atomically (one transaction, rolled back for a dry run)."""
    with connection.cursor() as cursor:
        new = ~_imported_before(cursor, rows)
        report.created = rows.source_ref[new].tolist()
        report.unchanged = rows.source_ref[~new].tolist()
        if not new.any():
            return
        numbers = _tracking_numbers(rows, placed.district, new)
        raw = cursor.cursor
        raw.execute("DROP TABLE IF EXISTS _imp_appeal")  # a caller's outer transaction may hold one
        raw.execute(
            """CREATE TEMP TABLE _imp_appeal (i int, row int, tracking text, district text,
               source_ref text, category_id bigint, channel text, status text, reported_at
               timestamptz, raw_x float8, raw_y float8, raw_crs text, address text,
               description text, contact_phone text, lon float8, lat float8, building_id bigint,
               score float8, grid_id bigint, method text, dist float8) ON COMMIT DROP"""
        )
        with raw.copy("COPY _imp_appeal FROM STDIN") as copy:
            for values in _copy_rows(rows, placed, numbers, np.flatnonzero(new)):
                copy.write_row(values)
        raw.execute(
            """
            INSERT INTO layers_appeal (tracking, token_hash, district_code, location, raw_x, raw_y,
                raw_crs, address, building_id, geocode_score, category_id, description, channel,
                source_ref, contact_phone, status, grid_id, assignment, assignment_distance_m,
                reported_at, created_at, updated_at)
            SELECT tracking, '', district,
                   CASE WHEN lon IS NULL THEN NULL
                        ELSE ST_SetSRID(ST_MakePoint(lon, lat), 4326) END,
                   raw_x, raw_y, raw_crs, address, building_id, score, category_id, description,
                   channel, source_ref, contact_phone, status, grid_id, method, dist,
                   reported_at, now(), now()
              FROM _imp_appeal ORDER BY i
            """
        )
        actor = params.actor
        timeline.insert_from_select(
            cursor,
            """
            SELECT a.id, %s, now(), %s, %s, '', i.status, '',
                   jsonb_build_object('file', %s::text, 'row', i.row, 'method', i.method,
                                      'version_id', i.grid_id)
              FROM _imp_appeal i JOIN layers_appeal a ON a.tracking = i.tracking
            """,
            (AppealEvent.Kind.IMPORTED.value, actor.pk if actor else None,
             submitter_role(actor) if actor else SYSTEM_ROLE, Path(params.path).name),
        )


def _imported_before(cursor: CursorWrapper, rows: AppealRows) -> np.ndarray:
    """True for rows whose (channel, order id) is already stored."""
    cursor.execute(
        """
        SELECT f.i - 1
          FROM unnest(%s::text[], %s::text[]) WITH ORDINALITY AS f(channel, source_ref, i)
          JOIN layers_appeal a ON a.channel = f.channel AND a.source_ref = f.source_ref
         WHERE a.source_ref <> ''
        """,
        (rows.channel.tolist(), rows.source_ref.tolist()),
    )
    before = np.zeros(len(rows), dtype=bool)
    before[[i for (i,) in cursor.fetchall()]] = True
    return before


def _tracking_numbers(rows: AppealRows, district: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Tracking numbers of the `new` rows ('' elsewhere): one block of sequence numbers reserved
    per (district, local day), in that order so concurrent imports lock alike, then numbered by
    time of report and file order."""
    chosen = np.flatnonzero(new)
    at = rows.reported_at[chosen]
    # tracking.local_day of every row, vectorised: the day in the current time zone.
    day = at.tz_convert(timezone.get_current_timezone()).normalize()
    order = pd.DataFrame({"district": district[chosen], "day": day, "at": at, "i": chosen})
    order = order.sort_values(["district", "day", "at", "i"], kind="stable")
    numbers = np.full(len(rows), "", dtype=object)
    for (code, midnight), group in order.groupby(["district", "day"], sort=False):
        date = midnight.date()
        block = tracking.reserve(code, date, len(group))
        numbers[group["i"].to_numpy()] = [tracking.format_tracking(code, date, s) for s in block]
    return numbers


def _copy_rows(rows: AppealRows, placed: Placement, numbers: np.ndarray,
               chosen: np.ndarray) -> Iterator[tuple]:
    """The COPY rows of `chosen`, in the column order of _imp_appeal (NaN and -1 → NULL)."""

    def floats(values: np.ndarray) -> list[float | None]:
        return [None if v != v else v for v in values[chosen].tolist()]

    def ids(values: np.ndarray) -> list[int | None]:
        return [None if v < 0 else v for v in values[chosen].tolist()]

    def plain(values: np.ndarray) -> list:
        return values[chosen].tolist()

    assignment = placed.assignment
    return zip(
        chosen.tolist(), plain(rows.row), plain(numbers), plain(placed.district),
        plain(rows.source_ref), plain(rows.category_id), plain(rows.channel),
        plain(rows.status), rows.reported_at[chosen].to_pydatetime().tolist(),
        floats(rows.raw_x), floats(rows.raw_y), plain(rows.raw_crs), plain(rows.address),
        plain(rows.description), plain(rows.contact_phone), floats(placed.lon),
        floats(placed.lat), ids(placed.building_id), floats(placed.geocode_score),
        ids(assignment.grid_id), [METHODS[m] for m in assignment.method[chosen].tolist()],
        floats(assignment.distance_m),
        strict=True,
    )
