"""Placards in a viewer's grids, set-based: one SQL statement assigns every candidate's point
with the rules of geogrid.locate (RULES_SQL: covers → nearest → ancestor) and keeps those whose
grid lies in a subtree where the viewer holds PLACARD_MANAGE — the same answer the scan and the
actions give one placard at a time. Candidates are first narrowed to the bounding boxes of the
viewer's roots (GiST index), widened by the assignment tolerance."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from geogrid.capabilities import Capability, GrantedViewer
from geogrid.locate import RULES_SQL, tolerance_m


@dataclass
class Scope:
    """The subtrees to search: None = everywhere (a superuser without a grid filter)."""

    roots: list[str] | None

    @property
    def empty(self) -> bool:
        return self.roots is not None and not self.roots


def scope_for(viewer: GrantedViewer, grid: str | None = None,
              capabilities: tuple[Capability, ...] = (Capability.PLACARD_MANAGE,)) -> Scope:
    """The viewer's subtrees holding any of `capabilities` (by default PLACARD_MANAGE; the
    dashboard's map layer also PLACARD_MAP), narrowed to `grid` when given."""
    if viewer.is_super:
        return Scope([grid] if grid else None)
    roots = sorted({r for c in capabilities for r in viewer.grants.codes(c)})
    if grid is None:
        return Scope(roots)
    if any(grid.startswith(r) for r in roots):
        return Scope([grid])
    return Scope([r for r in roots if r.startswith(grid)])


def _filters(scope: Scope, filters: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    where = ["true"]
    params: dict[str, Any] = {"tol": tolerance_m()}
    for column in ("kind", "status"):
        if filters.get(column):
            where.append(f"pl.{column} = %({column})s")
            params[column] = filters[column]
    if filters.get("building"):
        where.append("pl.building_id = %(building)s")
        params["building"] = filters["building"]
    if scope.roots is not None:
        where.append(
            "EXISTS (SELECT 1 FROM geogrid_grid r WHERE r.valid_to IS NULL"
            " AND r.code = ANY(%(roots)s) AND r.boundary && ST_Expand(COALESCE(pl.point,"
            " b.location), %(margin)s))")
        params.update(roots=scope.roots, patterns=[r + "%" for r in scope.roots],
                      margin=2 * params["tol"] / 90_000.0)
    return " AND ".join(where), params


_FROM = "placards_placard pl LEFT JOIN layers_building b ON b.id = pl.building_id"


def in_scope(cursor: Any, scope: Scope, filters: dict[str, Any], *, offset: int = 0,
             limit: int = 100) -> tuple[int, list[tuple[int, str | None]]]:
    """(total, [(placard id, grid code now)]) of one page, by id."""
    if scope.empty:
        return 0, []
    where, params = _filters(scope, filters)
    params.update(limit=limit, offset=offset)
    point = "SELECT pl.id, COALESCE(pl.point, b.location) AS g"
    if scope.roots is None:  # everything is in scope: assign the page's points only
        cursor.execute(f"SELECT count(*) FROM {_FROM} WHERE {where}", params)
        total = cursor.fetchone()[0]
        cursor.execute(f"""
            WITH p AS ({point} FROM {_FROM} WHERE {where}
                       ORDER BY pl.id LIMIT %(limit)s OFFSET %(offset)s)
            SELECT p.id, a.code FROM p {RULES_SQL} ORDER BY p.id""", params)
        return int(total), [(r[0], r[1]) for r in cursor.fetchall()]
    # Scoped: the grid decides, so every candidate in the roots' boxes is assigned.
    cursor.execute(f"""
        WITH p AS ({point} FROM {_FROM} WHERE {where}),
             a AS (SELECT p.id, a.code FROM p {RULES_SQL} WHERE a.code LIKE ANY(%(patterns)s))
        SELECT id, code, count(*) OVER () FROM a
         ORDER BY id LIMIT %(limit)s OFFSET %(offset)s""", params)
    rows = cursor.fetchall()
    total = rows[0][2] if rows else 0
    if not rows and offset:  # past the last page: the total still counts
        cursor.execute(f"""
            WITH p AS ({point} FROM {_FROM} WHERE {where})
            SELECT count(*) FROM p {RULES_SQL} WHERE a.code LIKE ANY(%(patterns)s)""", params)
        total = cursor.fetchone()[0]
    return int(total), [(r[0], r[1]) for r in rows]
