"""Write one self-contained HTML map report (opens offline)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.http import QueryDict

from layers.analytics.filters import FilterError, parse_filter


def filter_args(parser) -> None:
    parser.add_argument("--grid", help="grid code: report on its subtree")
    parser.add_argument("--from", dest="date_from", help="first day, e.g. 2026-05-01")
    parser.add_argument("--to", dest="date_to", help="last day (inclusive)")
    parser.add_argument("--days", help="the last N days")
    parser.add_argument("--category", help="category codes, comma-separated")
    parser.add_argument("--status", help="statuses, comma-separated (open = all open ones)")
    parser.add_argument("--channel", help="channels, comma-separated")


def filter_from(options: dict):
    query = QueryDict(mutable=True)
    for key, name in (("date_from", "from"), ("date_to", "to"), ("days", "days"),
                      ("category", "category"), ("status", "status"), ("channel", "channel"),
                      ("grid", "grid")):
        if options.get(key):
            query[name] = options[key]
    try:
        return parse_filter(query)
    except FilterError as exc:
        raise CommandError(str(exc)) from None


class Command(BaseCommand):
    help = "Render a folium map report (heat, grids, choropleth, hotspots, weekly time-lapse)."

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, type=Path, help="HTML file to write")
        parser.add_argument("--title", default="")
        filter_args(parser)

    def handle(self, *args, **options):
        from maps.reports.html import MapReportParams, render_map_html

        params = MapReportParams(filter=filter_from(options), grid=options["grid"],
                                 title=options["title"])
        html = render_map_html(params)
        out: Path = options["out"]
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(html, encoding="utf-8")
        self.stdout.write(f"{out} ({len(html.encode()) / 1e6:.1f} MB)")
