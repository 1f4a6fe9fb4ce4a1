"""Queries behind map reports and charts: grid boundaries of a subtree, weekly heat frames and
weekly counts per category (set-based SQL; the drawing is in maps.reports)."""

from __future__ import annotations

import json

from django.db import connection
from django.utils import timezone

from geogrid.hierarchy import code_lengths

from .filters import AppealFilter


def report_level(root: str | None) -> int:
    """The level a report on `root`'s subtree shows: the root's children (subdistricts when no
    root; the micro-grid itself when the root is one)."""
    if not root:
        return 2
    lengths = code_lengths()
    level = next((lvl for lvl, n in lengths.items() if n == len(root)), 5)
    return min(level + 1, 5)


def subtree_grids(root: str | None, level: int, tolerance_deg: float = 0.00002) -> list[dict]:
    """Current grids of `level` under `root`: code, name and simplified GeoJSON geometry."""
    scope, params = ("g.code LIKE %s", [root + "%"]) if root else ("true", [])
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT g.code, g.name,
                       ST_AsGeoJSON(ST_SimplifyPreserveTopology(g.boundary, %s), 6),
                       ST_X(ST_PointOnSurface(g.boundary)), ST_Y(ST_PointOnSurface(g.boundary))
                FROM geogrid_grid g
                WHERE g.valid_to IS NULL AND g.level = %s AND {scope} ORDER BY g.code""",
            [tolerance_deg, level, *params],
        )
        return [
            {"code": c, "name": n, "geometry": json.loads(gj), "label_at": (y, x)}
            for c, n, gj, x, y in cursor.fetchall()
        ]


def weekly_heat(filt: AppealFilter, max_weeks: int = 26, digits: int = 4
                ) -> tuple[list[str], list[list[list[float]]]]:
    """(week labels, frames): per ISO week the appeals rounded to `digits` decimals (≈ 10 m)
    with counts, as [lat, lon, n] — the last `max_weeks` weeks of the filtered period."""
    where, params = filt.appeal_sql("a")
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH w AS (
                    SELECT date_trunc('week', a.reported_at AT TIME ZONE %s)::date AS week,
                           round(ST_Y(a.location)::numeric, {digits}) AS lat,
                           round(ST_X(a.location)::numeric, {digits}) AS lon
                    FROM layers_appeal a WHERE {where}
                ), last AS (
                    SELECT DISTINCT week FROM w ORDER BY week DESC LIMIT %s
                )
                SELECT week, lat, lon, count(*) FROM w WHERE week IN (SELECT week FROM last)
                GROUP BY 1, 2, 3 ORDER BY 1""",
            [timezone.get_default_timezone_name(), *params, max_weeks],
        )
        rows = cursor.fetchall()
    weeks: list[str] = []
    frames: list[list[list[float]]] = []
    for week, lat, lon, n in rows:
        label = week.isoformat()
        if not weeks or weeks[-1] != label:
            weeks.append(label)
            frames.append([])
        frames[-1].append([float(lat), float(lon), n])
    return weeks, frames


def weekly_by_category(filt: AppealFilter) -> list[tuple]:
    """(week, category code, Chinese name, English name, appeals) for the filtered appeals,
    located or not."""
    where, params = filt.appeal_sql("a")
    where = where.replace("a.location IS NOT NULL", "true", 1)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT date_trunc('week', a.reported_at AT TIME ZONE %s)::date, c.code,
                       c.name_zh, c.name_en, count(*)
                FROM layers_appeal a JOIN layers_category c ON c.id = a.category_id
                WHERE {where} GROUP BY 1, 2, 3, 4 ORDER BY 1, 2""",
            [timezone.get_default_timezone_name(), *params],
        )
        return cursor.fetchall()


def extent(filt: AppealFilter, root: str | None) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) of the root grid, or of all current districts."""
    scope, params = ("code = %s", [root]) if root else ("level = 1", [])
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT "
            f"ST_Extent(boundary) e FROM geogrid_grid WHERE valid_to IS NULL AND {scope}) t",
            params,
        )
        row = cursor.fetchone()
    return tuple(row) if row and row[0] is not None else None
