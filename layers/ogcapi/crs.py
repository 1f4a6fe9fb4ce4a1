"""The coordinate reference systems of the OGC API (Part 2): which, how named, which axis order.

Rules:
- Four CRSs, an allow-list: CRS84 (the default: longitude, latitude), EPSG:4326 (WGS 84) and
  EPSG:4490 (CGCS2000), both **latitude first** as their EPSG definitions say, and EPSG:3857
  (Web Mercator, easting, northing). Anything else is a 400 naming the parameter.
- A CRS is named by its URI (`http://www.opengis.net/def/crs/EPSG/0/4490`); the short forms
  `EPSG:4490`, `[EPSG:4490]` and `CRS84` / `OGC:CRS84` are accepted too and mean the same
  CRS, with the same axis order (the order belongs to the CRS, not to its spelling).
- Storage stays EPSG:4326 (lon/lat in PostGIS). Output to EPSG:3857 is transformed in SQL
  (ST_Transform) and the latitude-first CRSs are flipped with ST_FlipCoordinates; input
  geometries (`bbox`, CQL2 literals) are brought to lon/lat EPSG:4326 here with pyproj, once,
  before they reach a query.
- WGS 84 → CGCS2000: PROJ's only transformation is the "ballpark" one (the datums agree within a
  few centimetres), so the numbers do not change, only the axis order does, and SQL does not
  call ST_Transform for it (EPSG:4490 is not in this database's spatial_ref_sys, and
  ST_Transform by authority string builds the PROJ pipeline again for every row: seconds per
  page).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from pyproj import Transformer


@dataclass(frozen=True)
class Crs:
    uri: str
    auth: str  # what PROJ (ST_Transform, pyproj) calls it
    lat_first: bool
    projected: bool
    same_numbers: bool = True  # as stored (EPSG:4326 lon/lat) up to the axis order

    @property
    def decimals(self) -> int:
        # ~1 cm either way: 7 decimals of a degree, 2 of a metre.
        return 2 if self.projected else 7

    @property
    def header(self) -> str:
        """The value of the Content-Crs header."""
        return f"<{self.uri}>"

    def valid_bbox(self, minx: float, miny: float, maxx: float, maxy: float) -> bool:
        """Within the CRS's area of use (x, y as lon/lat or easting/northing)."""
        if self.projected:
            limit = 20037508.3427892
            return all(-limit <= v <= limit for v in (minx, miny, maxx, maxy))
        return -180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and (
            -90 <= maxy <= 90)


CRS84 = Crs("http://www.opengis.net/def/crs/OGC/1.3/CRS84", "OGC:CRS84", False, False)
WGS84 = Crs("http://www.opengis.net/def/crs/EPSG/0/4326", "EPSG:4326", True, False)
CGCS2000 = Crs("http://www.opengis.net/def/crs/EPSG/0/4490", "EPSG:4490", True, False)
WEB_MERCATOR = Crs("http://www.opengis.net/def/crs/EPSG/0/3857", "EPSG:3857", False, True,
                   same_numbers=False)
SUPPORTED: tuple[Crs, ...] = (CRS84, WGS84, CGCS2000, WEB_MERCATOR)
STORAGE = CRS84  # EPSG:4326 in PostGIS, whose coordinates are lon/lat: CRS84's order

_BY_NAME = {c.uri: c for c in SUPPORTED} | {c.auth.lower(): c for c in SUPPORTED} | {
    "crs84": CRS84, "https://www.opengis.net/def/crs/ogc/1.3/crs84": CRS84}
for _c in SUPPORTED:
    _BY_NAME[_c.uri.lower()] = _c
    _BY_NAME[_c.uri.lower().replace("http://", "https://")] = _c
_CURIE = re.compile(r"^\[(.*)\]$")


def parse(value: str | None, param: str, default: Crs = CRS84) -> Crs:
    """The CRS a parameter names; a 400 naming `param` for any other."""
    if value is None or value == "":
        return default
    name = _CURIE.sub(r"\1", value.strip()).lower()
    crs = _BY_NAME.get(name)
    if crs is None:
        raise ValidationError({param: [
            _("unsupported CRS %(crs)s; use one of %(known)s")
            % {"crs": value[:200], "known": ", ".join(c.uri for c in SUPPORTED)}]})
    return crs


@lru_cache(maxsize=8)
def _to_storage(auth: str) -> Transformer:
    return Transformer.from_crs(auth, "EPSG:4326", always_xy=True)


def to_lonlat(crs: Crs, x: float, y: float) -> tuple[float, float]:
    """A coordinate pair as given in `crs` (in its own axis order) → lon/lat of EPSG:4326."""
    if crs.lat_first:
        x, y = y, x
    if crs.same_numbers:
        return x, y
    lon, lat = _to_storage(crs.auth).transform(x, y)
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise ValueError("outside the CRS")
    return lon, lat
