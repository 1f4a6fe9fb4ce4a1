"""manage.py grid_stats CODE [--since D] [--until D] [--by category|channel] [--json]"""

from __future__ import annotations

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from geogrid.models import Grid
from layers.appeals.stats import BY_CHOICES, StatsQuery, grid_stats

RATES = ("completion_rate", "on_time_rate", "satisfaction_rate", "redo_rate",
         "mean_handling_hours", "p90_handling_hours")


def _day(value: str) -> dt.datetime:
    try:
        return timezone.make_aware(dt.datetime.combine(dt.date.fromisoformat(value), dt.time()))
    except ValueError as exc:
        raise CommandError(f"{value!r}: expected YYYY-MM-DD") from exc


class Command(BaseCommand):
    help = "Closed-loop figures of a grid and its descendants (one SQL query)."

    def add_arguments(self, parser):
        parser.add_argument("code")
        parser.add_argument("--since", help="first day (YYYY-MM-DD), inclusive")
        parser.add_argument("--until", help="last day (YYYY-MM-DD), inclusive")
        parser.add_argument("--by", choices=BY_CHOICES)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        code = options["code"]
        if not Grid.objects.current().filter(code=code).exists():
            raise CommandError(f"no current grid {code}")
        until = options["until"] and _day(options["until"]) + dt.timedelta(days=1)
        result = grid_stats(StatsQuery(
            grid_code=code, since=options["since"] and _day(options["since"]),
            until=until or None, by=options["by"],
        ))
        if options["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
            return
        columns = ("received", "accepted", "completed", "escalated", *RATES)
        self.stdout.write("\t".join(("key", *columns)))
        for key, row in [("total", result["totals"])] + [(r["key"], r) for r in result["rows"]]:
            self.stdout.write("\t".join([str(key)] + ["" if row[c] is None else str(row[c])
                                                      for c in columns]))
