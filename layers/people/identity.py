"""Personal identifiers in and out of the database: checks, sealing (ciphertext + keyed hash +
mask) and opening. Everything that stores an ID number or a phone goes through here, so the
rules are one: GB 11643 checksum for resident ID cards, ciphertext bound to its column
(geogrid.pii), the masked form for everyone without an unmask."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from geogrid import pii

ID_COLUMN = "people_person.id_number"
PHONE_COLUMN = "people_person.phone"
CONTACT_COLUMN = "people_household.contact_phone"
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_PHONE = re.compile(r"^\+?[0-9][0-9 -]{5,18}[0-9]$")


def resident_id_problem(number: str) -> str | None:
    """Why an 18-character resident ID number (GB 11643-1999) is not valid, or None."""
    v = pii.normalise_id_number(number)
    if not re.fullmatch(r"[0-9]{17}[0-9X]", v):
        return "must be 17 digits and a digit or X"
    try:
        dt.date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        return "the birth date inside it is not a date"
    if _CHECK[sum(int(c) * w for c, w in zip(v[:17], _WEIGHTS, strict=True)) % 11] != v[17]:
        return "the check digit is wrong"
    return None


def check_digit(first17: str) -> str:
    """The 18th character of a resident ID number (for synthetic data)."""
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def birth_date_and_gender(number: str) -> tuple[dt.date, str]:
    v = pii.normalise_id_number(number)
    return dt.date(int(v[6:10]), int(v[10:12]), int(v[12:14])), "M" if int(v[16]) % 2 else "F"


def phone_problem(phone: str) -> str | None:
    return None if _PHONE.fullmatch(phone) else "not a phone number"


@dataclass(frozen=True)
class Sealed:
    cipher: bytes | None
    hash: bytes | None
    masked: str


def seal_id(number: str) -> Sealed:
    v = pii.normalise_id_number(number)
    return Sealed(pii.encrypt(v, ID_COLUMN), pii.keyed_hash(v), pii.mask_id_number(v))


def id_hash(number: str) -> bytes:
    return pii.keyed_hash(pii.normalise_id_number(number))


def seal_phone(phone: str, column: str = PHONE_COLUMN) -> Sealed:
    if not phone:
        return Sealed(None, None, "")
    v = re.sub(r"[\s-]", "", phone)
    return Sealed(pii.encrypt(v, column), None, pii.mask_phone(v))


def open_value(cipher: bytes | memoryview | None, column: str) -> str:
    return pii.decrypt(bytes(cipher), column) if cipher is not None else ""
