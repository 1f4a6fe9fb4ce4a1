"""Web Mercator tile arithmetic and Morton (Z-order) keys.

Every appeal gets an integer cell (cx, cy) on the level-24 tile grid (≈ 2 m) and the Morton key
that interleaves their bits. Because Z-order nests, every tile at any zoom is one contiguous key
range, so a tile query is a single B-tree range scan, with no geometry test at all.
"""

from __future__ import annotations

import math

KEY_LEVEL = 24
HALF = 20037508.342789244  # half the Web Mercator world width, metres
MAX_LAT = 85.0511287798066


def spread(v: int) -> int:
    """Interleave zeros between the bits of v (v < 2**24)."""
    v &= 0xFFFFFF
    v = (v | (v << 16)) & 0x0000FFFF0000FFFF
    v = (v | (v << 8)) & 0x00FF00FF00FF00FF
    v = (v | (v << 4)) & 0x0F0F0F0F0F0F0F0F
    v = (v | (v << 2)) & 0x3333333333333333
    return (v | (v << 1)) & 0x5555555555555555


def morton(x: int, y: int) -> int:
    return spread(x) | (spread(y) << 1)


def tile_key_range(z: int, x: int, y: int, level: int = KEY_LEVEL) -> tuple[int, int]:
    """Inclusive range of level-`level` Morton keys inside tile z/x/y."""
    shift = 2 * (level - z)
    base = morton(x, y)
    return base << shift, ((base + 1) << shift) - 1


def valid_tile(z: int, x: int, y: int) -> bool:
    return 0 <= z <= 22 and 0 <= x < 2**z and 0 <= y < 2**z


def lonlat_to_tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    lat = max(-MAX_LAT, min(MAX_LAT, lat))
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    r = math.radians(lat)
    y = int((1.0 - math.asinh(math.tan(r)) / math.pi) / 2.0 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def tile_corner(x: float, y: float, z: int) -> tuple[float, float]:
    """Longitude and latitude of the north-west corner of tile (x, y) at zoom z."""
    n = 2**z
    lon = x / n * 360.0 - 180.0
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))
    return lon, lat


def cell_centre_lonlat(cx: int, cy: int, level: int) -> tuple[float, float]:
    """Longitude and latitude of the centre of cell (cx, cy) at `level`."""
    n = 2**level
    lon = (cx + 0.5) / n * 360.0 - 180.0
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (cy + 0.5) / n))))
    return lon, lat


def tiles_for_bbox(
    bbox: tuple[float, float, float, float], z: int
) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1), inclusive, of the tiles at zoom z covering a lon/lat bbox."""
    west, south, east, north = bbox
    x0, y0 = lonlat_to_tile(west, north, z)
    x1, y1 = lonlat_to_tile(east, south, z)
    return x0, y0, x1, y1


def merge_ranges(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, with touching ranges joined: neighbouring tiles in Z-order share an edge key."""
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def tile_key_ranges_with_margin(z: int, x: int, y: int, dz: int = 6,
                                level: int = KEY_LEVEL) -> list[tuple[int, int]]:
    """Key ranges of tile z/x/y and of the ring of zoom z+dz tiles around it (a margin of
    1/2**dz of the tile: 64 of a 4096 extent at dz=6), merged — a point symbol that crosses the
    tile's edge is drawn in both tiles."""
    side = 2**dz
    x0, y0, limit = x * side, y * side, 2 ** (z + dz)
    ring = [(i, j) for i in range(x0 - 1, x0 + side + 1) for j in (y0 - 1, y0 + side)]
    ring += [(i, j) for j in range(y0, y0 + side) for i in (x0 - 1, x0 + side)]
    ranges = [tile_key_range(z, x, y, level)]
    ranges += [tile_key_range(z + dz, i, j, level) for i, j in ring
               if 0 <= i < limit and 0 <= j < limit]
    return merge_ranges(ranges)
