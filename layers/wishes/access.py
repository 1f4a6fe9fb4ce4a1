"""Who sees which wishes, and how much (geogrid.capabilities applied to micro-wishes; PIPL
need-to-know). Read once per request as a `WishViewer`; for a wish it answers a `Level`:

- FULL: grid workers / grid leaders / zone leaders on their grids (wishes.grid), community and
  subdistrict staff on their subtree (wishes.grid + wishes.review), superusers — the wisher's
  name, room, masked phone, the claimant, the review, the timeline;
- UNIT: the leader of the household's micro-unit or building (the people layer's leader terms,
  while they hold the post): as FULL without the review note and the timeline's notes;
- WISHER: the wisher (their login is the person's `Person.user`) and whoever posted it —
  everything of their own wish and the claimant's display name, never the claimant's login;
- CLAIMANT: the claimant of the wish's live claim (the volunteer, each participant of a 多对一
  claim, or a member of the claiming partner unit): the title and description of what to
  deliver. The wisher's contact (name, full phone, address) is its own endpoint, answered only
  while the claim is active or delivered, and every answer is written to the access log;
- PUBLIC: the wall — a published wish not directed to someone else: public title, category,
  community, value band, points; no wisher, no household, no micro-grid;
- NONE: not visible (→ 404, like a wish that does not exist).

Counts per grid (layers.wishes.stats) are open to wishes.counts (dispatchers and managers too).
`WishViewer.wishes_q()` is the only way views list the wishes a viewer may see beyond the wall.
"""

from __future__ import annotations

from enum import IntEnum
from functools import cached_property, reduce
from operator import or_

from django.db.models import Q

from geogrid.capabilities import Capability
from layers.people.access import LeaderViewer
from layers.people.models import Person, Residence
from layers.volunteering.models import PartnerUnit, Volunteer
from layers.wishes.models import Claim, Wish


class Level(IntEnum):
    NONE = 0
    PUBLIC = 1
    CLAIMANT = 2
    WISHER = 3
    UNIT = 4
    FULL = 5


# What each level sees (the serializers and the access log use these names).
PUBLIC_FIELDS = ("public_title", "category", "community", "value_band", "points_reward",
                 "publish_until")
CLAIMANT_FIELDS = (*PUBLIC_FIELDS, "title", "description", "claim")
WISHER_FIELDS = (*CLAIMANT_FIELDS, "status", "claimant_name", "timeline")
STAFF_FIELDS = (*WISHER_FIELDS, "wisher_name", "room", "address", "phone_masked", "grid")
CONTACT_FIELDS = ("wisher_name", "phone", "address")
LIVE_FOR_CONTACT = (Claim.Status.ACTIVE, Claim.Status.DELIVERED)


def on_wall_q() -> Q:
    return Q(status=Wish.Status.PUBLISHED, directed_to__isnull=True)


def in_roots(code: str | None, roots: list[str]) -> bool:
    return bool(code) and any(code.startswith(r) for r in roots)  # type: ignore[union-attr]


