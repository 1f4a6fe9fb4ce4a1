"""manage.py import_appeals FILE [--commit] [--map ours=theirs ...] — see importers.appeals."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from importers.appeals import COLUMNS, AppealImportParams, import_appeals


def parse_map(values: list[str], known: dict[str, str]) -> dict[str, str]:
    mapping = {}
    for item in values or []:
        ours, sep, theirs = item.partition("=")
        if not sep or ours not in known:
            raise CommandError(f"--map {item!r}: expected one of {', '.join(known)}=COLUMN")
        mapping[ours] = theirs
    return mapping


class Command(BaseCommand):
    help = "Import a 12345 hotline export (CSV/XLSX). Dry run unless --commit."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--commit", action="store_true", help="write (all rows or none)")
        parser.add_argument("--map", action="append", metavar="OURS=THEIRS",
                            help=f"column mapping; ours: {', '.join(COLUMNS)}")
        parser.add_argument("--crs", default="wgs84", help="CRS when the file has no crs column")
        parser.add_argument("--channel", default="hotline_12345")
        parser.add_argument("--sheet")
        parser.add_argument("--encoding", default="utf-8")

    def handle(self, *args, **opts):
        report = import_appeals(AppealImportParams(
            path=opts["file"], columns=parse_map(opts["map"], COLUMNS), crs=opts["crs"],
            channel=opts["channel"], sheet=opts["sheet"], encoding=opts["encoding"],
            commit=opts["commit"],
        ))
        for line in report.lines():
            self.stdout.write(line)
        if report.errors:
            raise CommandError(f"{len(report.errors)} invalid rows; nothing was written")
