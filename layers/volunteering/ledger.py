"""Posting to the points ledger: the one way an entry is written.

Every posting locks the account row (`SELECT … FOR UPDATE`), so postings to one account are
serial: the idempotency check, the reversal check, the balance and the signature chain all see
the previous posting. The database backs each rule up on its own — a unique key, one reversal
per entry, balance ≥ 0 on the account and on every entry, no UPDATE/DELETE — so a bug here
fails loudly instead of corrupting the ledger.

Signatures: HMAC-SHA256 (Django's `salted_hmac`, keyed by SECRET_KEY) over the entry's fields
and the previous entry's signature of the same account. `verify` recomputes the chain: an entry
changed, removed or inserted out of band breaks it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from geogrid.errors import Conflict, integrity_conflict
from layers.volunteering.models import EntryKind, PointsAccount, PointsEntry, Volunteer

_SALT = "geogrid.volunteering.ledger"
KEY_LENGTH = 120  # PointsEntry.idempotency_key


@dataclass(frozen=True)
class Source:
    """What an entry is for: ("service_record", 12), ("claim", 7), ("visit", 3) …"""

    type: str
    id: int


@dataclass(frozen=True)
class Posted:
    entry: PointsEntry
    created: bool  # False: the idempotency key had been used, `entry` is the first result


def message(prev: str, account_id: int, amount: int, kind: str, reverses_id: int | None,
            key: str, balance_after: int, source_type: str, source_id: int | None,
            created_at: dt.datetime) -> bytes:
    """What an entry's signature covers: its fields and the previous signature."""
    return "|".join(str(v) for v in (
        prev, account_id, amount, kind, reverses_id or "", key, balance_after, source_type,
        "" if source_id is None else source_id,
        created_at.astimezone(dt.UTC).isoformat())).encode()


def signer() -> Callable[[bytes], str]:
    """A signing function with the key derived once (as `salted_hmac` derives it each time),
    for loaders that sign many entries; `sign` gives the same signatures."""
    derived = hashlib.sha256(_SALT.encode() + settings.SECRET_KEY.encode()).digest()
    return lambda msg: hmac.new(derived, msg, hashlib.sha256).hexdigest()


def sign(prev: str, account_id: int, amount: int, kind: str, reverses_id: int | None, key: str,
         balance_after: int, source_type: str, source_id: int | None,
         created_at: dt.datetime) -> str:
    msg = message(prev, account_id, amount, kind, reverses_id, key, balance_after, source_type,
                  source_id, created_at)
    return salted_hmac(_SALT, msg, algorithm="sha256").hexdigest()


def account_for(volunteer: Volunteer) -> PointsAccount:
    """The volunteer's account, opened on first use."""
    account, _created = PointsAccount.objects.get_or_create(volunteer=volunteer)
    return account


def lock(account_id: int) -> PointsAccount:
    """The account row, locked until the transaction ends (call inside one)."""
    return PointsAccount.objects.select_for_update().get(pk=account_id)


def _same(entry: PointsEntry, account_id: int, amount: int, kind: str) -> bool:
    return (entry.account_id, entry.amount, entry.kind) == (account_id, amount, kind)


@transaction.atomic
def post(account_id: int, amount: int, kind: str, *, key: str, by: User | None = None,
         source: Source | None = None, grid_id: int | None = None, rule: str = "",
         note: str = "", reverses: PointsEntry | None = None) -> Posted:
    """Append one entry and move the cached balance with it.

    A key used before returns the first entry (`created=False`) when it was for the same
    account, amount and kind, and answers 409 otherwise. An entry that would take the balance
    below zero answers 409 with the current balance; so does a second reversal of an entry.
    """
    if not key or len(key) > KEY_LENGTH or "\x00" in key:
        raise ValueError(f"idempotency key: 1 to {KEY_LENGTH} characters, no NUL")
    if amount == 0:
        raise ValueError("an entry moves at least one point")
    account = lock(account_id)
    first = PointsEntry.objects.filter(idempotency_key=key).first()
    if first is not None:
        if _same(first, account_id, amount, kind):
            return Posted(first, False)
        raise Conflict(_("This idempotency key was used for a different entry."),
                       current={"entry": first.pk})
    if reverses is not None and PointsEntry.objects.filter(reverses=reverses).exists():
        raise Conflict(_("This entry has already been reversed."),
                       current={"entry": reverses.pk})
    balance = account.balance + amount
    if balance < 0:
        raise Conflict(_("Not enough points: the balance is %(b)d.") % {"b": account.balance},
                       current={"balance": account.balance})
    now = timezone.now()
    source_type, source_id = (source.type, source.id) if source else ("", None)
    signature = sign(account.head, account.pk, amount, kind,
                     reverses.pk if reverses else None, key, balance, source_type, source_id,
                     now)
    try:
        with transaction.atomic():  # a savepoint: a key taken by a concurrent posting
            entry = PointsEntry.objects.create(
                account=account, amount=amount, kind=kind, rule=rule, source_type=source_type,
                source_id=source_id, grid_id=grid_id, idempotency_key=key, reverses=reverses,
                balance_after=balance, note=note, created_by=by, created_at=now,
                signature=signature)
    except IntegrityError as exc:
        first = PointsEntry.objects.filter(idempotency_key=key).first()
        if first is None:
            raise integrity_conflict(exc) from exc
        if _same(first, account_id, amount, kind):
            return Posted(first, False)
        raise Conflict(_("This idempotency key was used for a different entry."),
                       current={"entry": first.pk}) from exc
    PointsAccount.objects.filter(pk=account.pk).update(balance=balance, head=signature,
                                                       updated_at=now)
    return Posted(entry, True)


def reverse(entry: PointsEntry, *, key: str, by: User | None = None, note: str = "") -> Posted:
    """The reversal of `entry` (at most one; a reversal itself is not reversed)."""
    if entry.kind == EntryKind.REVERSAL:
        raise Conflict(_("A reversal is not reversed; post a new entry instead."),
                       current={"entry": entry.pk})
    return post(entry.account_id, -entry.amount, EntryKind.REVERSAL, key=key, by=by,
                source=Source(entry.source_type, entry.source_id)
                if entry.source_id is not None else None,
                grid_id=entry.grid_id, rule=entry.rule, note=note, reverses=entry)


def verify(account: PointsAccount) -> list[str]:
    """Problems with one account's chain: a bad signature, a balance_after that is not the
    running sum, a cached balance that is not the sum. Empty when the ledger is intact."""
    problems: list[str] = []
    prev, running = "", 0
    for e in account.entries.order_by("id").iterator():
        running += e.amount
        expected = sign(prev, account.pk, e.amount, e.kind, e.reverses_id, e.idempotency_key,
                        e.balance_after, e.source_type, e.source_id, e.created_at)
        if not constant_time_compare(expected, e.signature):
            problems.append(f"entry {e.pk}: signature does not match")
        if e.balance_after != running:
            problems.append(f"entry {e.pk}: balance after {e.balance_after}, sum {running}")
        prev = e.signature
    account.refresh_from_db(fields=["balance", "head"])
    if account.balance != running:
        problems.append(f"cached balance {account.balance}, sum of entries {running}")
    if account.head != prev:
        problems.append("the account's head is not the last entry's signature")
    return problems
