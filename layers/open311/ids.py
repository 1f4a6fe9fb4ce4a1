"""The ids an Open311 answer gives an appeal.

A keyed client in scope gets the tracking number (`350427-20250601-00042`): what the hotline
reads out and staff type. The public feed (no key) must not: a tracking number is sequential
and, by the appeals layer's rule, opens nothing to a stranger (docs/appeals.md, "Tracking
numbers and public ids") — nor may it hand out public ids, which are the share links that
let anyone support an appeal. So the public feed names each appeal by a **feed id**: the
appeal's public id encrypted as one AES block under a key derived from SECRET_KEY (a keyed
permutation: stable, 32 hex characters, unguessable, and of no use anywhere else in the app).
It is decrypted back to the public id to answer `requests/{feed id}`. Rotating SECRET_KEY
changes every feed id.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import uuid

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings

TRACKING = re.compile(r"\d{1,16}-\d{8}-\d{5,10}")
FEED_ID = re.compile(r"[0-9a-f]{32}")


@functools.lru_cache(maxsize=4)
def _cipher(secret: str) -> Cipher:
    key = hmac.new(secret.encode(), b"geogrid open311 feed ids", hashlib.sha256).digest()
    # One 16-byte block per id: ECB is the block cipher itself, a keyed permutation.
    return Cipher(algorithms.AES(key), modes.ECB())


def feed_id(public_id: uuid.UUID) -> str:
    encryptor = _cipher(settings.SECRET_KEY).encryptor()
    return (encryptor.update(public_id.bytes) + encryptor.finalize()).hex()


def public_id_of_feed(ref: str) -> uuid.UUID | None:
    """The public id a feed id stands for, or None when `ref` is not a feed id."""
    if not FEED_ID.fullmatch(ref):
        return None
    decryptor = _cipher(settings.SECRET_KEY).decryptor()
    return uuid.UUID(bytes=decryptor.update(bytes.fromhex(ref)) + decryptor.finalize())


def is_tracking(ref: str) -> bool:
    return bool(TRACKING.fullmatch(ref))
