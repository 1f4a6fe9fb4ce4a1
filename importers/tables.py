"""CSV and XLSX tables for the table importers (buildings, 12345 hotline exports), and the
checks they share.

Every cell is read as stripped text ('' for empty), so no check depends on pandas guessing
types, and every row keeps its number as the user sees it in the file (the header is row 1).
Our column names are mapped to the file's (`--map ours=theirs`); messages name the file's.
Checks are set-wise and add one rejection per bad row to the report; coordinates are converted
to WGS 84 vectorised per CRS, and a row whose coordinates cannot be a place is rejected, never
silently left out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _

from geogrid import coords
from importers.params import TableImportParams
from importers.report import ImportFileError, ImportReport, write_atomically

P = TypeVar("P", bound=TableImportParams)
R = TypeVar("R", bound=ImportReport)
Batch = TypeVar("Batch")
Placed = TypeVar("Placed")


class TableError(ImportFileError):
    """The file cannot be read as a table; the message names the file and the problem."""


def read_table(path: Path, *, sheet: str | None = None, encoding: str = "utf-8") -> pd.DataFrame:
    """All cells as stripped strings ('' for empty); `__row` = the line/row number in the file."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".xlsm", ".csv", ".txt"):
        raise TableError(_("%(file)s: expected a .csv or .xlsx file") % {"file": path.name})
    try:
        if suffix in (".xlsx", ".xlsm"):
            frame = pd.read_excel(path, sheet_name=sheet or 0, dtype=str, engine="openpyxl")
        else:
            # utf-8-sig: Excel-made CSVs start with a byte-order mark.
            enc = "utf-8-sig" if encoding.lower() in ("utf-8", "utf8") else encoding
            frame = pd.read_csv(path, dtype=str, encoding=enc, keep_default_na=False)
    except (OSError, UnicodeDecodeError, LookupError, ValueError) as exc:
        raise TableError(f"{path.name}: {exc}") from exc
    frame = frame.fillna("").astype(str)
    frame.columns = [str(c).strip() for c in frame.columns]
    for column in frame.columns:
        frame[column] = frame[column].str.strip()
    frame.insert(0, "__row", range(2, len(frame) + 2))  # header is row 1
    return frame


@dataclass
class Table:
    """A read table and the mapping of our column names to the file's."""

    frame: pd.DataFrame
    mapping: dict[str, str]

    @classmethod
    def open(cls, params: TableImportParams, columns: dict[str, str],
             required: list[str]) -> Table:
        """Read `params.path` with `columns` (ours → the default file column) overridden by
        `params.columns`; a missing required column or an unknown name of ours is a TableError."""
        mapping = cls.column_mapping(params, columns)
        frame = read_table(params.path, sheet=params.sheet, encoding=params.encoding)
        return cls.with_required(frame, mapping, required, Path(params.path).name)

    @staticmethod
    def column_mapping(params: TableImportParams, columns: dict[str, str]) -> dict[str, str]:
        """Ours → the file's column name: `columns` overridden by `params.columns`; an unknown
        name of ours is a TableError."""
        unknown = sorted(set(params.columns) - set(columns))
        if unknown:
            raise TableError(_("%(file)s: no column is called %(names)s here; ours are: %(ours)s")
                             % {"file": Path(params.path).name, "names": ", ".join(unknown),
                                "ours": ", ".join(columns)})
        return {**columns, **params.columns}

    @classmethod
    def with_required(cls, frame: pd.DataFrame, mapping: dict[str, str], required: list[str],
                      name: str) -> Table:
        """The table of `frame`, or a TableError naming the required columns it lacks."""
        missing = [f"{mapping[k]} ({k})" for k in required if mapping[k] not in frame.columns]
        if missing:
            raise TableError(_("%(file)s: missing columns %(columns)s")
                             % {"file": name, "columns": ", ".join(missing)})
        return cls(frame, mapping)

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def rows(self) -> np.ndarray:
        return self.frame["__row"].to_numpy()

    def has(self, key: str) -> bool:
        return self.mapping[key] in self.frame.columns

    def name(self, key: str) -> str:
        """The file's name of our column `key`, for messages."""
        return self.mapping[key]

    def column(self, key: str, default: str = "") -> pd.Series:
        """The column as text; `default` in every row when the file does not have it."""
        if self.has(key):
            return self.frame[self.mapping[key]]
        return pd.Series([default] * len(self.frame), index=self.frame.index, dtype=object)


def to_float(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series.str.replace("，", ",").where(series != "", None), errors="coerce")


def check_filled(table: Table, keys: list[str], report: ImportReport) -> None:
    for key in keys:
        empty = (table.column(key) == "").to_numpy()
        name = table.name(key)
        report.reject_rows(table.rows[empty], _("%(column)s is empty") % {"column": name}, name)


