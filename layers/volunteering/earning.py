"""Earning points by the rules (PointsRule rows): the one function other layers call.

`award(volunteer, "wish_confirmed", source=Source("claim", 7), key="claim:7:confirmed")`
posts an earn entry once per key. The amount is the rule's points per unit × the units (capped
per activity), rounded down, and capped by what the volunteer has left of the rule's daily cap
— counted under the account lock, so two awards at once cannot both take the last points.
An inactive or unknown rule, or a cap already reached, awards nothing (None).
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from layers.volunteering.ledger import Posted, Source, account_for, lock, post
from layers.volunteering.models import EntryKind, PointsEntry, PointsRule, Volunteer


def points_for(rule: PointsRule, units: Decimal) -> int:
    """Points for `units` of one activity: capped per activity, rounded down."""
    if rule.max_units_per_activity is not None:
        units = min(units, rule.max_units_per_activity)
    return max(0, math.floor(units * rule.points_per_unit))


def earned_on(account_id: int, rule: str, day: dt.date) -> int:
    """Net points of `rule` earned on `day` (reversed earns given back)."""
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    earned = PointsEntry.objects.filter(
        account_id=account_id, rule=rule, created_at__gte=start,
        created_at__lt=start + dt.timedelta(days=1),
        kind__in=(EntryKind.EARN, EntryKind.REVERSAL)).aggregate(s=Sum("amount"))["s"]
    return max(0, earned or 0)


@transaction.atomic
def award(volunteer: Volunteer, rule: str, *, source: Source, key: str, by: User | None = None,
          units: Decimal = Decimal(1), grid_id: int | None = None,
          note: str = "") -> Posted | None:
    """Earn points for one activity by `rule`; the same key returns the first result."""
    found = PointsRule.objects.filter(code=rule, active=True).first()
    if found is None or not volunteer.active:
        return None
    account = lock(account_for(volunteer).pk)
    first = PointsEntry.objects.filter(idempotency_key=key).first()
    if first is not None:  # a retry: the same answer, whatever the cap says now
        return post(account.pk, first.amount, first.kind, key=key)
    points = points_for(found, units)
    if found.daily_cap is not None:
        left = found.daily_cap - earned_on(account.pk, rule, timezone.localdate())
        points = min(points, max(0, left))
    if points <= 0:
        return None
    return post(account.pk, points, EntryKind.EARN, key=key, by=by, source=source,
                grid_id=grid_id if grid_id is not None else volunteer.community_id, rule=rule,
                note=note)
