"""Read one layer of a GIS file (Shapefile, zipped Shapefile, GeoJSON, GeoPackage, KML).

Geometries come back as WKB, undecoded: a feature GEOS cannot build (an unclosed ring) must be
rejected with its index, not abort the whole read.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pyogrio.raw
from django.utils.translation import gettext as _
from pyogrio.errors import DataLayerError, DataSourceError

from importers.report import ImportFileError, first_line

SHAPEFILE_SIDECARS = (".dbf", ".shx")


class GridFileError(ImportFileError):
    """The file as a whole cannot be imported; the message says why and what to do."""


@dataclass
class RawLayer:
    path: Path
    layer: str
    driver: str
    crs: str | None  # as GDAL reports it ("EPSG:4549", WKT), None when the file has none
    attributes: pd.DataFrame
    wkb: np.ndarray  # one WKB (or None) per feature, in file order

    @property
    def is_shapefile(self) -> bool:
        return self.driver == "ESRI Shapefile"


def read_layer(
    path: Path, *, layer: str | None = None, encoding: str | None = None, max_bytes: int
) -> RawLayer:
    path = Path(path)
    if not path.exists():
        raise GridFileError(_("%(file)s does not exist") % {"file": path})
    size = _size(path)
    if size > max_bytes:
        raise GridFileError(
            _("%(file)s is %(size)s MB, more than the %(max)s MB an import accepts")
            % {"file": path.name, "size": f"{size / 2**20:,.1f}", "max": f"{max_bytes / 2**20:g}"}
        )
    source = str(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # GDAL's chatter on corrupt files
            layers = [name for name, _type in pyogrio.list_layers(source)]
    except (DataSourceError, OSError) as exc:
        raise GridFileError(
            _("cannot read %(file)s: not a readable GIS file (%(reason)s)")
            % {"file": path.name, "reason": first_line(exc)}
        ) from exc
    if layer is None:
        if len(layers) > 1:
            raise GridFileError(
                _("%(file)s has several layers (%(layers)s): choose one with --layer")
                % {"file": path.name, "layers": ", ".join(layers)}
            )
        layer = layers[0] if layers else None
    elif layer not in layers:
        raise GridFileError(
            _("%(file)s has no layer %(layer)r; its layers are: %(layers)s")
            % {"file": path.name, "layer": layer, "layers": ", ".join(layers)}
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # "Non closed ring detected": ours
            meta, _fids, wkb, field_data = pyogrio.raw.read(source, layer=layer, encoding=encoding)
    except (DataSourceError, DataLayerError, OSError, UnicodeDecodeError, LookupError) as exc:
        raise GridFileError(
            _("cannot read %(file)s: %(reason)s") % {"file": path.name, "reason": first_line(exc)}
        ) from exc
    names = list(meta["fields"])
    attributes = pd.DataFrame(dict(zip(names, field_data, strict=True)), columns=names)
    if wkb is None:
        wkb = np.full(len(attributes), None, dtype=object)
    return RawLayer(
        path=path,
        layer=layer or path.stem,
        driver=pyogrio.read_info(source, layer=layer)["driver"],
        crs=meta.get("crs"),
        attributes=attributes,
        wkb=wkb,
    )


def _size(path: Path) -> int:
    size = path.stat().st_size
    if path.suffix.lower() == ".shp":
        for suffix in SHAPEFILE_SIDECARS:
            sidecar = path.with_suffix(suffix)
            if sidecar.exists():
                size += sidecar.stat().st_size
    return size

