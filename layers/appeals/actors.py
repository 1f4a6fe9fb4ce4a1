"""Who is acting on an appeal, and in which role.

An `Actor` is the person behind a request: a user, a token holder (the reporter without an
account), an anonymous client (support), or the system (cron commands). Its roles, posts and
departments are read once per request.

The role predicates (`as_dispatcher`, `as_handler`, …) answer "may this actor act on this
appeal in that capacity?" with the role name written to the timeline (what the public sees
instead of a name), or None. The action registry (layers/appeals/transitions.py) names one per
action; the appeal list uses `Appeal.objects.visible_to(actor)` (layers/appeals/models.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from geogrid.access import user_may_act_on
from geogrid.models import CHECKING_POSTS, HANDLING_POSTS, Grid, Post, StaffAssignment
from geogrid.roles import Role, has_role
from layers.appeals.models import Appeal

# The role names a timeline row shows instead of the actor's name.
SYSTEM_ROLE = "system"
ADMIN_ROLE = "admin"
STAFF_ROLES = frozenset({Role.GRID_WORKER, Role.GRID_MANAGER})


@dataclass(eq=False)
class Actor:
    user: Any = None
    token_ok: bool = False
    client_key: str = ""
    system: bool = False
    # The API client (geogrid.models.ApiClient.name) acting through its service account: the
    # timeline row's data names it (Step.finish), as intake's `received` row does.
    client: str = ""

    @property
    def active(self) -> bool:
        return bool(self.user is not None and self.user.is_authenticated and self.user.is_active)

    @cached_property
    def is_super(self) -> bool:
        return self.active and self.user.is_superuser

    @cached_property
    def roles(self) -> frozenset[str]:
        if not self.active:
            return frozenset()
        return frozenset(self.user.groups.values_list("name", flat=True))

    @cached_property
    def posts(self) -> tuple[tuple[str, str], ...]:
        """(grid code, post) of the user's current posts on current grids."""
        if not self.active:
            return ()
        return tuple(StaffAssignment.objects.current().filter(user=self.user)
                     .values_list("grid__code", "post"))

    @cached_property
    def department_ids(self) -> frozenset[int]:
        if not self.active:
            return frozenset()
        return frozenset(self.user.departments.filter(active=True).values_list("id", flat=True))

    def covers(self, code: str | None, posts: tuple[str, ...] | None = None) -> bool:
        """True when one of the user's posts (of the given kinds) is on `code` or an ancestor."""
        if not code:
            return False
        return any(code.startswith(c) for c, p in self.posts if posts is None or p in posts)

    @property
    def user_or_none(self) -> Any:
        return self.user if self.active else None


SYSTEM = Actor(system=True)


def location_code(appeal: Appeal) -> str:
    """The grid the appeal lies in, or its district when unlocated (the district's queue)."""
    return appeal.grid.code if appeal.grid else appeal.district_code


def handler_code(appeal: Appeal) -> str | None:
    """The grid whose staff handle it: the assignee, or before dispatch where it lies."""
    if appeal.department_id:
        return None
    if appeal.assigned_grid:
        return appeal.assigned_grid.code
    return appeal.grid.code if appeal.grid else None


def _system_or_admin(actor: Actor) -> str | None:
    if actor.system:
        return SYSTEM_ROLE
    if actor.is_super:
        return ADMIN_ROLE
    return None


def as_dispatcher(actor: Actor, appeal: Appeal) -> str | None:
    if role := _system_or_admin(actor):
        return role
    if Role.DISPATCHER in actor.roles and actor.covers(location_code(appeal)):
        return Role.DISPATCHER.value
    return None


def as_handler(actor: Actor, appeal: Appeal) -> str | None:
    if role := _system_or_admin(actor):
        return role
    if appeal.department_id:
        return "department" if appeal.department_id in actor.department_ids else None
    if actor.roles & STAFF_ROLES and actor.covers(handler_code(appeal), HANDLING_POSTS):
        return "grid_staff"
    return None


def as_checker(actor: Actor, appeal: Appeal) -> str | None:
    if role := as_dispatcher(actor, appeal):
        return role
    code = handler_code(appeal) or (appeal.grid.code if appeal.grid else None)
    if actor.roles & STAFF_ROLES and actor.covers(code, CHECKING_POSTS):
        return Post.GRID_LEADER.value
    return None


def as_reporter(actor: Actor, appeal: Appeal) -> str | None:
    if actor.token_ok or (actor.active and appeal.reporter_id == actor.user.pk):
        return "reporter"
    return None


def as_handler_or_dispatcher(actor: Actor, appeal: Appeal) -> str | None:
    return as_handler(actor, appeal) or as_dispatcher(actor, appeal)


def as_reporter_or_dispatcher(actor: Actor, appeal: Appeal) -> str | None:
    return as_reporter(actor, appeal) or as_dispatcher(actor, appeal)


def as_supporter(actor: Actor, appeal: Appeal) -> str | None:
    """Residents other than the reporter; staff act on appeals instead of supporting them."""
    if actor.system or as_reporter(actor, appeal) or actor.posts or actor.department_ids:
        return None
    return Role.RESIDENT.value if (actor.active or actor.client_key) else None


def as_system(actor: Actor, appeal: Appeal) -> str | None:
    """Only the system (cron commands): the deadline watcher's internal actions."""
    return SYSTEM_ROLE if actor.system else None


def is_staff_on(actor: Actor, appeal: Appeal) -> bool:
    """Staff whose posts touch the appeal (they see names on its timeline)."""
    return bool(
        as_dispatcher(actor, appeal) or as_handler(actor, appeal) or as_checker(actor, appeal)
        or actor.covers(location_code(appeal)) or actor.covers(handler_code(appeal))
    )


def sees_contact(user: Any, appeal: Appeal) -> bool:
    """Dispatchers of the appeal's district (and superusers) see the unmasked phone."""
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return True
    if not has_role(user, Role.DISPATCHER):
        return False
    district = Grid.objects.current().filter(code=appeal.district_code).only("id", "code").first()
    return district is not None and user_may_act_on(user, district)


def may_read(actor: Actor, appeal: Appeal) -> bool:
    """The reporter (account or token) and staff whose posts touch the appeal."""
    return bool(is_staff_on(actor, appeal) or as_reporter(actor, appeal))
