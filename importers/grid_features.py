"""Turn a read layer into validated grid features: geometry in EPSG:4326, code, level, parent.

Geometry work is vectorised with shapely; only the per-feature bookkeeping is a Python loop.
Every problem becomes a FeatureRejection naming the feature's index, code and field. Nothing
here reads the database: what the checks need from it (current codes and levels, candidate
parents) is passed in by importers.grids.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pyproj
import shapely
from django.utils.translation import gettext as _

from geogrid.hierarchy import Level, code_lengths, code_problem, level_for_code
from importers.grid_reader import GridFileError, RawLayer
from importers.params import GridImportParams
from importers.report import FeatureRejection

WGS84 = pyproj.CRS.from_epsg(4326)
GEOD = pyproj.Geod(ellps="WGS84")
POLYGON, MULTIPOLYGON = 3, 6
MAX_REPAIR_CHANGE = 0.01  # default for settings.GEOGRID["FIX_INVALID_MAX_AREA_CHANGE"]
AREA_OF_USE_MARGIN = 1.0  # degrees: boundaries near a zone's edge are still plausible


# A current grid that may be a feature's parent: code, level, boundary as WKB (EPSG:4326).
Candidate = tuple[str, int, bytes]
GEOMETRY_FIELD = "geometry"


@dataclass
class Feature:
    index: int
    level: int
    code: str
    name: str
    parent_code: str | None
    wkb: bytes  # MultiPolygon, EPSG:4326, 2D
    repair_change_m2: float | None = None
    repair_change_percent: float | None = None


def field_name(raw: RawLayer, wanted: str, option: str) -> str:
    """The layer's field called `wanted`, matched case-insensitively (KML has "Name")."""
    for name in raw.attributes.columns:
        if name == wanted:
            return name
    for name in raw.attributes.columns:
        if name.lower() == wanted.lower():
            return name
    raise GridFileError(
        _(
            "%(file)s has no field %(field)r (its fields are: %(fields)s); "
            "choose one with %(option)s"
        )
        % {
            "file": raw.path.name,
            "field": wanted,
            "fields": ", ".join(raw.attributes.columns) or _("none"),
            "option": option,
        }
    )


def text_values(raw: RawLayer, column: str) -> list[str]:
    """Attribute values as stripped text; numeric codes lose their '.0' (DBF stores doubles)."""
    out = []
    for value in raw.attributes[column].tolist():
        if value is None or (isinstance(value, float) and np.isnan(value)):
            out.append("")
        elif isinstance(value, float) and value.is_integer():
            out.append(str(int(value)))
        else:
            out.append(str(value).strip())
    return out


_LATIN1_HIGH = re.compile(r"[\x80-\xff]")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def check_encoding(raw: RawLayer, values: list[str], column: str, encoding: str | None) -> None:
    """Chinese text decoded as Latin-1 (a GBK .dbf without .cpg) is refused, not imported."""
    if encoding:
        return
    for value in values:
        if not _LATIN1_HIGH.search(value) or any(ord(ch) > 0xFF for ch in value):
            continue
        try:
            decoded = value.encode("latin-1").decode("gb18030")
        except UnicodeError:
            continue
        if _CJK.search(decoded):
            raise GridFileError(
                _(
                    "field %(field)r of %(file)s looks like GBK text read with the wrong "
                    "encoding (%(seen)r would be %(meant)r): pass --encoding gbk"
                )
                % {"field": column, "file": raw.path.name, "seen": value, "meant": decoded}
            )


def geometries_in_4326(
    raw: RawLayer, source_crs: pyproj.CRS, fix_invalid: bool, max_change: float
) -> tuple[np.ndarray, dict[int, str], dict[int, tuple[float, float]]]:
    """Decode, flatten, reproject and validate every geometry.

    Returns MultiPolygons (None where rejected), reasons by feature index, and the repairs made
    (index → area change in m² and in %).
    """
    reasons: dict[int, str] = {}
    repairs: dict[int, tuple[float, float]] = {}
    geoms = shapely.from_wkb(raw.wkb, on_invalid="ignore")
    for i in np.flatnonzero(shapely.is_missing(geoms)):
        reasons[int(i)] = _undecodable(raw.wkb[i])
    geoms = shapely.force_2d(geoms)  # survey files often carry a constant Z
    type_ids = shapely.get_type_id(geoms)
    for i in np.flatnonzero((type_ids != POLYGON) & (type_ids != MULTIPOLYGON) & (type_ids >= 0)):
        reasons[int(i)] = _("a boundary must be a Polygon or MultiPolygon, not a %(type)s") % {
            "type": shapely.get_type_id(geoms[i]) >= 0 and geoms[i].geom_type
        }
    for i in np.flatnonzero(shapely.is_empty(geoms) & ~shapely.is_missing(geoms)):
        reasons.setdefault(int(i), _("the boundary is empty"))
    geoms[list(reasons)] = None
    geoms = _to_wgs84(geoms, source_crs, reasons)
    geoms[list(reasons)] = None
    invalid = np.flatnonzero(~shapely.is_valid(geoms) & ~shapely.is_missing(geoms))
    for i in invalid:
        reason = shapely.is_valid_reason(geoms[i])
        if not fix_invalid:
            reasons[int(i)] = _("invalid geometry: %(reason)s (--fix-invalid may repair it)") % {
                "reason": reason
            }
            continue
        fixed = _polygonal(shapely.make_valid(geoms[i]))
        before, after = _area_m2(geoms[i]), _area_m2(fixed) if fixed is not None else 0.0
        change = abs(after - before) / max(before, after, 1e-9)
        if fixed is None or change > max_change:
            reasons[int(i)] = _(
                "invalid geometry: %(reason)s; a repair would change its area by %(pct)s %% "
                "(more than %(max)s %%), so it is not repaired"
            ) % {"reason": reason, "pct": f"{change * 100:.1f}", "max": f"{max_change * 100:g}"}
        else:
            geoms[i] = fixed
            repairs[int(i)] = (after - before, change * 100)
    geoms[list(reasons)] = None
    polygons = shapely.get_type_id(geoms) == POLYGON
    geoms[polygons] = [shapely.MultiPolygon([g]) for g in geoms[polygons]]
    return geoms, reasons, repairs


