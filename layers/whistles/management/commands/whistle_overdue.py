"""manage.py whistle_overdue — the whistle clocks alone (escalate_overdue runs them too).
Idempotent: safe to run every minute (layers.whistles.watcher)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from layers.whistles.watcher import sweep


class Command(BaseCommand):
    help = "Warn about whistle units late to report in and whistles near their limit; escalate."

    def handle(self, *args, **options):
        for line in sweep().lines():
            if options["verbosity"] > 0:
                self.stdout.write(line)
