"""manage.py import_households FILE [--commit] [--as USER] [--map ours=theirs ...] — see
importers.households and docs/people-import.md."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from importers.households import (
    COLUMNS,
    HouseholdImportParams,
    HouseholdImportReport,
    import_households,
)
from importers.management.base import ImportCommand
from importers.register_reader import AUTO


class Command(ImportCommand):
    help = ("Import a household register (CSV/XLSX, one row per person). Dry run unless "
            "--commit; all rows or none.")

    def add_import_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--as", dest="as_user", metavar="USERNAME",
            help="import as this user: only rows in grids where their posts may import, and "
                 "the change log names them (default: the system, every grid)")
        parser.add_argument("--map", action="append", metavar="OURS=THEIRS",
                            help=f"column mapping; ours: {', '.join(COLUMNS)}")
        parser.add_argument("--sheet", help="XLSX: the sheet (default: the first)")
        parser.add_argument("--encoding", default=AUTO,
                            help="CSV: the encoding (default: UTF-8 with or without BOM, else "
                                 "GB18030)")

    def run(self, options: dict[str, Any]) -> HouseholdImportReport:
        actor = None
        if options["as_user"]:
            actor = get_user_model().objects.filter(username=options["as_user"],
                                                    is_active=True).first()
            if actor is None:
                raise CommandError(_("--as %(name)s: no active user has this name")
                                   % {"name": options["as_user"]})
        return import_households(HouseholdImportParams(
            path=options["file"], commit=options["commit"], actor=actor,
            columns=self.column_map(options["map"]), sheet=options["sheet"],
            encoding=options["encoding"]))

    def column_map(self, values: list[str] | None) -> dict[str, str]:
        mapping = {}
        for item in values or []:
            ours, sep, theirs = item.partition("=")
            if not sep or ours not in COLUMNS:
                raise CommandError(f"--map {item!r}: expected one of {', '.join(COLUMNS)}=COLUMN")
            mapping[ours] = theirs
        return mapping
