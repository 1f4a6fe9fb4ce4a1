"""Hotspots: dense clusters of appeals of one category over a period (a street of dark lamps,
a fire lane blocked every evening), found with ST_ClusterDBSCAN in a metric projection.

`detect()` only reads; `refresh_hotspots()` replaces the stored set (what the API lists and
what `active_hotspot_for()` checks a new appeal against).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.contrib.gis.geos import GEOSGeometry, Point, Polygon
from django.db import connection, transaction
from django.utils import timezone

from .conf import conf
from .filters import local_midnight
from .models import Hotspot
from .snapshot import fetch


@dataclass
class HotspotParams:
    date_from: dt.date
    date_to: dt.date  # inclusive
    eps_m: float = field(default_factory=lambda: float(conf("HOTSPOT_EPS_M")))
    min_points: int = field(default_factory=lambda: int(conf("HOTSPOT_MIN_POINTS")))
    category_codes: tuple[str, ...] = ()  # empty: every category
    per_category: bool = True  # False: cluster all categories together
    grid_prefix: str | None = None

    @classmethod
    def last_days(cls, days: int | None = None, **kw) -> HotspotParams:
        today = timezone.localdate()
        days = days or int(conf("HOTSPOT_DAYS"))
        return cls(date_from=today - dt.timedelta(days=days - 1), date_to=today, **kw)


@dataclass
class Found:
    category_id: int | None
    categories: dict[str, int]
    centroid: Point
    hull: Polygon
    count: int
    grid_codes: list[str]
    first_report: dt.datetime
    last_report: dt.datetime


def metric_srid() -> int:
    """The configured metric SRID, or the UTM zone around the appeals' centre."""
    configured = conf("METRIC_SRID")
    if configured:
        return int(configured)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Extent(location)::geometry) c "
            "FROM (SELECT location FROM layers_appeal WHERE location IS NOT NULL "
            "ORDER BY id DESC LIMIT 10000) s) t"
        )
        row = cursor.fetchone()
    lon, lat = (row if row and row[0] is not None else (117.79, 26.40))
    zone = int((lon + 180) // 6) + 1
    return (32600 if lat >= 0 else 32700) + zone


def detect(params: HotspotParams) -> list[Found]:
    srid = metric_srid()
    where = ["a.location IS NOT NULL", "a.reported_at >= %s", "a.reported_at < %s",
             "a.status NOT IN ('merged', 'rejected')"]
    args: list = [local_midnight(params.date_from),
                  local_midnight(params.date_to + dt.timedelta(days=1))]
    if params.category_codes:
        where.append("c.code = ANY(%s)")
        args.append(list(params.category_codes))
    if params.grid_prefix:
        where.append("g.code LIKE %s")
        args.append(params.grid_prefix + "%")
    part = "a.category_id" if params.per_category else "0"
    # The hull is padded by a few metres so that 2-point or collinear clusters are polygons.
    # DBSCAN gives a border point (near the cores of two clusters) to the cluster it meets
    # first: ordering the partition by id makes that, and so the result, independent of the
    # plan (the Dask job's per-category queries give the same clusters, layers.batch).
    sql = f"""
        WITH pts AS (
            SELECT a.id, {part} AS part, c.code, a.reported_at, coalesce(g.code, '') AS grid,
                   ST_Transform(a.location, {srid}) AS geom
            FROM layers_appeal a
            JOIN layers_category c ON c.id = a.category_id
            LEFT JOIN geogrid_grid g ON g.id = a.grid_id
            WHERE {' AND '.join(where)}
        ), clustered AS (
            SELECT *, ST_ClusterDBSCAN(geom, eps => %s, minpoints => %s)
                          OVER (PARTITION BY part ORDER BY id) AS cid
            FROM pts
        ), per_code AS (
            SELECT part, cid, code, count(*) AS n FROM clustered WHERE cid IS NOT NULL
            GROUP BY 1, 2, 3
        )
        SELECT k.part, count(*),
               ST_AsEWKB(ST_Transform(ST_Centroid(ST_Collect(k.geom)), 4326)),
               ST_AsEWKB(ST_Transform(ST_Buffer(ST_ConvexHull(ST_Collect(k.geom)), 5, 2), 4326)),
               min(k.reported_at), max(k.reported_at),
               array_agg(DISTINCT k.grid) FILTER (WHERE k.grid <> ''),
               (SELECT jsonb_object_agg(p.code, p.n) FROM per_code p
                WHERE p.part = k.part AND p.cid = k.cid)
        FROM clustered k WHERE k.cid IS NOT NULL
        GROUP BY k.part, k.cid
        ORDER BY count(*) DESC
    """
    rows = fetch(sql, [*args, params.eps_m, params.min_points])
    out = []
    for part, count, centroid, hull, first, last, grids, cats in rows:
        categories = cats if isinstance(cats, dict) else json.loads(cats or "{}")
        out.append(
            Found(
                category_id=part if params.per_category else None,
                categories=categories,
                centroid=_from_ewkb(centroid, Point),
                hull=_from_ewkb(hull, Polygon),
                count=count,
                grid_codes=sorted(grids or []),
                first_report=first,
                last_report=last,
            )
        )
    return out


G = TypeVar("G", bound=GEOSGeometry)


def _from_ewkb(ewkb: Any, kind: type[G]) -> G:
    """The geometry in EWKB from the database, which the query guarantees is of `kind` (the
    centroid of points is a point; a hull buffered by a few metres is a polygon)."""
    geom = GEOSGeometry(memoryview(bytes(ewkb)))
    if not isinstance(geom, kind):
        raise TypeError(f"expected a {kind.__name__}, the database gave a {geom.geom_type}")
    return geom


def refresh_hotspots(params: HotspotParams, found: list[Found] | None = None) -> list[Hotspot]:
    """Detect (unless `found` is given: the Dask job's result, layers.batch.analytics) and
    replace the stored hotspots in one transaction."""
    found = detect(params) if found is None else found
    active_since = timezone.now() - dt.timedelta(days=int(conf("HOTSPOT_ACTIVE_DAYS")))
    with transaction.atomic():
        Hotspot.objects.all().delete()
        return Hotspot.objects.bulk_create(
            Hotspot(
                category_id=f.category_id,
                categories=f.categories,
                centroid=f.centroid,
                hull=f.hull,
                count=f.count,
                grid_codes=f.grid_codes,
                first_report=f.first_report,
                last_report=f.last_report,
                period_from=params.date_from,
                period_to=params.date_to,
                eps_m=params.eps_m,
                min_points=params.min_points,
                active=f.last_report >= active_since,
            )
            for f in found
        )


def active_hotspot_for(point: Point, category_code: str, at: dt.datetime) -> Hotspot | None:
    """The stored hotspot a new appeal of `category_code` at `point` repeats, if any: same
    category (or a cross-category hotspot listing it), within the hotspot's distance of its
    hull, and with a report in the HOTSPOT_ACTIVE_DAYS before `at`. Intake flags such an appeal
    as a "repeat problem"."""
    if point is None:
        return None
    if point.srid is None:
        point = Point(point.x, point.y, srid=4326)
    since = at - dt.timedelta(days=int(conf("HOTSPOT_ACTIVE_DAYS")))
    with connection.cursor() as cursor:
        # The category's id in the same statement: intake asks this for every appeal.
        cursor.execute(
            """
            SELECT id FROM analytics_hotspot
            WHERE last_report >= %s AND first_report <= %s
              AND (category_id = (SELECT id FROM layers_category WHERE code = %s)
                   OR (category_id IS NULL AND categories ? %s))
              AND ST_DWithin(hull::geography, ST_GeomFromEWKB(%s)::geography, eps_m)
            ORDER BY ST_Distance(hull::geography, ST_GeomFromEWKB(%s)::geography), count DESC
            LIMIT 1
            """,
            [since, at, category_code, category_code, bytes(point.ewkb), bytes(point.ewkb)],
        )
        row = cursor.fetchone()
    return Hotspot.objects.select_related("category").get(pk=row[0]) if row else None


def as_feature(spot: Hotspot) -> dict:
    """A GeoJSON feature (hull geometry) with the hotspot's facts."""
    category = spot.category
    return {
        "type": "Feature",
        "id": spot.pk,
        "geometry": json.loads(spot.hull.geojson),
        "properties": {
            "category": category.code if category is not None else None,
            "category_name": category.name_zh if category is not None else None,
            "categories": spot.categories,
            "count": spot.count,
            "centroid": [round(spot.centroid.x, 6), round(spot.centroid.y, 6)],
            "grids": spot.grid_codes,
            "first_report": spot.first_report.isoformat(),
            "last_report": spot.last_report.isoformat(),
            "period": [spot.period_from.isoformat(), spot.period_to.isoformat()],
            "eps_m": spot.eps_m,
            "min_points": spot.min_points,
            "active": spot.active,
        },
    }
