"""Who may see and do what with personal data: a post → capability map.

Grid-subtree access (geogrid.access) is right for appeals and too wide for people: a building
leader must not read a whole community's register (PIPL Art. 6, need-to-know). Each post
grants capabilities, and a capability reaches only the grids of the posts that grant it:

- micro-unit leader, building leader: their own unit / building only — room, head's name,
  household size, tags, masked phone; may report changes and issues.
- grid worker, grid leader, zone leader: their grids, every field, ID numbers masked; may
  report and verify.
- community staff, subdistrict staff: their subtree, masked; may report, verify, unmask one
  record with a reason (daily limit), import and export.
- dispatcher, grid manager: counts per grid only.

Care visits (layers.care) add their own capabilities, because the group a person is in (低保,
disability, mental health) is sensitive: grid workers see it on their grids, community staff and
the care officer (民政专干) on their subtree and approve; subdistrict staff see masked lists and
open one record with a reason; dispatchers and managers see aggregates with small cells
suppressed. Building and micro-unit leaders and volunteers see only the subjects they are
assigned to visit, never the group (layers.care.access).

Participation (layers.wishes, layers.volunteering, layers.shop, layers.placards): grid workers see
the wishes of their grids in full and post or confirm for a resident; community staff review
wishes, settle disputes, verify volunteer service and restock shops; subdistrict staff also
reverse ledger entries; everyone with counts sees wish and points figures. Volunteers, shop
operators and partner units are not posts: their rows in those layers say what they may do.

Which units and buildings a leader holds is the people layer's business (its leader terms);
this module answers per grid code. Superusers hold every capability everywhere, and their
reads are logged like anyone's.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.contrib.auth.models import AnonymousUser, User

from geogrid.models import Post, StaffAssignment


class Capability(StrEnum):
    # Limited fields of the leader's own unit or building, and reporting changes there: the
    # post alone reaches nothing; the people layer's leader terms say which unit/building.
    OWN_UNIT = "people.own_unit"
    GRID = "people.grid"  # every field, identifiers masked
    SUBTREE = "people.subtree"  # as GRID, over a community or subdistrict
    REPORT = "people.report"  # report a change or an issue anywhere in the grids
    VERIFY = "people.verify"  # verify reported changes, occupancy and profiles
    UNMASK = "people.unmask"  # see one record's identifiers, with a reason, within a daily limit
    IMPORT = "people.import"
    EXPORT = "people.export"
    COUNTS = "people.counts"  # aggregate counts per grid
    # Care visits (layers.care): the groups a person is in are sensitive (PIPL Art. 28).
    CARE_GRID = "care.grid"  # subjects of the grids with their groups; propose; record visits
    CARE_SUBTREE = "care.subtree"  # as CARE_GRID over a community; approve; extra rounds
    CARE_LIST = "care.list"  # the subtree's subjects masked, without groups
    CARE_UNMASK = "care.unmask"  # open one subject's groups and identifiers, with a reason
    CARE_COUNTS = "care.counts"  # aggregates, small cells suppressed
    # Participation (layers.wishes, layers.volunteering, layers.shop, layers.placards).
    WISH_GRID = "wishes.grid"  # wishes of the grids in full; post and confirm for a resident
    WISH_REVIEW = "wishes.review"  # review and publish, direct to a volunteer, settle disputes
    WISH_COUNTS = "wishes.counts"  # wishes per grid and state
    POINTS_VERIFY = "points.verify"  # verify service records, post earns, restock shops
    POINTS_REVERSE = "points.reverse"  # reverse entries, adjust balances, read ledgers
    POINTS_COUNTS = "points.counts"  # points earned, redeemed, outstanding per grid
    PLACARD_MANAGE = "placards.manage"  # create, print and revoke placards
    PLACARD_MAP = "placards.map"  # placards and their scan counts on the dashboard's map


_C = Capability
_FIGURES = frozenset({_C.WISH_COUNTS, _C.POINTS_COUNTS, _C.PLACARD_MAP})
_GRID_WORK = frozenset({_C.GRID, _C.REPORT, _C.VERIFY, _C.COUNTS, _C.CARE_GRID, _C.CARE_COUNTS,
                        _C.WISH_GRID, _C.PLACARD_MANAGE}) | _FIGURES
_CARE_STAFF = frozenset({_C.CARE_SUBTREE, _C.CARE_UNMASK, _C.CARE_COUNTS})
_PARTICIPATION_STAFF = frozenset({_C.WISH_GRID, _C.WISH_REVIEW, _C.POINTS_VERIFY,
                                  _C.PLACARD_MANAGE}) | _FIGURES
POST_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Post.MICRO_UNIT_LEADER: frozenset({_C.OWN_UNIT}),
    Post.BUILDING_LEADER: frozenset({_C.OWN_UNIT}),
    Post.GRID_WORKER: _GRID_WORK,
    Post.GRID_LEADER: _GRID_WORK,
    Post.ZONE_LEADER: _GRID_WORK,
    Post.COMMUNITY_STAFF: frozenset({_C.SUBTREE, _C.REPORT, _C.VERIFY, _C.UNMASK, _C.IMPORT,
                                     _C.EXPORT, _C.COUNTS}) | _CARE_STAFF | _PARTICIPATION_STAFF,
    Post.SUBDISTRICT_STAFF: frozenset({_C.SUBTREE, _C.REPORT, _C.VERIFY, _C.UNMASK, _C.IMPORT,
                                       _C.EXPORT, _C.COUNTS, _C.CARE_LIST, _C.CARE_UNMASK,
                                       _C.CARE_COUNTS, _C.POINTS_REVERSE})
    | _PARTICIPATION_STAFF,
    Post.CARE_OFFICER: _CARE_STAFF,
    Post.DISPATCHER: frozenset({_C.COUNTS, _C.CARE_COUNTS}) | _FIGURES,
    Post.MANAGER: frozenset({_C.COUNTS, _C.CARE_COUNTS}) | _FIGURES,
}
# Strongest first: the post named in the access log is the first of these the user holds.
POST_ORDER = (Post.SUBDISTRICT_STAFF, Post.COMMUNITY_STAFF, Post.CARE_OFFICER, Post.ZONE_LEADER,
              Post.GRID_LEADER, Post.GRID_WORKER, Post.BUILDING_LEADER, Post.MICRO_UNIT_LEADER,
              Post.DISPATCHER, Post.MANAGER)


class Grants:
    """A user's current posts, read once, answering "which grids for this capability?"."""

    def __init__(self, user: User | AnonymousUser) -> None:
        self.user = user
        active = bool(user.is_authenticated and user.is_active)
        self.is_super = bool(active and user.is_superuser)
        self.posts: tuple[tuple[str, str], ...] = tuple(
            StaffAssignment.objects.current().filter(user=user)
            .values_list("grid__code", "post")) if active else ()

    def codes(self, capability: Capability) -> list[str]:
        """Roots (grid codes) of the subtrees where the user holds `capability`."""
        return sorted({code for code, post in self.posts
                       if capability in POST_CAPABILITIES.get(post, ())})

    def has(self, capability: Capability, code: str | None = None) -> bool:
        """Holds `capability` at all, or (with `code`) on that grid or an ancestor of it."""
        if self.is_super:
            return True
        roots = self.codes(capability)
        return bool(roots) if code is None else any(code.startswith(r) for r in roots)

    def post_for(self, *capabilities: Capability) -> str:
        """The post recorded in the access log: the strongest one granting any of these."""
        if self.is_super:
            return "superuser"
        held = {post for _code, post in self.posts
                if any(c in POST_CAPABILITIES.get(post, ()) for c in capabilities)}
        return next((str(p) for p in POST_ORDER if p in held), "")


class GrantedViewer:
    """A request's user with their grants read once; a layer's viewer (people, care) adds its
    levels on top."""

    def __init__(self, user: Any) -> None:  # Any: the views hand in a signed-in user
        self.user = user
        self.grants = Grants(user)

    @property
    def is_super(self) -> bool:
        return self.grants.is_super

    def may(self, capability: Capability, grid_code: str | None) -> bool:
        """`capability` on that grid (an object with no grid: superusers only)."""
        return self.grants.has(capability, grid_code) if grid_code else self.is_super
