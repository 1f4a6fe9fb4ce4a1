"""Re-assignment after grid boundaries change (receiver of geogrid.signals.boundaries_changed).

Buildings and open appeals that lie in the changed area (widened by the assignment tolerance, so
'nearest' answers are revisited too) or that point at a replaced version are run through the
same rules again, set-based; every change of grid or method is recorded (Reassignment row, and
a timeline row for appeals). Runs inside the transaction that wrote the new versions.
"""

from __future__ import annotations

from typing import Any

from django.db import connection

from geogrid.locate import RULES_SQL, tolerance_m
from layers.appeals import timeline
from layers.appeals.models import OPEN_STATUSES


def _changed_areas(changes) -> list[bytes]:
    """The changed areas as EWKB in EPSG:4326, one per change (not unioned: a point is within
    the tolerance of the union exactly when it is within the tolerance of one of them, and a
    union of every grid of a city costs seconds in Python)."""
    out = []
    for change in changes:
        area = change.changed_area
        if area is None or area.empty:
            continue
        if area.srid not in (None, 4326):
            area = area.transform(4326, clone=True)
        out.append(bytes(area.wkb))
    return out


def reassign_after_change(sender=None, *, changes, actor=None, **kwargs) -> dict[str, int]:
    old_ids = [c.old_version_id for c in changes if c.old_version_id is not None]
    tol = tolerance_m()
    open_statuses = [str(s) for s in OPEN_STATUSES]
    counts = {}
    areas: list[bytes] | None = None  # staged on first need
    with connection.cursor() as cursor:
        for kind, table, extra in (
            ("building", "layers_building", "TRUE"),
            ("appeal", "layers_appeal", "o.status = ANY(%(open)s)"),
        ):
            params: dict[str, Any] = {"old": old_ids, "tol": tol, "open": open_statuses}
            # Nothing that could move (a first import into a city without buildings or open
            # appeals): no staging, no rules.
            cursor.execute(
                f"SELECT EXISTS (SELECT 1 FROM {table} o WHERE o.location IS NOT NULL AND {extra})",
                params,
            )
            if not cursor.fetchone()[0]:
                counts[kind] = 0
                continue
            if areas is None:
                areas = _changed_areas(changes)
                _stage_areas(cursor, areas, tol)
            # Candidates: what points at a replaced version, and what lies within the tolerance
            # of a changed area. The areas' joint extent (widened by the tolerance) lets the
            # table's spatial index pick the few rows near a small edit; each of those (or, for
            # a whole city, every row) then probes the areas' own index.
            cursor.execute(
                f"""
                CREATE TEMP TABLE _reassign ON COMMIT DROP AS
                SELECT p.id, p.old_grid, p.old_method, a.id AS new_grid,
                       COALESCE(a.method, 'unlocated') AS new_method, a.dist
                  FROM (SELECT o.id, o.grid_id AS old_grid, o.assignment AS old_method,
                               o.location AS g
                          FROM {table} o
                         WHERE o.location IS NOT NULL AND {extra}
                           AND (o.grid_id = ANY(%(old)s)
                                OR (o.location && (SELECT extent FROM _reassign_extent)
                                    AND EXISTS (SELECT 1 FROM _reassign_area c
                                                WHERE ST_DWithin(o.location, c.geom,
                                                                 %(tol)s / 100000.0))))
                       ) p
                """ + RULES_SQL,
                params,
            )
            cursor.execute(
                "DELETE FROM _reassign WHERE new_grid IS NOT DISTINCT FROM old_grid"
                " AND new_method = old_method"
            )
            cursor.execute(
                f"UPDATE {table} o SET grid_id = r.new_grid, assignment = r.new_method"
                + (", assignment_distance_m = r.dist" if kind == "appeal" else "")
                + " FROM _reassign r WHERE o.id = r.id"
            )
            counts[kind] = cursor.rowcount
            cursor.execute(
                f"""
                INSERT INTO layers_reassignment ({kind}_id, old_grid_id, new_grid_id, old_method,
                                                 new_method, at, actor_id)
                SELECT id, old_grid, new_grid, old_method, new_method, now(), %s FROM _reassign
                """,
                (getattr(actor, "pk", None),),
            )
            if kind == "appeal":
                timeline.insert_from_select(
                    cursor,
                    """
                    SELECT r.id, 'reassigned', now(), %s, 'system', a.status, a.status, '',
                           jsonb_build_object('method', r.new_method, 'version_id', r.new_grid,
                                              'previous_version_id', r.old_grid)
                      FROM _reassign r JOIN layers_appeal a ON a.id = r.id
                    """,
                    (getattr(actor, "pk", None),),
                )
            cursor.execute("DROP TABLE _reassign")
        if areas is not None:
            cursor.execute("DROP TABLE _reassign_area, _reassign_extent")
    return counts


def _stage_areas(cursor, areas: list[bytes], tol: float) -> None:
    """The changed areas in a spatially indexed temporary table, one row each (COPY), and their
    joint extent widened by the tolerance (an exact pre-filter: ST_DWithin within d of an area
    implies lying in its box widened by d)."""
    cursor.execute("DROP TABLE IF EXISTS _reassign_wkb, _reassign_area, _reassign_extent")
    cursor.execute("CREATE TEMP TABLE _reassign_wkb (wkb bytea) ON COMMIT DROP")
    with cursor.cursor.copy("COPY _reassign_wkb (wkb) FROM STDIN") as copy:
        for wkb in areas:
            copy.write_row((wkb,))
    cursor.execute(
        "CREATE TEMP TABLE _reassign_area ON COMMIT DROP AS"
        " SELECT ST_GeomFromWKB(wkb, 4326) AS geom FROM _reassign_wkb"
    )
    cursor.execute("DROP TABLE _reassign_wkb")
    cursor.execute("CREATE INDEX ON _reassign_area USING gist (geom)")
    cursor.execute("ANALYZE _reassign_area")
    cursor.execute(
        "CREATE TEMP TABLE _reassign_extent ON COMMIT DROP AS"
        " SELECT ST_SetSRID(ST_Expand(ST_Extent(geom)::geometry, %s / 100000.0), 4326) AS extent"
        " FROM _reassign_area",
        [tol],
    )
