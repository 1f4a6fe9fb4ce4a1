"""Refresh the tile/heat pre-aggregation: by default the months whose appeals changed since the
last refresh (layers.analytics.snapshot); --full rebuilds every month, --month YYYY-MM the given
ones; --every N repeats it forever."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from layers.analytics.snapshot import RefreshBusy, parse_month, refresh


class Command(BaseCommand):
    help = "Rebuild the pre-aggregated appeal bins behind tiles and heat maps (changed months)."

    def add_arguments(self, parser):
        parser.add_argument("--every", type=int, default=0, help="repeat every N seconds")
        parser.add_argument("--full", action="store_true", help="rebuild every month")
        parser.add_argument("--month", action="append", default=[], metavar="YYYY-MM",
                            help="rebuild this local month (repeatable); keeps the watermark")

    def handle(self, *args, every: int, full: bool, month: list[str], **options):
        if full and month:
            raise CommandError("give --full or --month, not both")
        try:
            months = [parse_month(m) for m in month] or None
        except ValueError as exc:
            raise CommandError(f"--month: {exc}") from None
        while True:
            try:
                report = refresh(full=full, months=months)
            except RefreshBusy as exc:
                raise CommandError(str(exc)) from None
            rebuilt = ", ".join(f"{m:%Y-%m}" for m in report.months) or "none"
            dropped = ", ".join(f"{m:%Y-%m}" for m in report.dropped)
            self.stdout.write(
                f"version {report.version}: rebuilt {rebuilt}"
                + (f"; dropped {dropped}" if dropped else "")
                + f"; {report.kept} months kept; {report.facts:,} appeals, "
                f"{report.cube_rows:,} bins in {report.seconds:.1f} s "
                f"(swap {report.swap_ms:.0f} ms)"
            )
            if not every:
                return
            time.sleep(every)
