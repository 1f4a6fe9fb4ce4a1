"""Reading a table as communities keep it: CSV (UTF-8, UTF-8 with a byte-order mark, or
GB18030 — what Excel on a Chinese Windows saves as "CSV") or XLSX (openpyxl, read-only).

- The header is found, not assumed: registers often carry a title line or two above it
  ("某某社区实有人口登记表"), so the first of the leading rows that `is_header` accepts is the
  header.
- Every record keeps the row number a spreadsheet shows (the first line is row 1; a quoted cell
  spanning lines counts once, as a spreadsheet shows it). Empty rows are skipped but counted.
- CSV cells are text; XLSX cells are what openpyxl gives (str, int, float, datetime, None), so
  that the importer can tell a number Excel stored as a number — an 18-digit ID number that lost
  its last digits — from text.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

from importers.report import ImportFileError

AUTO = "auto"
HEADER_SEARCH_ROWS = 20  # a header further down than this is not looked for


@dataclass
class RawTable:
    name: str  # the file's name, for messages
    encoding: str  # "utf-8", "utf-8-sig", "gb18030", … or "xlsx"
    header_row: int
    header: list[str]
    records: list[tuple[int, list[object]]]  # (row number, cells), empty rows left out


def read_table(path: Path, *, is_header: Callable[[list[str]], bool], sheet: str | None = None,
               encoding: str = AUTO) -> RawTable:
    """The header and records of a .csv or .xlsx file; ImportFileError when it cannot be read
    or has no recognisable header."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        rows, used = _xlsx_rows(path, sheet), "xlsx"
    elif suffix in (".csv", ".txt"):
        rows, used = _csv_rows(path, encoding)
    elif suffix == ".xls":
        raise ImportFileError(_("%(file)s: the old .xls format cannot be read; save it as .xlsx "
                                "or .csv") % {"file": path.name})
    else:
        raise ImportFileError(_("%(file)s: expected a .csv or .xlsx file") % {"file": path.name})
    header_row, header = 0, list[str]()
    records: list[tuple[int, list[object]]] = []
    try:
        for number, cells in rows:
            if not any(_filled(c) for c in cells):
                continue
            if not header:
                texts = [cell_text(c) for c in cells]
                if is_header(texts):
                    header_row, header = number, texts
                elif number >= HEADER_SEARCH_ROWS:
                    break
                continue
            records.append((number, list(cells)))
    except (csv.Error, ValueError, KeyError, OSError) as exc:
        raise ImportFileError(f"{path.name}: {exc}") from exc
    if not header:
        raise ImportFileError(
            _("%(file)s: no header row found in the first %(n)d rows (expected column names "
              "such as 姓名, 身份证号, 与户主关系, 地址)") % {"file": path.name,
                                                     "n": HEADER_SEARCH_ROWS})
    return RawTable(path.name, used, header_row, header, records)


def cell_text(value: object) -> str:
    """A cell as stripped text: whole numbers without '.0', dates as ISO dates."""
    if type(value) is str:  # every CSV cell: the common case first
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _filled(value: object) -> bool:
    return value is not None and (not isinstance(value, str) or value.strip() != "")


def _csv_rows(path: Path, encoding: str) -> tuple[Iterable[tuple[int, list[object]]], str]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"{path.name}: {exc.strerror or exc}") from exc
    text, used = decode(data, encoding, path.name)
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    return _numbered(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)), used


def decode(data: bytes, encoding: str, name: str) -> tuple[str, str]:
    """The text of a CSV file and the encoding that read it. `auto`: UTF-8 (with or without a
    byte-order mark), else GB18030 (a superset of GBK and GB2312)."""
    tries = ["utf-8-sig", "gb18030"] if encoding.lower() == AUTO else [encoding]
    if tries[0].lower().replace("_", "-") in ("utf-8", "utf8"):
        tries[0] = "utf-8-sig"  # Excel-made UTF-8 CSVs start with a byte-order mark
    for enc in tries:
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        except LookupError as exc:
            raise ImportFileError(_("%(file)s: unknown encoding %(enc)r") % {
                "file": name, "enc": encoding}) from exc
        used = "utf-8-sig" if enc == "utf-8-sig" and data.startswith(b"\xef\xbb\xbf") else (
            "utf-8" if enc == "utf-8-sig" else enc)
        return text, used
    raise ImportFileError(_("%(file)s: the text is neither UTF-8 nor GB18030; save it as CSV "
                            "UTF-8 or name its encoding") % {"file": name}
                          if encoding.lower() == AUTO else
                          _("%(file)s: the text cannot be read as %(enc)s") % {
                              "file": name, "enc": encoding})


def _numbered(reader: Iterator[list[str]]) -> Iterator[tuple[int, list[object]]]:
    """Records numbered as a spreadsheet numbers its rows (a cell spanning lines is one row)."""
    for number, cells in enumerate(reader, start=1):
        yield number, list(cells)


def _xlsx_rows(path: Path, sheet: str | None) -> Iterable[tuple[int, list[object]]]:
    import openpyxl  # imported here: only XLSX files need it
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (OSError, InvalidFileException, KeyError, ValueError) as exc:
        raise ImportFileError(_("%(file)s: not a readable .xlsx file (%(reason)s)")
                              % {"file": path.name, "reason": exc}) from exc
    if sheet is not None and sheet not in book.sheetnames:
        book.close()
        raise ImportFileError(_("%(file)s: no sheet %(sheet)r; the sheets are %(names)s")
                              % {"file": path.name, "sheet": sheet,
                                 "names": ", ".join(book.sheetnames)})
    ws = book[sheet] if sheet is not None else book.worksheets[0]

    def rows() -> Iterator[tuple[int, list[object]]]:
        try:
            ws.reset_dimensions()  # some writers store wrong dimensions
            for number, values in enumerate(ws.iter_rows(min_row=1, values_only=True), start=1):
                yield number, list(values)
        finally:
            book.close()

    return rows()
