"""Read a CSV or XLSX table as text columns, with row numbers as the user sees them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


class TableError(ValueError):
    """The file cannot be read as a table; the message names the file and the problem."""


def read_table(path: Path, *, sheet: str | None = None, encoding: str = "utf-8") -> pd.DataFrame:
    """All cells as stripped strings ('' for empty); `row` = the line/row number in the file."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            frame = pd.read_excel(path, sheet_name=sheet or 0, dtype=str, engine="openpyxl")
        elif suffix in (".csv", ".txt"):
            # utf-8-sig: Excel-made CSVs start with a byte-order mark.
            enc = "utf-8-sig" if encoding.lower() in ("utf-8", "utf8") else encoding
            frame = pd.read_csv(path, dtype=str, encoding=enc, keep_default_na=False)
        else:
            raise TableError(f"{path.name}: expected a .csv or .xlsx file")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, TableError):
            raise
        raise TableError(f"{path.name}: {exc}") from exc
    frame = frame.fillna("").astype(str)
    frame.columns = [str(c).strip() for c in frame.columns]
    for column in frame.columns:
        frame[column] = frame[column].str.strip()
    frame.insert(0, "__row", range(2, len(frame) + 2))  # header is row 1
    return frame


def require_columns(frame: pd.DataFrame, mapping: dict[str, str], required: list[str],
                    name: str) -> None:
    missing = [f"{mapping[k]} ({k})" for k in required if mapping[k] not in frame.columns]
    if missing:
        raise TableError(f"{name}: missing columns {', '.join(missing)}")


def to_float(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series.str.replace("，", ",").where(series != "", None), errors="coerce")
