"""manage.py wish_timeouts — claims past due + grace time out and their wishes go back to the
wall; directed wishes not accepted in time go back to the wall; published wishes past their
date expire. Idempotent: safe every 15 minutes from cron (see layers.wishes.timeouts)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from layers.wishes.timeouts import run_timeouts


class Command(BaseCommand):
    help = "Micro-wish timeouts: claims, directed wishes, expiry — each once."

    def handle(self, *args: Any, **options: Any) -> None:
        report = run_timeouts()
        if options["verbosity"] > 0:
            for line in report.lines():
                self.stdout.write(line)