class WishViewer(LeaderViewer):
    @cached_property
    def full_roots(self) -> list[str]:
        return sorted({*self.grants.codes(Capability.WISH_GRID),
                       *self.grants.codes(Capability.WISH_REVIEW)})

    @cached_property
    def counts_roots(self) -> list[str]:
        return sorted({*self.full_roots, *self.grants.codes(Capability.WISH_COUNTS)})

    @property
    def signed_in(self) -> bool:
        return bool(self.user.is_authenticated and self.user.is_active)


    @cached_property
    def person(self) -> Person | None:
        """The resident's own person of the register (Person.user), alive."""
        if not self.signed_in:
            return None
        return Person.objects.filter(user=self.user, died_on__isnull=True).first()

    @cached_property
    def own_household_id(self) -> int | None:
        if self.person is None:
            return None
        return (Residence.objects.filter(person=self.person, valid_to__isnull=True)
                .values_list("household_id", flat=True).first())

    @cached_property
    def volunteer(self) -> Volunteer | None:
        if not self.signed_in:
            return None
        return Volunteer.objects.filter(user=self.user, active=True).first()

    @cached_property
    def partner_unit_ids(self) -> frozenset[int]:
        if not self.signed_in:
            return frozenset()
        return frozenset(PartnerUnit.objects.filter(members=self.user, active=True)
                         .values_list("id", flat=True))

    @property
    def may_claim(self) -> bool:
        return self.volunteer is not None or bool(self.partner_unit_ids)

    # -- claims ----------------------------------------------------------------------------
    def claims_q(self, prefix: str = "") -> Q:
        """Claims this viewer makes: as the volunteer, a participant, or a unit's member."""
        parts = []
        if self.volunteer is not None:
            parts += [Q(**{f"{prefix}volunteer": self.volunteer}),
                      Q(**{f"{prefix}participants__volunteer": self.volunteer})]
        if self.partner_unit_ids:
            parts.append(Q(**{f"{prefix}partner_unit_id__in": self.partner_unit_ids}))
        return reduce(or_, parts) if parts else Q(pk__in=[])

    def holds(self, claim: Claim | None) -> bool:
        """`claim` is this viewer's (lead volunteer, participant or unit member)."""
        if claim is None or not self.signed_in:
            return False
        if claim.partner_unit_id is not None:
            return claim.partner_unit_id in self.partner_unit_ids
        if self.volunteer is None:
            return False
        if claim.volunteer_id == self.volunteer.pk:
            return True
        return claim.participants.filter(volunteer=self.volunteer).exists()

    # -- wishes ----------------------------------------------------------------------------
    def staff_q(self) -> Q:
        """Wishes this viewer sees as staff (FULL or UNIT)."""
        if self.is_super:
            return Q()
        parts = [Q(grid__code__startswith=r) for r in self.full_roots]
        if self.unit_ids:
            parts.append(Q(household__dwelling__micro_unit_id__in=self.unit_ids))
        if self.building_ids:
            parts.append(Q(household__dwelling__building_id__in=self.building_ids))
        return reduce(or_, parts) if parts else Q(pk__in=[])

    def own_q(self) -> Q:
        """The viewer's own wishes: they wish, or they posted it."""
        if not self.signed_in:
            return Q(pk__in=[])
        q = Q(posted_by=self.user)
        return q | Q(wisher=self.person) if self.person is not None else q

    def wishes_q(self) -> Q:
        """Wishes this viewer sees above the wall's level (staff, own, live claims)."""
        live = Q(pk__in=Claim.objects.filter(self.claims_q(), status__in=Claim.LIVE)
                 .values("wish_id"))
        return self.staff_q() | self.own_q() | live

    def level(self, wish: Wish, live: Claim | None) -> Level:
        """`live`: the wish's live claim (or None), read by the caller."""
        if self.is_super or in_roots(wish.grid.code, self.full_roots):
            return Level.FULL
        dwelling = wish.household.dwelling
        if dwelling.micro_unit_id in self.unit_ids or dwelling.building_id in self.building_ids:
            return Level.UNIT
        if self.signed_in and (wish.posted_by_id == self.user.pk or (
                self.person is not None and wish.wisher_id == self.person.pk)):
            return Level.WISHER
        if live is not None and self.holds(live):
            return Level.CLAIMANT
        if wish.status == Wish.Status.PUBLISHED and (
                wish.directed_to_id is None
                or (self.volunteer is not None and wish.directed_to_id == self.volunteer.pk)):
            return Level.PUBLIC
        return Level.NONE

    def post_for_log(self, level: Level) -> str:
        if level == Level.UNIT:
            return self.grants.post_for(Capability.OWN_UNIT)
        if level == Level.WISHER:
            return "wisher"
        if level == Level.CLAIMANT:
            return "wish_claimant"
        return self.grants.post_for(Capability.WISH_GRID, Capability.WISH_REVIEW)
