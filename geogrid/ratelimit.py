"""Rate limits that every worker shares, and the answers to a refused or locked-out login.

A limit is (hits, window in seconds) per *scope* and *client* (the client's address):

    intake    anonymous appeal submissions          GEOGRID["APPEAL_ANON_RATE"]
    support   anonymous "me too" on an appeal       GEOGRID["RATE_LIMITS"]["support"]
    feedback  anonymous ratings with the token      GEOGRID["RATE_LIMITS"]["feedback"]
    locate    anonymous point → grid look-ups       GEOGRID["RATE_LIMITS"]["locate"]
    login     posts to a login form, any user       GEOGRID["RATE_LIMITS"]["login"]
    open311   Open311 requests without an API key   GEOGRID["RATE_LIMITS"]["open311"]

Limits are read at every hit (an override in a test or a settings change applies at once);
`None` switches a scope off. Each can also be set from the environment (`GEOGRID_RATE_LOCATE=
300/3600` or `off`, see geogrid/settings.py).

Counting: one statement per hit on the UNLOGGED table of `geogrid.models.RateCounter`,
`INSERT … ON CONFLICT (scope, client) DO UPDATE SET hits = hits + 1 … RETURNING`. PostgreSQL
locks the row for the update, so concurrent hits from any number of processes are counted one
after another and a limit of 20 lets exactly 20 through (tests/geogrid/test_ratelimit_workers.py
runs it against gunicorn with 4 workers). The per-process cache counted before could not do this:
four workers let 80 of 120 through a limit of 20. Why PostgreSQL rather than Redis: README.

A window starts with a client's first hit and lasts the scope's window; `Retry-After` is the
time left in it, rounded up, from the database's clock (the same for every worker). Hits over
the limit are counted but do not extend the window. Expired rows are reused by the client's
next hit, and about one hit in PURGE_ONE_IN deletes all expired rows (an index range scan).

Call `enforce` outside a transaction that may roll back (the views do, before the service):
a hit counted inside a rolled-back transaction is not counted.

The login lock-out after repeated failures (per account and per address) is django-axes'
(settings AXES_*); `login_locked_out` is its lock-out answer and `LoginRateLimitMiddleware`
applies the `login` limit to login posts before any password is checked. Both answer 429 with
Retry-After: the login page with a message, or the one error shape to a JSON client.
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render, resolve_url
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from geogrid.errors import RateLimited, error_response, wants_json

SCOPES = ("intake", "support", "feedback", "locate", "login", "open311")
PURGE_ONE_IN = 100
CLIENT_MAX_CHARS = 128  # RateCounter.client

_HIT_SQL = """
INSERT INTO geogrid_ratecounter AS c (scope, client, hits, window_ends)
VALUES (%s, %s, 1, now() + make_interval(secs => %s))
ON CONFLICT (scope, client) DO UPDATE SET
    hits = CASE WHEN c.window_ends <= now() THEN 1 ELSE LEAST(c.hits + 1, 2147483647) END,
    window_ends = CASE WHEN c.window_ends <= now() THEN EXCLUDED.window_ends
                       ELSE c.window_ends END
RETURNING c.hits, EXTRACT(EPOCH FROM c.window_ends - now())
"""


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, or None; django-axes uses it too (AXES_CLIENT_IP_CALLABLE).

    REMOTE_ADDR, unless it is one of GEOGRID["TRUSTED_PROXIES"] (addresses or networks, e.g. the
    nginx in front: gunicorn puts its peer in REMOTE_ADDR and never reads X-Forwarded-For).
    Then X-Forwarded-For is read from the right, skipping trusted proxies: the first other
    address is the one the outermost trusted proxy saw. Entries further left were written by
    the client and are never believed; without trusted proxies the header is ignored."""
    remote = request.META.get("REMOTE_ADDR") or None
    trusted = _trusted_proxies(tuple(settings.GEOGRID.get("TRUSTED_PROXIES") or ()))
    if remote is None or not _is_trusted(remote, trusted):
        return remote
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    for hop in reversed([h.strip() for h in hops if h.strip()]):
        ip = _parse_ip(hop)
        if ip is None:
            break  # not an address: trust nothing further left
        if not any(ip in network for network in trusted):
            return str(ip)
        remote = str(ip)
    return remote


def client_address(request: HttpRequest) -> str:
    """The client's address as a rate-limit key ("unknown" when there is none)."""
    return client_ip(request) or "unknown"


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=8)
def _trusted_proxies(spec: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in spec)


def _parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _is_trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    ip = _parse_ip(address)
    return ip is not None and any(ip in network for network in trusted)


