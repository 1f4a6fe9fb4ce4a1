"""A fixed-window counter per client in Django's cache, for anonymous submissions."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import caches


def client_address(request) -> str:
    # Behind a proxy, deployments put the real address in REMOTE_ADDR (e.g. gunicorn's
    # forwarded_allow_ips); X-Forwarded-For from the client is not trusted here.
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def over_limit(scope: str, client: str) -> int | None:
    """Count one hit; return the window in seconds when the client is over its limit."""
    limit, window = settings.GEOGRID["APPEAL_ANON_RATE"]
    cache = caches[settings.GEOGRID.get("APPEAL_RATE_CACHE", "default")]
    key = f"geogrid:rate:{scope}:{client}"
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    return window if count > limit else None
