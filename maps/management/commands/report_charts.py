"""Write the report charts as PNG: completion rate by grid and appeals per week by category."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand

from .render_map import filter_args, filter_from


class Command(BaseCommand):
    help = "Render PNG charts: per-grid completion-rate choropleth, weekly appeals by category."

    def add_arguments(self, parser):
        parser.add_argument("--out-dir", required=True, type=Path)
        parser.add_argument("--level", type=int, help="grid level of the choropleth")
        filter_args(parser)

    def handle(self, *args, **options):
        from maps.reports.charts import completion_choropleth, weekly_by_category_chart

        filt = filter_from(options)
        out: Path = options["out_dir"]
        for path in (
            completion_choropleth(filt, out / "completion-by-grid.png", options["grid"],
                                  options["level"]),
            weekly_by_category_chart(filt, out / "weekly-by-category.png"),
        ):
            self.stdout.write(str(path))