def rate_for(scope: str) -> tuple[int, int] | None:
    """(hits, window seconds) of a scope, or None when the scope is not limited."""
    if scope not in SCOPES:
        raise ValueError(f"unknown rate-limit scope {scope!r}; known: {', '.join(SCOPES)}")
    if scope == "intake":  # the intake's limit keeps its original key
        rate = settings.GEOGRID.get("APPEAL_ANON_RATE")
    else:
        rate = settings.GEOGRID.get("RATE_LIMITS", {}).get(scope)
    if rate is None:
        return None
    hits, window = rate
    return int(hits), int(window)


@dataclass(frozen=True)
class Hit:
    scope: str
    count: int  # hits in the current window, this one included
    limit: int
    retry_after: int  # whole seconds until the window ends (at least 1)

    @property
    def allowed(self) -> bool:
        return self.count <= self.limit


def count_hit(scope: str, client: str) -> Hit | None:
    """Count one hit of `client` in `scope`, atomically across processes. None when the scope
    is not limited (nothing is counted)."""
    rate = rate_for(scope)
    if rate is None:
        return None
    limit, window = rate
    with connection.cursor() as cursor:
        cursor.execute(_HIT_SQL, [scope, client[:CLIENT_MAX_CHARS], float(window)])
        count, left = cursor.fetchone()
    if random.randrange(PURGE_ONE_IN) == 0:  # sampling, not security
        purge_expired()
    return Hit(scope, int(count), limit, max(1, math.ceil(float(left))))


def enforce(scope: str, client: str, message: str) -> None:
    """Count one hit; raise RateLimited (429 with Retry-After) when the client is over."""
    hit = count_hit(scope, client)
    if hit is not None and not hit.allowed:
        raise RateLimited(message, retry_after=hit.retry_after)


def purge_expired() -> int:
    """Delete the counters whose window has ended; returns how many."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM geogrid_ratecounter WHERE window_ends <= now()")
        return cursor.rowcount


# --- Login: the `login` limit and django-axes' lock-out, both answered on the login page ------

def _login_paths() -> set[str]:
    paths: set[str] = set()
    with contextlib.suppress(NoReverseMatch):  # a URLconf without a login page (some tests)
        paths.add(resolve_url(settings.LOGIN_URL))
    with contextlib.suppress(NoReverseMatch):  # no admin site
        paths.add(reverse("admin:login"))
    return paths


class LoginRateLimitMiddleware:
    """Counts posts to the login pages (the site's and the admin's) per address in the `login`
    scope; over the limit, the page answers 429 before any password is checked."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.path_info in _login_paths():
            hit = count_hit("login", client_address(request))
            if hit is not None and not hit.allowed:
                message = _("Too many login attempts from this address. Try again in "
                            "%(wait)s.") % {"wait": _wait(hit.retry_after)}
                return login_refused(request, message, hit.retry_after)
        return self.get_response(request)


def login_refused(request: HttpRequest, message: str, retry_after: int) -> HttpResponse:
    """429 with Retry-After: the login page with `message`, or the one error shape to JSON."""
    if wants_json(request) or request.headers.get("X-Requested-With") == "XMLHttpRequest":
        return error_response(RateLimited(message, retry_after=retry_after))
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    response = render(request, "registration/login.html",
                      {"refusal": message, "next": next_url}, status=429)
    response["Retry-After"] = str(int(retry_after))
    return response


def login_locked_out(request: HttpRequest, original_response: HttpResponse | None = None,
                     credentials: dict[str, Any] | None = None) -> HttpResponse:
    """django-axes' lock-out answer (AXES_LOCKOUT_CALLABLE): the account or the address has
    failed AXES_FAILURE_LIMIT times within the cool-off; Retry-After says when that ends."""
    retry_after = _lockout_left(request, credentials)
    message = _("Too many failed logins for this account or from this address: logging in is "
                "locked for %(wait)s. An administrator can unlock it sooner.") % {
        "wait": _wait(retry_after)}
    return login_refused(request, message, retry_after)


def _lockout_left(request: HttpRequest, credentials: dict[str, Any] | None) -> int:
    """Seconds until the lock-out ends: the cool-off after the latest failure recorded for the
    username or the address (never too early; the full cool-off when none is found)."""
    # Imported here: only the lock-out answer needs django-axes.
    from axes.helpers import get_client_username
    from axes.models import AccessAttempt

    cool_off = settings.AXES_COOLOFF_TIME
    username = get_client_username(request, credentials)
    attempts = AccessAttempt.objects.filter(ip_address=client_ip(request) or "0.0.0.0")
    if username:
        attempts = attempts | AccessAttempt.objects.filter(username=username)
    latest = attempts.order_by("-attempt_time").values_list("attempt_time", flat=True).first()
    if latest is None:
        return max(1, math.ceil(cool_off.total_seconds()))
    return max(1, math.ceil((latest + cool_off - timezone.now()).total_seconds()))


def _wait(seconds: int) -> str:
    minutes = math.ceil(seconds / 60)
    return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
