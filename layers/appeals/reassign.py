"""Re-assignment after grid boundaries change (receiver of geogrid.signals.boundaries_changed).

Buildings and open appeals that lie in the changed area (widened by the assignment tolerance, so
'nearest' answers are revisited too) or that point at a replaced version are run through the
same rules again, set-based; every change of grid or method is recorded (Reassignment row, and
a timeline row for appeals). Runs inside the transaction that wrote the new versions.
"""

from __future__ import annotations

from django.contrib.gis.geos import GEOSGeometry
from django.db import connection

from geogrid.locate import RULES_SQL, tolerance_m
from layers.appeals import timeline
from layers.appeals.models import OPEN_STATUSES


def _changed_area(changes) -> GEOSGeometry | None:
    area = None
    for change in changes:
        if change.changed_area is None or change.changed_area.empty:
            continue
        geom = change.changed_area.transform(4326, clone=True) if change.changed_area.srid not in (
            None, 4326) else change.changed_area
        area = geom if area is None else area.union(geom)
    return area


def reassign_after_change(sender=None, *, changes, actor=None, **kwargs) -> dict[str, int]:
    old_ids = [c.old_version_id for c in changes if c.old_version_id is not None]
    area = _changed_area(changes)
    tol = tolerance_m()
    wkb = bytes(area.wkb) if area is not None else None
    open_statuses = [str(s) for s in OPEN_STATUSES]
    counts = {}
    with connection.cursor() as cursor:
        for kind, table, extra in (
            ("building", "layers_building", "TRUE"),
            ("appeal", "layers_appeal", "o.status = ANY(%(open)s)"),
        ):
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
                                OR (%(area)s::bytea IS NOT NULL AND ST_DWithin(
                                    o.location, ST_GeomFromWKB(%(area)s::bytea, 4326),
                                    %(tol)s / 100000.0)))
                       ) p
                """ + RULES_SQL,
                {"old": old_ids, "area": wkb, "tol": tol, "open": open_statuses},
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
    return counts
