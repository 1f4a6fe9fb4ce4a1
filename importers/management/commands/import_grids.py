"""manage.py import_grids FILE [...]: a thin wrapper around importers.grids.import_grids."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import CommandParser

from importers.grids import GridImportParams, GridImportReport, import_grids
from importers.management.base import ImportCommand


class Command(ImportCommand):
    help = (
        "Import grid boundaries from a Shapefile (.shp or .zip), GeoJSON, GeoPackage or KML. "
        "Dry run unless --commit; all or nothing."
    )
    takes_user = True

    def add_import_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--layer", help="layer of a GeoPackage (or any multi-layer file)")
        parser.add_argument("--srid", type=int, help="EPSG code, only for files without a CRS")
        parser.add_argument("--encoding", help="attribute encoding when the file does not say")
        parser.add_argument("--code-field", default="code")
        parser.add_argument("--name-field", default="name")
        parser.add_argument("--parent-field", help="default: the parent's code is the prefix")
        parser.add_argument("--level", type=int, choices=range(1, 6))
        parser.add_argument("--parent-by-location", action="store_true")
        parser.add_argument("--fix-invalid", action="store_true")
        parser.add_argument("--allow-gaps", action="store_true")
        parser.add_argument("--no-progress", action="store_true")

    def run(self, options: dict[str, Any]) -> GridImportReport:
        o = options
        return import_grids(GridImportParams(
            path=o["file"],
            layer=o["layer"],
            srid=o["srid"],
            encoding=o["encoding"],
            code_field=o["code_field"],
            name_field=o["name_field"],
            parent_field=o["parent_field"],
            level=o["level"],
            parent_by_location=o["parent_by_location"],
            fix_invalid=o["fix_invalid"],
            allow_gaps=o["allow_gaps"],
            commit=o["commit"],
            actor=self.user(o),
            progress=not o["no_progress"] and sys.stderr.isatty(),
        ))
