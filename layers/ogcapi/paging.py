"""Pages of features and their links: keyset paging on the primary key.

Rules:
- Features are ordered by id. A page is `id > cursor ORDER BY id LIMIT limit + 1` (the extra
  row says whether a next page exists): an index range scan, as fast at the millionth feature
  as at the first. `before` pages backwards the same way (`id < before ORDER BY id DESC`).
- `offset` (OWSLib pages with it) is honoured with SQL OFFSET for that one request; the
  `next` link of every page — an offset page too — carries a `cursor`, never an offset, so a
  client that follows links (GDAL, QGIS) pages by keyset from then on.
- `numberMatched` is a count of the filtered rows (GDAL reads it as the feature count);
  `numberReturned` the features on this page. The count is taken on a page reached without a
  link (the first, or an `offset` page) and carried in the `next`/`prev` links as `matched`,
  signed (django.core.signing) together with the question it answers — the collection, every
  other parameter and the reader — so a link's pages report the same count without counting
  again: on a million appeals the count cost about a second per page, the page itself 50 ms.
  A `matched` that is missing, tampered with or from another question is ignored and the rows
  are counted. The count is the one of the first page: rows added while a client pages are
  in the pages (keyset) but not in the count.
- Links keep the request's other parameters (the filter, bbox, crs, an `api_key` the client
  chose to send in the query), so each page answers the same question.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core import signing
from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict

from . import features
from .collections import Collection
from .params import Query

GEOJSON = "application/geo+json"
PAGING_PARAMS = ("offset", "cursor", "before", "matched")
_SIGNER = signing.Signer(salt="ogcapi.matched")


@dataclass
class Page:
    features: list[tuple[int, str]]  # (id, GeoJSON text), in id order
    matched: int
    more_after: bool
    more_before: bool


def question(request: HttpRequest) -> str:
    """What a count answers: the path, every parameter but the paging ones and `limit` (the
    page size does not change the count), and the reader."""
    params = sorted((k, v) for k, vs in request.GET.lists()
                    if k not in PAGING_PARAMS and k != "limit" for v in vs)
    user = getattr(request, "user", None)
    reader = getattr(user, "pk", None) if user is not None and user.is_authenticated else ""
    return hashlib.sha256(repr((request.path, params, reader)).encode()).hexdigest()[:32]


def carried_count(request: HttpRequest) -> int | None:
    """The count a `next`/`prev` link carries for this very question, else None."""
    raw = request.GET.get("matched")
    if not raw or len(raw) > 200:
        return None
    try:
        asked, count = _SIGNER.unsign(raw).rsplit(":", 1)
    except (signing.BadSignature, ValueError):
        return None
    return int(count) if asked == question(request) and count.isdigit() else None


def page_of(collection: Collection, rows: QuerySet, query: Query,
            matched: int | None = None) -> Page:
    """One page; `matched` is a count carried by the link followed (else the rows are
    counted)."""
    if matched is None:
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
    matched = _SIGNER.sign(f"{question(request)}:{page.matched}")
    if page.more_after and page.features:
        out.append({"href": _url(request, cursor=str(page.features[-1][0]), matched=matched),
                    "rel": "next", "type": GEOJSON, "title": "next page"})
    if page.more_before and page.features:
        out.append({"href": _url(request, before=str(page.features[0][0]), matched=matched),
                    "rel": "prev", "type": GEOJSON, "title": "previous page"})
    return out
