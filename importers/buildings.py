"""Buildings / standard addresses from CSV or XLSX → layers.buildings.Building, assigned
set-based.

Steps: read → validate (every row, set-wise: required cells, unique building ids, text lengths,
whole numbers, coordinates converted to WGS 84 per CRS) → locate (geogrid.locate.assign_many) →
write (upsert by building id). A building is created, updated when any value (location and grid
included) differs, or unchanged. Dry run by default: the write runs in a transaction that is
rolled back; with commit=True everything is written, or nothing when any row is rejected.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from django.db import connection
from django.db.models import Field
from django.utils.translation import gettext as _

from geogrid.locate import METHODS, BulkAssignment, assign_many
from importers.params import TableImportParams
from importers.report import ImportReport
from importers.tables import (
    Table,
    check_filled,
    check_lengths,
    check_unique,
    coordinates_to_wgs84,
    run_table_import,
    to_float,
)
from layers.buildings.models import Building

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
TEXT = ["source_id", "address", "estate_or_road", "door_no", "building_no", "aliases"]
COUNTS = {"units": 1, "households": 0}  # whole-number columns and their default


@dataclass
class BuildingImportParams(TableImportParams):
    """Columns: see COLUMNS; `crs` is for rows without a CRS column or value."""


@dataclass
class BuildingImportReport(ImportReport):
    assignment: dict[str, int] = field(default_factory=dict)  # method → buildings

    def details(self) -> list[str]:
        return [_("assignment: %(counts)s") % {"counts": self.assignment}] if self.ok else []


@dataclass
class BuildingRows:
    """The validated file: one entry per row, in file order."""

    text: dict[str, list[str]]  # the TEXT columns ('' where the file has none)
    counts: dict[str, list[int]]  # the COUNTS columns, defaults filled in
    lon: np.ndarray  # WGS 84
    lat: np.ndarray

    def __len__(self) -> int:
        return len(self.lon)


def import_buildings(params: BuildingImportParams) -> BuildingImportReport:
    """Read, validate, locate and (with `commit`) store buildings, all or nothing."""
    report = BuildingImportReport(path=str(params.path), dry_run=not params.commit)
    return run_table_import(params, report, COLUMNS, REQUIRED, validate, locate, write)


def _max_length(name: str) -> int | None:
    """The length limit of a Building text column (None: unlimited)."""
    column = Building._meta.get_field(name)
    return column.max_length if isinstance(column, Field) else None


def validate(table: Table, params: BuildingImportParams, report: BuildingImportReport,
             ) -> BuildingRows:
    """Every cell checked, every problem rejected with its row and column; the typed batch."""
    check_filled(table, ["source_id", "address", "estate_or_road", "building_no"], report)
    check_unique(table, "source_id", report)
    check_lengths(table, {k: _max_length(k) for k in TEXT}, report)
    lon, lat = coordinates_to_wgs84(table, report, params.crs)
    counts: dict[str, list[int]] = {}
    for key, default in COUNTS.items():
        text = table.column(key)
        values = to_float(text)
        # An empty cell (or a missing column) takes the default.
        bad = ((text != "") & (values.isna() | (values < 0) | (values % 1 != 0))).to_numpy()
        report.reject_rows(table.rows[bad], _("%(column)s must be a whole number ≥ 0")
                           % {"column": table.name(key)}, table.name(key))
        counts[key] = values.where(~bad, default).fillna(default).astype(int).tolist()
    return BuildingRows({k: table.column(k).tolist() for k in TEXT}, counts, lon, lat)


def locate(rows: BuildingRows, params: BuildingImportParams, report: BuildingImportReport,
           ) -> BulkAssignment:
    """Each building's micro-grid by the assignment rules (geogrid.locate)."""
    placed = assign_many(rows.lon, rows.lat)
    report.assignment = placed.counts()
    return placed


def write(rows: BuildingRows, placed: BulkAssignment, params: BuildingImportParams,
          report: BuildingImportReport) -> None:
    """Upsert by source id; a row whose values are all the same as stored stays untouched."""
    text = dict(rows.text)
    # Aliases are one per line in the database; files separate them with semicolons.
    text["aliases"] = [a.replace("；", "\n").replace(";", "\n") for a in text["aliases"]]
    grid = [None if g < 0 else int(g) for g in placed.grid_id.tolist()]
    method = [METHODS[m] for m in placed.method.tolist()]
    copy_rows = zip(range(len(rows)), *(text[k] for k in TEXT), rows.counts["units"],
                    rows.counts["households"], rows.lon.tolist(), rows.lat.tolist(), grid, method,
                    strict=True)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        raw.execute("DROP TABLE IF EXISTS _imp_building")  # an outer transaction may hold one
        raw.execute(
            "CREATE TEMP TABLE _imp_building (i int, source_id text, address text,"
            " estate_or_road text, door_no text, building_no text, aliases text, units int,"
            " households int, lon float8, lat float8, grid_id bigint, method text) ON COMMIT DROP"
        )
        with raw.copy("COPY _imp_building FROM STDIN") as copy:
            for row in copy_rows:
                copy.write_row(row)
        raw.execute("SELECT source_id FROM _imp_building JOIN layers_building USING (source_id)")
        existing = {sid for (sid,) in raw.fetchall()}
        raw.execute(
            """
            INSERT INTO layers_building AS b (source_id, address, estate_or_road, door_no,
                building_no, units, households, aliases, location, grid_id, assignment)
            SELECT source_id, address, estate_or_road, door_no, building_no, units, households,
                   aliases, ST_SetSRID(ST_MakePoint(lon, lat), 4326), grid_id, method
              FROM _imp_building ORDER BY i
            ON CONFLICT (source_id) DO UPDATE SET
                address = EXCLUDED.address, estate_or_road = EXCLUDED.estate_or_road,
                door_no = EXCLUDED.door_no, building_no = EXCLUDED.building_no,
                units = EXCLUDED.units, households = EXCLUDED.households,
                aliases = EXCLUDED.aliases, location = EXCLUDED.location,
                grid_id = EXCLUDED.grid_id, assignment = EXCLUDED.assignment
            WHERE (b.address, b.estate_or_road, b.door_no, b.building_no, b.units, b.households,
                   b.aliases, b.grid_id, b.assignment)
                  IS DISTINCT FROM
                  (EXCLUDED.address, EXCLUDED.estate_or_road, EXCLUDED.door_no,
                   EXCLUDED.building_no, EXCLUDED.units, EXCLUDED.households, EXCLUDED.aliases,
                   EXCLUDED.grid_id, EXCLUDED.assignment)
               OR NOT ST_Equals(b.location, EXCLUDED.location)
            RETURNING source_id
            """
        )
        written = {sid for (sid,) in raw.fetchall()}
    for sid in text["source_id"]:
        if sid not in existing:
            report.created.append(sid)
        elif sid in written:
            report.updated.append(sid)
        else:
            report.unchanged.append(sid)
