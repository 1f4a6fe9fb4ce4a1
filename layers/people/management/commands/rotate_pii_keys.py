"""manage.py rotate_pii_keys [--hash]: re-encrypt with the current key, or re-hash ID numbers
with GEOGRID_PII_HASH_KEY_NEW (layers/people/keys.py, docs/privacy.md)."""

from __future__ import annotations

import base64
import os

from django.core.management.base import BaseCommand, CommandError

from layers.people import keys


class Command(BaseCommand):
    help = "Re-encrypt personal-data fields with the current key (or re-hash with --hash)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--hash", action="store_true",
                            help="re-hash ID numbers with GEOGRID_PII_HASH_KEY_NEW")
        parser.add_argument("--batch", type=int, default=5000)

    def handle(self, *args, **opts) -> None:
        if opts["hash"]:
            raw = os.environ.get("GEOGRID_PII_HASH_KEY_NEW", "")
            try:
                new = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
            except ValueError as exc:
                raise CommandError("GEOGRID_PII_HASH_KEY_NEW is not base64") from exc
            if len(new) < 32:
                raise CommandError("set GEOGRID_PII_HASH_KEY_NEW to a base64 key of 32+ bytes")
            n = keys.rehash(new)
            self.stdout.write(f"re-hashed {n} ID numbers; now set GEOGRID_PII_HASH_KEY to the "
                              "new key and restart")
            return
        before = keys.stale_count()
        n = keys.reencrypt(batch=opts["batch"])
        self.stdout.write(f"re-encrypted {n} values ({before} were under older keys); "
                          f"{keys.stale_count()} left")
