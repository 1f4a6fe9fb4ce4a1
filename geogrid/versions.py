"""Boundary versions: a changed boundary closes the current row and inserts a new one.

The contract other packages rely on (see geogrid/signals.py): for each changed code the current
Grid row gets `valid_to = now`, a new row with the same code, level, name and parent is inserted,
current children and current staff posts are re-pointed to it with set-based UPDATEs, and
`boundaries_changed` is sent inside the same transaction. Callers hold the transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.contrib.gis.geos import GEOSGeometry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from geogrid.errors import Conflict
from geogrid.geometry import BoundaryError, as_boundary
from geogrid.grids import create_grid, may_edit_under
from geogrid.models import Grid
from geogrid.signals import BoundaryChange, boundaries_changed
from geogrid.topology import Kind, Problem, check_grid

# Problems that block an edit. Gaps only warn: moving a shared edge takes two edits, and the
# first one necessarily leaves a gap (or an overlap, which does block) until the second.
BLOCKING = (Kind.INVALID, Kind.EMPTY, Kind.SLIVER, Kind.OUTSIDE_PARENT, Kind.OVERLAP)


class StaleVersion(Conflict):
    """The client edited a version that is no longer current (someone else saved first)."""

    def __init__(self, code: str, current_id: int | None):
        super().__init__(
            _("grid %(code)s was changed by someone else; reload version %(id)s and edit again")
            % {"code": code, "id": current_id},
            current={"version": current_id},
        )
        self.grid_code = code
        self.current_id = current_id


class TopologyRejected(ValidationError):
    """A boundary that would break the hierarchy; `problems` says where and by how much."""

    def __init__(self, problems: Sequence[Problem]):
        super().__init__([p.message for p in problems])
        self.problems = list(problems)


@dataclass
class EditResult:
    grid: Grid
    changes: list[BoundaryChange]
    warnings: list[Problem] = field(default_factory=list)


def new_version_id(change: BoundaryChange) -> int:
    """The id of the version `change` created (every change `replace_boundaries` returns has
    one; only a retired grid has none)."""
    if change.new_version_id is None:
        raise ValueError(f"grid {change.code} was retired, it has no new version")
    return change.new_version_id


def replace_boundaries(
    boundaries: Iterable[tuple[str, bytes | GEOSGeometry]],
    *,
    actor: User | None = None,
    when: dt.datetime | None = None,
) -> list[BoundaryChange]:
    """New versions for these (code, boundary) pairs; boundaries are EPSG:4326, validated.

    Set-based: one COPY and a handful of statements whatever the number of grids. Does not send
    the signal (see `announce`): an import first checks the topology of everything it wrote.
    """
    when = when or timezone.now()
    rows = [(code, bytes(b.wkb) if isinstance(b, GEOSGeometry) else b) for code, b in boundaries]
    if not rows:
        return []
    with connection.cursor() as cursor:
        raw = cursor.cursor
        raw.execute("DROP TABLE IF EXISTS _version_new, _version_map")
        raw.execute("CREATE TEMP TABLE _version_new (code text PRIMARY KEY, wkb bytea)")
        raw.execute(
            "CREATE TEMP TABLE _version_map (code text PRIMARY KEY, old_id bigint, new_id bigint)"
        )
        with raw.copy("COPY _version_new (code, wkb) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        # Close first: the unique constraint allows one current row per code.
        raw.execute(
            """
            WITH closed AS (
                UPDATE geogrid_grid g SET valid_to = %s
                FROM _version_new n WHERE g.code = n.code AND g.valid_to IS NULL
                RETURNING g.code, g.id
            )
            INSERT INTO _version_map (code, old_id) SELECT code, id FROM closed
            """,
            (when,),
        )
        raw.execute(
            """
            WITH inserted AS (
                INSERT INTO geogrid_grid (level, code, name, parent_id, boundary, valid_from,
                                          changed_by_id, created_at)
                SELECT o.level, o.code, o.name, o.parent_id,
                       ST_Multi(ST_GeomFromWKB(n.wkb, 4326)), %s, %s, now()
                FROM _version_map m
                JOIN geogrid_grid o ON o.id = m.old_id
                JOIN _version_new n ON n.code = m.code
                RETURNING id, code
            )
            UPDATE _version_map m SET new_id = i.id FROM inserted i WHERE i.code = m.code
            """,
            (when, actor.pk if actor is not None else None),
        )
        # Current children (new versions included) and current posts follow the new version.
        raw.execute(
            """
            UPDATE geogrid_grid c SET parent_id = m.new_id
            FROM _version_map m WHERE c.parent_id = m.old_id AND c.valid_to IS NULL
            """
        )
        raw.execute(
            """
            UPDATE geogrid_staffassignment s SET grid_id = m.new_id
            FROM _version_map m
            WHERE s.grid_id = m.old_id AND (s.until IS NULL OR s.until >= %s)
            """,
            (timezone.localdate(when),),
        )
        raw.execute(
            """
            SELECT m.code, m.old_id, m.new_id,
                   ST_AsEWKB(ST_SymDifference(o.boundary, n.boundary))
            FROM _version_map m
            JOIN geogrid_grid o ON o.id = m.old_id JOIN geogrid_grid n ON n.id = m.new_id
            ORDER BY m.code
            """
        )
        changes = [
            BoundaryChange(code, old_id, new_id, trusted_geometry(wkb))
            for code, old_id, new_id, wkb in raw.fetchall()
        ]
        raw.execute("DROP TABLE _version_new, _version_map")
    missing = {code for code, _wkb in rows} - {c.code for c in changes}
    if missing:
        raise ValidationError(
            _("no current grid has the code %(code)s") % {"code": ", ".join(sorted(missing))}
        )
    return changes


def trusted_geometry(wkb: bytes | memoryview, srid: int | None = None) -> GEOSGeometry:
    """A GEOSGeometry from (E)WKB that PostGIS or shapely wrote, not a client.

    By default GEOSGeometry walks the WKB header by header in Python before GEOS reads it (a
    guard against hostile nesting, ~30 µs a grid: 0.7 s for a city's 22,604); our own WKB
    skips that walk. (E)WKB carries its SRID; `srid` is for plain WKB.
    """
    # The keyword came with a 5.2.x security release (the WKB nesting guard); missing in the stubs.
    return GEOSGeometry(memoryview(wkb), srid, max_geom_collections=None)  # type: ignore[call-arg]


def announce(changes: Sequence[BoundaryChange], actor: User | None = None) -> None:
    """Tell the layers what moved; a receiver that raises aborts the caller's transaction."""
    if changes:
        boundaries_changed.send(sender=Grid, changes=list(changes), actor=actor)


def history(code: str):
    """Every version of a grid, oldest first, with who made it."""
    return (
        Grid.objects.filter(code=code)
        .select_related("changed_by")
        .order_by("valid_from", "id")
        .defer("boundary")
    )


def edit_boundary(
    code: str,
    boundary: GEOSGeometry,
    *,
    version: int,
    actor: User,
    name: str | None = None,
) -> EditResult:
    """A person's boundary edit, checked against the hierarchy; nothing is stored on failure.

    `version` is the id of the version the person edited: if it is no longer current, another
    edit won and StaleVersion is raised (optimistic concurrency). Raises PermissionDenied,
    ValidationError (bad geometry), TopologyRejected (outside parent, overlaps, …).
    """
    with transaction.atomic():
        # Lock the version the client saw: a concurrent editor waits here, then sees it closed.
        edited = Grid.objects.select_for_update().filter(pk=version, code=code).first()
        if edited is None or edited.valid_to is not None:
            current = Grid.objects.current().filter(code=code).values_list("id", flat=True)
            raise StaleVersion(code, current.first())
        if not may_edit_under(actor, edited.parent):
            raise PermissionDenied(_("you may not change grid %(code)s") % {"code": code})
        try:
            boundary = as_boundary(boundary)
        except BoundaryError as exc:
            raise ValidationError({"boundary": [str(exc)]}) from exc
        changes = replace_boundaries([(code, boundary)], actor=actor)
        if name is not None and name != edited.name:
            Grid.objects.filter(pk=new_version_id(changes[0])).update(name=name)
        report = check_grid(code)
        blocking = report.of_kind(*BLOCKING)
        if blocking:
            raise TopologyRejected(blocking)
        announce(changes, actor)
        grid = Grid.objects.get(pk=new_version_id(changes[0]))
    return EditResult(grid=grid, changes=changes, warnings=report.of_kind(Kind.GAP))


def create_checked(
    *,
    level: int,
    code: str,
    name: str,
    boundary: GEOSGeometry,
    parent: Grid | None,
    actor: User | None,
) -> EditResult:
    """create_grid plus the topology check of its family; nothing is stored on failure."""
    if actor is not None and not may_edit_under(actor, parent):
        raise PermissionDenied(_("you may not create grids here"))
    with transaction.atomic():
        if Grid.objects.current().filter(code=code).exists():
            raise ValidationError({"code": [_("a current grid with this code already exists")]})
        grid = create_grid(
            level=level, code=code, name=name, boundary=boundary, parent=parent, actor=actor
        )
        report = check_grid(code)
        blocking = report.of_kind(*BLOCKING)
        if blocking:
            raise TopologyRejected(blocking)
        changes = [BoundaryChange(code, None, grid.pk, grid.boundary)]
        announce(changes, actor)
    return EditResult(grid=grid, changes=changes, warnings=report.of_kind(Kind.GAP))
