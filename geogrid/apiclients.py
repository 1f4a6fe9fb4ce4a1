"""API keys for other systems (geogrid.models.ApiClient): issue, look up, authenticate.

A key is `gg_<prefix>_<secret>`: the prefix (10 hex characters) finds the row, the secret
(32 random bytes) is what proves it. Only SHA-256 of the whole key is stored, compared in
constant time; a revoked or unknown key and a wrong secret are the same "no client" to the
caller, so an error never says which part was wrong.

A client sends its key as the `X-API-Key` header (OGC API clients: GDAL's `GDAL_HTTP_HEADERS`,
QGIS's authentication) or as Open311's `api_key` field (query string or form body). The key
authenticates the client's service account (`ApiClient.user`), so every permission check
downstream is the one a person gets; what the client may do and where is checked on top
(`ApiClient.may`, `ApiClient.covers`) by the standard endpoints (layers/open311,
layers/ogcapi).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from geogrid.models import ApiClient, Grid

HEADER = "HTTP_X_API_KEY"
PARAM = "api_key"
KEY_MAX_CHARS = 80
NAME_MAX_CHARS = 100  # ApiClient.name
_KEY = re.compile(r"gg_([0-9a-f]{10})_[A-Za-z0-9_-]{43}")
# last_used_at is written at most this often per client (not one UPDATE per request).
TOUCH_EVERY_S = 60


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _new_key() -> tuple[str, str]:
    prefix = secrets.token_hex(5)
    return prefix, f"gg_{prefix}_{secrets.token_urlsafe(32)}"


def clean_scopes(scopes: Iterable[str]) -> list[str]:
    codes = sorted({s.strip() for s in scopes if s and s.strip()})
    known = set(Grid.objects.current().filter(code__in=codes).values_list("code", flat=True))
    if unknown := [c for c in codes if c not in known]:
        raise ValidationError({"scopes": _("no current grid has the code %(codes)s")
                               % {"codes": ", ".join(unknown)}})
    return codes


@transaction.atomic
def create_client(name: str, *, permissions: Iterable[str], scopes: Iterable[str],
                  user: Any = None) -> tuple[ApiClient, str]:
    """A new client with its service account (unless one is given) and its first key.

    Returns the client and the raw key, which is never stored and cannot be shown again."""
    name = name.strip()
    if not name or "\x00" in name or len(name) > NAME_MAX_CHARS:
        raise ValidationError({"name": _("give a name of at most 100 characters")})
    perms = sorted(set(permissions))
    if bad := [p for p in perms if p not in ApiClient.Permission.values]:
        raise ValidationError({"permissions": _("unknown permission: %(p)s")
                               % {"p": ", ".join(bad)}})
    if user is None:
        user = get_user_model().objects.create_user(
            username=f"api:{secrets.token_hex(6)}", first_name=name[:150])
        user.set_unusable_password()
        user.save(update_fields=["password"])
    prefix, raw = _new_key()
    client = ApiClient.objects.create(
        name=name, user=user, key_prefix=prefix, key_hash=hash_key(raw), permissions=perms,
        scopes=clean_scopes(scopes), key_issued_at=timezone.now())
    return client, raw


@transaction.atomic
def rotate_key(client: ApiClient) -> str:
    """A new key for the client; the old one stops working at once."""
    prefix, raw = _new_key()
    ApiClient.objects.filter(pk=client.pk).update(
        key_prefix=prefix, key_hash=hash_key(raw), key_issued_at=timezone.now())
    client.key_prefix, client.key_hash = prefix, hash_key(raw)
    return raw


def client_for_key(raw: str | None) -> ApiClient | None:
    """The active client whose key this is, or None (unknown, malformed, revoked, wrong)."""
    if not raw or len(raw) > KEY_MAX_CHARS:
        return None
    match = _KEY.fullmatch(raw)
    if match is None:
        return None
    client = (ApiClient.objects.select_related("user")
              .filter(key_prefix=match.group(1), active=True, user__is_active=True).first())
    if client is None or not hmac.compare_digest(client.key_hash, hash_key(raw)):
        return None
    now = timezone.now()
    if client.last_used_at is None or (now - client.last_used_at).total_seconds() > TOUCH_EVERY_S:
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
        client.last_used_at = now
    return client


def key_in(request: HttpRequest) -> str | None:
    """The key the request carries: the header, else Open311's `api_key` (query or form)."""
    raw = request.META.get(HEADER)
    if raw:
        return raw
    if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
        raw = request.POST.get(PARAM)
    return raw or request.GET.get(PARAM) or None


class ApiKeyAuthentication(BaseAuthentication):
    """DRF authentication by API key: the request runs as the client's service account and
    `request.auth` is the ApiClient. No key → not this scheme (session auth may still apply);
    a key that matches no active client → 403 (no WWW-Authenticate challenge, so not 401)."""

    def authenticate(self, request: Request) -> tuple[Any, ApiClient] | None:
        raw = key_in(request._request)
        if raw is None:
            return None
        client = client_for_key(raw)
        if client is None:
            raise AuthenticationFailed(_("the API key is not valid"))
        return client.user, client
