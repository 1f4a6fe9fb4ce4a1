"""The frame the import commands share: options → parameters object → importer → report.

A command parses its options, calls the importer and prints the report (`lines()`); with
`--report-json` it also saves the whole report. When nothing was imported it ends with a
CommandError naming why (exit status 1), never a traceback. Dry run unless --commit.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from importers.report import ImportReport


class ImportCommand(BaseCommand):
    takes_user = False  # True: --user names who the import is recorded as

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--commit", action="store_true",
                            help="write (all rows or none); default: a dry run")
        parser.add_argument("--report-json", type=Path, metavar="OUT",
                            help="save the whole report, every problem included, as JSON")
        if self.takes_user:
            parser.add_argument("--user", metavar="USERNAME",
                                help="record the import as this user's (default: the system)")
        self.add_import_arguments(parser)

    def add_import_arguments(self, parser: CommandParser) -> None:
        """The importer's own options."""

    def run(self, options: dict[str, Any]) -> ImportReport:
        raise NotImplementedError

    def handle(self, *args: Any, **options: Any) -> None:
        report = self.run(options)
        if options["report_json"]:
            options["report_json"].write_text(
                json.dumps(report.as_dict(), ensure_ascii=False, indent=1, default=str), "utf-8"
            )
        for line in report.lines():
            self.stdout.write(line)
        if not report.ok:
            n = len(report.errors)
            raise CommandError(report.failure or ngettext(
                "%(n)d problem; nothing was written", "%(n)d problems; nothing was written", n
            ) % {"n": n})

    def user(self, options: dict[str, Any]) -> User | None:
        username = options.get("user")
        if not username:
            return None
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(_("--user %(name)s: no active user has this name")
                               % {"name": username})
        return user


class TableImportCommand(ImportCommand):
    """A CSV/XLSX importer: --map ours=theirs, --crs, --sheet, --encoding."""

    columns: dict[str, str] = {}  # the importer's COLUMNS

    def add_import_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--map", action="append", metavar="OURS=THEIRS",
                            help=f"column mapping; ours: {', '.join(self.columns)}")
        parser.add_argument("--crs", default="wgs84", help="CRS when the file has no crs column")
        parser.add_argument("--sheet")
        parser.add_argument("--encoding", default="utf-8")

    def table_options(self, options: dict[str, Any]) -> dict[str, Any]:
        """The TableImportParams fields from the options."""
        return {"path": options["file"], "columns": self.column_map(options["map"]),
                "crs": options["crs"], "sheet": options["sheet"],
                "encoding": options["encoding"], "commit": options["commit"]}

    def column_map(self, values: list[str] | None) -> dict[str, str]:
        mapping = {}
        for item in values or []:
            ours, sep, theirs = item.partition("=")
            if not sep or ours not in self.columns:
                raise CommandError(
                    f"--map {item!r}: expected one of {', '.join(self.columns)}=COLUMN"
                )
            mapping[ours] = theirs
        return mapping
