"""Points expire VALID_YEARS after they were earned, oldest first (GEOGRID["POINTS"]; off when
None). `manage.py expire_points` runs it (daily from cron).

FIFO without lots: every debit (a redemption, an expiry, a negative adjustment) spends the
oldest credits first, so what is left of the credits older than the cut-off is

    expiring = max(0, Σ credits before the cut-off − Σ debits so far)

An entry and its reversal cancel out and are left out of both sums: a reversed earn never
counted, a cancelled redemption spent nothing. (Points given back by reversing a redemption are
therefore dated by the points they gave back only through that cancellation — they are not
new credits.) Since the result is at most the balance, an expiry never takes it below zero.

The amounts are found by one set-based query; each is posted through the ledger (a row per
account: the signature chain is computed in Python), with the key expire:<account>:<cut-off
date> — a second run on the same day, or two at once, writes nothing more, and the next day's
run finds nothing left because today's expiry counts as a debit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from layers.volunteering import ledger
from layers.volunteering.models import EntryKind

_DUE = """
WITH live AS (  -- entries that are neither reversed nor reversals
    SELECT e.account_id, e.amount, e.created_at FROM volunteering_pointsentry e
    WHERE e.kind <> 'reversal' {account}
      AND NOT EXISTS (SELECT 1 FROM volunteering_pointsentry r WHERE r.reverses_id = e.id)
)
SELECT account_id, least(a.balance, credits_before - debits)::int AS expiring,
       v.community_id
FROM (SELECT account_id,
             coalesce(sum(amount) FILTER (WHERE amount > 0 AND created_at < %(cut)s), 0)
                 AS credits_before,
             coalesce(-sum(amount) FILTER (WHERE amount < 0), 0) AS debits
      FROM live GROUP BY account_id) t
JOIN volunteering_pointsaccount a ON a.id = t.account_id
JOIN volunteering_volunteer v ON v.id = a.volunteer_id
WHERE credits_before - debits > 0 AND a.balance > 0
ORDER BY account_id
"""


@dataclass
class ExpiryReport:
    cut_off: dt.datetime | None = None
    accounts: int = 0
    points: int = 0
    entries: list[int] = field(default_factory=list)

    def lines(self) -> list[str]:
        if self.cut_off is None:
            return ["points do not expire (GEOGRID['POINTS']['VALID_YEARS'] is None)"]
        return [f"cut-off: {self.cut_off.isoformat()}",
                f"expired: {self.points} points on {self.accounts} accounts"]


def cut_off(now: dt.datetime, years: int) -> dt.datetime:
    """Midnight (local time) of today's date `years` years ago."""
    today = timezone.localdate(now)
    try:
        day = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        day = today.replace(year=today.year - years, day=28)
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _expiring(cut: dt.datetime, account: int | None = None) -> list[tuple[int, int, int]]:
    sql = _DUE.format(account="AND e.account_id = %(account)s" if account else "")
    with connection.cursor() as cursor:
        cursor.execute(sql, {"cut": cut, "account": account})
        return [(int(a), int(n), int(g)) for a, n, g in cursor.fetchall()]


def expire_points(now: dt.datetime | None = None, years: int | None = None) -> ExpiryReport:
    """Expire what is left of the points earned before the cut-off, on every account."""
    years = years if years is not None else settings.GEOGRID["POINTS"]["VALID_YEARS"]
    report = ExpiryReport()
    if not years:
        return report
    now = now or timezone.now()
    report.cut_off = cut = cut_off(now, int(years))
    with transaction.atomic():
        due = _expiring(cut)
        for account_id, _amount, community in due:
            # Recounted under the account's lock: a redemption since the query spent first.
            with transaction.atomic():
                ledger.lock(account_id)
                again = _expiring(cut, account_id)
                if not again:
                    continue
                amount = again[0][1]
                posted = ledger.post(account_id, -amount, EntryKind.EXPIRE,
                                     key=f"expire:{account_id}:{cut.date().isoformat()}",
                                     grid_id=community,
                                     note=f"earned before {cut.date().isoformat()}")
            if posted.created:
                report.accounts += 1
                report.points += amount
                report.entries.append(posted.entry.pk)
    return report
