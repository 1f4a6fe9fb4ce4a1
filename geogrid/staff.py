"""Staff posts on grids: the service functions the grid editor and the API call."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from geogrid.access import user_may_act_on
from geogrid.models import Grid, Post, StaffAssignment
from geogrid.roles import Role, has_role


def _may_manage(actor: User, grid: Grid) -> bool:
    return actor.is_superuser or (
        has_role(actor, Role.GRID_MANAGER) and user_may_act_on(actor, grid)
    )


def current_staff(grid: Grid):
    today = timezone.localdate()
    return (
        StaffAssignment.objects.filter(grid__code=grid.code, grid__valid_to__isnull=True)
        .exclude(until__lt=today)
        .select_related("user")
        .order_by("post", "user__username")
    )


def assign_post(
    actor: User, grid: Grid, username: str, post: str, phone: str = ""
) -> StaffAssignment:
    """Give `username` a post on a current grid; grid managers of its subtree only."""
    if not _may_manage(actor, grid):
        raise PermissionDenied(_("you may not assign staff on grid %(code)s") % {"code": grid.code})
    if not grid.is_current:
        raise ValidationError({"grid": [_("the grid is not a current version")]})
    if post not in Post.values:
        raise ValidationError({"post": [_("unknown post %(post)r") % {"post": post}]})
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise ValidationError({"username": [_("no active user %(name)r") % {"name": username}]})
    with transaction.atomic():
        if StaffAssignment.objects.filter(
            user=user, grid=grid, post=post, until__isnull=True
        ).exists():
            raise ValidationError({"post": [_("this person already holds this post on this grid")]})
        return StaffAssignment.objects.create(user=user, grid=grid, post=post, phone=phone[:20])


def end_post(actor: User, assignment: StaffAssignment) -> StaffAssignment:
    """End a post now: its last day was yesterday (`until` is inclusive), so it no longer
    grants access; the row stays for history."""
    if not _may_manage(actor, assignment.grid):
        raise PermissionDenied(
            _("you may not change staff on grid %(code)s") % {"code": assignment.grid.code}
        )
    assignment.until = timezone.localdate() - dt.timedelta(days=1)
    assignment.save(update_fields=["until"])
    return assignment
