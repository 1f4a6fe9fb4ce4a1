"""PostgreSQL binary COPY payloads built from numpy columns, without a Python loop over rows.

Two builders, one format (a binary row is `int16 field count`, then per field `int32 length`
(-1: NULL) and the bytes):

- fixed-width columns only (int2/int4/int8, float4/float8, bool, timestamptz, 25-byte EWKB
  points) — `rows`/`payload`/`copy_columns`: one numpy structured array per NULL pattern, the
  fastest way (about 0.08 s per million rows):

      payload = copybin.header() + copybin.rows([(ids, "int8"), (grid, "int8"), (m, "int2")],
                                                nulls=[None, grid < 0, None]) + copybin.TRAILER
      with cursor.copy("COPY t (id, grid_id, method) FROM STDIN (FORMAT BINARY)") as copy:
          copy.write(payload)

  `rows` can be called per chunk (write `header()` once first and `TRAILER` once last), so a
  caller can stream a large table while it computes the next chunk. With NULLs, rows come out
  grouped by which fields are NULL — a different order from the input; a table has none.

- any mix with variable-length fields (text, jsonb assembled from pieces) — `CopyRows`:

      rows = CopyRows(n)
      rows.fixed(ids, "int8")
      rows.text(names)                       # object array of str; `null=` for NULLs
      rows.fixed(points, "geometry")         # 25-byte EWKB points (`ewkb_points`)
      with cursor.copy("COPY t (id, name, location) FROM STDIN (FORMAT BINARY)") as copy:
          for chunk in rows.chunks():
              copy.write(chunk)

  Rows are assembled CHUNK rows at a time in one uint8 buffer: each field's lengths give every
  row's offsets (cumulative sums), and the bytes of a field are scattered to their offsets with
  one fancy-index assignment per field — so memory stays bounded and the server can insert one
  chunk while the next is built. A variable-length field is a list of *segments* — a constant,
  or per row a slice of a byte blob — so a field such as jsonb (`\\x01{"row": 17, …}`) or a
  dictionary-encoded text column is assembled without building one Python string per row.
  Input order is kept.

Binary COPY does not cast: the types must match the target columns exactly.
"""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

# The big-endian (or raw) layout of each fixed-width type.
TYPES = {"int2": ">i2", "int4": ">i4", "int8": ">i8", "float4": ">f4", "float8": ">f8",
         "bool": "?", "timestamptz": ">i8", "geometry": "V25"}
# The signature, then the flags and the header extension length (both 0).
SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"  # int16 -1: end of data
CHUNK = 100_000
PG_EPOCH = np.datetime64("2000-01-01T00:00:00", "us")


def header() -> bytes:
    return SIGNATURE


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


@dataclass
class Blob:
    """Per row a slice of `data`: bytes start[i] : start[i] + length[i]."""

    data: np.ndarray  # uint8
    start: np.ndarray  # int64, per row
    length: np.ndarray  # int64, per row

    @classmethod
    def const(cls, value: bytes, n: int) -> Blob:
        return cls(np.frombuffer(value, dtype=np.uint8), np.zeros(n, dtype=np.int64),
                   np.full(n, len(value), dtype=np.int64))

    @classmethod
    def of_strings(cls, values: np.ndarray) -> Blob:
        """UTF-8 of an object array of str; few distinct values are encoded once each."""
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
        if len(uniques) * 4 <= len(values):
            return cls.dictionary(codes, [str(u).encode() for u in uniques])
        encoded = [s.encode() for s in values.tolist()]
        length = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
        start = np.zeros(len(encoded), dtype=np.int64)
        np.cumsum(length[:-1], out=start[1:])
        return cls(np.frombuffer(b"".join(encoded), dtype=np.uint8), start, length)

    @classmethod
    def dictionary(cls, codes: np.ndarray, words: list[bytes]) -> Blob:
        """Row i is words[codes[i]]."""
        lengths = np.array([len(w) for w in words] or [0], dtype=np.int64)
        starts = np.zeros(len(lengths), dtype=np.int64)
        np.cumsum(lengths[:-1], out=starts[1:])
        data = np.frombuffer(b"".join(words) or b"\x00", dtype=np.uint8)
        return cls(data, starts[codes], lengths[codes])

    @classmethod
    def of_digits(cls, values: np.ndarray) -> Blob:
        """Decimal digits of non-negative or negative integers (ASCII)."""
        text = np.asarray(values).astype(np.int64).astype("S20")
        width = text.dtype.itemsize
        return cls(text.view(np.uint8).ravel(), np.arange(len(text), dtype=np.int64) * width,
                   np.strings.str_len(text).astype(np.int64))

    def take(self, rows: slice) -> Blob:
        return Blob(self.data, self.start[rows], self.length[rows])


@dataclass
class _Field:
    fixed: np.ndarray | None  # the values as big-endian bytes (n, width) when fixed-width
    segments: list[Blob]
    null: np.ndarray | None


