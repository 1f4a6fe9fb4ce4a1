"""Micro-units follow their buildings when boundaries change (receiver of
geogrid.signals.boundaries_changed).

A household is where its building is, so households move with the building re-assignment that
layers.appeals.reassign has already done in the same transaction (receivers run in app order:
appeals before people). Here each micro-unit touched by the change gets its micro-grid
re-derived from its buildings, set-based: the grid holding most of its dwellings wins; a unit
whose buildings now lie in two or more micro-grids is flagged for review (one micro-grid per
unit is the rule). Each move or flag is one `grid_changed` row in the change log.
"""

from __future__ import annotations

from django.db import connection
from django.dispatch import receiver

from geogrid.signals import boundaries_changed


@receiver(boundaries_changed, dispatch_uid="people.reassign_micro_units")
def rederive_micro_units(sender=None, *, changes, actor=None, **kwargs) -> int:
    old_ids = [c.old_version_id for c in changes if c.old_version_id is not None]
    new_ids = [c.new_version_id for c in changes if getattr(c, "new_version_id", None)]
    with connection.cursor() as cursor:
        # No micro-units (a first import into a new city): nothing to re-derive.
        cursor.execute("SELECT EXISTS (SELECT 1 FROM people_microunit)")
        if not cursor.fetchone()[0]:
            return 0
        # touched: units on a changed grid, or with a dwelling in a building on one; as a UNION
        # of two index look-ups rather than an OR over the join of every unit and dwelling.
        cursor.execute(
            """
            WITH ids AS MATERIALIZED (
                SELECT DISTINCT unnest(%(ids)s::bigint[]) AS id
            ), touched AS (
                SELECT u.id FROM people_microunit u WHERE u.grid_id IN (SELECT id FROM ids)
                UNION
                SELECT d.micro_unit_id
                  FROM layers_building b JOIN people_dwelling d ON d.building_id = b.id
                 WHERE b.grid_id IN (SELECT id FROM ids) AND d.micro_unit_id IS NOT NULL
            ), per_grid AS (
                SELECT d.micro_unit_id AS unit, b.grid_id, count(*) AS n
                  FROM people_dwelling d JOIN layers_building b ON b.id = d.building_id
                 WHERE d.micro_unit_id IN (SELECT id FROM touched) AND b.grid_id IS NOT NULL
                 GROUP BY 1, 2
            ), derived AS (
                SELECT unit,
                       (array_agg(grid_id ORDER BY n DESC, grid_id))[1] AS grid_id,
                       count(*) AS grids
                  FROM per_grid GROUP BY unit
            ), changed AS (
                UPDATE people_microunit u
                   SET grid_id = d.grid_id,
                       needs_review = u.needs_review OR d.grids > 1,
                       review_note = CASE WHEN d.grids > 1
                           THEN 'buildings in ' || d.grids || ' micro-grids after a boundary edit'
                           ELSE u.review_note END
                  FROM derived d, people_microunit old
                 WHERE u.id = d.unit AND old.id = u.id
                   AND (u.grid_id <> d.grid_id OR d.grids > 1)
                RETURNING u.id, old.grid_id AS old_grid, u.grid_id AS new_grid, d.grids
            )
            INSERT INTO people_changeevent (kind, micro_unit_id, effective_date, source,
                                            reported_by_id, reported_at, diff, note)
            SELECT 'grid_changed', c.id, current_date, 'system', %(actor)s, now(),
                   jsonb_build_object('old_grid', og.code, 'new_grid', ng.code,
                                      'micro_grids', c.grids),
                   CASE WHEN c.grids > 1 THEN 'split: needs review' ELSE '' END
              FROM changed c
              JOIN geogrid_grid og ON og.id = c.old_grid
              JOIN geogrid_grid ng ON ng.id = c.new_grid
            """,
            {"ids": old_ids + new_ids, "actor": getattr(actor, "pk", None)},
        )
        return cursor.rowcount