def _undecodable(wkb: bytes | None) -> str:
    if wkb is None:
        return _("the feature has no geometry")
    try:
        shapely.from_wkb(wkb)
    except shapely.errors.GEOSException as exc:
        if "closed linestring" in str(exc):
            return _("a ring is not closed (its first and last points differ)")
        return _("unreadable geometry: %(reason)s") % {"reason": str(exc)}
    return _("unreadable geometry")


def _to_wgs84(geoms: np.ndarray, source: pyproj.CRS, reasons: dict[int, str]) -> np.ndarray:
    """Reproject to EPSG:4326 (lon/lat order) and refuse coordinates the CRS cannot mean."""
    if not source.equals(WGS84, ignore_axis_order=True):
        transformer = pyproj.Transformer.from_crs(source, WGS84, always_xy=True)

        def project(xy: np.ndarray) -> np.ndarray:
            x, y = transformer.transform(xy[:, 0], xy[:, 1])
            return np.column_stack([x, y])

        ok = ~shapely.is_missing(geoms)
        geoms = geoms.copy()
        geoms[ok] = shapely.transform(geoms[ok], project)
    bounds = shapely.bounds(geoms)
    area = source.area_of_use
    label = f"EPSG:{source.to_epsg()}" if source.to_epsg() else source.name
    for i in np.flatnonzero(~shapely.is_missing(geoms)):
        west, south, east, north = bounds[i]
        if not np.isfinite(bounds[i]).all() or west < -180 or east > 180 or south < -90:
            reasons[int(i)] = _(
                "coordinates cannot be longitude/latitude in %(crs)s (they reach %(x)s, %(y)s): "
                "is the coordinate reference system right?"
            ) % {"crs": label, "x": f"{west:.6g}", "y": f"{south:.6g}"}
        elif north > 90:
            reasons[int(i)] = _(
                "latitude beyond 90° (%(y)s): are longitude and latitude swapped?"
            ) % {"y": f"{north:.6g}"}
        elif area is not None and (
            west < area.west - AREA_OF_USE_MARGIN
            or east > area.east + AREA_OF_USE_MARGIN
            or south < area.south - AREA_OF_USE_MARGIN
            or north > area.north + AREA_OF_USE_MARGIN
        ):
            reasons[int(i)] = _(
                "the boundary lands at %(lon)s E, %(lat)s N, outside the area where %(crs)s is "
                "used (%(w)s–%(e)s E, %(s)s–%(n)s N): is the coordinate reference system right?"
            ) % {
                "lon": f"{west:.4f}",
                "lat": f"{south:.4f}",
                "crs": label,
                "w": f"{area.west:g}",
                "e": f"{area.east:g}",
                "s": f"{area.south:g}",
                "n": f"{area.north:g}",
            }
    return geoms


def _polygonal(geom: shapely.Geometry) -> shapely.MultiPolygon | None:
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    polygons = [q for p in parts for q in shapely.get_parts(p)]
    return shapely.MultiPolygon(polygons) if polygons else None


def _area_m2(geom: shapely.Geometry) -> float:
    return abs(GEOD.geometry_area_perimeter(geom)[0])


