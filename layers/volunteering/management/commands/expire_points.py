"""manage.py expire_points [--years N] — expire what is left of points earned more than
GEOGRID["POINTS"]["VALID_YEARS"] years ago, oldest first (layers.volunteering.expiry).
Idempotent: safe daily from cron; does nothing while VALID_YEARS is None."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from layers.volunteering.expiry import expire_points


class Command(BaseCommand):
    help = "Expire points older than VALID_YEARS years (FIFO), once per account and day."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--years", type=int, default=None,
                            help="override GEOGRID['POINTS']['VALID_YEARS'] for this run")

    def handle(self, *args, **options) -> None:
        report = expire_points(years=options["years"])
        if options["verbosity"] > 0:
            for line in report.lines():
                self.stdout.write(line)
