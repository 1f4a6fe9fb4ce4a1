"""Columnar reading of a hotline export: only the mapped columns, every cell stripped text.

The fast counterpart of importers.tables.Table.open (same Table, same cells, same errors):
pandas' C reader with no type guessing and no NA detection reads only the columns the import
maps; cells are stripped with numpy's vectorised string functions, and Python's own str.strip
is applied only to the few cells numpy changed, so the result is exactly str.strip's. XLSX is
read by calamine (python-calamine) when it is installed — about ten times openpyxl's speed —
else by the reference's reader (openpyxl, minutes for a million rows: docs/benchmarks.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from numpy.dtypes import StringDType

from importers.params import TableImportParams
from importers.tables import Table, TableError


def open_table(params: TableImportParams, columns: dict[str, str],
               required: list[str]) -> Table:
    """Table.open's answer (the columns the import maps, with `__row`), read columnar."""
    path = Path(params.path)
    suffix = path.suffix.lower()
    xlsx = suffix in (".xlsx", ".xlsm")
    if suffix not in (".csv", ".txt") and not (xlsx and _has_calamine()):
        return Table.open(params, columns, required)
    mapping = Table.column_mapping(params, columns)
    try:
        frame = _read_xlsx(path, params.sheet) if xlsx else _read_csv(path, params.encoding,
                                                                      mapping, columns)
    except (OSError, UnicodeDecodeError, LookupError, ValueError) as exc:
        raise TableError(f"{path.name}: {exc}") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    wanted = {mapping[k] for k in columns}
    frame = frame[[c for c in frame.columns if c in wanted]]
    frame = frame.loc[:, ~frame.columns.duplicated()]  # the first of a repeated name, as
    for column in frame.columns:                        # the reference's lookup finds it
        frame[column] = strip(frame[column].to_numpy(dtype=object))
    frame.insert(0, "__row", np.arange(2, len(frame) + 2))
    return Table.with_required(frame, mapping, required, path.name)


def _read_csv(path: Path, encoding: str, mapping: dict[str, str],
              columns: dict[str, str]) -> pd.DataFrame:
    """Only the mapped columns, as text, no NA detection (pandas' C reader)."""
    enc = "utf-8-sig" if encoding.lower() in ("utf-8", "utf8") else encoding
    header = pd.read_csv(path, dtype=object, encoding=enc, nrows=0).columns
    raw: dict[str, object] = {}
    for col in header:
        raw.setdefault(str(col).strip(), col)
    wanted = [raw[mapping[k]] for k in columns if mapping[k] in raw]
    return pd.read_csv(path, dtype=object, encoding=enc, keep_default_na=False,
                       na_filter=False, usecols=list(dict.fromkeys(wanted)))


def _read_xlsx(path: Path, sheet: str | None) -> pd.DataFrame:
    """The sheet through calamine (Rust), cells as read_table has them from openpyxl."""
    frame = pd.read_excel(path, sheet_name=sheet or 0, dtype=str, engine="calamine")
    return frame.fillna("").astype(str)


def _has_calamine() -> bool:
    try:
        import python_calamine  # noqa: F401
    except ImportError:
        return False
    return True


def strip(values: np.ndarray) -> np.ndarray:
    """str.strip of every cell of an object array of str (numpy finds the cells to strip)."""
    text = values.astype(StringDType())
    stripped = np.strings.strip(text)
    changed = np.flatnonzero(stripped != text)
    out = values.copy() if len(changed) else values
    for i in changed.tolist():
        out[i] = out[i].strip()
    # numpy and Python agree on whitespace (tested); a cell numpy left alone is str.strip's.
    return out

