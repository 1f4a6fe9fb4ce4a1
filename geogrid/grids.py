"""Service functions for the grid hierarchy: one function per action, each in a transaction."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from geogrid.access import user_may_act_on
from geogrid.geometry import BoundaryError, as_boundary
from geogrid.models import Grid
from geogrid.roles import Role, has_role


def create_grid(
    *,
    level: int,
    code: str,
    name: str,
    boundary: GEOSGeometry,
    parent: Grid | None = None,
    actor: User | None = None,
) -> Grid:
    """Validate and store a new grid. `actor` None means the system (loaders, migrations).

    A person must be a grid manager of the parent's subtree (or a superuser); a district can only
    be created by a superuser. Raises ValidationError with per-field messages, PermissionDenied.
    """
    if actor is not None and not may_edit_under(actor, parent):
        raise PermissionDenied(_("you may not create grids here"))
    errors: dict[str, list[ValidationError]] = {}
    clean: MultiPolygon | None
    try:
        clean = as_boundary(boundary)
    except BoundaryError as exc:
        errors["boundary"] = [ValidationError(str(exc))]
        clean = None
    grid = Grid(level=level, code=code, name=name, parent=parent, changed_by=actor)
    if clean is not None:  # left out, the boundary is None (reported above)
        grid.boundary = clean
    try:
        grid.full_clean(exclude=["boundary"] if clean is None else None)
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        grid.save()
    grid.refresh_from_db(fields=["area_m2"])
    return grid


def may_edit_under(actor: User, parent: Grid | None) -> bool:
    """Grid managers edit inside the subtrees of their posts; only superusers add districts."""
    if actor.is_superuser:
        return True
    return (
        parent is not None and has_role(actor, Role.GRID_MANAGER) and user_may_act_on(actor, parent)
    )
