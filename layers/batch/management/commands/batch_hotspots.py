"""`manage.py hotspots` as a Dask job: one task per category, the same stored result."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from layers.analytics.conf import conf
from layers.analytics.hotspots import HotspotParams, refresh_hotspots
from layers.appeals.models import Category
from layers.batch.analytics import detect_batch
from layers.batch.cluster import client_for


class Command(BaseCommand):
    help = ("Find hotspots as `manage.py hotspots` does, one Dask task per category (a "
            "LocalCluster unless --scheduler), and store them.")

    def add_arguments(self, parser):
        parser.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786")
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--from", dest="date_from")
        parser.add_argument("--to", dest="date_to")
        parser.add_argument("--days", type=int, default=conf("HOTSPOT_DAYS"))
        parser.add_argument("--eps", type=float, default=conf("HOTSPOT_EPS_M"))
        parser.add_argument("--min-points", type=int, default=conf("HOTSPOT_MIN_POINTS"))
        parser.add_argument("--category", action="append", default=[])
        parser.add_argument("--dry-run", action="store_true", help="print, do not store")

    def handle(self, *args, **o):
        try:
            to = dt.date.fromisoformat(o["date_to"]) if o["date_to"] else dt.date.today()
            start = (dt.date.fromisoformat(o["date_from"]) if o["date_from"]
                     else to - dt.timedelta(days=o["days"] - 1))
        except ValueError as exc:
            raise CommandError(f"--from/--to take dates (YYYY-MM-DD): {exc}") from exc
        if start > to:
            raise CommandError("--from is after --to")
        if o["eps"] <= 0 or o["min_points"] < 1:
            raise CommandError("--eps must be positive and --min-points at least 1")
        unknown = set(o["category"]) - set(
            Category.objects.filter(code__in=o["category"]).values_list("code", flat=True))
        if unknown:
            raise CommandError(f"unknown category: {', '.join(sorted(unknown))}")
        params = HotspotParams(date_from=start, date_to=to, eps_m=o["eps"],
                               min_points=o["min_points"], category_codes=tuple(o["category"]))
        with client_for(o["scheduler"], o["workers"]) as client:
            found = detect_batch(params, client)
        if not o["dry_run"]:
            refresh_hotspots(params, found)
        verb = "found" if o["dry_run"] else "stored"
        self.stdout.write(f"{len(found)} hotspots {verb} ({start} – {to})")
