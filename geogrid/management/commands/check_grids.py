"""manage.py check_grids [CODE] [--grid] [--geojson FILE]: topology report; exit 1 on problems."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from geogrid.models import Grid
from geogrid.topology import check_grid, check_subtree


class Command(BaseCommand):
    help = "Check the grid hierarchy for gaps, overlaps, out-of-parent parts and bad geometry."

    def add_arguments(self, parser) -> None:
        parser.add_argument("code", nargs="?", help="root of the subtree (default: everything)")
        parser.add_argument("--grid", action="store_true", help="check only this grid's family")
        parser.add_argument("--geojson", type=Path, help="write the problems as GeoJSON here")

    def handle(self, *args, code: str | None, grid: bool, geojson: Path | None, **options):
        if code and not Grid.objects.current().filter(code=code).exists():
            raise CommandError(_("no current grid has the code %(code)s") % {"code": code})
        if grid:
            if not code:
                raise CommandError(_("--grid needs a grid code"))
            report = check_grid(code)
        else:
            report = check_subtree(code)
        for problem in report.problems:
            self.stdout.write(problem.message)
        counts = ", ".join(f"{kind} {n}" for kind, n in report.counts().items())
        self.stdout.write(
            _("%(grids)d grids in %(families)d families checked: %(counts)s")
            % {"grids": report.grids, "families": report.families, "counts": counts}
        )
        if geojson:
            geojson.write_text(json.dumps(report.as_geojson(), ensure_ascii=False), "utf-8")
        if not report.ok:
            sys.exit(1)
