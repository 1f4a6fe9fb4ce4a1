"""Who may do what with a whistle (docs/whistles.md, "Who does what").

The actor is the appeals layer's `Actor` (roles, current posts, departments, read once per
request). Grid scope is by code prefix, as everywhere:

- the blowing office: subdistrict staff of the whistle's subdistrict, and dispatchers whose
  posts cover it — blow, approve or decline a community's request, release a unit, replace a
  lead, resolve, rate, close, cancel;
- the requesting community: its community staff — request a whistle, see it;
- a called-in department: its members — see the whistle, report in, refuse, mark their part
  done; never another department's actions;
- the district's dispatchers see every whistle of their district (the overdue escalations go
  to them).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from geogrid.models import Post
from geogrid.roles import Role
from layers.appeals.actors import ADMIN_ROLE, Actor
from layers.whistles.models import Whistle, WhistleUnit

BLOWING_POSTS = (Post.SUBDISTRICT_STAFF,)
REQUESTING_POSTS = (Post.COMMUNITY_STAFF,)
# The role names timelines show (≤ 16 characters: AppealEvent.actor_role).
OFFICE_ROLE, COMMUNITY_ROLE = "subdistrict", "community"


def as_blower(actor: Actor, whistle: Whistle) -> str | None:
    """The blowing office of the whistle's subdistrict (or an admin)."""
    if actor.is_super:
        return ADMIN_ROLE
    code = whistle.subdistrict.code
    if actor.covers(code, BLOWING_POSTS):
        return OFFICE_ROLE
    if Role.DISPATCHER in actor.roles and actor.covers(code):
        return Role.DISPATCHER.value
    return None


def as_requester(actor: Actor, whistle: Whistle) -> str | None:
    grid = whistle.requested_by_grid
    if grid is not None and actor.covers(grid.code, REQUESTING_POSTS):
        return COMMUNITY_ROLE
    return None


def as_member(actor: Actor, unit: WhistleUnit) -> str | None:
    """A member of the unit's department (a superuser may act for any)."""
    if actor.is_super:
        return ADMIN_ROLE
    return "department" if unit.department_id in actor.department_ids else None


def as_unit_blower(actor: Actor, unit: WhistleUnit) -> str | None:
    return as_blower(actor, unit.whistle)


def may_blow_in(actor: Actor, subdistrict_code: str) -> str | None:
    """The role in which `actor` may blow a whistle for this subdistrict, or None."""
    if actor.is_super:
        return ADMIN_ROLE
    if actor.covers(subdistrict_code, BLOWING_POSTS):
        return OFFICE_ROLE
    if Role.DISPATCHER in actor.roles and actor.covers(subdistrict_code):
        return Role.DISPATCHER.value
    return None


def may_see(actor: Actor, whistle: Whistle) -> bool:
    if as_blower(actor, whistle) or as_requester(actor, whistle):
        return True
    return whistle.units.filter(department_id__in=actor.department_ids).exists()


def visible(actor: Actor, rows: QuerySet[Whistle] | None = None) -> QuerySet[Whistle]:
    """The whistles `actor` may see, as one query (the same rules as `may_see`)."""
    rows = Whistle.objects.all() if rows is None else rows
    if actor.is_super:
        return rows
    if not actor.active:
        return rows.none()
    q = Q(pk__in=[])
    for code, post in actor.posts:
        if post in BLOWING_POSTS:
            q |= Q(subdistrict__code__startswith=code)
        if post in REQUESTING_POSTS:
            q |= Q(requested_by_grid__code__startswith=code)
        if Role.DISPATCHER in actor.roles:
            q |= Q(subdistrict__code__startswith=code)
    if actor.department_ids:
        q |= Q(pk__in=WhistleUnit.objects.filter(department_id__in=actor.department_ids)
               .values("whistle_id"))
    return rows.filter(q)
