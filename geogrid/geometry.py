"""Checks and normalisation of grid boundaries (GEOS, as stored: EPSG:4326)."""

from __future__ import annotations

from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Polygon, WKBWriter
from django.utils.translation import gettext as _

STORAGE_SRID = 4326


class BoundaryError(ValueError):
    """A boundary that cannot be stored; the message says why, for the user."""


def as_boundary(geom: GEOSGeometry | None) -> MultiPolygon:
    """Validate `geom` and return it as a MultiPolygon in EPSG:4326, or raise BoundaryError.

    Polygons are promoted; other SRIDs are reprojected here, at the edge; a geometry without an
    SRID is refused rather than guessed.
    """
    if geom is None:
        raise BoundaryError(_("a boundary is required"))
    if geom.srid is None:
        raise BoundaryError(_("the boundary has no coordinate reference system (SRID)"))
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise BoundaryError(
            _("a boundary must be a Polygon or MultiPolygon, not a %(type)s")
            % {"type": geom.geom_type}
        )
    if geom.empty:
        raise BoundaryError(_("the boundary is empty"))
    if geom.srid != STORAGE_SRID:
        geom = geom.transform(STORAGE_SRID, clone=True)
    if geom.hasz:
        # Grids are 2D; survey files often carry a constant Z. WKBWriter writes 2D by default.
        geom = GEOSGeometry(memoryview(WKBWriter().write(geom)), srid=STORAGE_SRID)
    xmin, ymin, xmax, ymax = geom.extent
    if xmin < -180 or xmax > 180 or ymin < -90 or ymax > 90:
        raise BoundaryError(
            _("coordinates outside longitude −180…180 / latitude −90…90: %(extent)s")
            % {"extent": ", ".join(f"{v:.6f}" for v in (xmin, ymin, xmax, ymax))}
        )
    if not geom.valid:
        raise BoundaryError(_("invalid geometry: %(reason)s") % {"reason": geom.valid_reason})
    multi = geom if isinstance(geom, MultiPolygon) else MultiPolygon(geom, srid=geom.srid)
    for index, part in enumerate(multi, start=1):
        if part.area == 0:
            raise BoundaryError(_("part %(n)d of the boundary has no area") % {"n": index})
    multi.srid = STORAGE_SRID
    return multi


__all__ = ["STORAGE_SRID", "BoundaryError", "Polygon", "as_boundary"]
