"""The query parameters of `/collections/{id}/items`, checked once into a frozen `Query`.

Rules (a bad value is a 400 in GeoGrid's one error shape, naming the parameter):
- `limit`: an integer ≥ 1, default DEFAULT_LIMIT; above MAX_LIMIT it is clamped, not refused
  (Part 1 says so, and clients ask for large pages).
- `offset`: an integer ≥ 0 (OWSLib pages with it); `cursor` / `before`: the keyset cursors of
  the `next` / `prev` links (a primary key, layers/ogcapi/paging.py). One of the three at most.
- `bbox`: four finite numbers, minimum ≤ maximum, within the range of `bbox-crs` (default
  CRS84), in that CRS's axis order (latitude first for EPSG:4326 and EPSG:4490).
- `datetime`: an RFC 3339 instant, a date (the whole day, server time zone) or an interval
  `start/end` with `..` (or nothing) for an open end; start ≤ end.
- `crs`, `bbox-crs`, `filter-crs`: layers/ogcapi/crs.py. `filter` with `filter-lang`
  `cql2-text` (default) or `cql2-json`: layers/ogcapi/cql.py.
- `f`: `json` (or `geojson`); the answer is GeoJSON whatever the Accept header says.
- A scalar queryable's name is a parameter too (Part 1): `?status=closed` filters on equality.
- Other parameters (e.g. `api_key`) are ignored.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.contrib.gis.geos import Polygon
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from . import cql
from . import crs as crs_mod
from .collections import Collection

DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000
MAX_OFFSET = 10**9
MAX_ID = 2**63 - 1
FORMATS = ("json", "geojson")
FILTER_LANGS = ("cql2-text", "cql2-json", "cql-text")  # cql-text: the draft's name (GDAL 3.6)
_INT = re.compile(r"^[+-]?\d{1,19}$")


def bad(param: str, message: str) -> ValidationError:
    return ValidationError({param: [message]})


def check_format(query: Mapping[str, str]) -> None:
    f = query.get("f")
    if f is not None and f.lower() not in FORMATS:
        raise bad("f", _("the only format is json"))


def whole(query: Mapping[str, str], param: str, *, low: int, high: int) -> int | None:
    raw = query.get(param)
    if raw is None:
        return None
    raw = raw.strip()
    if not _INT.match(raw):
        raise bad(param, _("a whole number is required"))
    value = int(raw)
    if value < low:
        raise bad(param, _("must be at least %(n)d") % {"n": low})
    return min(value, high)


@dataclass(frozen=True)
class Query:
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    cursor: int | None = None  # features with a greater id (the `next` link)
    before: int | None = None  # features with a smaller id (the `prev` link)
    crs: crs_mod.Crs = crs_mod.CRS84
    where: Q = field(default_factory=Q)  # bbox, datetime and filter together

    @classmethod
    def parse(cls, query: Mapping[str, str], collection: Collection) -> Query:
        check_format(query)
        limit = whole(query, "limit", low=1, high=MAX_LIMIT) or DEFAULT_LIMIT
        offset = whole(query, "offset", low=0, high=MAX_OFFSET) or 0
        cursor = _id(query, "cursor")
        before = _id(query, "before")
        if sum(x is not None for x in (cursor, before, query.get("offset"))) > 1:
            raise bad("cursor", _("use one of offset, cursor and before"))
        out_crs = crs_mod.parse(query.get("crs"), "crs")
        where = Q()
        if "bbox" in query:
            where &= Q(**{f"{collection.geometry}__intersects": parse_bbox(
                query["bbox"], crs_mod.parse(query.get("bbox-crs"), "bbox-crs"))})
        elif query.get("bbox-crs"):
            crs_mod.parse(query.get("bbox-crs"), "bbox-crs")
        if "datetime" in query:
            where &= datetime_q(collection, *parse_datetime(query["datetime"]))
        lang = (query.get("filter-lang") or "cql2-text").lower()
        if lang not in FILTER_LANGS:
            raise bad("filter-lang", _("use cql2-text or cql2-json"))
        filter_crs = crs_mod.parse(query.get("filter-crs"), "filter-crs")
        where &= property_q(query, collection)
        if query.get("filter"):
            tree = cql.parse(query["filter"], "cql2-json" if lang == "cql2-json" else "cql2-text")
            where &= cql.Translator(collection, filter_crs).q(tree)
        return cls(limit=limit, offset=offset, cursor=cursor, before=before, crs=out_crs,
                   where=where)


def property_q(query: Mapping[str, str], collection: Collection) -> Q:
    """Part 1's property filters: `?status=closed` is `status = 'closed'`, for the scalar
    queryables (GDAL 3.6 sends its attribute filters this way or as draft CQL text)."""
    q = Q()
    for prop in collection.queryables():
        raw = query.get(prop.name)
        if raw is None or prop.type not in SCALAR:
            continue
        try:
            value: object = {"integer": int, "number": float}.get(prop.type, str)(raw)
        except ValueError:
            raise bad(prop.name, _("a number is required")) from None
        if prop.type == "boolean":
            if raw.lower() not in ("true", "false"):
                raise bad(prop.name, _("true or false"))
            value = raw.lower() == "true"
        q &= Q(**{prop.source: value})
    return q


SCALAR = ("string", "integer", "number", "boolean")


def _id(query: Mapping[str, str], param: str) -> int | None:
    raw = query.get(param)
    if raw is None:
        return None
    if not _INT.match(raw.strip()) or not 0 <= int(raw) <= MAX_ID:
        raise bad(param, _("not a cursor of this collection"))
    return int(raw)


def parse_bbox(raw: str, crs: crs_mod.Crs) -> Polygon:
    parts = raw.split(",")
    if len(parts) != 4:
        raise bad("bbox", _("four numbers are required: minimum x, y, maximum x, y"))
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise bad("bbox", _("four finite numbers are required")) from None
    return cql.bbox_polygon(numbers, crs, "bbox")


def _moment(text: str, *, end: bool) -> dt.datetime | None:
    text = text.strip()
    if text in ("", ".."):
        return None
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            if end:
                day += dt.timedelta(days=1)
            start = timezone.make_aware(dt.datetime.combine(day, dt.time()))
            return start - dt.timedelta(microseconds=1) if end else start
        moment = dt.datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        raise bad("datetime", _("not an RFC 3339 date-time, date or interval: %(v)s")
                  % {"v": text[:60]}) from None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def parse_datetime(raw: str) -> tuple[dt.datetime | None, dt.datetime | None]:
    """`datetime` → (start, end), inclusive; None for an open end."""
    if "/" in raw:
        first, _sep, second = raw.partition("/")
        if "/" in second:
            raise bad("datetime", _("an interval has one /"))
        start, end = _moment(first, end=False), _moment(second, end=True)
        if start is not None and end is not None and start > end:
            raise bad("datetime", _("the interval ends before it starts"))
        return start, end
    if raw.strip() in ("", ".."):
        raise bad("datetime", _("an instant or an interval is required"))
    start = _moment(raw, end=False)
    end = _moment(raw, end=True) if len(raw.strip()) == 10 else start
    return start, end


def datetime_q(collection: Collection, start: dt.datetime | None,
               end: dt.datetime | None) -> Q:
    """Features whose time (an instant, or an interval from start to end field) meets
    [start, end]; no condition for a collection without time."""
    if collection.temporal is None:
        return Q()
    first, last = collection.temporal
    last = last or first
    q = Q()
    if end is not None:
        q &= Q(**{f"{first}__lte": end})
    if start is not None:
        q &= Q(**{f"{last}__gte": start}) | (
            Q(**{f"{last}__isnull": True}) if last != first else Q(pk__in=[]))
    return q
