"""Grid-scoped access: which grids a user may act on.

A user may act on every grid they hold a current post on, and on all of that grid's
descendants. Because grid codes are hierarchical, a subtree is a code prefix, so the answer is
one indexed query whatever the depth. Superusers may act everywhere.
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
