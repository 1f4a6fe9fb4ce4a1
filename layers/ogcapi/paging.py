"""Pages of features and their links: keyset paging on the primary key.

Rules:
- Features are ordered by id. A page is `id > cursor ORDER BY id LIMIT limit + 1` (the extra
  row says whether a next page exists): an index range scan, as fast at the millionth feature
  as at the first. `before` pages backwards the same way (`id < before ORDER BY id DESC`).
- `offset` (OWSLib pages with it) is honoured with SQL OFFSET for that one request; the
  `next` link of every page — an offset page too — carries a `cursor`, never an offset, so a
  client that follows links (GDAL, QGIS) pages by keyset from then on.
- `numberMatched` is a count of the filtered rows on every page (GDAL reads it as the feature
  count); `numberReturned` the features on this page.
- Links keep the request's other parameters (the filter, bbox, crs, an `api_key` the client
  chose to send in the query), so each page answers the same question.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict

from . import features
from .collections import Collection
from .params import Query

GEOJSON = "application/geo+json"
PAGING_PARAMS = ("offset", "cursor", "before")


@dataclass
class Page:
    features: list[tuple[int, str]]  # (id, GeoJSON text), in id order
    matched: int
    more_after: bool
    more_before: bool


def page_of(collection: Collection, rows: QuerySet, query: Query) -> Page:
    matched = rows.count()
    if query.before is not None:
        window = rows.filter(pk__lt=query.before).order_by("-pk")[: query.limit + 1]
        got = features.fetch(collection, window, query.crs, descending=True)
        more_before = len(got) > query.limit
        return Page(list(reversed(got[: query.limit])), matched, more_after=True,
                    more_before=more_before)
    ordered = rows.order_by("pk")
    if query.cursor is not None:
        window = ordered.filter(pk__gt=query.cursor)[: query.limit + 1]
        more_before = True
    else:
        window = ordered[query.offset: query.offset + query.limit + 1]
        more_before = query.offset > 0
    got = features.fetch(collection, window, query.crs)
    return Page(got[: query.limit], matched, more_after=len(got) > query.limit,
                more_before=more_before)


def _url(request: HttpRequest, **changes: str) -> str:
    params: QueryDict = request.GET.copy()
    for name in PAGING_PARAMS:
        params.pop(name, None)
    for name, value in changes.items():
        params[name] = value
    encoded = params.urlencode(safe=",:/")
    return request.build_absolute_uri(request.path + (f"?{encoded}" if encoded else ""))


def links(request: HttpRequest, page: Page) -> list[dict]:
    out = [{"href": request.build_absolute_uri(), "rel": "self", "type": GEOJSON,
            "title": "this document"}]
    if page.more_after and page.features:
        out.append({"href": _url(request, cursor=str(page.features[-1][0])), "rel": "next",
                    "type": GEOJSON, "title": "next page"})
    if page.more_before and page.features:
        out.append({"href": _url(request, before=str(page.features[0][0])), "rel": "prev",
                    "type": GEOJSON, "title": "previous page"})
    return out
