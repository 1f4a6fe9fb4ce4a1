"""Who does what at the points shop:

- a volunteer: sees the active shops they may spend at (their community's, or the district's
  with SPEND_SCOPE "district") and their items; reserves, cancels their own reservations;
- an operator (a current ShopOperator of the shop): looks up and collects pickup codes of their
  shop, redeems at the counter for a volunteer who shows their card, cancels a reservation,
  restocks; sees their shop's redemptions with the volunteer's display name only;
- POINTS_VERIFY staff of the shop's community: add items, restock, adjust stock after a count;
- POINTS_COUNTS: the shop figures.
"""

from __future__ import annotations

from functools import cached_property

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from geogrid.hierarchy import code_lengths
from layers.shop.models import Shop, ShopOperator
from layers.volunteering.access import EVERYTHING, VERIFY, PointsViewer


def spend_prefix(community_code: str) -> str:
    """The grid code prefix of the shops a volunteer of this community may spend at."""
    if settings.GEOGRID["POINTS"].get("SPEND_SCOPE", "community") == "district":
        return community_code[:code_lengths()[1]]
    return community_code


class ShopViewer(PointsViewer):
    @cached_property
    def operated(self) -> set[int]:
        """Ids of the shops the viewer works the counter of today."""
        if not getattr(self.user, "is_authenticated", False):
            return set()
        today = timezone.localdate()
        return set(ShopOperator.objects.filter(
            Q(until__isnull=True) | Q(until__gte=today), user=self.user, since__lte=today)
            .values_list("shop_id", flat=True))

    def operates(self, shop: Shop) -> bool:
        return shop.pk in self.operated or self.is_super

    def manages(self, shop: Shop) -> bool:
        return self.may(VERIFY, shop.community.code)

    def spends_at(self, shop: Shop) -> bool:
        v = self.volunteer
        return bool(v and v.active and shop.active
                    and shop.community.code.startswith(spend_prefix(v.community.code)))

    def shops_q(self) -> Q:
        """Shops the viewer sees: where they spend, operate or manage."""
        if self.is_super:
            return EVERYTHING
        q = Q(pk__in=self.operated) | self.scope(VERIFY, "community__code")
        v = self.volunteer
        if v is not None and v.active:
            q |= Q(active=True, community__code__startswith=spend_prefix(v.community.code))
        return q


