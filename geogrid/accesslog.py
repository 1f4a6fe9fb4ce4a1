"""Writing the personal-data access log (geogrid.models.AccessLog).

Every read of a person's record, every list of people, every unmask, export and print calls
`record` once, in the same transaction as the read, so a read that is answered is a read that
is logged. The report of the heaviest readers is `heaviest_readers`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Count, Func, IntegerField, Q, Sum
from django.http import HttpRequest
from django.utils import timezone

from geogrid.models import AccessLog
from geogrid.ratelimit import client_ip


def client_address(request: HttpRequest | None) -> str | None:
    """The address the rate limits use (trusted proxies honoured), or None."""
    return client_ip(request) if request is not None else None


def record(request: HttpRequest | None, *, user, post: str, action: str, subject_type: str,
           subject_ids: Iterable[int], fields: Iterable[str] = (), reason: str = "") -> AccessLog:
    return AccessLog.objects.create(
        user=user if getattr(user, "is_authenticated", False) else None,
        username=getattr(user, "username", "") or "",
        post=post[:32], action=action, subject_type=subject_type,
        subject_ids=sorted(set(int(i) for i in subject_ids)), fields=sorted(set(fields)),
        reason=reason[:200], client_address=client_address(request),
        path=(request.path if request is not None else "")[:200],
    )


def unmasks_today(user) -> int:
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return AccessLog.objects.filter(user=user, action=AccessLog.Action.UNMASK,
                                    at__gte=start).count()


def claim_unmask(user, limit: int, *, exempt: bool = False) -> int:
    """Inside the caller's transaction: lock the user's row (two unmasks at once cannot both
    take the last one) and count today's unmasks; at the limit → 429 until midnight. Returns
    how many were used before this one."""
    from django.contrib.auth import get_user_model
    from django.utils.translation import gettext as _

    from geogrid.errors import RateLimited

    get_user_model().objects.select_for_update().filter(pk=user.pk or 0).get()
    used = unmasks_today(user)
    if used >= limit and not exempt:
        raise RateLimited(_("daily unmask limit reached (%(n)d); it resets at midnight")
                          % {"n": limit}, retry_after=_seconds_to_midnight())
    return used


def _seconds_to_midnight() -> int:
    now = timezone.localtime()
    tomorrow = (now + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((tomorrow - now).total_seconds()))


class Cardinality(Func):
    function = "cardinality"
    output_field = IntegerField()


def heaviest_readers(since: dt.datetime, limit: int = 20, readers=None) -> list[dict]:
    """Users by number of person records read since `since` (lists count every subject);
    `readers` (a queryset of user ids) narrows it to some users."""
    logs = AccessLog.objects.filter(at__gte=since, user__isnull=False)
    if readers is not None:
        logs = logs.filter(user_id__in=readers)
    rows = (logs
            .values("user_id", "username", "post")
            .annotate(reads=Count("id"), subjects=Sum(Cardinality("subject_ids")),
                      unmasks=Count("id", filter=Q(action=AccessLog.Action.UNMASK)))
            .order_by("-subjects", "-reads")[:limit])
    return list(rows)
