"""12345 hotline exports (CSV/XLSX) → layers.Appeal, geocoded and assigned set-based.

Columns are mapped by options; a row is located by its coordinates (with a CRS column or a
default CRS) or, without them, by geocoding its address against the building register. Rows
that stay unlocated are imported as such and listed in the report for a dispatcher to pin.
Dry run by default; with commit=True all rows are written in one transaction, or none when any
row is invalid. Rows whose source id was imported before are skipped (re-running is safe).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import connection, transaction

from geogrid.hierarchy import code_lengths
from geogrid.locate import METHODS, assign_many
from importers.buildings import convert_coordinates
from importers.tables import TableError, read_table, require_columns
from layers.appeals.models import Category, Channel, Status
from layers.buildings.geocoding import address_index

COLUMNS = {
    "source_ref": "appeal_id",
    "category": "category_code",
    "channel": "channel",
    "status": "status",
    "x": "lon",
    "y": "lat",
    "crs": "crs",
    "address": "address",
    "description": "description",
    "reported_at": "reported_at",
    "contact_phone": "contact_phone",
}
REQUIRED = ["source_ref", "category", "reported_at"]
# Workflow words of common exports (and of the sample city) → our statuses.
STATUS_MAP = {
    "submitted": Status.RECEIVED, "received": Status.RECEIVED, "受理": Status.ACCEPTED,
    "accepted": Status.ACCEPTED, "dispatched": Status.DISPATCHED, "派单": Status.DISPATCHED,
    "in_progress": Status.IN_PROGRESS, "办理中": Status.IN_PROGRESS,
    "returned": Status.RETURNED, "退单": Status.RETURNED,
    "suspended": Status.SUSPENDED, "挂账": Status.SUSPENDED,
    "resolved": Status.RESOLVED, "replied": Status.RESOLVED, "已办结": Status.RESOLVED,
    "checked": Status.CHECKED, "已核查": Status.CHECKED,
    "closed": Status.CLOSED, "办结": Status.CLOSED, "结案": Status.CLOSED,
    "rejected": Status.REJECTED, "merged": Status.MERGED, "": Status.RECEIVED,
}


@dataclass
class AppealImportParams:
    path: Path
    columns: dict[str, str] = field(default_factory=dict)  # our name → the file's column
    crs: str = "wgs84"
    channel: str = Channel.HOTLINE_12345
    sheet: str | None = None
    encoding: str = "utf-8"
    commit: bool = False
    progress: bool = False


@dataclass
class AppealImportReport:
    rows: int = 0
    imported: int = 0
    skipped_existing: int = 0
    geocoded: int = 0
    assignment: dict[str, int] = field(default_factory=dict)
    unlocated: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    committed: bool = False
    seconds: dict[str, float] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [f"rows: {self.rows}", f"geocoded from the address: {self.geocoded}",
               f"assignment: {self.assignment}"]
        if self.unlocated:
            out.append(f"unlocated ({len(self.unlocated)}), for a dispatcher to pin:")
            out += [f"  row {u['row']} {u['source_ref']}: {u['address'] or '(no address)'}"
                    for u in self.unlocated[:100]]
        out += [f"error: {e}" for e in self.errors[:50]]
        if len(self.errors) > 50:
            out.append(f"… and {len(self.errors) - 50} more errors")
        if self.committed:
            out.append(f"imported: {self.imported}, already imported before: "
                       f"{self.skipped_existing}")
        out.append("committed" if self.committed else "dry run: nothing written (use --commit)")
        out.append("time: " + ", ".join(f"{k} {v:.2f} s" for k, v in self.seconds.items()))
        return out


def import_appeals(params: AppealImportParams) -> AppealImportReport:
    report = AppealImportReport()
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        report.seconds[name] = now - clock
        clock = now

    mapping = {**COLUMNS, **params.columns}
    try:
        frame = read_table(params.path, sheet=params.sheet, encoding=params.encoding)
        require_columns(frame, mapping, REQUIRED, Path(params.path).name)
    except TableError as exc:
        report.errors.append(str(exc))
        return report
    n = report.rows = len(frame)
    rows = frame["__row"].to_numpy()

    def column(key: str, default: str = "") -> pd.Series:
        name = mapping[key]
        return frame[name] if name in frame.columns else pd.Series([default] * n)

    lap("read")
    # Categories, channels, statuses, times: checked set-wise, one message per bad row.
    category_ids = dict(Category.objects.values_list("code", "id"))
    category = column("category")
    for r, c in zip(rows[~category.isin(category_ids)], category[~category.isin(category_ids)],
                    strict=True):
        report.errors.append(f"row {r}: unknown category {c!r}")
    channel = column("channel").replace("", params.channel)
    bad = ~channel.isin(Channel.values)
    report.errors += [f"row {r}: unknown channel {c!r}"
                      for r, c in zip(rows[bad], channel[bad], strict=True)]
    status_raw = column("status").str.lower()
    status = status_raw.map(lambda s: STATUS_MAP.get(s, s if s in Status.values else None))
    report.errors += [f"row {r}: unknown status {s!r}"
                      for r, s in zip(rows[status.isna()], status_raw[status.isna()], strict=True)]
    reported = pd.to_datetime(column("reported_at"), errors="coerce", format="mixed")
    if reported.dt.tz is None:
        reported = reported.dt.tz_localize(settings.TIME_ZONE)
    report.errors += [f"row {r}: reported_at {v!r} is not a date and time"
                      for r, v in zip(rows[reported.isna()], column("reported_at")[reported.isna()],
                                      strict=True)]
    source = column("source_ref")
    dup = source.duplicated() | (source == "")
    report.errors += [f"row {r}: source id {s!r} is empty or repeated"
                      for r, s in zip(rows[dup], source[dup], strict=True)]
    description_limit = settings.GEOGRID["APPEAL_DESCRIPTION_MAX_CHARS"]
    long = column("description").str.len() > description_limit
    report.errors += [f"row {r}: description longer than {description_limit} characters"
                      for r in rows[long]]

    # Coordinates where given, else the address.
    x_raw, y_raw = column("x"), column("y")
    has_xy = (x_raw != "") | (y_raw != "")
    crs_values = column("crs").replace("", params.crs).to_numpy(dtype=object)
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    if has_xy.any():
        sub = frame[has_xy.to_numpy()].assign(__x=x_raw[has_xy], __y=y_raw[has_xy])
        lon_s, lat_s, _ok = convert_coordinates(sub, "__x", "__y", crs_values[has_xy.to_numpy()],
                                                report.errors)
        lon[has_xy.to_numpy()], lat[has_xy.to_numpy()] = lon_s, lat_s
    lap("validate")
    if report.errors:
        return report
    address = column("address")
    building = np.full(n, -1, dtype=np.int64)
    score = np.full(n, np.nan)
    need = np.flatnonzero(~has_xy.to_numpy() & (address != "").to_numpy())
    if len(need):
        index = address_index()
        threshold = settings.GEOGRID["GEOCODE_MIN_SCORE"]
        for i in need:
            hit = index.lookup(address.iat[i], threshold)
            if hit is not None:
                lon[i], lat[i], building[i], score[i] = hit.lon, hit.lat, hit.building_id, hit.score
    report.geocoded = int((building >= 0).sum())
    lap("geocode")
    located = np.isfinite(lon)
    grid_id = np.full(n, -1, dtype=np.int64)
    method = np.full(n, METHODS.index("unlocated"), dtype=np.uint8)
    distance = np.full(n, np.nan)
    if located.any():
        result = assign_many(lon[located], lat[located])
        grid_id[located], method[located], distance[located] = (
            result.grid_id, result.method, result.distance_m)
    report.assignment = {name: int((method == i).sum()) for i, name in enumerate(METHODS)}
    unl = np.flatnonzero(method == METHODS.index("unlocated"))
    report.unlocated = [{"row": int(rows[i]), "source_ref": source.iat[i],
                         "address": address.iat[i]} for i in unl]
    lap("assign")
    if not params.commit:
        return report
    _write(report, params, frame, column, category_ids, channel, status, reported, lon, lat,
           x_raw, y_raw, crs_values, has_xy.to_numpy(), building, score, grid_id, method,
           distance)
    lap("write")
    return report


def _write(report, params, frame, column, category_ids, channel, status, reported, lon, lat,
           x_raw, y_raw, crs_values, has_xy, building, score, grid_id, method, distance) -> None:
    n = len(frame)
    district_len = code_lengths()[1]
    nan_to_none = lambda a: [None if v != v else v for v in a.tolist()]  # noqa: E731
    x = pd.to_numeric(x_raw, errors="coerce").to_numpy()
    y = pd.to_numeric(y_raw, errors="coerce").to_numpy()
    payload = zip(
        range(n), column("source_ref").tolist(),
        column("category").map(category_ids).tolist(), channel.tolist(),
        [str(s) for s in status.tolist()], nan_to_none(lon), nan_to_none(lat),
        nan_to_none(np.where(has_xy, x, np.nan)), nan_to_none(np.where(has_xy, y, np.nan)),
        np.where(has_xy, crs_values, "").tolist(), column("address").tolist(),
        column("description").tolist(), column("contact_phone").tolist(),
        [t.isoformat() for t in reported], [None if b < 0 else int(b) for b in building.tolist()],
        nan_to_none(score), [None if g < 0 else int(g) for g in grid_id.tolist()],
        [METHODS[m] for m in method.tolist()], nan_to_none(distance),
        strict=True,
    )
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor
        raw.execute("DROP TABLE IF EXISTS _imp_appeal")  # a caller's outer transaction may hold one
        raw.execute(
            """CREATE TEMP TABLE _imp_appeal (i int, source_ref text, category_id bigint,
               channel text, status text, lon float8, lat float8, raw_x float8, raw_y float8,
               raw_crs text, address text, description text, contact_phone text,
               reported_at timestamptz, building_id bigint, score float8, grid_id bigint,
               method text, dist float8, district text, day date, seq int) ON COMMIT DROP"""
        )
        with raw.copy(
            "COPY _imp_appeal (i, source_ref, category_id, channel, status, lon, lat, raw_x,"
            " raw_y, raw_crs, address, description, contact_phone, reported_at, building_id,"
            " score, grid_id, method, dist) FROM STDIN"
        ) as copy:
            for row in payload:
                copy.write_row(row)
        raw.execute(
            "DELETE FROM _imp_appeal i USING layers_appeal a"
            " WHERE a.channel = i.channel AND a.source_ref = i.source_ref"
        )
        report.skipped_existing = raw.rowcount
        # District: the assigned grid's code prefix, else the nearest district, else default.
        raw.execute(
            """
            UPDATE _imp_appeal i SET district = left(g.code, %s)
              FROM geogrid_grid g WHERE g.id = i.grid_id
            """,
            (district_len,),
        )
        raw.execute(
            """
            UPDATE _imp_appeal i SET district = COALESCE((
                SELECT code FROM geogrid_grid d WHERE d.level = 1 AND d.valid_to IS NULL
                ORDER BY CASE WHEN i.lon IS NULL THEN 0
                         ELSE d.boundary <-> ST_SetSRID(ST_MakePoint(i.lon, i.lat), 4326) END,
                         d.code LIMIT 1), NULLIF(%s, ''), %s)
             WHERE district IS NULL
            """,
            (settings.GEOGRID.get("DEFAULT_DISTRICT_CODE", ""), "0" * district_len),
        )
        # Tracking numbers: reserve one block per (district, local day), number within it.
        raw.execute(
            "UPDATE _imp_appeal SET day = (reported_at AT TIME ZONE %s)::date",
            (settings.TIME_ZONE,),
        )
        raw.execute(
            """
            WITH need AS (SELECT district, day, count(*) AS n FROM _imp_appeal GROUP BY 1, 2),
            got AS (
                INSERT INTO layers_trackingsequence (district_code, day, last)
                SELECT district, day, n FROM need
                ON CONFLICT (district_code, day)
                DO UPDATE SET last = layers_trackingsequence.last + EXCLUDED.last
                RETURNING district_code, day, last
            )
            UPDATE _imp_appeal i SET seq = got.last - need.n + r.k
              FROM (SELECT i AS idx, row_number() OVER (PARTITION BY district, day
                                                       ORDER BY reported_at, i) AS k
                      FROM _imp_appeal) r, got, need
             WHERE r.idx = i.i AND got.district_code = i.district AND got.day = i.day
               AND need.district = i.district AND need.day = i.day
            """
        )
        raw.execute(
            """
            INSERT INTO layers_appeal (tracking, token_hash, district_code, location, raw_x, raw_y,
                raw_crs, address, building_id, geocode_score, category_id, description, channel,
                source_ref, contact_phone, status, grid_id, assignment, assignment_distance_m,
                reported_at, created_at, updated_at)
            SELECT district || '-' || to_char(day, 'YYYYMMDD') || '-' || lpad(seq::text, 5, '0'),
                   '', district,
                   CASE WHEN lon IS NULL THEN NULL
                        ELSE ST_SetSRID(ST_MakePoint(lon, lat), 4326) END,
                   raw_x, raw_y, raw_crs, address, building_id, score, category_id, description,
                   channel, source_ref, contact_phone, status, grid_id, method, dist,
                   reported_at, now(), now()
              FROM _imp_appeal ORDER BY i
            """
        )
        report.imported = raw.rowcount
        raw.execute(
            """
            INSERT INTO layers_appealevent (appeal_id, kind, at, actor_id, data)
            SELECT a.id, 'imported', now(), NULL,
                   jsonb_build_object('file', %s::text, 'method', i.method)
              FROM _imp_appeal i JOIN layers_appeal a
                ON a.channel = i.channel AND a.source_ref = i.source_ref
            """,
            (Path(params.path).name,),
        )
    report.committed = True
