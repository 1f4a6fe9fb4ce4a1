"""A raster index of polygons for exact point-in-polygon lookups at table speed.

The polygons' bounding box is cut into square cells (``cell_m`` metres, in degrees at the
box's mid latitude). Each cell is one of:

- *interior*: no polygon boundary touches it, so every point in it is covered by the same
  polygons as its centre — the answer (lowest rank covering the centre, or none) is stored;
- *edge*: some boundary touches it — the cell keeps the ranks of the polygons that may cover a
  point in it (those whose boundary touches the cell, plus those covering its centre: a
  polygon that holds the whole cell covers the centre), and a point there is tested exactly
  (``shapely.intersects_xy``, which for a point is *covers*: edges and vertices count).

A lookup returns, per point, the lowest rank of the polygons covering it, or -1 — so with
polygons ordered by code, it is ST_Covers with the lowest-code tie-break.

Why it is exact: the cell of a point is ``floor((x - x0) / dx)`` both when marking edge cells
and when looking up, and that is monotone in x, so a point on a boundary segment always lands
in a cell the segment was marked in (segments are split to under a cell and their boxes padded
by far more than the rounding of the split). Interior labels come from a scanline fill with a
half-open crossing rule, so the parity is consistent at shared vertices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely

_NONE = np.iinfo(np.int32).max
_PAD = 1e-9  # degrees (0.1 mm): far above the rounding of a split segment, far below a cell
MAX_CELLS = 400_000_000


def metres_per_degree(lat: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Metres per degree of longitude and of latitude on the WGS 84 ellipsoid at `lat`."""
    a, e2 = 6378137.0, 6.69437999014e-3
    phi = np.radians(lat)
    w = 1.0 - e2 * np.sin(phi) ** 2
    n = a / np.sqrt(w)  # prime vertical radius of curvature
    m = a * (1.0 - e2) / w**1.5  # meridional radius of curvature
    return np.radians(1.0) * n * np.cos(phi), np.radians(1.0) * m


def _segments(geoms: np.ndarray) -> tuple[np.ndarray, ...]:
    """All ring segments (x1, y1, x2, y2, rank of the polygon, whether the polygon's interior
    is to the left of the segment) of (multi)polygons."""
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    hole = np.ones(len(rings), dtype=bool)
    hole[np.unique(ring_of, return_index=True)[1]] = False  # each part's first ring: the shell
    inside_left = shapely.is_ccw(rings) ^ hole
    xy, coord_of = shapely.get_coordinates(rings, return_index=True)
    same = coord_of[1:] == coord_of[:-1]
    start = np.flatnonzero(same)
    ring = coord_of[start]
    rank = part_of[ring_of[ring]].astype(np.int32)
    return (xy[start, 0], xy[start, 1], xy[start + 1, 0], xy[start + 1, 1], rank,
            inside_left[ring])


