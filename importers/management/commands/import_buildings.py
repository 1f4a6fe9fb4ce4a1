"""manage.py import_buildings FILE [--commit] [--map ours=theirs ...] — see importers.buildings."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from importers.buildings import COLUMNS, BuildingImportParams, import_buildings
from importers.management.commands.import_appeals import parse_map


class Command(BaseCommand):
    help = "Import buildings / standard addresses (CSV/XLSX). Dry run unless --commit."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--commit", action="store_true", help="write (all rows or none)")
        parser.add_argument("--map", action="append", metavar="OURS=THEIRS",
                            help=f"column mapping; ours: {', '.join(COLUMNS)}")
        parser.add_argument("--crs", default="wgs84", help="CRS when the file has no crs column")
        parser.add_argument("--sheet")
        parser.add_argument("--encoding", default="utf-8")

    def handle(self, *args, **opts):
        report = import_buildings(BuildingImportParams(
            path=opts["file"], columns=parse_map(opts["map"], COLUMNS), crs=opts["crs"],
            sheet=opts["sheet"], encoding=opts["encoding"], commit=opts["commit"],
        ))
        for line in report.lines():
            self.stdout.write(line)
        if report.errors:
            raise CommandError(f"{len(report.errors)} invalid rows; nothing was written")
