"""Who may do what with a proposal (docs/deliberation.md, "Who does what").

The actor is the appeals layer's `Actor` (roles, current posts, read once per request). Grid
scope is by code prefix, as everywhere:

- staff: community staff of the proposal's community, and subdistrict staff above it (and
  superusers) — see everything of it, propose and raise from appeals or wishes, assess, record
  meetings, decide, run the project, evaluate, close, withdraw; read the three lists;
- micro-unit leaders (their post's grid, or the micro-grid of a unit they lead) and residents
  (the micro-grid they live in: their person of the register, an open residence) propose for
  their own grid — it or a grid above it up to the community — see their own proposals and may
  withdraw them;
- anyone else signed in whose home or posts lie in the proposal's grid (or above it) sees a
  proposal while its decision is published, and only that: the title, the stage, the decision
  and the meetings without their minutes — never who proposed it or the linked appeals;
- figures (counts only) are also open to dispatchers and grid managers over the grid.

A proposal out of sight is a 404, like one that does not exist; in sight without the right to
act, a 403.
"""

from __future__ import annotations

import datetime as dt
from enum import IntEnum
from functools import reduce
from operator import or_

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q, QuerySet
from django.utils import timezone

from geogrid.models import Post
from layers.appeals.actors import ADMIN_ROLE, Actor
from layers.deliberation.models import Proposal
from layers.people.access import open_terms
from layers.people.models import MicroUnitLeaderTerm, Residence

STAFF_POSTS = (Post.COMMUNITY_STAFF, Post.SUBDISTRICT_STAFF)
FIGURE_POSTS = (*STAFF_POSTS, Post.DISPATCHER, Post.MANAGER)
# The role names timelines show (≤ 24 characters: ProposalEvent.actor_role).
STAFF_ROLE, PROPOSER_ROLE = "staff", "proposer"
UNIT_LEADER_ROLE, RESIDENT_ROLE = "micro_unit_leader", "resident"


class Level(IntEnum):
    NONE = 0
    PUBLIC = 1  # the published decision of the viewer's grid
    OWN = 2  # the proposer
    STAFF = 3


def unit_leader_codes(actor: Actor) -> frozenset[str]:
    """Micro-grids a micro-unit leader holds: the post's grid, and their open units' grids."""
    if not actor.active:
        return frozenset()
    codes = {c for c, p in actor.posts if p == Post.MICRO_UNIT_LEADER}
    codes |= set(open_terms(MicroUnitLeaderTerm, actor.user)
                 .values_list("micro_unit__grid__code", flat=True))
    return frozenset(codes)


def home_codes(actor: Actor) -> frozenset[str]:
    """Micro-grids the actor lives in (their person of the register, open residences)."""
    if not actor.active:
        return frozenset()
    return frozenset(c for c in Residence.objects.filter(
        person__user=actor.user, person__died_on__isnull=True, valid_to__isnull=True)
        .values_list("household__dwelling__building__grid__code", flat=True) if c)


def _cache(actor: Actor, name: str, compute: object) -> frozenset[str]:
    # The Actor is read once per request: keep what was computed on it.
    key = f"_deliberation_{name}"
    if key not in actor.__dict__:
        actor.__dict__[key] = compute(actor)  # type: ignore[operator]
    return actor.__dict__[key]


def units_of(actor: Actor) -> frozenset[str]:
    return _cache(actor, "units", unit_leader_codes)


def homes_of(actor: Actor) -> frozenset[str]:
    return _cache(actor, "homes", home_codes)


def staff_role(actor: Actor, code: str) -> str | None:
    if actor.is_super:
        return ADMIN_ROLE
    return STAFF_ROLE if actor.covers(code, STAFF_POSTS) else None


def may_propose(actor: Actor, scope_code: str) -> str | None:
    """The role in which `actor` may propose for grid `scope_code`, or None."""
    if role := staff_role(actor, scope_code):
        return role
    if any(c.startswith(scope_code) for c in units_of(actor)):
        return UNIT_LEADER_ROLE
    if any(c.startswith(scope_code) for c in homes_of(actor)):
        return RESIDENT_ROLE
    return None


def may_read_figures(actor: Actor, code: str) -> bool:
    return actor.is_super or actor.covers(code, FIGURE_POSTS)


# -- the registry's `who` predicates ------------------------------------------------------------
def as_staff(actor: Actor, proposal: Proposal) -> str | None:
    return staff_role(actor, proposal.community.code)


def as_proposer(actor: Actor, proposal: Proposal) -> str | None:
    return PROPOSER_ROLE if actor.active and proposal.proposed_by_id == actor.user.pk else None


def as_staff_or_proposer(actor: Actor, proposal: Proposal) -> str | None:
    return as_staff(actor, proposal) or as_proposer(actor, proposal)


# -- seeing -------------------------------------------------------------------------------------
def _related_codes(actor: Actor) -> set[str]:
    """Grids the actor belongs to: where they live, lead a unit or hold any post."""
    return {*homes_of(actor), *units_of(actor), *(c for c, _p in actor.posts)}


def published_q(at: dt.datetime) -> Q:
    return Q(decision__published_from__lte=at, decision__publish_until__gt=at)


def level(actor: Actor, proposal: Proposal, at: dt.datetime | None = None) -> Level:
    if as_staff(actor, proposal):
        return Level.STAFF
    if as_proposer(actor, proposal):
        return Level.OWN
    if not actor.active:
        return Level.NONE
    scope = proposal.scope.code
    related = any(c.startswith(scope) or scope.startswith(c) for c in _related_codes(actor))
    return Level.PUBLIC if related and published(proposal, at or timezone.now()) else Level.NONE


def published(proposal: Proposal, at: dt.datetime) -> bool:
    """Its decision is on the grid's board at `at` (read from the row the caller loaded)."""
    try:
        decision = proposal.decision
    except ObjectDoesNotExist:
        return False
    return decision.published_from <= at < decision.publish_until


def visible(actor: Actor, rows: QuerySet[Proposal] | None = None,
            at: dt.datetime | None = None) -> QuerySet[Proposal]:
    """The proposals `actor` may see at any level, as one query (the rules of `level`)."""
    rows = Proposal.objects.all() if rows is None else rows
    if actor.is_super:
        return rows
    if not actor.active:
        return rows.none()
    parts = [Q(community__code__startswith=c) for c, p in actor.posts if p in STAFF_POSTS]
    parts.append(Q(proposed_by=actor.user))
    related = _related_codes(actor)
    if related:
        # Inside the scope (a code below it) or above it (the scope's code starts with theirs).
        near = reduce(or_, [Q(scope__code__startswith=c) for c in related])
        above = {c[:n] for c in related for n in range(1, len(c) + 1)}
        near |= Q(scope__code__in=above)
        parts.append(near & published_q(at or timezone.now()))
    return rows.filter(reduce(or_, parts))
