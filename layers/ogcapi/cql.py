"""CQL2 filters (OGC API – Features Part 3) → a Django Q on a collection's queryables.

The text (or JSON) is parsed by `cql2` (PyPI: the maintained Rust parser of CQL2 text and JSON,
with Python bindings); its CQL2-JSON tree is translated here. Rules:
- Only queryables (collections.Prop with queryable=True, plus `geometry`) may be named: any
  other property is a 400 naming `filter`. Values become query parameters through the ORM,
  never SQL text.
- Supported: `=`, `<>`, `<`, `<=`, `>`, `>=`, `AND`, `OR`, `NOT`, `LIKE` (`%`, `_`, `\\`
  escapes), `IN`, `BETWEEN`, `IS NULL`; `S_INTERSECTS`, `S_DISJOINT`, `S_WITHIN`,
  `S_CONTAINS`, `S_EQUALS`, `S_TOUCHES`, `S_CROSSES`, `S_OVERLAPS` with a BBOX or a geometry
  literal in `filter-crs` (default CRS84); `T_BEFORE`, `T_AFTER`, `T_EQUALS`, `T_INTERSECTS`,
  `T_DISJOINT`, `T_DURING` with TIMESTAMP, DATE or INTERVAL (`..` for an open end) on the
  date-time properties, and plain comparisons with TIMESTAMP/DATE. A DATE against a date-time
  property means midnight at the start of that day in the server's time zone (TIME_ZONE).
- Property to property comparisons, arithmetic and functions (`CASEI`, `ACCENTI`, …) are not
  supported: a 400 that says so.
- A literal must fit the property: a string for a string property (grid codes are strings:
  quote them), a number for a number, TRUE/FALSE, TIMESTAMP/DATE for times.
- Size limits keep the parser and the query small: at most MAX_CHARS characters and MAX_DEPTH
  nested parentheses.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable
from typing import Any

import cql2
import numpy as np
import shapely
from django.contrib.gis.geos import GEOSException, GEOSGeometry, Polygon
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from . import collections as c
from .crs import CRS84, Crs, to_lonlat

MAX_CHARS = 8000
MAX_DEPTH = 20
PARAM = "filter"
GEOMETRY = "geometry"

_COMPARE = {"=": "exact", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}
_FLIP = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_SPATIAL = {"s_intersects": "intersects", "s_disjoint": "disjoint", "s_within": "within",
            "s_contains": "contains", "s_equals": "equals", "s_touches": "touches",
            "s_crosses": "crosses", "s_overlaps": "overlaps"}
_TEMPORAL = {"t_before", "t_after", "t_equals", "t_intersects", "t_disjoint", "t_during"}


class FilterInvalid(ValidationError):
    def __init__(self, message: str) -> None:
        super().__init__({PARAM: [message]})


def parse(text: str, lang: str) -> dict:
    """CQL2 text or JSON → its CQL2-JSON tree (a 400 naming `filter` when it does not parse)."""
    if len(text) > MAX_CHARS:
        raise FilterInvalid(_("the filter is longer than %(n)d characters") % {"n": MAX_CHARS})
    if _depth(text) > MAX_DEPTH:
        raise FilterInvalid(_("the filter nests deeper than %(n)d levels") % {"n": MAX_DEPTH})
    try:
        expr = cql2.parse_text(text) if lang == "cql2-text" else cql2.parse_json(text)
        tree = expr.to_json()
    except (cql2.ParseError, cql2.ValidationError, ValueError, TypeError) as exc:
        first = str(exc).strip().splitlines()
        detail = " ".join(line.strip() for line in first[:6])[:300]
        raise FilterInvalid(_("the filter is not valid CQL2: %(e)s") % {"e": detail}) from None
    return tree if isinstance(tree, dict) else json.loads(json.dumps(tree))


def _depth(text: str) -> int:
    depth = deepest = 0
    for ch in re.sub(r"'(?:[^']|'')*'", "''", text):
        if ch in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")]}":
            depth -= 1
    return deepest


class Translator:
    """One filter on one collection; `q(tree)` is the Django Q."""

    def __init__(self, collection: c.Collection, filter_crs: Crs = CRS84) -> None:
        self.collection = collection
        self.crs = filter_crs

    def q(self, node: Any) -> Q:
        if isinstance(node, bool):  # a bare TRUE/FALSE is a valid (if odd) filter
            return Q() if node else Q(pk__in=[])
        if not isinstance(node, dict) or "op" not in node:
            raise FilterInvalid(_("a condition was expected"))
        op, args = str(node["op"]).lower(), node.get("args") or []
        if op in ("and", "or"):
            parts = [self.q(a) for a in args]
            out = parts[0]
            for part in parts[1:]:
                out = (out & part) if op == "and" else (out | part)
            return out
        if op == "not":
            return ~self.q(args[0])
        handler: Callable[[str, list], Q] | None = {
            "like": self._like, "in": self._in, "between": self._between,
            "isnull": self._isnull, "<>": self._compare,
            **{k: self._compare for k in _COMPARE},
            **{k: self._spatial for k in _SPATIAL},
            **{k: self._temporal for k in _TEMPORAL},
        }.get(op)
        if handler is None:
            raise FilterInvalid(_("the operator %(op)s is not supported") % {"op": op})
        return handler(op, args)

    # --- properties and literals --------------------------------------------------------------
    def _prop(self, node: Any) -> c.Prop:
        if not (isinstance(node, dict) and set(node) == {"property"}):
            raise FilterInvalid(_("the left side must be a queryable property (functions and "
                                  "arithmetic are not supported)"))
        name = str(node["property"])
        prop = self.collection.prop(name)
        if prop is None:
            names = ", ".join(p.name for p in self.collection.queryables())
            raise FilterInvalid(_("unknown property %(name)s; the queryables are %(names)s")
                                % {"name": name[:100], "names": names})
        return prop

    def _split(self, op: str, args: list) -> tuple[c.Prop, Any, str]:
        """(property, literal, operator) with the property on the left."""
        if len(args) != 2:
            raise FilterInvalid(_("%(op)s takes two arguments") % {"op": op})
        lhs, rhs = args
        if isinstance(lhs, dict) and "property" in lhs:
            return self._prop(lhs), rhs, op
        if isinstance(rhs, dict) and "property" in rhs and op in _FLIP:
            return self._prop(rhs), lhs, _FLIP[op]
        return self._prop(lhs), rhs, op

    def _value(self, prop: c.Prop, node: Any) -> Any:
        """A literal checked against the property's type."""
        if isinstance(node, dict) and ("property" in node or "op" in node):
            raise FilterInvalid(_("compare %(name)s with a literal value") % {"name": prop.name})
        kind = prop.type
        if kind == c.STRING and isinstance(node, str):
            return node
        if kind == c.BOOLEAN and isinstance(node, bool):
            return node
        if kind in (c.INTEGER, c.NUMBER) and isinstance(node, (int, float)) and not isinstance(
                node, bool):
            if not math.isfinite(node):
                raise FilterInvalid(_("%(name)s: a finite number is required") % {
                    "name": prop.name})
            if kind == c.INTEGER:
                if node != int(node) or abs(node) > 2**62:
                    raise FilterInvalid(_("%(name)s is a whole number") % {"name": prop.name})
                return int(node)
            return float(node)
        if kind in (c.DATETIME, c.DATE) and isinstance(node, dict) and (
                set(node) in ({"timestamp"}, {"date"})):
            return self._instant(prop, node)
        want = {c.STRING: _("a quoted string"), c.BOOLEAN: _("TRUE or FALSE"),
                c.INTEGER: _("a number"), c.NUMBER: _("a number"),
                c.DATETIME: _("TIMESTAMP('…') or DATE('…')"),
                c.DATE: _("DATE('…')")}.get(kind, kind)
        raise FilterInvalid(_("%(name)s takes %(want)s") % {"name": prop.name, "want": want})

    def _instant(self, prop: c.Prop, node: dict) -> dt.datetime | dt.date:
        try:
            if "date" in node:
                day = dt.date.fromisoformat(str(node["date"]))
                if prop.type == c.DATE:
                    return day
                return timezone.make_aware(dt.datetime.combine(day, dt.time()))
            moment = dt.datetime.fromisoformat(str(node["timestamp"]).replace("Z", "+00:00"))
        except ValueError:
            raise FilterInvalid(_("%(name)s: not a valid date or timestamp") % {
                "name": prop.name}) from None
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment.date() if prop.type == c.DATE else moment

    def _field(self, prop: c.Prop) -> str:
        return prop.source

    # --- predicates ---------------------------------------------------------------------------
    def _compare(self, op: str, args: list) -> Q:
        prop, literal, op = self._split(op, args)
        if prop.type in (c.OBJECT, c.ARRAY):
            raise FilterInvalid(_("%(name)s cannot be compared") % {"name": prop.name})
        value = self._value(prop, literal)
        if op == "<>":
            return ~Q(**{f"{self._field(prop)}__exact": value}) & Q(
                **{f"{self._field(prop)}__isnull": False})
        if prop.type == c.BOOLEAN and op != "=":
            raise FilterInvalid(_("%(name)s takes = or <>") % {"name": prop.name})
        return Q(**{f"{self._field(prop)}__{_COMPARE[op]}": value})

    def _like(self, op: str, args: list) -> Q:
        prop, pattern, _op = self._split(op, args)
        if prop.type != c.STRING or not isinstance(pattern, str):
            raise FilterInvalid(_("LIKE takes a string property and a quoted pattern"))
        return Q(**{f"{self._field(prop)}__regex": like_to_regex(pattern)})

    def _in(self, op: str, args: list) -> Q:
        if len(args) != 2 or not isinstance(args[1], list) or not args[1]:
            raise FilterInvalid(_("IN takes a property and a list of values"))
        prop = self._prop(args[0])
        return Q(**{f"{self._field(prop)}__in": [self._value(prop, v) for v in args[1]]})

    def _between(self, op: str, args: list) -> Q:
        if len(args) != 3:
            raise FilterInvalid(_("BETWEEN takes a property and two values"))
        prop = self._prop(args[0])
        if prop.type not in (c.INTEGER, c.NUMBER, c.DATETIME, c.DATE):
            raise FilterInvalid(_("BETWEEN takes a number or time property"))
        low, high = self._value(prop, args[1]), self._value(prop, args[2])
        return Q(**{f"{self._field(prop)}__gte": low, f"{self._field(prop)}__lte": high})

    def _isnull(self, op: str, args: list) -> Q:
        if len(args) != 1:
            raise FilterInvalid(_("IS NULL takes one property"))
        return Q(**{f"{self._field(self._prop(args[0]))}__isnull": True})

    def _spatial(self, op: str, args: list) -> Q:
        if len(args) != 2:
            raise FilterInvalid(_("%(op)s takes two arguments") % {"op": op})
        lhs, rhs = args
        if isinstance(rhs, dict) and rhs.get("property") == GEOMETRY:
            lhs, rhs = rhs, lhs
            op = {"s_within": "s_contains", "s_contains": "s_within"}.get(op, op)
        if not (isinstance(lhs, dict) and lhs.get("property") == GEOMETRY):
            raise FilterInvalid(_("%(op)s compares the property geometry with a geometry")
                                % {"op": op.upper()})
        geom = self._geometry(rhs)
        return Q(**{f"{self.collection.geometry}__{_SPATIAL[op]}": geom})

    def _geometry(self, node: Any) -> GEOSGeometry:
        if isinstance(node, dict) and "bbox" in node:
            box = node["bbox"]
            if not (isinstance(box, list) and len(box) in (4, 6)):
                raise FilterInvalid(_("BBOX takes four numbers"))
            if len(box) == 6:
                box = [box[0], box[1], box[3], box[4]]
            return bbox_polygon([float(v) for v in box], self.crs, PARAM)
        if not (isinstance(node, dict) and "type" in node and "coordinates" in node):
            raise FilterInvalid(_("a geometry (BBOX, POINT, POLYGON, …) was expected"))
        try:
            geom = GEOSGeometry(json.dumps(node), srid=4326)
        except (GEOSException, ValueError, TypeError):
            raise FilterInvalid(_("the geometry is not valid")) from None
        if geom.empty or not geom.valid:
            raise FilterInvalid(_("the geometry is not valid"))
        return _to_storage(geom, self.crs)

    def _temporal(self, op: str, args: list) -> Q:
        if len(args) != 2:
            raise FilterInvalid(_("%(op)s takes two arguments") % {"op": op})
        prop = self._prop(args[0])
        if prop.type not in (c.DATETIME, c.DATE):
            raise FilterInvalid(_("%(op)s takes a time property") % {"op": op.upper()})
        field = self._field(prop)
        rhs = args[1]
        if isinstance(rhs, dict) and set(rhs) == {"interval"}:
            start, end = self._interval(prop, rhs["interval"])
        else:
            start = end = self._value(prop, rhs)
        inside = Q(**({f"{field}__gte": start} if start is not None else {})) & Q(
            **({f"{field}__lte": end} if end is not None else {}))
        if op == "t_before":
            return Q(**{f"{field}__lt": start}) if start is not None else Q(pk__in=[])
        if op == "t_after":
            return Q(**{f"{field}__gt": end}) if end is not None else Q(pk__in=[])
        if op == "t_equals":
            if start != end:
                raise FilterInvalid(_("T_EQUALS of an instant takes an instant"))
            return Q(**{f"{field}__exact": start})
        if op == "t_disjoint":
            return ~inside & Q(**{f"{field}__isnull": False})
        return inside  # t_intersects, t_during

    def _interval(self, prop: c.Prop, bounds: Any) -> tuple[Any, Any]:
        if not (isinstance(bounds, list) and len(bounds) == 2):
            raise FilterInvalid(_("INTERVAL takes two instants"))
        out: list[Any] = []
        for b in bounds:
            if b == "..":
                out.append(None)
            elif isinstance(b, str):
                key = "date" if len(b) == 10 else "timestamp"
                out.append(self._instant(prop, {key: b}))
            elif isinstance(b, dict):
                out.append(self._value(prop, b))
            else:
                raise FilterInvalid(_("INTERVAL takes two instants"))
        if out[0] is not None and out[1] is not None and out[0] > out[1]:
            raise FilterInvalid(_("the interval ends before it starts"))
        return out[0], out[1]


