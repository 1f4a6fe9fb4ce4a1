"""Coordinate systems at the edge: everything is converted to WGS 84 (EPSG:4326) once, here.

Supported input CRSs (``parse_crs`` accepts these names, case-insensitive):

- ``wgs84`` / ``EPSG:4326`` — GPS, the storage CRS;
- ``cgcs2000`` / ``EPSG:4490`` — China's datum, treated through pyproj like any EPSG code;
- any ``EPSG:NNNN`` (projected Gauss-Krüger zones, Web Mercator…) through pyproj;
- ``gcj02`` — the obfuscated datum of AMap/Gaode, Tencent and WeChat;
- ``bd09`` — Baidu's further offset of GCJ-02.

All functions take and return (x, y) = (longitude, latitude) or (easting, northing), whatever
the authority's axis order (EPSG:4490 is latitude-first by definition: pyproj is used with
``always_xy`` so a caller never has to care). Scalars and numpy arrays both work.

GCJ-02 and BD-09 forward transforms are the published closed formulas; the inverses iterate
(fixed point on the forward transform) until the residual is below 1e-9° (~0.1 mm), far better
than the required 0.5 m. Outside mainland China GCJ-02 equals WGS 84.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from django.utils.translation import gettext as _

WGS84 = "EPSG:4326"
GCJ02 = "gcj02"
BD09 = "bd09"

# Krasovsky 1940 ellipsoid: the constants of the GCJ-02 algorithm (not WGS 84's).
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0
_INVERSE_TOLERANCE_DEG = 1e-9
_INVERSE_MAX_STEPS = 30

_ALIASES = {
    "wgs84": WGS84,
    "wgs-84": WGS84,
    "wgs 84": WGS84,
    "4326": WGS84,
    "epsg:4326": WGS84,
    "cgcs2000": "EPSG:4490",
    "4490": "EPSG:4490",
    "gcj02": GCJ02,
    "gcj-02": GCJ02,
    "gcj": GCJ02,
    "amap": GCJ02,
    "gaode": GCJ02,
    "bd09": BD09,
    "bd-09": BD09,
    "bd09ll": BD09,
    "baidu": BD09,
}

# A coarse outline of mainland China (lon, lat), generous at sea, excluding Taiwan, Korea,
# Japan, Mongolia and the neighbours to the south and west. Border areas are accurate to some
# tens of kilometres, which is what the obfuscation's published "out of China" tests offer too.
_MAINLAND = np.array(
    [
        (134.8, 48.4), (131.3, 44.9), (131.0, 42.9), (130.6, 42.4), (129.0, 42.1),
        (126.0, 41.3), (124.3, 39.8), (123.6, 38.6), (123.0, 36.0), (123.4, 33.0),
        (123.2, 29.5), (122.2, 27.5), (120.7, 26.6), (120.1, 25.8), (119.0, 24.6),
        (117.9, 23.3), (116.5, 22.2), (114.5, 21.8), (112.0, 19.9), (111.5, 18.0),
        (109.5, 17.6), (108.2, 18.2), (108.3, 20.8), (108.0, 21.5), (106.7, 22.9),
        (105.5, 23.3), (103.0, 22.5), (101.8, 21.1), (100.0, 21.6), (99.0, 22.1),
        (98.0, 24.0), (97.5, 25.3), (98.6, 27.8), (97.4, 28.3), (96.0, 29.3),
        (92.0, 27.8), (88.9, 27.3), (86.0, 27.9), (82.0, 30.2), (79.0, 31.0),
        (78.6, 32.6), (79.4, 34.3), (78.0, 35.5), (76.0, 36.6), (74.6, 37.2),
        (73.5, 39.5), (75.5, 40.6), (76.6, 40.5), (80.0, 42.0), (80.3, 45.0),
        (82.5, 45.5), (83.0, 47.2), (85.5, 47.0), (87.0, 49.2), (89.0, 48.0),
        (90.6, 46.0), (91.0, 45.0), (96.0, 42.7), (100.0, 42.6), (105.0, 41.6),
        (110.0, 42.6), (112.0, 43.6), (116.0, 44.8), (119.5, 46.6), (117.8, 47.5),
        (115.5, 47.9), (117.8, 49.5), (119.2, 50.3), (120.0, 52.6), (122.5, 53.5),
        (125.5, 53.0), (127.5, 49.8), (130.5, 48.9), (132.5, 47.7), (134.8, 48.4),
    ]
)


class CoordinateError(ValueError):
    """Coordinates that cannot be used; `field` names the offending input, the text says why."""

    def __init__(self, message: str, field: str = "coordinates") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Crs:
    """A parsed CRS: `kind` is 'wgs84', 'gcj02', 'bd09' or 'epsg'; `code` the canonical name."""

    kind: str
    code: str

    @property
    def geographic(self) -> bool:
        return self.kind != "epsg" or _pyproj_crs(self.code).is_geographic


def parse_crs(value: str | int | None) -> Crs:
    """Parse a user-supplied CRS name; empty means WGS 84. Raises CoordinateError('crs')."""
    text = str(value if value is not None else "").strip().lower()
    if not text:
        return Crs("wgs84", WGS84)
    canonical = _ALIASES.get(text)
    if canonical is None and re.fullmatch(r"(epsg:)?\d{4,6}", text):
        canonical = "EPSG:" + text.split(":")[-1]
    if canonical == WGS84:
        return Crs("wgs84", WGS84)
    if canonical in (GCJ02, BD09):
        return Crs(canonical, canonical)
    if canonical is None:
        raise CoordinateError(
            _("unknown coordinate system %(crs)r (use wgs84, cgcs2000, gcj02, bd09 or EPSG:nnnn)")
            % {"crs": str(value)},
            field="crs",
        )
    try:
        _pyproj_crs(canonical)
    except Exception as exc:  # pyproj raises CRSError; the code simply does not exist
        raise CoordinateError(
            _("unknown coordinate system %(crs)r") % {"crs": str(value)}, field="crs"
        ) from exc
    return Crs("epsg", canonical)


@lru_cache(maxsize=64)
def _pyproj_crs(code: str):
    from pyproj import CRS

    return CRS.from_user_input(code)


@lru_cache(maxsize=64)
def _transformer(code: str):
    from pyproj import Transformer

    # always_xy: callers pass (lon, lat) / (easting, northing) even for EPSG:4490's lat-first axes.
    return Transformer.from_crs(code, WGS84, always_xy=True)


def in_mainland_china(lon, lat):
    """True where (lon, lat) lies inside the coarse mainland outline (vectorised)."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    inside = np.zeros(np.broadcast(lon, lat).shape, dtype=bool)
    box = (lon >= 73.0) & (lon <= 135.1) & (lat >= 17.5) & (lat <= 53.6)
    if not box.any():
        return inside if inside.shape else bool(inside)
    xs, ys = _MAINLAND[:, 0], _MAINLAND[:, 1]
    x = np.broadcast_to(lon, inside.shape)[box]
    y = np.broadcast_to(lat, inside.shape)[box]
    hit = np.zeros(x.shape, dtype=bool)
    # Even-odd ray casting over the outline's edges, vectorised over the points.
    for i in range(len(xs) - 1):
        x1, y1, x2, y2 = xs[i], ys[i], xs[i + 1], ys[i + 1]
        crosses = (y1 > y) != (y2 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_at = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
        hit ^= crosses & (x < x_at)
    inside[box] = hit
    return inside if inside.shape else bool(inside)


def _gcj_delta(lon, lat):
    """The GCJ-02 offset (dlon, dlat) in degrees at a WGS 84 point (the published formula)."""
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x
    dlat = dlat + common
    dlat = dlat + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat = dlat + (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x
    dlon = dlon + common
    dlon = dlon + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon = dlon + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad_lat = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return dlon, dlat


def _out(x, y, like):
    if np.ndim(like) == 0:
        return float(x), float(y)
    return x, y


def wgs84_to_gcj02(lon, lat):
    """WGS 84 → GCJ-02; unchanged outside mainland China."""
    lon_a = np.asarray(lon, dtype=float)
    lat_a = np.asarray(lat, dtype=float)
    dlon, dlat = _gcj_delta(lon_a, lat_a)
    inside = in_mainland_china(lon_a, lat_a)
    return _out(
        np.where(inside, lon_a + dlon, lon_a), np.where(inside, lat_a + dlat, lat_a), lon
    )


def _wgs84_to_gcj02_everywhere(lon, lat):
    dlon, dlat = _gcj_delta(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon, lat):
    """GCJ-02 → WGS 84 by iterating the forward transform to a residual below 1e-9°.

    Whether the offset applies is decided once, at the GCJ-02 input: deciding it again for each
    iterate would make points within the offset's reach of the outline oscillate.
    """
    lon_a = np.asarray(lon, dtype=float)
    lat_a = np.asarray(lat, dtype=float)
    x, y = _invert(_wgs84_to_gcj02_everywhere, lon_a, lat_a, first_guess=None)
    inside = in_mainland_china(lon_a, lat_a)
    return _out(np.where(inside, x, lon_a), np.where(inside, y, lat_a), lon)


def gcj02_to_bd09(lon, lat):
    """GCJ-02 → BD-09 (Baidu's published formula)."""
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return _out(z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006, lon)


def _bd09_to_gcj02_closed(lon, lat):
    x = np.asarray(lon, dtype=float) - 0.0065
    y = np.asarray(lat, dtype=float) - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def bd09_to_gcj02(lon, lat):
    """BD-09 → GCJ-02: the closed approximate inverse, refined by iteration."""
    return _invert(gcj02_to_bd09, lon, lat, first_guess=_bd09_to_gcj02_closed)


def wgs84_to_bd09(lon, lat):
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon, lat):
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def _invert(forward, lon, lat, first_guess):
    target_x = np.asarray(lon, dtype=float)
    target_y = np.asarray(lat, dtype=float)
    if first_guess is None:
        x, y = target_x.copy(), target_y.copy()
    else:
        x, y = (np.asarray(v, dtype=float) for v in first_guess(target_x, target_y))
    for _step in range(_INVERSE_MAX_STEPS):
        fx, fy = (np.asarray(v) for v in forward(x, y))
        ex, ey = fx - target_x, fy - target_y
        x, y = x - ex, y - ey
        if np.all(np.abs(ex) < _INVERSE_TOLERANCE_DEG) and np.all(
            np.abs(ey) < _INVERSE_TOLERANCE_DEG
        ):
            break
    return _out(x, y, lon)


def check_lon_lat(lon: float, lat: float) -> None:
    """Range checks for geographic input; says so when the two values look swapped."""
    for name, value in (("lon", lon), ("lat", lat)):
        if not math.isfinite(value):
            raise CoordinateError(_("%(name)s is not a finite number") % {"name": name}, name)
    if not -90 <= lat <= 90:
        if -90 <= lon <= 90 and -180 <= lat <= 180:
            raise CoordinateError(
                _(
                    "latitude %(lat)s is outside −90…90; latitude and longitude look swapped "
                    "(send lon=%(lat)s&lat=%(lon)s)"
                )
                % {"lat": lat, "lon": lon},
                "lat",
            )
        raise CoordinateError(_("latitude %(lat)s is outside −90…90") % {"lat": lat}, "lat")
    if not -180 <= lon <= 180:
        raise CoordinateError(_("longitude %(lon)s is outside −180…180") % {"lon": lon}, "lon")


def to_wgs84(x, y, crs: str | Crs | None = None):
    """Convert (x, y) in `crs` to WGS 84 (lon, lat); scalars or arrays. Range-checked output."""
    parsed = crs if isinstance(crs, Crs) else parse_crs(crs)
    if parsed.kind == "wgs84":
        lon, lat = x, y
    elif parsed.kind == "gcj02":
        lon, lat = gcj02_to_wgs84(x, y)
    elif parsed.kind == "bd09":
        lon, lat = bd09_to_wgs84(x, y)
    else:
        lon, lat = _transformer(parsed.code).transform(x, y)
        if np.ndim(x) == 0:
            lon, lat = float(lon), float(lat)
    return lon, lat


def from_wgs84(lon, lat, crs: str | Crs):
    """WGS 84 → `crs` (for drawing on GCJ-02/BD-09 basemaps and for tests)."""
    parsed = crs if isinstance(crs, Crs) else parse_crs(crs)
    if parsed.kind == "wgs84":
        return lon, lat
    if parsed.kind == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    if parsed.kind == "bd09":
        return wgs84_to_bd09(lon, lat)
    from pyproj import Transformer

    out = Transformer.from_crs(WGS84, parsed.code, always_xy=True).transform(lon, lat)
    return (float(out[0]), float(out[1])) if np.ndim(lon) == 0 else out


def distance_m(lon1, lat1, lon2, lat2):
    """Great-circle distance in metres (haversine on a 6,371,008.8 m sphere)."""
    r = 6371008.8
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    d = 2 * r * np.arcsin(np.sqrt(a))
    return float(d) if np.ndim(d) == 0 else d
