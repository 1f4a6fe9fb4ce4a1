"""Write a subtree of grids to GeoPackage, GeoJSON or Shapefile (with .prj and a UTF-8 .cpg).

Fields are code, name, level, parent (all ≤ 10 characters, so a Shapefile keeps them), plus the
version's validity. Re-importing an export with importers.grids yields the same codes and
geometries: coordinates are written as stored, in EPSG:4326.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import pyogrio
import shapely
from django.utils.translation import gettext as _

from geogrid.dbrouting import read_connection

DRIVERS = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".json": "GeoJSON", ".shp": "ESRI Shapefile"}


def export_grids(
    path: Path, root: str | None = None, *, as_of: dt.datetime | None = None, layer: str = "grids"
) -> int:
    """Write the current (or as-of) grids of `root`'s subtree to `path`; returns the count."""
    path = Path(path)
    driver = DRIVERS.get(path.suffix.lower())
    if driver is None:
        raise ValueError(
            _("cannot export to %(suffix)r: use .gpkg, .geojson or .shp") % {"suffix": path.suffix}
        )
    validity = (
        "g.valid_to IS NULL"
        if as_of is None
        else ("g.valid_from <= %(as_of)s AND (g.valid_to IS NULL OR g.valid_to > %(as_of)s)")
    )
    with read_connection().cursor() as cursor:
        cursor.execute(
            f"""
            SELECT g.code, g.name, g.level, coalesce(p.code, ''), g.valid_from,
                   ST_AsBinary(g.boundary)
            FROM geogrid_grid g LEFT JOIN geogrid_grid p ON p.id = g.parent_id
            WHERE {validity} AND g.code LIKE %(prefix)s
            ORDER BY g.level, g.code
            """,
            {"as_of": as_of, "prefix": (root or "") + "%"},
        )
        rows = cursor.fetchall()
    frame = gpd.GeoDataFrame(
        {
            "code": [r[0] for r in rows],
            "name": [r[1] for r in rows],
            "level": [r[2] for r in rows],
            "parent": [r[3] for r in rows],
            "valid_from": [r[4].isoformat() for r in rows],
        },
        geometry=shapely.from_wkb([bytes(r[5]) for r in rows]),
        crs=4326,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    options: dict = {}
    if driver == "GPKG":
        options["layer"] = layer
    if driver == "ESRI Shapefile":
        options["encoding"] = "UTF-8"  # GDAL writes the .cpg
    if driver == "GeoJSON":
        path.unlink(missing_ok=True)
        options["layer_options"] = {"COORDINATE_PRECISION": 12}
    pyogrio.write_dataframe(frame, path, driver=driver, promote_to_multi=True, **options)
    return len(frame)
