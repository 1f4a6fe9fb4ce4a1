"""Small factory functions for tests: squares measured in metres, grids, users with posts."""

from __future__ import annotations

import itertools

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.gis.geos import MultiPolygon, Polygon

from geogrid.grids import create_grid
from geogrid.hierarchy import level_for_code
from geogrid.models import Grid, Post, StaffAssignment

# CGCS2000 3-degree Gauss-Krüger, central meridian 117° E (EPSG:4548, no zone prefix): metres.
GK_CM_117 = 4548
ORIGIN_E, ORIGIN_N = 580_000.0, 2_920_000.0  # about 117.80 E, 26.40 N
_usernames = itertools.count(1)


def square(x_m: float, y_m: float, size_m: float, srid_out: int = 4326) -> MultiPolygon:
    """A size_m × size_m square whose south-west corner is (x_m, y_m) metres from the origin."""
    x0, y0 = ORIGIN_E + x_m, ORIGIN_N + y_m
    ring = ((x0, y0), (x0 + size_m, y0), (x0 + size_m, y0 + size_m), (x0, y0 + size_m), (x0, y0))
    poly = MultiPolygon(Polygon(ring), srid=GK_CM_117)
    return poly.transform(srid_out, clone=True)


def make_grid(
    code: str,
    *,
    parent: Grid | None = None,
    boundary=None,
    name: str = "",
    level: int | None = None,
) -> Grid:
    level = level or level_for_code(code) or 1
    return create_grid(
        level=level,
        code=code,
        name=name or f"grid {code}",
        boundary=boundary if boundary is not None else square(0, 0, 1000),
        parent=parent,
    )


def make_tree() -> dict[str, Grid]:
    """District 350427 (2 km square) → 2 subdistricts (west/east halves) → 1 community each →
    1 zone each → 2 micro-grids each. Returns grids by code."""
    grids: dict[str, Grid] = {}
    grids["350427"] = make_grid("350427", boundary=square(0, 0, 2000))
    for i, x in enumerate((0, 1000), start=1):
        sub = f"350427{i:03d}"
        grids[sub] = make_grid(sub, parent=grids["350427"], boundary=_rect(x, 0, 1000, 2000))
        com = sub + "001"
        grids[com] = make_grid(com, parent=grids[sub], boundary=_rect(x, 0, 1000, 2000))
        zone = com + "001"
        grids[zone] = make_grid(zone, parent=grids[com], boundary=_rect(x, 0, 1000, 2000))
        for j, y in enumerate((1000, 0), start=1):  # numbered north to south
            micro = f"{zone}{j:03d}"
            grids[micro] = make_grid(micro, parent=grids[zone], boundary=_rect(x, y, 1000, 1000))
    return grids


def _rect(x_m: float, y_m: float, w_m: float, h_m: float) -> MultiPolygon:
    x0, y0 = ORIGIN_E + x_m, ORIGIN_N + y_m
    ring = ((x0, y0), (x0 + w_m, y0), (x0 + w_m, y0 + h_m), (x0, y0 + h_m), (x0, y0))
    return MultiPolygon(Polygon(ring), srid=GK_CM_117).transform(4326, clone=True)


def make_user(*roles: str, username: str | None = None, **extra):
    user = get_user_model().objects.create_user(
        username=username or f"user{next(_usernames)}", password="pw-for-tests-only", **extra
    )
    for role in roles:
        # get_or_create: transactional (browser) tests flush the groups the migration made.
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def assign(user, grid: Grid, post: str = Post.GRID_LEADER, **extra) -> StaffAssignment:
    return StaffAssignment.objects.create(user=user, grid=grid, post=post, **extra)
