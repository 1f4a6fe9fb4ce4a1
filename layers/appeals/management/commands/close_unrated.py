"""manage.py close_unrated [--days N] — close checked appeals nobody rated in time.

The daily appeals job: it also creates the month partitions of the appeals and their timeline
for this month and the next partitions.MONTHS_AHEAD (layers.appeals.partitions)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from layers.appeals import partitions
from layers.appeals.feedback import close_unrated, feedback_days


class Command(BaseCommand):
    help = "Close checked appeals without feedback after GEOGRID['FEEDBACK_DAYS'] days."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None,
                            help=f"days after the check (default {feedback_days()})")

    def handle(self, *args, **options):
        closed = close_unrated(days=options["days"])
        created = partitions.ensure_ahead()
        if options["verbosity"] > 0:
            self.stdout.write(f"closed without feedback: {len(closed)}")
            self.stdout.write(f"month partitions created: {', '.join(created) or 'none'}")
