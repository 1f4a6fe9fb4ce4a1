"""manage.py care_reminders — warn visitors before a care visit is due, tell the grid worker when
it falls due and community staff when it is overdue. Idempotent: safe every 15 minutes from
cron (see layers.care.reminders)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from layers.care.reminders import remind


class Command(BaseCommand):
    help = "Care visit reminders: warn, due, overdue — each once per due."

    def handle(self, *args, **options) -> None:
        report = remind()
        if options["verbosity"] > 0:
            for line in report.lines():
                self.stdout.write(line)
