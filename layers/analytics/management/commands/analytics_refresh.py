"""Rebuild the tile/heat pre-aggregation (facts and cube); --every N repeats it forever."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from layers.analytics.snapshot import refresh


class Command(BaseCommand):
    help = "Rebuild the pre-aggregated appeal bins behind tiles and heat maps."

    def add_arguments(self, parser):
        parser.add_argument("--every", type=int, default=0, help="repeat every N seconds")

    def handle(self, *args, every: int, **options):
        while True:
            report = refresh()
            self.stdout.write(
                f"version {report.version}: {report.facts:,} appeals, {report.cube_rows:,} "
                f"bins in {report.seconds:.1f} s"
            )
            if not every:
                return
            time.sleep(every)
