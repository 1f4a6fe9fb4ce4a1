"""manage.py escalate_overdue — warn at the warning ratio, escalate overdue appeals one level.
Idempotent: safe to run every minute from cron (see layers.appeals.escalation)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from layers.appeals.escalation import escalate_overdue


class Command(BaseCommand):
    help = "Warn about appeals near their deadline and escalate overdue ones one grid level up."

    def handle(self, *args, **options):
        report = escalate_overdue()
        if options["verbosity"] > 0:
            for line in report.lines():
                self.stdout.write(line)