class CopyRows:
    """The rows of one COPY, field by field, in the order of the COPY's column list."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.fields: list[_Field] = []

    def fixed(self, values: np.ndarray, kind: str, null: np.ndarray | None = None) -> None:
        dtype = np.dtype(TYPES[kind])
        data = np.ascontiguousarray(np.asarray(values).astype(dtype, copy=False))
        self._add(_Field(data.view(np.uint8).reshape(self.n, dtype.itemsize), [], null))

    def text(self, values: np.ndarray, null: np.ndarray | None = None) -> None:
        self._add(_Field(None, [Blob.of_strings(values)], null))

    def segments(self, parts: list[Blob], null: np.ndarray | None = None) -> None:
        self._add(_Field(None, parts, null))

    def _add(self, field: _Field) -> None:
        if field.null is not None and not field.null.any():
            field.null = None
        self.fields.append(field)

    def chunks(self, size: int = CHUNK) -> Iterator[bytes]:
        """The whole COPY stream: the signature, the rows `size` at a time, the trailer."""
        yield SIGNATURE
        for begin in range(0, self.n, size):
            yield self._rows(slice(begin, min(begin + size, self.n)))
        yield TRAILER

    def _rows(self, rows: slice) -> bytes:
        m = rows.stop - rows.start
        lengths = []
        for f in self.fields:
            if f.fixed is not None:
                length = np.full(m, f.fixed.shape[1], dtype=np.int64)
            else:
                length = sum((s.length[rows] for s in f.segments), np.zeros(m, dtype=np.int64))
            if f.null is not None:
                length = np.where(f.null[rows], -1, length)
            lengths.append(length)
        size = np.full(m, 2, dtype=np.int64)
        for length in lengths:
            size += 4 + np.maximum(length, 0)
        row_start = np.zeros(m, dtype=np.int64)
        np.cumsum(size[:-1], out=row_start[1:])
        buf = np.empty(int(row_start[-1] + size[-1]) if m else 0, dtype=np.uint8)
        _put(buf, row_start, np.broadcast_to(
            np.frombuffer(struct.pack(">h", len(self.fields)), np.uint8), (m, 2)))
        at = row_start + 2
        for f, length in zip(self.fields, lengths, strict=True):
            _put(buf, at, length.astype(">i4").view(np.uint8).reshape(m, 4))
            data_at = at + 4
            keep = None if f.null is None else ~f.null[rows]
            if f.fixed is not None:
                block = f.fixed[rows]
                if keep is None:
                    _put(buf, data_at, block)
                else:
                    _put(buf, data_at[keep], block[keep])
            else:
                offset = data_at.copy()
                for seg in f.segments:
                    part = seg.take(rows)
                    if keep is not None:
                        part = Blob(part.data, part.start[keep], part.length[keep])
                        _scatter(buf, offset[keep], part)
                    else:
                        _scatter(buf, offset, part)
                    offset += seg.length[rows]
            at = data_at + np.maximum(length, 0)
        return buf.tobytes()


def _put(buf: np.ndarray, at: np.ndarray, block: np.ndarray) -> None:
    """buf[at[i] : at[i] + w] = block[i] for every row i (block: (rows, w) uint8)."""
    if len(at) == 0:
        return
    width = block.shape[1]
    buf[at[:, None] + np.arange(width)] = block


def _scatter(buf: np.ndarray, at: np.ndarray, part: Blob) -> None:
    """buf[at[i] : at[i] + length[i]] = data[start[i] : start[i] + length[i]] for every row."""
    total = int(part.length.sum())
    if total == 0:
        return
    first = np.zeros(len(part.length), dtype=np.int64)
    np.cumsum(part.length[:-1], out=first[1:])
    step = np.arange(total, dtype=np.int64)
    buf[np.repeat(at - first, part.length) + step] = part.data[
        np.repeat(part.start - first, part.length) + step]


def ewkb_points(lon: np.ndarray, lat: np.ndarray, srid: int = 4326) -> np.ndarray:
    """25-byte little-endian EWKB points with an SRID (what geometry's binary input takes)."""
    kind = np.dtype([("order", "u1"), ("type", "<u4"), ("srid", "<u4"), ("x", "<f8"),
                     ("y", "<f8")])
    out = np.empty(len(lon), dtype=kind)
    out["order"] = 1
    out["type"] = 0x20000001  # point, with SRID
    out["srid"] = srid
    out["x"] = lon
    out["y"] = lat
    return out.view("V25")


def timestamps(values: pd.DatetimeIndex | np.ndarray) -> np.ndarray:
    """timestamptz as PostgreSQL's binary form: microseconds since 2000-01-01 UTC."""
    index = pd.DatetimeIndex(values)
    if index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    micros = index.as_unit("us").to_numpy().astype("datetime64[us]")
    return (micros - PG_EPOCH).astype(np.int64)


def timestamp(value: dt.datetime) -> int:
    return int(timestamps(pd.DatetimeIndex([value]))[0])
