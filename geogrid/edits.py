"""Split and merge: the two editor actions that change more than one grid at once.

Both work on grids without children (micro-grids, or any leaf), keep the hierarchy's rules
(checked by geogrid.topology in the same transaction), keep history (old versions are closed,
never overwritten) and tell the point layers what moved (geogrid.signals).
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.contrib.gis.geos import GEOSGeometry, LineString
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from geogrid.grids import create_grid, may_edit_under
from geogrid.models import Grid, StaffAssignment
from geogrid.signals import BoundaryChange
from geogrid.topology import Kind, check_grid
from geogrid.versions import (
    BLOCKING,
    EditResult,
    StaleVersion,
    TopologyRejected,
    announce,
    new_version_id,
    replace_boundaries,
)


def _lock_leaf(code: str, version: int, actor: User) -> Grid:
    grid = Grid.objects.select_for_update().filter(pk=version, code=code).first()
    if grid is None or grid.valid_to is not None:
        current = Grid.objects.current().filter(code=code).values_list("id", flat=True).first()
        raise StaleVersion(code, current)
    if not may_edit_under(actor, grid.parent):
        raise PermissionDenied(_("you may not change grid %(code)s") % {"code": code})
    if Grid.objects.current().filter(parent=grid).exists():
        raise ValidationError(
            _("grid %(code)s has child grids: split or merge its children instead") % {"code": code}
        )
    return grid


def split_grid(
    code: str,
    line: GEOSGeometry,
    *,
    version: int,
    new_code: str,
    new_name: str,
    actor: User,
) -> EditResult:
    """Cut a grid in two along `line`: the larger part keeps the code, the other becomes the
    new sibling `new_code`. The line must cross the grid from one edge to another."""
    if not isinstance(line, LineString) or line.srid not in (None, 4326):
        raise ValidationError({"line": [_("draw the cut as a line in WGS 84")]})
    with transaction.atomic():
        grid = _lock_leaf(code, version, actor)
        with connection.cursor() as cursor:
            # Parts of the split, largest first (area on the spheroid).
            cursor.execute(
                """
                SELECT ST_AsEWKB(part) FROM (
                    SELECT (ST_Dump(ST_Split(g.boundary, ST_SetSRID(%s::geometry, 4326)))).geom
                    FROM geogrid_grid g WHERE g.id = %s
                ) d(part)
                ORDER BY ST_Area(part::geography) DESC
                """,
                (line.ewkb.hex(), grid.pk),
            )
            parts = [GEOSGeometry(memoryview(row[0])) for row in cursor.fetchall()]
        if len(parts) != 2:
            raise ValidationError(
                {
                    "line": [
                        _(
                            "the line must cross the grid from edge to edge, cutting it in two "
                            "(it made %(n)d parts)"
                        )
                        % {"n": len(parts)}
                    ]
                }
            )
        changes = replace_boundaries([(code, parts[0])], actor=actor)
        created = create_grid(
            level=grid.level,
            code=new_code,
            name=new_name,
            boundary=parts[1],
            parent=Grid.objects.get(pk=new_version_id(changes[0])).parent,
            actor=None,  # permission was checked on the parent above
        )
        Grid.objects.filter(pk=created.pk).update(changed_by=actor)
        changes.append(BoundaryChange(new_code, None, created.pk, created.boundary))
        report = _check(grid.parent.code if grid.parent else code)
        announce(changes, actor)
        kept = Grid.objects.get(pk=new_version_id(changes[0]))
    return EditResult(grid=kept, changes=changes, warnings=report.of_kind(Kind.GAP))


def merge_grids(
    code: str,
    other: str,
    *,
    version: int,
    other_version: int,
    actor: User,
) -> EditResult:
    """Merge sibling `other` into `code`: one boundary, `other` retired (its posts move)."""
    with transaction.atomic():
        keep = _lock_leaf(code, version, actor)
        gone = _lock_leaf(other, other_version, actor)
        if keep.parent_id != gone.parent_id or keep.pk == gone.pk:
            raise ValidationError({"other": [_("only two different sibling grids can be merged")]})
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT ST_AsEWKB(ST_Multi(ST_UnaryUnion(ST_Collect(a.boundary, b.boundary)))),
                       ST_Length(ST_Intersection(ST_Boundary(a.boundary),
                                                 ST_Boundary(b.boundary))::geography)
                FROM geogrid_grid a, geogrid_grid b WHERE a.id = %s AND b.id = %s
                """,
                (keep.pk, gone.pk),
            )
            union, shared_m = cursor.fetchone()
        if not shared_m or shared_m < 1.0:
            raise ValidationError(
                {
                    "other": [
                        _("grids %(a)s and %(b)s do not share an edge") % {"a": code, "b": other}
                    ]
                }
            )
        now = timezone.now()
        changes = replace_boundaries(
            [(code, GEOSGeometry(memoryview(union)))], actor=actor, when=now
        )
        Grid.objects.filter(pk=gone.pk).update(valid_to=now)
        _move_posts(gone, new_version_id(changes[0]))
        changes.append(BoundaryChange(other, gone.pk, None, gone.boundary))
        report = _check(keep.parent.code if keep.parent else code)
        announce(changes, actor)
        merged = Grid.objects.get(pk=new_version_id(changes[0]))
    return EditResult(grid=merged, changes=changes, warnings=report.of_kind(Kind.GAP))


def _move_posts(retired: Grid, to_version: int) -> None:
    """The retired grid's current posts move to the merged grid; a post the person already holds
    there ends instead (one active post per person, grid and post)."""
    held = set(
        StaffAssignment.objects.filter(grid_id=to_version, until__isnull=True).values_list(
            "user_id", "post"
        )
    )
    for post in retired.staff.filter(until__isnull=True):
        if (post.user_id, post.post) in held:
            post.until = timezone.localdate()
        else:
            post.grid_id = to_version
        post.save(update_fields=["until", "grid"])


def _check(family_code: str):
    report = check_grid(family_code)
    blocking = report.of_kind(*BLOCKING)
    if blocking:
        raise TopologyRejected(blocking)
    return report
