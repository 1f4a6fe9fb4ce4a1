"""manage.py purge_people [--dry-run]: delete personal data past its retention
(layers/people/retention.py). Run daily from cron (docs/operations.md)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from layers.people.retention import purge


class Command(BaseCommand):
    help = "Delete persons, households and access-log rows past their retention period."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")

    def handle(self, *args, **opts) -> None:
        counts = purge(dry_run=opts["dry_run"])
        verb = "would delete" if opts["dry_run"] else "deleted"
        self.stdout.write(f"{verb}: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
