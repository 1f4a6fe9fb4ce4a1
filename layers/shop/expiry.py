"""Reservations not collected by `expires_at` expire (`manage.py expire_redemptions`, hourly
from cron): the points are reversed and the stock returned, like a cancellation.

One transaction: the due redemptions are locked (`FOR UPDATE SKIP LOCKED`: one a volunteer or
an operator is cancelling or collecting right now is left to them, and a second run at once
takes the others); each redeem entry is reversed through the ledger — a row per redemption,
because the signature chain is computed in Python; then the redemptions, the items' stock and
the return movements are written set-based (the movements' stock_after by a running sum per
item). A second run finds nothing reserved and past due and writes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from layers.volunteering import ledger
from layers.volunteering.models import PointsEntry

_DUE = """
SELECT id, entry_id FROM shop_redemption
WHERE status = 'reserved' AND expires_at <= %(now)s
ORDER BY id FOR UPDATE SKIP LOCKED
"""
_CLOSE = """
WITH done AS (
    UPDATE shop_redemption r SET status = 'expired', closed_at = %(now)s,
                                 reversal_id = x.reversal
    FROM unnest(%(ids)s::bigint[], %(reversals)s::bigint[]) AS x(id, reversal)
    WHERE r.id = x.id
    RETURNING r.id, r.item_id, r.quantity
), items AS (
    UPDATE shop_item i SET stock = i.stock + d.quantity
    FROM (SELECT item_id, sum(quantity)::int AS quantity FROM done GROUP BY item_id) d
    WHERE i.id = d.item_id
    RETURNING i.id, i.stock
)
INSERT INTO shop_stockmovement (item_id, kind, quantity, stock_after, donor_name, redemption_id,
                                note, created_at)
SELECT d.item_id, 'return', d.quantity,
       i.stock - coalesce(sum(d.quantity) OVER (PARTITION BY d.item_id ORDER BY d.id DESC
                                                 ROWS BETWEEN UNBOUNDED PRECEDING
                                                 AND 1 PRECEDING), 0),
       '', d.id, 'expired', %(now)s
FROM done d JOIN items i ON i.id = d.item_id
ORDER BY d.id
"""


@dataclass
class RedemptionExpiry:
    expired: list[int] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [f"expired reservations: {len(self.expired)}"]


def expire_redemptions(now: dt.datetime | None = None) -> RedemptionExpiry:
    now = now or timezone.now()
    report = RedemptionExpiry()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_DUE, {"now": now})
            due = cursor.fetchall()
        if not due:
            return report
        entries = PointsEntry.objects.in_bulk([e for _r, e in due])
        reversals = [ledger.reverse(entries[e], key=f"redemption:{r}:return",
                                    note="not collected in time").entry.pk for r, e in due]
        ids = [r for r, _e in due]
        with connection.cursor() as cursor:
            cursor.execute(_CLOSE, {"now": now, "ids": ids, "reversals": reversals})
        report.expired = ids
    return report
