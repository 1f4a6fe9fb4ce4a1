"""Import grid boundaries from a GIS file: validate every feature, then upsert by code.

`import_grids(GridImportParams(...))` returns a GridImportReport (importers/report.py): created,
updated (a new boundary version), renamed and unchanged codes, rejected features by index, code
and field, repairs, topology problems. Nothing is written unless the whole file is acceptable:
a file that cannot be read is the report's failure, and any rejected feature or topology
problem leaves the database as it was. A dry run (the default) does all the work, topology check
included, inside a transaction that is rolled back, so it reports exactly what a commit would do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyproj
from django.conf import settings
from django.contrib.gis.db.models.functions import AsWKB
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from tqdm import tqdm

from geogrid.hierarchy import Level
from geogrid.models import Grid
from geogrid.signals import BoundaryChange
from geogrid.topology import Kind, Problem, check_codes
from geogrid.versions import announce, replace_boundaries, trusted_geometry
from importers.grid_features import (
    MAX_REPAIR_CHANGE,
    Candidate,
    Feature,
    geometries_in_4326,
    parse_features,
)
from importers.grid_reader import GridFileError, RawLayer, read_layer
from importers.params import GridImportParams
from importers.report import ImportFileError, ImportReport, write_atomically

# Inserting more grids than this in one level refreshes the table's statistics.
ANALYZE_AFTER_ROWS = 1000

__all__ = ["GridFileError", "GridImportParams", "GridImportReport", "import_grids"]


@dataclass
class Repair:
    index: int
    code: str
    area_change_m2: float
    area_change_percent: float


@dataclass
class GridImportReport(ImportReport):
    layer: str = ""
    source_crs: str = ""
    renamed: list[str] = field(default_factory=list)  # same boundary, new name
    repaired: list[Repair] = field(default_factory=list)
    topology: list[Problem] = field(default_factory=list)  # problems that block the import
    warnings: list[Problem] = field(default_factory=list)

    def blocking(self) -> list[str]:
        return [p.message for p in self.topology]

    def fail(self, message: str) -> None:
        super().fail(message)
        self.renamed = []

    def details(self) -> list[str]:
        out = [_("warning: %(message)s") % {"message": p.message} for p in self.warnings]
        out += [
            _("feature %(index)d (code %(code)s): repaired, area changed by %(m2)s m² (%(pct)s %%)")
            % {
                "index": r.index,
                "code": r.code,
                "m2": f"{r.area_change_m2:,.1f}",
                "pct": f"{r.area_change_percent:.3f}",
            }
            for r in self.repaired
        ]
        return out

    def summary(self) -> str:
        if self.failure:
            return super().summary()
        return _(
            "%(file)s [%(layer)s, %(crs)s]: %(n)d features — %(verb)s: %(created)d created, "
            "%(updated)d updated, %(renamed)d renamed, %(unchanged)d unchanged, "
            "%(rejected)d rejected, %(topology)d topology problems"
        ) % {
            "file": Path(self.path).name,
            "layer": self.layer,
            "crs": self.source_crs,
            "n": self.rows,
            "verb": self.verdict(),
            "created": len(self.created),
            "updated": len(self.updated),
            "renamed": len(self.renamed),
            "unchanged": len(self.unchanged),
            "rejected": self.rejected_rows,
            "topology": len(self.topology),
        }

    def as_dict(self) -> dict[str, Any]:
        data = super().as_dict()
        data["topology"] = [p.as_feature() for p in self.topology]
        data["warnings"] = [p.as_feature() for p in self.warnings]
        return data


def import_grids(params: GridImportParams) -> GridImportReport:
    """Read, validate and (with `commit`) store the grids of one layer, all or nothing."""
    report = GridImportReport(path=str(params.path), dry_run=not params.commit)
    bar = tqdm(
        total=4, desc=_("importing grids"), unit="step", disable=not params.progress, leave=False
    )
    try:
        features = _read_and_validate(params, report, bar)
        if report.ok:
            write_atomically(report, params.commit, lambda: _write(features, params, report, bar))
    except ImportFileError as exc:
        report.fail(str(exc))
    finally:
        bar.close()
    return report


def _read_and_validate(
    params: GridImportParams, report: GridImportReport, bar: tqdm
) -> list[Feature]:
    with report.step("read"):
        raw = read_layer(
            params.path,
            layer=params.layer,
            encoding=params.encoding,
            max_bytes=settings.GEOGRID.get("IMPORT_MAX_BYTES", 512 * 2**20),
        )
        source_crs = _source_crs(raw, params.srid)
        report.layer, report.source_crs = raw.layer, _crs_label(source_crs)
        report.rows = len(raw.attributes)
    with report.step("validate"):
        max_change = settings.GEOGRID.get("FIX_INVALID_MAX_AREA_CHANGE", MAX_REPAIR_CHANGE)
        geometries, reasons, repairs = geometries_in_4326(
            raw, source_crs, params.fix_invalid, max_change
        )
        bar.update()
        candidates = _parent_candidates(params.level) if params.parent_by_location else None
        features, rejected = parse_features(
            raw, geometries, reasons, repairs, params, _known_grids(), candidates
        )
        report.rejected = list(rejected)
    report.repaired = [
        Repair(f.index, f.code, f.repair_change_m2, f.repair_change_percent)
        for f in features
        if f.repair_change_m2 is not None and f.repair_change_percent is not None
    ]
    bar.update()
    return features


def _write(
    features: list[Feature], params: GridImportParams, report: GridImportReport, bar: tqdm
) -> None:
    """Store, then check the topology of every touched family in the same transaction; tell
    the receivers of boundaries_changed only when the import is going to be kept."""
    with report.step("write"):
        changes = _store(features, params, report)
    bar.update()
    with report.step("topology"):
        touched = report.created + report.updated
        if touched:
            topology = check_codes(touched)
            blocking = [
                p for p in topology.problems if not (params.allow_gaps and p.kind == Kind.GAP)
            ]
            report.topology = blocking
            report.warnings = [p for p in topology.problems if p not in blocking]
    bar.update()
    if report.ok and params.commit:
        with report.step("announce"):
            announce(changes, params.actor)


def _store(
    features: list[Feature], params: GridImportParams, report: GridImportReport
) -> list[BoundaryChange]:
    """Stage, classify and write the features; the boundary changes made, for `announce`."""
    when = timezone.now()
    with connection.cursor() as cursor:
        raw = cursor.cursor
        raw.execute("DROP TABLE IF EXISTS _import_grid")
        raw.execute(
            "CREATE TEMP TABLE _import_grid (idx int, level smallint, code text PRIMARY KEY,"
            " name text, parent_code text, wkb bytea) ON COMMIT DROP"
        )
        with raw.copy("COPY _import_grid FROM STDIN") as copy:
            for f in features:
                copy.write_row((f.index, f.level, f.code, f.name, f.parent_code, f.wkb))
        # Classify against the current versions. "Same boundary" allows 1e-9° (0.1 mm) of
        # floating-point noise so that re-importing an export changes nothing.
        raw.execute(
            """
            SELECT s.code,
                   CASE WHEN g.id IS NULL THEN 'created'
                        WHEN NOT (ST_OrderingEquals(g.boundary, ST_GeomFromWKB(s.wkb, 4326))
                                  OR ST_HausdorffDistance(g.boundary,
                                                          ST_GeomFromWKB(s.wkb, 4326)) < 1e-9)
                             THEN 'updated'
                        WHEN g.name <> s.name THEN 'renamed'
                        ELSE 'unchanged' END
            FROM _import_grid s
            LEFT JOIN geogrid_grid g ON g.code = s.code AND g.valid_to IS NULL
            ORDER BY s.level, s.code
            """
        )
        for code, status in raw.fetchall():
            getattr(report, status).append(code)
        by_code = {f.code: f for f in features}
        changes = replace_boundaries(
            [(code, by_code[code].wkb) for code in report.updated], actor=params.actor, when=when
        )
        raw.execute(
            """
            UPDATE geogrid_grid g SET name = s.name FROM _import_grid s
            WHERE g.code = s.code AND g.valid_to IS NULL AND g.name <> s.name
            """
        )
        # New grids level by level (parents before children): "created" is a code with no
        # current row, tested in SQL rather than by sending every created code back per level.
        # The changed area of a new grid is its whole boundary, decoded from the WKB already in
        # hand rather than read back from the database.
        for level in Level.values:
            raw.execute(
                """
                INSERT INTO geogrid_grid (level, code, name, parent_id, boundary, valid_from,
                                          changed_by_id, created_at)
                SELECT s.level, s.code, s.name, p.id, ST_Multi(ST_GeomFromWKB(s.wkb, 4326)),
                       %(when)s, %(actor)s, now()
                FROM _import_grid s
                LEFT JOIN geogrid_grid p ON p.code = s.parent_code AND p.valid_to IS NULL
                WHERE s.level = %(level)s
                  AND NOT EXISTS (SELECT 1 FROM geogrid_grid g
                                  WHERE g.code = s.code AND g.valid_to IS NULL)
                RETURNING id, code
                """,
                {
                    "when": when,
                    "actor": params.actor.pk if params.actor else None,
                    "level": level,
                },
            )
            changes += [
                BoundaryChange(code, None, pk, trusted_geometry(by_code[code].wkb, 4326))
                for pk, code in raw.fetchall()
            ]
            # The next level's parent look-ups and the topology check need the planner to know
            # how many grids there now are (a fresh database has no statistics at all).
            if raw.rowcount > ANALYZE_AFTER_ROWS:
                raw.execute("ANALYZE geogrid_grid")
    return changes


def _parent_candidates(level: int | None) -> list[Candidate]:
    """Current grids a feature may lie in: one level above `level`, or all of them."""
    grids = Grid.objects.current()
    if level:
        grids = grids.filter(level=level - 1)
    rows = grids.annotate(wkb=AsWKB("boundary")).values_list("code", "level", "wkb")
    return [(code, grid_level, bytes(wkb)) for code, grid_level, wkb in rows]


def _known_grids() -> dict[str, int]:
    """Current codes and levels in the database (parents of the file's grids may live there)."""
    return dict(Grid.objects.current().values_list("code", "level"))


def _source_crs(raw: RawLayer, srid: int | None) -> pyproj.CRS:
    """The file's CRS, or --srid for a file without one; never a guess."""
    if raw.crs:
        crs = pyproj.CRS.from_user_input(raw.crs)
        if srid is not None and crs.to_epsg() != srid:
            raise GridFileError(
                _(
                    "%(file)s says its coordinates are in %(crs)s, but --srid says EPSG:%(srid)d;"
                    " remove --srid or fix the file"
                )
                % {"file": raw.path.name, "crs": _crs_label(crs), "srid": srid}
            )
        return crs
    if srid is None:
        if raw.is_shapefile:
            raise GridFileError(
                _(
                    "%(file)s has no .prj file, so its coordinate reference system is unknown: "
                    "pass --srid (for example --srid 4548 for CGCS2000 / 3-degree Gauss-Krüger "
                    "CM 117E)"
                )
                % {"file": raw.path.name}
            )
        raise GridFileError(
            _("%(file)s does not say which coordinate reference system it uses: pass --srid")
            % {"file": raw.path.name}
        )
    try:
        return pyproj.CRS.from_epsg(srid)
    except pyproj.exceptions.CRSError as exc:
        raise GridFileError(_("--srid %(srid)d is not a known EPSG code") % {"srid": srid}) from exc


def _crs_label(crs: pyproj.CRS) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg} {crs.name}" if epsg else crs.name

