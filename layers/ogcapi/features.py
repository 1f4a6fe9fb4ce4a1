"""GeoJSON features built in SQL: one row per feature, its JSON text made by PostgreSQL.

Rules:
- The rows come from the ORM (the collection's rows, the reader's scope, bbox, datetime and
  the CQL2 filter: all parameters, GiST and b-tree indexes where they exist); this module wraps
  that query in `json_build_object(...)` so that neither the geometry nor the properties pass
  through Python objects. Property names in the SQL are the collection's own constants, never
  request text.
- The geometry is written by ST_AsGeoJSON after ST_Transform to the output CRS (only for
  EPSG:3857: crs.py says why) and ST_FlipCoordinates for the latitude-first CRSs, rounded to
  about a centimetre (crs.Crs.decimals).
- Timestamps are written by PostgreSQL in UTC (the connection's time zone) with their offset.
"""

from __future__ import annotations

from django.contrib.gis.db.models import GeometryField
from django.core.exceptions import EmptyResultSet
from django.db.models import F, Func, QuerySet, Value
from django.db.models.fields import TextField

from geogrid.dbrouting import read_connection

from .collections import Collection
from .crs import Crs


def geometry_json(field: str, crs: Crs) -> Func:
    """ST_AsGeoJSON of `field` in `crs`, in that CRS's axis order."""
    geom: F | Func = F(field)
    if not crs.same_numbers:  # EPSG:3857, in spatial_ref_sys: by SRID
        geom = Func(geom, Value(int(crs.auth.split(":")[1])), function="ST_Transform",
                    output_field=GeometryField())
    if crs.lat_first:
        geom = Func(geom, function="ST_FlipCoordinates", output_field=GeometryField())
    return Func(geom, Value(crs.decimals), function="ST_AsGeoJSON", output_field=TextField())


def feature_rows(collection: Collection, rows: QuerySet, crs: Crs,
                 descending: bool = False) -> tuple[str, list]:
    """SQL (and its parameters) answering (id, feature JSON text) for each row of `rows` (the
    caller orders it by id the same way and slices it)."""
    values = {f"p{i}": F(p.source) for i, p in enumerate(collection.props)}
    inner = rows.values(fid=F("pk"), geo=geometry_json(collection.geometry, crs), **values)
    sql, params = inner.query.sql_with_params()
    props = ", ".join(f"'{p.name}', t.p{i}" for i, p in enumerate(collection.props))
    outer = (
        "SELECT t.fid, json_build_object('type', 'Feature', 'id', t.fid, "
        f"'geometry', t.geo::json, 'properties', json_build_object({props}))::text "
        f"FROM ({sql}) t ORDER BY t.fid {'DESC' if descending else 'ASC'}"
    )
    return outer, list(params)


def fetch(collection: Collection, rows: QuerySet, crs: Crs,
          descending: bool = False) -> list[tuple[int, str]]:
    try:
        sql, params = feature_rows(collection, rows, crs, descending)
    except EmptyResultSet:  # the ORM knows there is nothing (e.g. an empty scope)
        return []
    with read_connection().cursor() as cursor:
        cursor.execute(sql, params)
        return [(int(fid), text) for fid, text in cursor.fetchall()]
