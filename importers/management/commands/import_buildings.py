"""manage.py import_buildings FILE [--commit] [--map ours=theirs ...] — see importers.buildings."""

from __future__ import annotations

from typing import Any

from importers.buildings import (
    COLUMNS,
    BuildingImportParams,
    BuildingImportReport,
    import_buildings,
)
from importers.management.base import TableImportCommand


class Command(TableImportCommand):
    help = "Import buildings / standard addresses (CSV/XLSX). Dry run unless --commit."
    columns = COLUMNS

    def run(self, options: dict[str, Any]) -> BuildingImportReport:
        return import_buildings(BuildingImportParams(**self.table_options(options)))
