"""Placard tokens: 128 random bits from `secrets`, base32 (RFC 4648) without padding — 26
characters of A–Z and 2–7, unambiguous to read out and in the QR code's alphanumeric set.

A token is a capability to file reports at one place, never to read anything: guessing one
among 2^128 is hopeless, and scans are rate-limited per address anyway.
"""

from __future__ import annotations

import base64
import re
import secrets

from django.conf import settings
from django.urls import reverse

TOKEN_BYTES = 16
TOKEN_LENGTH = 26
_TOKEN = re.compile(r"[A-Z2-7]{26}")


def new_token() -> str:
    return base64.b32encode(secrets.token_bytes(TOKEN_BYTES)).decode("ascii").rstrip("=")


def new_tokens(n: int) -> list[str]:
    return [new_token() for _ in range(n)]


def normalise(text: str) -> str | None:
    """The token as stored, from what a URL carried (typed in lower case, say), or None when
    it cannot be one — then nothing is looked up."""
    token = text.strip().upper()
    return token if _TOKEN.fullmatch(token) else None


def scan_url(token: str, base: str = "") -> str:
    """The address printed in the QR code: GEOGRID["PLACARDS"]["BASE_URL"], else `base` (the
    scheme and host the sheet was requested on)."""
    root = settings.GEOGRID["PLACARDS"].get("BASE_URL") or base.rstrip("/")
    return root + reverse("placard-scan", args=[token])
