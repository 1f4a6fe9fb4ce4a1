"""manage.py export_grids FILE [CODE] [--as-of DATE]: a subtree to .gpkg, .geojson or .shp."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from geogrid.dbrouting import reading_replica
from geogrid.export import export_grids


class Command(BaseCommand):
    help = "Export the grids of a subtree (default: all) to GeoPackage, GeoJSON or Shapefile."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("code", nargs="?", help="root of the subtree")
        parser.add_argument("--as-of", help="the versions valid at this date/time (ISO 8601)")
        parser.add_argument("--layer", default="grids", help="GeoPackage layer name")

    def handle(self, *args, file: Path, code: str | None, as_of: str | None, layer: str, **o):
        moment = None
        if as_of:
            try:
                moment = dt.datetime.fromisoformat(as_of)
            except ValueError as exc:
                raise CommandError(_("--as-of: not an ISO date: %(v)s") % {"v": as_of}) from exc
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment)
        try:
            # A read-only job: on the read replica when one is configured and fresh enough.
            with reading_replica():
                count = export_grids(file, code, as_of=moment, layer=layer)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(_("%(n)d grids written to %(file)s") % {"n": count, "file": file})
