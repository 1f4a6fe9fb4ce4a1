"""Pickup codes and counter cards: short codes a person reads out or types at the counter.

- A pickup code is 8 characters from 32 that cannot be confused when read aloud or typed (no
  0/O, 1/I): 40 random bits from `secrets`. It must be unique among reserved redemptions only
  (a partial unique index); a clash, about one in 10¹² per pair, is retried.
- A counter card is how a volunteer without a reservation identifies at the counter: their
  volunteer id and 6 characters of an HMAC over the id and the current time window
  (CARD_MINUTES), shown on their phone. The operator types or scans it; the code of the previous
  window is accepted too, so a code shown just before the window turned still works.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
PICKUP_LENGTH = 8
_CARD = re.compile(r"^([0-9]{1,12})-([" + ALPHABET + r"]{6})$")
_SALT = "geogrid.shop.card"


def new_pickup_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(PICKUP_LENGTH))


def normalise(code: str) -> str:
    """What a person typed: case, spaces and dashes do not matter."""
    return re.sub(r"[\s-]", "", code).upper()


def is_pickup_code(code: str) -> bool:
    return len(code) == PICKUP_LENGTH and all(c in ALPHABET for c in code)


def _window(at: dt.datetime) -> int:
    return int(at.timestamp()) // (60 * int(settings.GEOGRID["POINTS"]["CARD_MINUTES"]))


def _mac(volunteer_id: int, window: int) -> str:
    digest = salted_hmac(_SALT, f"{volunteer_id}:{window}", algorithm="sha256").digest()
    n = int.from_bytes(digest[:4], "big")
    return "".join(ALPHABET[(n >> (5 * i)) & 31] for i in range(6))


def card_code(volunteer_id: int, at: dt.datetime) -> str:
    return f"{volunteer_id}-{_mac(volunteer_id, _window(at))}"


def card_valid_until(at: dt.datetime) -> dt.datetime:
    span = 60 * int(settings.GEOGRID["POINTS"]["CARD_MINUTES"])
    return dt.datetime.fromtimestamp((_window(at) + 2) * span, tz=dt.UTC)


def volunteer_for_card(code: str, at: dt.datetime) -> int | None:
    """The volunteer id of a card code valid now (or in the previous window), else None."""
    match = _CARD.match(code.strip().upper())
    if not match:
        return None
    volunteer_id, mac = int(match[1]), match[2]
    now = _window(at)
    ok = any(constant_time_compare(mac, _mac(volunteer_id, w)) for w in (now, now - 1))
    return volunteer_id if ok else None