@dataclass
class GridRaster:
    x0: float
    y0: float
    dx: float
    dy: float
    nx: int
    ny: int
    cells: np.ndarray  # int32, ny*nx: >= 0 rank; -1 nothing; <= -2 edge cell -(k + 2)
    cand_ptr: np.ndarray  # int64, edge cell k's candidates are cand[cand_ptr[k]:cand_ptr[k+1]]
    cand: np.ndarray  # int32 ranks, ascending within a cell
    geoms: np.ndarray  # the polygons in rank order, prepared
    # Edge cells crossed by one shared segment and nothing else: a point's side of that line
    # is its answer. lines: (n, 6) float64 — x1, y1, x2, y2, rank left, rank right (-1 none);
    # cell_line: per edge cell, its line or -1.
    lines: np.ndarray = field(default_factory=lambda: np.zeros((0, 6)))
    cell_line: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    _near: dict = field(default_factory=dict, repr=False)  # dilated edge masks, by reach

    @property
    def nbytes(self) -> int:
        return (self.cells.nbytes + self.cand_ptr.nbytes + self.cand.nbytes
                + self.lines.nbytes + self.cell_line.nbytes)

    @property
    def edge_share(self) -> float:
        return (len(self.cand_ptr) - 1) / max(1, self.cells.size)

    @classmethod
    def build(cls, geoms: np.ndarray, cell_m: float) -> GridRaster:
        geoms = np.asarray(geoms, dtype=object)
        shapely.prepare(geoms)
        if len(geoms) == 0:
            empty = np.zeros(0, dtype=np.int32)
            return cls(0.0, 0.0, 1.0, 1.0, 0, 0, empty, np.zeros(1, np.int64), empty, geoms)
        xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
        kx, ky = metres_per_degree((ymin + ymax) / 2)
        dx, dy = float(cell_m / kx), float(cell_m / ky)
        while (xmax - xmin) / dx * (ymax - ymin) / dy > MAX_CELLS:
            dx, dy = dx * 2, dy * 2
        x0, y0 = xmin - dx, ymin - dy
        nx = int(np.ceil((xmax - x0) / dx)) + 2
        ny = int(np.ceil((ymax - y0) / dy)) + 2
        x1, y1, x2, y2, rank, inside_left = _segments(geoms)
        edge_cell, edge_rank, edge_seg = _edge_pairs(x1, y1, x2, y2, rank, x0, y0, dx, dy,
                                                     nx, ny)
        is_edge = np.zeros(nx * ny, dtype=bool)
        is_edge[edge_cell] = True
        flat, owner = _scanline_fill(x1, y1, x2, y2, rank, x0, y0, dx, dy, nx, ny)
        label = np.full(nx * ny, _NONE, dtype=np.int32)
        np.minimum.at(label, flat, owner)
        # A polygon that holds a whole edge cell covers its centre (and may have no boundary
        # there, where polygons overlap): every polygon covering an edge cell's centre is a
        # candidate too.
        held = is_edge[flat]
        keys = np.unique(np.concatenate([edge_cell * len(geoms) + edge_rank,
                                         flat[held] * len(geoms) + owner[held]]))
        del flat, owner, held, is_edge
        cell_of, rank_of = np.divmod(keys, len(geoms))
        edges, first = np.unique(cell_of, return_index=True)
        cand_ptr = np.append(first, len(keys)).astype(np.int64)
        cells = np.where(label == _NONE, -1, label).astype(np.int32)
        cells[edges] = -(np.arange(len(edges), dtype=np.int32) + 2)
        del label
        lines, cell_line = _single_lines(x1, y1, x2, y2, rank, inside_left, edges, cand_ptr,
                                         edge_cell, edge_seg, x0, y0, dx, dy, nx)
        return cls(float(x0), float(y0), dx, dy, nx, ny, cells, cand_ptr,
                   rank_of.astype(np.int32), geoms, lines, cell_line)

    def lookup(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Per point, the lowest rank of the polygons covering it, or -1 (int32)."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if self.cells.size == 0:
            return np.full(len(x), -1, dtype=np.int32)
        fx = np.floor((x - self.x0) / self.dx)
        fy = np.floor((y - self.y0) / self.dy)
        ok = (fx >= 0) & (fx < self.nx) & (fy >= 0) & (fy < self.ny)  # NaN: False
        flat = fy * self.nx + fx
        flat[~ok] = 0
        found = self.cells[flat.astype(np.int64)]
        found[~ok] = -1
        edge = np.flatnonzero(found <= -2)
        if len(edge):
            found[edge] = self._exact(edge, -found[edge] - 2, x, y)
        return found

    def _exact(self, pts: np.ndarray, edge_ids: np.ndarray, x: np.ndarray,
               y: np.ndarray) -> np.ndarray:
        result = np.full(len(pts), -1, dtype=np.int32)
        slow = np.ones(len(pts), dtype=bool)
        if len(self.cell_line):
            line = self.cell_line[edge_ids]
            fast = np.flatnonzero(line >= 0)
            seg = self.lines[line[fast]]
            px, py = x[pts[fast]], y[pts[fast]]
            # orient2d with Shewchuk's error bound: the sign is certain when |det| exceeds it;
            # a point on (or within rounding of) the line takes the exact path below.
            left = (seg[:, 0] - px) * (seg[:, 3] - py)
            right = (seg[:, 1] - py) * (seg[:, 2] - px)
            det = left - right
            sure = np.abs(det) > 1e-15 * (np.abs(left) + np.abs(right))
            fast = fast[sure]
            result[fast] = np.where(det[sure] > 0, seg[sure, 4], seg[sure, 5])
            slow[fast] = False
        slow_at = np.flatnonzero(slow)
        if len(slow_at):
            result[slow_at] = self._geos(pts[slow_at], edge_ids[slow_at], x, y)
        return result

    def _geos(self, pts: np.ndarray, edge_ids: np.ndarray, x: np.ndarray,
              y: np.ndarray) -> np.ndarray:
        start = self.cand_ptr[edge_ids]
        count = (self.cand_ptr[edge_ids + 1] - start).astype(np.int64)
        pair_of = np.repeat(np.arange(len(pts)), count)
        offset = np.arange(len(pair_of)) - np.repeat(np.cumsum(count) - count, count)
        cand = self.cand[np.repeat(start, count) + offset]
        owner = pts[pair_of]
        hit = shapely.intersects_xy(self.geoms[cand], x[owner], y[owner])
        # Pairs run point by point with ranks ascending: the first hit is the lowest rank.
        hit_of, hit_rank = pair_of[hit], cand[hit]
        first = np.ones(len(hit_of), dtype=bool)
        first[1:] = hit_of[1:] != hit_of[:-1]
        result = np.full(len(pts), -1, dtype=np.int32)
        result[hit_of[first]] = hit_rank[first]
        return result

    def near(self, x: np.ndarray, y: np.ndarray, reach_m: float) -> np.ndarray:
        """False only for points certainly farther than `reach_m` metres from every polygon
        boundary: their cell is more than that from every edge cell (and a point outside the
        raster, more than that from its extent)."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if self.cells.size == 0:
            return np.zeros(len(x), dtype=bool)
        reach = self._reach_cells(reach_m)
        mask = self._near.get(reach)
        if mask is None:
            mask = self._near[reach] = _dilate((self.cells <= -2).reshape(self.ny, self.nx),
                                               reach).ravel()
        fx = np.floor((x - self.x0) / self.dx)
        fy = np.floor((y - self.y0) / self.dy)
        inside = (fx >= 0) & (fx < self.nx) & (fy >= 0) & (fy < self.ny)
        flat = fy * self.nx + fx
        flat[~inside] = 0
        result = mask[flat.astype(np.int64)] & inside
        # Outside the raster: near when within `reach` cells of it (it has a cell of margin).
        out = ~inside & (fx >= -reach) & (fx < self.nx + reach) & (fy >= -reach) \
            & (fy < self.ny + reach)
        return result | out

    def _reach_cells(self, reach_m: float) -> int:
        # The smallest cell side in metres anywhere in the raster, so `reach` cells always
        # span at least reach_m; +1 for the point's own position in its cell.
        lats = np.array([self.y0, self.y0 + self.ny * self.dy])
        kx, ky = metres_per_degree(np.clip(lats, -89.0, 89.0))
        side = min(float(np.min(kx)) * self.dx, float(np.min(ky)) * self.dy)
        return int(np.ceil(reach_m / side)) + 1

    # --- persistence (the polygons are not stored: the caller has them) --------------------

    def save(self, path: Path) -> None:
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, **self.arrays())  # type: ignore[arg-type]
        tmp.replace(path)

    def arrays(self, prefix: str = "") -> dict[str, np.ndarray]:
        grid = np.array([self.x0, self.y0, self.dx, self.dy, self.nx, self.ny])
        return {prefix + k: v for k, v in (("grid", grid), ("cells", self.cells),
                                           ("cand_ptr", self.cand_ptr), ("cand", self.cand),
                                           ("lines", self.lines),
                                           ("cell_line", self.cell_line))}

    @classmethod
    def from_arrays(cls, data, geoms: np.ndarray, prefix: str = "") -> GridRaster:
        x0, y0, dx, dy, nx, ny = data[prefix + "grid"].tolist()
        shapely.prepare(geoms)
        return cls(x0, y0, dx, dy, int(nx), int(ny), data[prefix + "cells"],
                   data[prefix + "cand_ptr"], data[prefix + "cand"], geoms,
                   data[prefix + "lines"], data[prefix + "cell_line"])

    @classmethod
    def load(cls, path: Path, geoms: np.ndarray) -> GridRaster:
        with np.load(path) as data:
            return cls.from_arrays(data, geoms)


def _dilate(mask: np.ndarray, k: int) -> np.ndarray:
    """Square dilation by k cells (separable running sums: no scipy needed)."""
    for axis in (0, 1):
        counts = np.cumsum(mask, axis=axis, dtype=np.int32)
        n = mask.shape[axis]
        hi = np.take(counts, np.minimum(np.arange(n) + k, n - 1), axis=axis)
        lo_idx = np.arange(n) - k - 1
        lo = np.take(counts, np.maximum(lo_idx, 0), axis=axis)
        zero = (lo_idx < 0).reshape((-1, 1) if axis == 0 else (1, -1))
        lo = np.where(zero, 0, lo)
        mask = (hi - lo) > 0
    return mask


def _scanline_fill(x1, y1, x2, y2, rank, x0, y0, dx, dy, nx, ny
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(cell, rank) for every cell centre a polygon covers."""
    lo = np.ceil((np.minimum(y1, y2) - y0) / dy - 0.5).astype(np.int64) - 1
    hi = np.ceil((np.maximum(y1, y2) - y0) / dy - 0.5).astype(np.int64) + 1
    count = np.maximum(hi - lo, 0)
    seg = np.repeat(np.arange(len(x1)), count)
    row = np.repeat(lo, count) + (np.arange(len(seg)) - np.repeat(np.cumsum(count) - count, count))
    yc = y0 + (row + 0.5) * dy
    # Half-open rule: a segment crosses the row when exactly one end is at or below it.
    cross = (y1[seg] <= yc) != (y2[seg] <= yc)
    seg, row, yc = seg[cross], row[cross], yc[cross]
    xc = x1[seg] + (yc - y1[seg]) * (x2[seg] - x1[seg]) / (y2[seg] - y1[seg])
    owner = rank[seg]
    order = np.lexsort((xc, row, owner))
    xc, row, owner = xc[order], row[order], owner[order]
    if len(xc) % 2 or np.any(owner[0::2] != owner[1::2]) or np.any(row[0::2] != row[1::2]):
        raise ValueError("polygon rings are not closed: odd crossings in the scanline fill")
    xa, xb, row, owner = xc[0::2], xc[1::2], row[0::2], owner[0::2]
    i_lo = np.clip(np.ceil((xa - x0) / dx - 0.5), 0, nx).astype(np.int64)
    i_hi = np.clip(np.ceil((xb - x0) / dx - 0.5), 0, nx).astype(np.int64)
    ok = (row >= 0) & (row < ny) & (i_hi > i_lo)
    i_lo, i_hi, row, owner = i_lo[ok], i_hi[ok], row[ok], owner[ok]
    span = i_hi - i_lo
    first = row * nx + i_lo
    flat = np.repeat(first, span) + (np.arange(span.sum()) - np.repeat(np.cumsum(span) - span,
                                                                       span))
    return flat, np.repeat(owner, span)


def _single_lines(x1, y1, x2, y2, rank, inside_left, edges, cand_ptr, edge_cell, edge_seg,
                  x0, y0, dx, dy, nx) -> tuple[np.ndarray, np.ndarray]:
    """The edge cells whose only boundary is one segment (shared by the polygons on its two
    sides) that runs right through the cell: within the cell each side of it is one face, so
    the side is the answer. Returns the lines (x1, y1, x2, y2, rank left, rank right) and per
    edge cell its line or -1."""
    # One line per distinct segment, whichever ring and direction it came from.
    swap = (x1 > x2) | ((x1 == x2) & (y1 > y2))
    ends = np.column_stack([np.where(swap, x2, x1), np.where(swap, y2, y1),
                            np.where(swap, x1, x2), np.where(swap, y1, y2)])
    ends, line_of = np.unique(ends, axis=0, return_inverse=True)
    line_of = line_of.ravel()
    left = inside_left ^ swap
    big = np.iinfo(np.int32).max
    rank_left = np.full(len(ends), big, dtype=np.int64)
    rank_right = np.full(len(ends), big, dtype=np.int64)
    np.minimum.at(rank_left, line_of[left], rank[left])
    np.minimum.at(rank_right, line_of[~left], rank[~left])
    polys = np.bincount(line_of, minlength=len(ends))
    same_both = (rank_left == rank_right) & (rank_left != big)
    lines = np.column_stack([ends, np.where(rank_left == big, -1, rank_left),
                             np.where(rank_right == big, -1, rank_right)]).astype(np.float64)
    # Cells touched by exactly one line, whose candidates are that line's polygons only
    # (no polygon holding the whole cell).
    pair = np.unique(np.column_stack([edge_cell, line_of[edge_seg]]), axis=0)
    cell_ids, first, count = np.unique(pair[:, 0], return_index=True, return_counts=True)
    one = count == 1
    cand_count = np.diff(cand_ptr)
    which = np.searchsorted(edges, cell_ids[one])
    line = pair[first[one], 1]
    ok = (cand_count[which] == polys[line]) & ~same_both[line]
    which, line = which[ok], line[ok]
    # The line must cross the cell between its ends (not merely pass by the segment's box).
    cell = edges[which]
    cx, cy = x0 + (cell % nx) * dx, y0 + (cell // nx) * dy
    ax, ay, bx, by = (ends[line, i] for i in range(4))
    t_in, t_out = _clip(ax, bx, cx, cx + dx), _clip(ay, by, cy, cy + dy)
    t_enter = np.maximum(t_in[0], t_out[0])
    t_exit = np.minimum(t_in[1], t_out[1])
    eps = 1e-9
    through = (t_enter < t_exit) & (t_enter > eps) & (t_exit < 1 - eps)
    cell_line = np.full(len(edges), -1, dtype=np.int32)
    cell_line[which[through]] = line[through]
    return lines, cell_line


def _clip(a: np.ndarray, b: np.ndarray, lo: np.ndarray, hi: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray]:
    """Parameter interval [t0, t1] of a + t (b - a) inside the open slab (lo, hi)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t_lo, t_hi = (lo - a) / (b - a), (hi - a) / (b - a)
    t0, t1 = np.minimum(t_lo, t_hi), np.maximum(t_lo, t_hi)
    flat = a == b
    inside = (a > lo) & (a < hi)
    t0 = np.where(flat, np.where(inside, -np.inf, np.inf), t0)
    t1 = np.where(flat, np.where(inside, np.inf, -np.inf), t1)
    return t0, t1


def _edge_pairs(x1, y1, x2, y2, rank, x0, y0, dx, dy, nx, ny
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cell, rank, segment) for every cell a polygon boundary touches (a superset, never a
    miss)."""
    # Split every segment into pieces under 0.9 cell per axis: each piece's padded box then
    # spans at most 2 x 2 cells.
    length = np.maximum(np.abs(x2 - x1) / dx, np.abs(y2 - y1) / dy)
    pieces = (length // 0.9).astype(np.int64) + 1
    seg = np.repeat(np.arange(len(x1)), pieces)
    k = np.arange(len(seg)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    t0, t1 = k / pieces[seg], (k + 1) / pieces[seg]
    ax, ay = x1[seg] + t0 * (x2[seg] - x1[seg]), y1[seg] + t0 * (y2[seg] - y1[seg])
    bx, by = x1[seg] + t1 * (x2[seg] - x1[seg]), y1[seg] + t1 * (y2[seg] - y1[seg])
    # The last piece ends exactly on the vertex (t1 == 1 may round): use the vertex itself.
    last = k == pieces[seg] - 1
    bx[last], by[last] = x2[seg][last], y2[seg][last]
    ix_lo = np.floor((np.minimum(ax, bx) - _PAD - x0) / dx).astype(np.int64)
    ix_hi = np.floor((np.maximum(ax, bx) + _PAD - x0) / dx).astype(np.int64)
    iy_lo = np.floor((np.minimum(ay, by) - _PAD - y0) / dy).astype(np.int64)
    iy_hi = np.floor((np.maximum(ay, by) + _PAD - y0) / dy).astype(np.int64)
    owner = rank[seg]
    cells, ranks, segs = [], [], []
    for ox in (0, 1):
        for oy in (0, 1):
            cx, cy = ix_lo + ox, iy_lo + oy
            ok = (cx <= ix_hi) & (cy <= iy_hi) & (cx >= 0) & (cx < nx) & (cy >= 0) & (cy < ny)
            cells.append(cy[ok] * nx + cx[ok])
            ranks.append(owner[ok])
            segs.append(seg[ok])
    return (np.concatenate(cells), np.concatenate(ranks).astype(np.int64),
            np.concatenate(segs))
