"""Find hotspots (ST_ClusterDBSCAN per category) and store them as the current set."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from layers.analytics.conf import conf
from layers.analytics.hotspots import HotspotParams, detect, refresh_hotspots
from layers.appeals.models import Category


class Command(BaseCommand):
    help = "Cluster appeals into hotspots over a period and store them (repeat-problem flag)."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="date_from", type=dt.date.fromisoformat)
        parser.add_argument("--to", dest="date_to", type=dt.date.fromisoformat)
        parser.add_argument("--days", type=int, default=conf("HOTSPOT_DAYS"),
                            help="period ending --to (default today) when --from is not given")
        parser.add_argument("--eps", type=float, default=conf("HOTSPOT_EPS_M"),
                            help="neighbour distance in metres")
        parser.add_argument("--min-points", type=int, default=conf("HOTSPOT_MIN_POINTS"))
        parser.add_argument("--category", action="append", default=[],
                            help="category code (repeatable); default every category")
        parser.add_argument("--across-categories", action="store_true",
                            help="cluster all categories together")
        parser.add_argument("--grid", help="only appeals in this grid's subtree")
        parser.add_argument("--dry-run", action="store_true", help="print, do not store")

    def handle(self, *args, **o):
        to = o["date_to"] or dt.date.today()
        start = o["date_from"] or to - dt.timedelta(days=o["days"] - 1)
        if start > to:
            raise CommandError("--from is after --to")
        unknown = set(o["category"]) - set(
            Category.objects.filter(code__in=o["category"]).values_list("code", flat=True))
        if unknown:
            raise CommandError(f"unknown category: {', '.join(sorted(unknown))}")
        params = HotspotParams(
            date_from=start, date_to=to, eps_m=o["eps"], min_points=o["min_points"],
            category_codes=tuple(o["category"]), per_category=not o["across_categories"],
            grid_prefix=o["grid"],
        )
        started = dt.datetime.now()
        found = detect(params) if o["dry_run"] else refresh_hotspots(params)
        seconds = (dt.datetime.now() - started).total_seconds()
        for spot in found:
            cats = ", ".join(f"{k}×{v}" for k, v in sorted(spot.categories.items()))
            self.stdout.write(
                f"{spot.count:>6}  {cats:<30} {spot.centroid.x:.5f},{spot.centroid.y:.5f}  "
                f"{spot.first_report:%Y-%m-%d}…{spot.last_report:%Y-%m-%d}  "
                f"{len(spot.grid_codes)} grids"
            )
        verb = "found" if o["dry_run"] else "stored"
        self.stdout.write(f"{len(found)} hotspots {verb} ({start} – {to}, eps {o['eps']} m, "
                          f"min {o['min_points']}) in {seconds:.1f} s")