def like_to_regex(pattern: str) -> str:
    """A CQL2 LIKE pattern (% any run, _ one character, \\ escapes) → an anchored regex."""
    out, escaped = ["^"], False
    for ch in pattern:
        if escaped:
            out.append(re.escape(ch))
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        else:
            out.append(re.escape(ch))
    if escaped:
        out.append(re.escape("\\"))
    out.append("$")
    return "".join(out)


def bbox_polygon(box: list[float], crs: Crs, param: str) -> Polygon:
    """Four numbers in `crs`'s axis order → a lon/lat EPSG:4326 polygon; a 400 naming `param`
    when they are not finite, not ordered or out of the CRS's range."""
    if len(box) != 4 or not all(math.isfinite(v) for v in box):
        raise ValidationError({param: [_("four finite numbers are required")]})
    a, b, c2, d = box  # lower corner (a, b), upper corner (c2, d), in the CRS's axis order
    if a > c2 or b > d:
        raise ValidationError({param: [_("the minimum is greater than the maximum")]})
    in_range = crs.valid_bbox(b, a, d, c2) if crs.lat_first else crs.valid_bbox(a, b, c2, d)
    if not in_range:
        raise ValidationError({param: [_("the box lies outside the range of its CRS")]})
    x0, y0 = to_lonlat(crs, a, b)
    x1, y1 = to_lonlat(crs, c2, d)
    if x0 == x1 or y0 == y1:  # a degenerate box (a line or a point) still intersects
        x1, y1 = x1 + 1e-12, y1 + 1e-12
    return Polygon.from_bbox((x0, y0, x1, y1))


def _to_storage(geom: GEOSGeometry, crs: Crs) -> GEOSGeometry:
    """A literal geometry given in `crs` → lon/lat EPSG:4326 (its few vertices, with pyproj)."""
    if crs is CRS84:
        return geom

    def move(xy: np.ndarray) -> np.ndarray:
        return np.array([to_lonlat(crs, float(x), float(y)) for x, y in xy]).reshape(-1, 2)

    try:
        moved = shapely.transform(shapely.from_wkb(bytes(geom.wkb)), move)
    except ValueError:
        raise FilterInvalid(_("the geometry lies outside its CRS")) from None
    return GEOSGeometry(memoryview(shapely.to_wkb(moved)), srid=4326)
