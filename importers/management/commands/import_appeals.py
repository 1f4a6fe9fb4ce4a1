"""manage.py import_appeals FILE [--commit] [--map ours=theirs ...] [--user U] [--exclusive] —
see importers.appeals."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from importers.appeals import COLUMNS, AppealImportParams, AppealImportReport, import_appeals
from importers.management.base import TableImportCommand


class Command(TableImportCommand):
    help = "Import a 12345 hotline export (CSV/XLSX). Dry run unless --commit."
    columns = COLUMNS
    takes_user = True

    def add_import_arguments(self, parser: CommandParser) -> None:
        super().add_import_arguments(parser)
        parser.add_argument("--channel", default="hotline_12345",
                            help="channel of rows without a channel column or value")
        parser.add_argument(
            "--exclusive", action="store_true",
            help="site closed: a large batch checks every foreign key set-based (faster), "
                 "locking users, grids, buildings, categories and departments until commit")

    def run(self, options: dict[str, Any]) -> AppealImportReport:
        return import_appeals(AppealImportParams(
            **self.table_options(options), channel=options["channel"], actor=self.user(options),
            exclusive=options["exclusive"],
        ))
