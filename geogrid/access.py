"""Grid-scoped access: which grids a user may act on.

A user may act on every grid they hold a current post on, and on all of that grid's
descendants. Because grid codes are hierarchical, a subtree is a code prefix, so the answer is
one indexed query whatever the depth. Superusers may act everywhere.

This is the one scope rule of every grid-scoped endpoint (grid summary, statistics, staff
lists, grid edits, the analytics layers through `assigned_codes`; appeals through
`Appeal.objects.visible_to`, which applies the same prefixes). tests/test_url_scope.py walks
every URL pattern with every role, inside and outside its scope.
"""

from __future__ import annotations

from functools import reduce
from operator import or_

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q

from geogrid.models import Grid, StaffAssignment


def assigned_codes(user: User | AnonymousUser) -> list[str]:
    """Codes of the grids this user currently holds a post on, without redundant descendants."""
    if not user.is_authenticated or not user.is_active:
        return []
    codes = sorted(set(
        StaffAssignment.objects.current().filter(user=user).values_list("grid__code", flat=True)
    ))
    roots: list[str] = []
    for code in codes:  # sorted: an ancestor comes before its descendants
        if not any(code.startswith(root) for root in roots):
            roots.append(code)
    return roots


def grids_user_may_act_on(user: User | AnonymousUser):
    """Current grids in the subtrees of the user's posts (all current grids for a superuser)."""
    current = Grid.objects.current()
    if user.is_authenticated and user.is_active and user.is_superuser:
        return current
    roots = assigned_codes(user)
    if not roots:
        return current.none()
    return current.filter(reduce(or_, (Q(code__startswith=root) for root in roots)))


def user_may_act_on(user: User | AnonymousUser, grid: Grid) -> bool:
    if user.is_authenticated and user.is_active and user.is_superuser:
        return True
    return any(grid.code.startswith(root) for root in assigned_codes(user))


def user_acts_on_as(user: User | AnonymousUser, grid: Grid, *roles: str) -> bool:
    """In one of `roles` (geogrid.roles.Role groups) and with a post whose subtree holds
    `grid` — the same scope rule as `user_may_act_on`; superusers always. E.g. who sees the
    phones of a grid's staff (dispatchers and grid managers of the subtree)."""
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return True
    return user.groups.filter(name__in=roles).exists() and user_may_act_on(user, grid)
