"""Key rotation for the personal-data fields (docs/privacy.md, "Keys").

Encryption keys: put a new key first in GEOGRID_PII_KEYS (keep the old ones after it), restart,
then `manage.py rotate_pii_keys` re-encrypts every ciphertext made with another key, in
batches, each batch its own transaction; afterwards the old key can be removed.

The hash key: set GEOGRID_PII_HASH_KEY_NEW to the new key and run
`manage.py rotate_pii_keys --hash`; every ID number is decrypted and re-hashed with the new key
in one transaction (the unique index must hold throughout), then swap the setting.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction

from geogrid import pii
from layers.people import identity
from layers.people.models import Household, Person

# (model, cipher field, column name bound into the ciphertext)
CIPHER_COLUMNS: tuple[tuple[Any, str, str], ...] = (
    (Person, "id_cipher", identity.ID_COLUMN),
    (Person, "phone_cipher", identity.PHONE_COLUMN),
    (Household, "contact_phone_cipher", identity.CONTACT_COLUMN),
)


def stale_count() -> int:
    """Ciphertexts not made with the current encryption key."""
    kid = pii.keyring().encrypt_kid
    prefix = pii.encrypt("", "probe")[:2 + len(kid.encode())]
    total = 0
    for model, field, _column in CIPHER_COLUMNS:
        total += model.objects.exclude(**{f"{field}__isnull": True}).extra(
            where=[f"substring({field} from 1 for %s) <> %s"], params=[len(prefix), prefix],
        ).count()
    return total


def reencrypt(batch: int = 5000, progress: Callable[[int], None] | None = None) -> int:
    """Re-encrypt every ciphertext made with an older key; returns how many."""
    current = pii.keyring().encrypt_kid
    done = 0
    for model, field, column in CIPHER_COLUMNS:
        last = 0
        while True:
            with transaction.atomic():
                rows = list(model.objects.select_for_update()
                            .filter(pk__gt=last).exclude(**{f"{field}__isnull": True})
                            .order_by("pk").values_list("pk", field)[:batch])
                if not rows:
                    break
                last = rows[-1][0]
                stale = [(pk, c) for pk, c in rows if pii.key_id(c) != current]
                _set_column(model._meta.db_table, field, [
                    (pk, pii.encrypt(pii.decrypt(c, column), column)) for pk, c in stale])
                done += len(stale)
            if progress:
                progress(done)
    return done


def rehash(new_hash_key: bytes) -> int:
    """Recompute every ID number's keyed hash with `new_hash_key`, in one transaction."""
    with transaction.atomic():
        rows: list[tuple[int, Any]] = list(
            Person.objects.select_for_update().exclude(id_cipher__isnull=True)
            .values_list("pk", "id_cipher"))
        _set_column("people_person", "id_hash", [
            (pk, hmac.new(new_hash_key, pii.decrypt(c, identity.ID_COLUMN).encode(),
                          hashlib.sha256).digest()) for pk, c in rows])
        return len(rows)


def _set_column(table: str, column: str, values: list[tuple[int, bytes]]) -> None:
    """One UPDATE for a batch of (id, value) pairs."""
    if not values:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} t SET {column} = v.value"
            " FROM unnest(%s::bigint[], %s::bytea[]) AS v(id, value) WHERE t.id = v.id",
            [[pk for pk, _v in values], [v for _pk, v in values]])
