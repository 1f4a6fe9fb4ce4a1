"""Buildings / standard addresses from CSV or XLSX → layers.Building, assigned set-based.

Upsert by source id. Dry run by default; with commit=True everything is written in one
transaction or, when any row is invalid, nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.db import connection, transaction

from geogrid import coords
from geogrid.locate import METHODS, assign_many
from importers.tables import TableError, read_table, require_columns, to_float

COLUMNS = {
    "source_id": "building_id",
    "address": "address",
    "estate_or_road": "estate_or_road",
    "door_no": "door_no",
    "building_no": "building_no",
    "units": "units",
    "households": "households",
    "aliases": "aliases",
    "x": "lon",
    "y": "lat",
    "crs": "crs",
}
REQUIRED = ["source_id", "address", "estate_or_road", "building_no", "x", "y"]


@dataclass
class BuildingImportParams:
    path: Path
    columns: dict[str, str] = field(default_factory=dict)  # our name → the file's column
    crs: str = "wgs84"  # used when the file has no CRS column
    sheet: str | None = None
    encoding: str = "utf-8"
    commit: bool = False


@dataclass
class BuildingImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    assignment: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    committed: bool = False
    seconds: float = 0.0

    def lines(self) -> list[str]:
        out = [f"rows: {self.rows}", f"assignment: {self.assignment}"]
        if self.committed:
            out.append(f"created: {self.created}, updated: {self.updated}")
        out += [f"error: {e}" for e in self.errors[:50]]
        if len(self.errors) > 50:
            out.append(f"… and {len(self.errors) - 50} more errors")
        out.append("committed" if self.committed else "dry run: nothing written (use --commit)")
        return out


def convert_coordinates(frame, x_col: str, y_col: str, crs_values, errors: list[str]):
    """Vectorised per CRS group; appends one error per unusable row. Returns lon, lat, ok."""
    x = to_float(frame[x_col]).to_numpy(dtype=float)
    y = to_float(frame[y_col]).to_numpy(dtype=float)
    rows = frame["__row"].to_numpy()
    lon = np.full(len(frame), np.nan)
    lat = np.full(len(frame), np.nan)
    crs_values = np.asarray(crs_values, dtype=object)
    for name in np.unique(crs_values):
        sel = crs_values == name
        try:
            crs = coords.parse_crs(name)
        except coords.CoordinateError as exc:
            errors += [f"row {r}: {exc}" for r in rows[sel]]
            continue
        good = sel & np.isfinite(x) & np.isfinite(y)
        if good.any():
            lon[good], lat[good] = coords.to_wgs84(x[good], y[good], crs)
    bad_number = ~(np.isfinite(x) & np.isfinite(y))
    for r, xv, yv in zip(rows[bad_number], frame[x_col][bad_number], frame[y_col][bad_number],
                         strict=True):
        errors.append(f"row {r}: coordinates {xv!r}, {yv!r} are not numbers")
    swapped = np.isfinite(lat) & (np.abs(lat) > 90) & (np.abs(lon) <= 90)
    for r in rows[swapped]:
        errors.append(f"row {r}: latitude outside −90…90; latitude and longitude look swapped")
    out_of_range = np.isfinite(lat) & ~swapped & ((np.abs(lat) > 90) | (np.abs(lon) > 180))
    for r in rows[out_of_range]:
        errors.append(f"row {r}: coordinates outside longitude −180…180 / latitude −90…90")
    ok = np.isfinite(lon) & np.isfinite(lat) & ~swapped & ~out_of_range
    return lon, lat, ok


def import_buildings(params: BuildingImportParams) -> BuildingImportReport:
    started = time.perf_counter()
    report = BuildingImportReport()
    mapping = {**COLUMNS, **params.columns}
    try:
        frame = read_table(params.path, sheet=params.sheet, encoding=params.encoding)
        require_columns(frame, mapping, REQUIRED, Path(params.path).name)
    except TableError as exc:
        report.errors.append(str(exc))
        return report
    report.rows = len(frame)
    col = {k: (frame[v] if v in frame.columns else None) for k, v in mapping.items()}
    for key in ("source_id", "address", "estate_or_road", "building_no"):
        for r in frame["__row"][col[key] == ""]:
            report.errors.append(f"row {r}: {mapping[key]} is empty")
    dup = col["source_id"].duplicated(keep="first") & (col["source_id"] != "")
    for r, sid in zip(frame["__row"][dup], col["source_id"][dup], strict=True):
        report.errors.append(f"row {r}: building id {sid} appears twice")
    crs_values = col["crs"].replace("", params.crs) if col["crs"] is not None else (
        [params.crs] * len(frame))
    lon, lat, ok = convert_coordinates(frame, mapping["x"], mapping["y"], crs_values, report.errors)
    ints: dict[str, list[int]] = {}
    for key, default in (("units", 1), ("households", 0)):
        series = col[key]
        if series is None:
            ints[key] = [default] * len(frame)
            continue
        values = to_float(series)
        bad = (values.isna() & (series != "")) | (values < 0) | (values % 1 != 0)
        for r in frame["__row"][bad]:
            report.errors.append(f"row {r}: {mapping[key]} must be a whole number ≥ 0")
        ints[key] = values.where(~bad, default).fillna(default).astype(int).tolist()
    if report.errors:
        return report
    result = assign_many(lon[ok], lat[ok])
    report.assignment = result.counts()
    if not params.commit:
        report.seconds = time.perf_counter() - started
        return report
    text = {k: (col[k].tolist() if col[k] is not None else [""] * len(frame))
            for k in ("source_id", "address", "estate_or_road", "door_no", "building_no",
                      "aliases")}
    aliases = [a.replace("；", "\n").replace(";", "\n") for a in text["aliases"]]
    grid = [None if g < 0 else int(g) for g in result.grid_id.tolist()]
    method = [METHODS[m] for m in result.method.tolist()]
    rows = zip(text["source_id"], text["address"], text["estate_or_road"], text["door_no"],
               text["building_no"], ints["units"], ints["households"], aliases,
               lon.tolist(), lat.tolist(), grid, method, strict=True)
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor
        raw.execute("DROP TABLE IF EXISTS _imp_building")  # an outer transaction may hold one
        raw.execute(
            "CREATE TEMP TABLE _imp_building (source_id text, address text, estate_or_road text,"
            " door_no text, building_no text, units int, households int, aliases text,"
            " lon float8, lat float8, grid_id bigint, method text) ON COMMIT DROP"
        )
        with raw.copy("COPY _imp_building FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        raw.execute(
            "SELECT count(*) FROM _imp_building i JOIN layers_building b USING (source_id)"
        )
        report.updated = raw.fetchone()[0]
        raw.execute(
            """
            INSERT INTO layers_building (source_id, address, estate_or_road, door_no, building_no,
                units, households, aliases, location, grid_id, assignment)
            SELECT source_id, address, estate_or_road, door_no, building_no, units, households,
                   aliases, ST_SetSRID(ST_MakePoint(lon, lat), 4326), grid_id, method
              FROM _imp_building
            ON CONFLICT (source_id) DO UPDATE SET
                address = EXCLUDED.address, estate_or_road = EXCLUDED.estate_or_road,
                door_no = EXCLUDED.door_no, building_no = EXCLUDED.building_no,
                units = EXCLUDED.units, households = EXCLUDED.households,
                aliases = EXCLUDED.aliases, location = EXCLUDED.location,
                grid_id = EXCLUDED.grid_id, assignment = EXCLUDED.assignment
            """
        )
        report.created = raw.rowcount - report.updated
    report.committed = True
    report.seconds = time.perf_counter() - started
    return report