def parse_features(
    raw: RawLayer,
    geoms: np.ndarray,
    reasons: dict[int, str],
    repairs: dict[int, tuple[float, float]],
    params: GridImportParams,
    known: dict[str, int],
    candidates: list[Candidate] | None = None,
) -> tuple[list[Feature], list[FeatureRejection]]:
    """Codes, names, levels and parents; `known` maps current codes in the database to levels,
    `candidates` are the current grids a feature may lie in (for `parent_by_location`)."""
    code_col = field_name(raw, params.code_field, "--code-field")
    name_col = field_name(raw, params.name_field, "--name-field")
    codes = text_values(raw, code_col)
    names = text_values(raw, name_col)
    check_encoding(raw, names, name_col, params.encoding)
    parents: list[str] | None = None
    parent_col = code_col  # without a parent field the parent comes from the code
    if params.parent_field:
        parent_col = field_name(raw, params.parent_field, "--parent-field")
        parents = text_values(raw, parent_col)
    lengths = code_lengths()
    if params.parent_by_location:
        codes, parents = _parents_by_location(codes, geoms, candidates or [], params.level,
                                              lengths)
    columns = {"code": code_col, "name": name_col, "parent": parent_col,
               GEOMETRY_FIELD: GEOMETRY_FIELD}

    rejected: list[FeatureRejection] = []
    in_file: dict[str, int] = {}
    for i, code in enumerate(codes):
        if code and code not in in_file:
            in_file[code] = i
    features: list[Feature] = []
    wkbs = shapely.to_wkb(geoms)  # one vectorised call; None where the geometry was rejected
    for i, (code, name) in enumerate(zip(codes, names, strict=True)):
        problem = (GEOMETRY_FIELD, reasons[i]) if i in reasons else _feature_problem(
            i, code, name, parents[i] if parents else None, params.level, in_file, known, lengths
        )
        if isinstance(problem[0], str):  # (field, message); accepted is (level, parent)
            rejected.append(FeatureRejection(i, problem[1], columns[problem[0]], code))
            continue
        level, parent_code = problem
        change = repairs.get(i)
        features.append(
            Feature(
                index=i,
                level=level,
                code=code,
                name=name,
                parent_code=parent_code,
                wkb=wkbs[i],
                repair_change_m2=change[0] if change else None,
                repair_change_percent=change[1] if change else None,
            )
        )
    return features, rejected


def _feature_problem(
    i: int,
    code: str,
    name: str,
    parent_code: str | None,
    forced_level: int | None,
    in_file: dict[str, int],
    known: dict[str, int],
    lengths: dict[int, int],
) -> tuple[str, str] | tuple[int, str | None]:
    """Why feature `i` cannot be imported as (field, message), or its (level, parent code)."""
    if not code:
        return "code", _("it has no code")
    if in_file[code] != i:
        return "code", _("code %(code)s appears again (first at feature %(first)d)") % {
            "code": code,
            "first": in_file[code],
        }
    if not name:
        return "name", _("it has no name")
    level = forced_level or _level_by_length(code, lengths)
    if level is None:
        return "code", _("no level has %(n)d-digit codes (%(lengths)s)") % {
            "n": len(code),
            "lengths": ", ".join(f"{Level(k).label} {v}" for k, v in sorted(lengths.items())),
        }
    if parent_code is None and level > Level.DISTRICT:
        parent_code = code[: lengths[level - 1]]
    if level == Level.DISTRICT:
        parent_code = None
    problem = code_problem(level, code, parent_code or None)
    if problem:
        return "code", str(problem)
    if parent_code:
        parent_level = known.get(parent_code)
        if parent_code in in_file:
            parent_level = forced_level or _level_by_length(parent_code, lengths)
        if parent_level is None:
            return "parent", _(
                "its parent grid %(parent)s is neither in the file nor in the database"
            ) % {"parent": parent_code}
        if parent_level != level - 1:
            return "parent", _("its parent %(parent)s is a %(got)s, not a %(want)s") % {
                "parent": parent_code,
                "got": Level(parent_level).label,
                "want": Level(level - 1).label,
            }
    return level, parent_code


def _level_by_length(code: str, lengths: dict[int, int]) -> int | None:
    """geogrid.hierarchy.level_for_code with the lengths read once per file, not per feature."""
    for level, length in lengths.items():
        if len(code) == length:
            return level
    return None


def _parents_by_location(
    codes: list[str],
    geoms: np.ndarray,
    candidates: list[Candidate],
    forced_level: int | None,
    lengths: dict[int, int],
) -> tuple[list[str], list[str]]:
    """Parent = the candidate one level up that contains the feature's point on surface.

    A code shorter than its level's length is a local number inside the parent ("3" → the
    parent's code + "003"), as surveying files often number grids per community.
    """
    parents = [""] * len(codes)
    out_codes = list(codes)
    if not candidates:
        return out_codes, parents
    points = shapely.point_on_surface(geoms)
    tree = shapely.STRtree(shapely.from_wkb([wkb for _code, _level, wkb in candidates]))
    hits = tree.query(points, predicate="within")
    for point_index, row_index in zip(*hits, strict=True):
        code, level, _wkb = candidates[row_index]
        own_level = forced_level or level_for_code(codes[point_index]) or level + 1
        if level != own_level - 1:
            continue
        parents[point_index] = code
        local = codes[point_index]
        width = lengths.get(level + 1, 0) - len(code)
        if local.isdigit() and len(local) <= width:
            out_codes[point_index] = code + local.zfill(width)
    return out_codes, parents
