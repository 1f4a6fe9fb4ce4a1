"""Personal identifiers at rest: field encryption, a keyed hash for exact search, masking.

ID numbers and phones are stored as AES-256-GCM ciphertext (`cryptography`'s AESGCM, a
maintained implementation; we write no cipher code). Each ciphertext names the key that made
it, so keys can be rotated: the first key of GEOGRID_PII_KEYS encrypts, every listed key
decrypts, and `manage.py rotate_pii_keys` re-encrypts old rows (docs/privacy.md). The column
name is the associated data, so a ciphertext copied into another column does not decrypt.

Exact search and de-duplication use HMAC-SHA256 of the normalised value under a separate key
(GEOGRID_PII_HASH_KEY): equal numbers give equal hashes, but a stolen table cannot be searched
without the key (a plain hash of an 18-digit ID with a checksum is brute-forced in minutes).

Keys come from the environment or, for a local demo, from var/pii-keys written by `make setup`
(as the SECRET_KEY is). Masks show what a caller needs to recognise a record and no more:
`430***********1234`, `138****5678`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_FORMAT = 1  # first byte of every ciphertext: the layout below
_NONCE = 12


class DecryptError(ValueError):
    """A ciphertext this deployment cannot read (unknown key, tampered, wrong column)."""


@dataclass(frozen=True)
class Keyring:
    encrypt_kid: str
    keys: dict[str, bytes]  # key id → 32-byte AES key
    hash_key: bytes

    @classmethod
    def parse(cls, keys: str, hash_key: str) -> Keyring:
        """`keys` = "kid:base64,kid:base64" (the first encrypts); `hash_key` = base64."""
        parsed: dict[str, bytes] = {}
        order: list[str] = []
        for item in filter(None, (k.strip() for k in keys.split(","))):
            kid, _, b64 = item.partition(":")
            raw = _b64(b64, f"GEOGRID_PII_KEYS key {kid!r}")
            if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", kid) or len(raw) != 32:
                raise ImproperlyConfigured(
                    f"GEOGRID_PII_KEYS: {kid!r} must be an id of 1-32 letters/digits and a "
                    "base64 32-byte key")
            parsed[kid] = raw
            order.append(kid)
        if not order:
            raise ImproperlyConfigured(
                "GEOGRID_PII_KEYS is empty (run 'make setup' for local keys)")
        hk = _b64(hash_key, "GEOGRID_PII_HASH_KEY")
        if len(hk) < 32:
            raise ImproperlyConfigured("GEOGRID_PII_HASH_KEY must be at least 32 bytes (base64)")
        return cls(order[0], parsed, hk)


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"{what} is not base64") from exc


@cache
def keyring() -> Keyring:
    conf = settings.GEOGRID["PII"]
    return Keyring.parse(conf["KEYS"], conf["HASH_KEY"])


def encrypt(plaintext: str, column: str) -> bytes:
    ring = keyring()
    kid = ring.encrypt_kid.encode()
    nonce = os.urandom(_NONCE)
    body = AESGCM(ring.keys[ring.encrypt_kid]).encrypt(nonce, plaintext.encode(), column.encode())
    return bytes([_FORMAT, len(kid)]) + kid + nonce + body


def key_id(ciphertext: bytes) -> str:
    data = bytes(ciphertext)
    if len(data) < 2 or data[0] != _FORMAT:
        raise DecryptError("not a GeoGrid ciphertext")
    return data[2:2 + data[1]].decode()


def decrypt(ciphertext: bytes, column: str) -> str:
    data = bytes(ciphertext)
    kid = key_id(data)
    start = 2 + len(kid)
    key = keyring().keys.get(kid)
    if key is None:
        raise DecryptError(f"key {kid!r} is not in GEOGRID_PII_KEYS")
    try:
        plain = AESGCM(key).decrypt(data[start:start + _NONCE], data[start + _NONCE:],
                                    column.encode())
    except InvalidTag as exc:
        raise DecryptError("ciphertext does not verify (tampered, or another column's)") from exc
    return plain.decode()


def keyed_hash(normalised: str) -> bytes:
    """HMAC-SHA256 of an already normalised value (see `normalise_id_number`)."""
    return hmac.new(keyring().hash_key, normalised.encode(), hashlib.sha256).digest()


def normalise_id_number(value: str) -> str:
    """One spelling per ID: no spaces, upper-case check letter (x → X)."""
    return re.sub(r"\s+", "", value).upper()


def mask_id_number(value: str) -> str:
    """First 3 and last 4 characters kept: 430***********1234 (the division's province and
    city digits stay hidden behind the third)."""
    v = normalise_id_number(value)
    if len(v) <= 7:
        return "*" * len(v)
    return v[:3] + "*" * (len(v) - 7) + v[-4:]


def mask_phone(value: str) -> str:
    """138****5678 for mobiles; landlines keep the area code (0598****1234); the last 4
    digits always show, and at least one digit is always hidden."""
    digits = re.sub(r"[\s-]", "", value)
    if len(digits) <= 4:
        return "*" * len(digits)
    head = 3 if digits.startswith("1") else 4 if digits.startswith("0") else 0
    head = min(head, len(digits) - 5)
    return digits[:head] + "*" * (len(digits) - head - 4) + digits[-4:]


def new_key() -> str:
    """A fresh base64 32-byte key (for setup and rotation)."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