def check_unique(table: Table, key: str, report: ImportReport) -> None:
    """A non-empty value seen in an earlier row is rejected, naming that row."""
    values = table.column(key)
    first = dict(zip(values[::-1], table.rows[::-1], strict=True))  # value → its first row
    repeated = (values.duplicated(keep="first") & (values != "")).to_numpy()
    report.reject_rows(
        table.rows[repeated],
        [_("%(column)s %(value)r appears again (first in row %(first)d)")
         % {"column": table.name(key), "value": v, "first": first[v]}
         for v in values[repeated]],
        table.name(key),
    )


def check_lengths(table: Table, limits: dict[str, int | None], report: ImportReport) -> None:
    """Text longer than its database column (`limits`: our column → max_length) is rejected."""
    for key, limit in limits.items():
        if limit is None or not table.has(key):
            continue
        lengths = table.column(key).str.len().to_numpy()
        long = lengths > limit
        report.reject_rows(
            table.rows[long],
            [_("%(column)s has %(n)d characters, at most %(max)d fit")
             % {"column": table.name(key), "n": n, "max": limit} for n in lengths[long]],
            table.name(key),
        )


def coordinates_to_wgs84(table: Table, report: ImportReport, default_crs: str,
                         where: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude in WGS 84 of the rows `where` (all by default), NaN elsewhere.

    Columns x, y and crs (a row without a CRS uses `default_crs`). Every row of `where` whose
    coordinates cannot be a place — not numbers, unknown CRS, out of range, latitude and
    longitude swapped — is rejected and left NaN.
    """
    n = len(table)
    where = np.ones(n, dtype=bool) if where is None else where
    rows = table.rows
    x_text, y_text = table.column("x"), table.column("y")
    x = to_float(x_text).to_numpy(dtype=float)
    y = to_float(y_text).to_numpy(dtype=float)
    crs = table.column("crs").replace("", default_crs).to_numpy(dtype=object)
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    numeric = np.isfinite(x) & np.isfinite(y)
    bad = where & ~numeric
    report.reject_rows(
        rows[bad],
        [_("coordinates %(x)r, %(y)r are not numbers") % {"x": xv, "y": yv}
         for xv, yv in zip(x_text[bad], y_text[bad], strict=True)],
        table.name("x"),
    )
    converted = np.zeros(n, dtype=bool)
    for name in np.unique(crs[where]):
        chosen = where & (crs == name)
        try:
            system = coords.parse_crs(name)
        except coords.CoordinateError as exc:
            report.reject_rows(rows[chosen], str(exc), table.name("crs"))
            continue
        good = chosen & numeric
        if good.any():
            lon[good], lat[good] = coords.to_wgs84(x[good], y[good], system)
            converted |= good
    finite = np.isfinite(lon) & np.isfinite(lat)
    swapped = finite & (np.abs(lat) > 90) & (np.abs(lon) <= 90)
    outside = finite & ~swapped & ((np.abs(lat) > 90) | (np.abs(lon) > 180))
    lost = converted & ~finite  # a projection that has no answer for these numbers
    for mask, message in (
        (swapped, _("latitude outside −90…90; latitude and longitude look swapped")),
        (outside, _("coordinates outside longitude −180…180 / latitude −90…90")),
        (lost, _("these coordinates have no place in their coordinate system")),
    ):
        report.reject_rows(rows[mask], message, table.name("y"))
    unusable = swapped | outside | lost
    lon[unusable] = np.nan
    lat[unusable] = np.nan
    return lon, lat


def run_table_import(
    params: P,
    report: R,
    columns: dict[str, str],
    required: list[str],
    validate: Callable[[Table, P, R], Batch],
    locate: Callable[[Batch, P, R], Placed],
    write: Callable[[Batch, Placed, P, R], None],
    *,
    read: Callable[[TableImportParams, dict[str, str], list[str]], Table] | None = None,
) -> R:
    """read → validate → locate → write, each step timed in the report.

    `read` replaces `Table.open` (the hotline importer reads column-wise, to the same Table);

    `validate` rejects rows rather than stopping and returns the importer's typed batch;
    nothing is located or written unless every row passed; `write` runs in one transaction that
    is kept only with `params.commit` (importers.report.write_atomically).
    """
    try:
        with report.step("read"):
            table = (read or Table.open)(params, columns, required)
            report.rows = len(table)
    except ImportFileError as exc:
        report.fail(str(exc))
        return report
    with report.step("validate"):
        batch = validate(table, params, report)
    if not report.ok:
        return report
    with report.step("locate"):
        placed = locate(batch, params, report)
    with report.step("write"):
        write_atomically(report, params.commit, lambda: write(batch, placed, params, report))
    return report
