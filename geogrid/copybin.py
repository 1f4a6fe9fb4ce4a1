"""PostgreSQL binary COPY payloads built from numpy columns, without a Python loop over rows.

    payload = copybin.header() + copybin.rows([(ids, "int8"), (grid, "int8"), (m, "int2")],
                                              nulls=[None, grid < 0, None]) + copybin.TRAILER
    with cursor.copy("COPY t (id, grid_id, method) FROM STDIN (FORMAT BINARY)") as copy:
        copy.write(payload)

or `copy_columns(cursor, "COPY …", columns, nulls)` for all of it in one call. `rows` can be
called per chunk (write `header()` once first and `TRAILER` once last), so a caller can stream
a large table while it computes the next chunk. Fixed-width types only (int2/int4/int8,
float4/float8, bool); a NULL is written where the `nulls` mask is true. The column types must
match the target's exactly: binary COPY does not cast.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

TYPES = {"int2": ">i2", "int4": ">i4", "int8": ">i8", "float4": ">f4", "float8": ">f8",
         "bool": "?"}
SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
TRAILER = b"\xff\xff"  # int16 -1: end of data


def header() -> bytes:
    return SIGNATURE + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"  # flags, extension length


def rows(columns: Sequence[tuple[np.ndarray, str]],
         nulls: Sequence[np.ndarray | None] | None = None) -> bytes:
    """The tuples of `columns` (array, PostgreSQL type name), equal lengths, in binary form.
    With `nulls`, rows are grouped by which of their fields are NULL (each group has one
    fixed layout), so they come out in a different order from the input — a table has none."""
    n = len(columns[0][0]) if columns else 0
    if any(len(values) != n for values, _ in columns):
        raise ValueError("columns differ in length")
    masks = {i: np.asarray(m, dtype=bool) for i, m in enumerate(nulls or ())
             if m is not None and np.any(m)}
    if not masks:
        return _fixed(columns, (), slice(None))
    # One bit per nullable column: the rows of each NULL pattern share a layout.
    pattern = np.zeros(n, dtype=np.int64)
    for bit, mask in enumerate(masks.values()):
        pattern |= mask.astype(np.int64) << bit
    out = []
    for value in np.unique(pattern):
        null_cols = tuple(i for bit, i in enumerate(masks) if value >> bit & 1)
        out.append(_fixed(columns, null_cols, np.flatnonzero(pattern == value)))
    return b"".join(out)


def _fixed(columns: Sequence[tuple[np.ndarray, str]], null_cols: tuple[int, ...],
           which: np.ndarray | slice) -> bytes:
    fields: list[tuple[str, str]] = [("count", ">i2")]
    for i, (_, kind) in enumerate(columns):
        fields.append((f"len{i}", ">i4"))
        if i not in null_cols:
            fields.append((f"val{i}", TYPES[kind]))
    first = columns[0][0][which] if columns else np.zeros(0)
    table = np.empty(len(first), dtype=np.dtype(fields))
    table["count"] = len(columns)
    for i, (values, kind) in enumerate(columns):
        if i in null_cols:
            table[f"len{i}"] = -1  # NULL: length -1 and no value bytes
        else:
            table[f"len{i}"] = np.dtype(TYPES[kind]).itemsize
            table[f"val{i}"] = values[which]
    return table.tobytes()


def payload(columns: Sequence[tuple[np.ndarray, str]],
            nulls: Sequence[np.ndarray | None] | None = None) -> bytes:
    """A whole COPY … (FORMAT BINARY) stream: header, tuples, trailer."""
    return header() + rows(columns, nulls) + TRAILER


def copy_columns(cursor, sql: str, columns: Sequence[tuple[np.ndarray, str]],
                 nulls: Sequence[np.ndarray | None] | None = None) -> None:
    """Run `sql` (a `COPY … FROM STDIN (FORMAT BINARY)`) on a psycopg cursor (or a Django
    cursor wrapper) with the columns as its data."""
    raw = getattr(cursor, "cursor", cursor)
    with raw.copy(sql) as copy:
        copy.write(payload(columns, nulls))
