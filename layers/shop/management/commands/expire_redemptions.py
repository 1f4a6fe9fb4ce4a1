"""manage.py expire_redemptions — reservations not collected by their pickup deadline expire:
points reversed, stock returned (layers.shop.expiry). Idempotent: safe hourly from cron."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from layers.shop.expiry import expire_redemptions


class Command(BaseCommand):
    help = "Expire reservations past their pickup deadline (points back, stock back)."

    def handle(self, *args, **options) -> None:
        report = expire_redemptions()
        if options["verbosity"] > 0:
            for line in report.lines():
                self.stdout.write(line)
