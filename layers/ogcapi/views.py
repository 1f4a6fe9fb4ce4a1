"""The OGC API – Features endpoints under /ogcapi/ (docs/standards.md). Thin: parse, ask the
modules beside this one, answer.

Rules:
- GET (and HEAD) only; JSON whatever the Accept header says (clients send none, `*/*` or
  `application/geo+json`), `f=json` accepted, any other `f` a 400. The service-doc page is
  HTML.
- Every error is GeoGrid's one error shape (geogrid.errors), with its status: 400 for a bad
  parameter, 403 for a protected collection, 404 for an unknown collection or feature (a
  feature id that is not a number included), 405 for other methods. Never a 500 for input.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.exceptions import MethodNotAllowed

from geogrid.errors import error_response, to_response_parts

from . import access, features, openapi, paging, params
from . import crs as crs_mod
from .collections import COLLECTIONS, Collection, get, spatial_extent
from .crs import CRS84, SUPPORTED
from .queryables import queryables

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions",
]
JSON = "application/json"


def ogc_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """GET/HEAD only, and every known error in the one error shape."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            if request.method not in ("GET", "HEAD"):
                raise MethodNotAllowed(request.method or "")
            return view(request, *args, **kwargs)
        except Exception as exc:  # the known ones answer; anything else stays a 500
            if to_response_parts(exc) is None:
                raise
            response = error_response(exc)
            if isinstance(exc, MethodNotAllowed):
                response["Allow"] = "GET, HEAD"
            return response

    return wrapper


def _json(body: Any, content_type: str = JSON, status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(body, ensure_ascii=False), status=status,
                        content_type=content_type)


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("ogcapi:landing"))


def _link(href: str, rel: str, type_: str = JSON, title: str = "") -> dict:
    out = {"href": href, "rel": rel, "type": type_}
    if title:
        out["title"] = title
    return out


def _collection(request: HttpRequest, collection_id: str) -> tuple[Collection, access.Reader]:
    collection = get(collection_id)
    if collection is None:
        raise Http404
    reader = access.reader_for(request)
    access.require(collection, reader)
    return collection, reader


def _describe(request: HttpRequest, c: Collection, extent: list[float]) -> dict:
    base = _base(request)
    url = f"{base}collections/{c.id}"
    return {
        "id": c.id, "title": str(c.title), "description": str(c.description),
        "itemType": "feature",
        "links": [
            _link(url, "self", JSON, "this document"),
            _link(f"{url}/items", "items", paging.GEOJSON, "the features"),
            _link(f"{url}/queryables", "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                  openapi.SCHEMA_JSON, "the queryables"),
        ],
        "extent": {"spatial": {"bbox": [extent], "crs": CRS84.uri},
                   "temporal": {"interval": [c.temporal_extent()],
                                "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}},
        "crs": [crs.uri for crs in SUPPORTED],
        "storageCrs": CRS84.uri,
    }


@ogc_view
def landing(request: HttpRequest) -> HttpResponse:
    params.check_format(request.GET)
    base = _base(request)
    return _json({
        "title": "GeoGrid OGC API – Features",
        "description": _("Grids, buildings, appeals and hotspots of GeoGrid."),
        "links": [
            _link(base, "self", JSON, "this document"),
            _link(f"{base}api", "service-desc", openapi.OPENAPI_TYPE, "the API definition"),
            _link(f"{base}api.html", "service-doc", "text/html", "the API documentation"),
            _link(f"{base}conformance", "conformance", JSON, "conformance classes"),
            _link(f"{base}collections", "data", JSON, "the collections"),
        ],
    })


@ogc_view
def conformance(request: HttpRequest) -> HttpResponse:
    params.check_format(request.GET)
    return _json({"conformsTo": CONFORMANCE})


@ogc_view
def api(request: HttpRequest) -> HttpResponse:
    params.check_format(request.GET)
    return _json(openapi.document(_base(request)), openapi.OPENAPI_TYPE)


@ogc_view
def api_html(request: HttpRequest) -> HttpResponse:
    reader = access.reader_for(request)
    shown = [c for c in COLLECTIONS.values() if access.may_read(c, reader)]
    return render(request, "ogcapi/service_doc.html", {
        "base": _base(request), "collections": shown, "crs": SUPPORTED,
        "max_limit": params.MAX_LIMIT, "default_limit": params.DEFAULT_LIMIT})


@ogc_view
def collections(request: HttpRequest) -> HttpResponse:
    params.check_format(request.GET)
    reader = access.reader_for(request)
    extent = spatial_extent()
    base = _base(request)
    return _json({
        "links": [_link(f"{base}collections", "self", JSON, "this document")],
        "collections": [_describe(request, c, extent) for c in COLLECTIONS.values()
                        if access.may_read(c, reader)],
        "crs": [crs.uri for crs in SUPPORTED],
    })


@ogc_view
def collection(request: HttpRequest, collection_id: str) -> HttpResponse:
    params.check_format(request.GET)
    c, _reader = _collection(request, collection_id)
    return _json(_describe(request, c, spatial_extent()))


@ogc_view
def collection_queryables(request: HttpRequest, collection_id: str) -> HttpResponse:
    params.check_format(request.GET)
    c, _reader = _collection(request, collection_id)
    url = f"{_base(request)}collections/{c.id}/queryables"
    return _json(queryables(c, url), openapi.SCHEMA_JSON)


@ogc_view
def items(request: HttpRequest, collection_id: str) -> HttpResponse:
    c, reader = _collection(request, collection_id)
    query = params.Query.parse(request.GET, c)
    rows = access.scoped(c, reader, c.rows()).filter(query.where)
    page = paging.page_of(c, rows, query, paging.carried_count(request))
    head = {"type": "FeatureCollection"}
    tail = {"numberMatched": page.matched, "numberReturned": len(page.features),
            "timeStamp": timezone.now().isoformat(timespec="seconds"),
            "links": paging.links(request, page)}
    # The features are JSON text from PostgreSQL: spliced in, not parsed and dumped again.
    body = (json.dumps(head)[:-1] + ', "features": ['
            + ",".join(text for _id, text in page.features) + "], "
            + json.dumps(tail, ensure_ascii=False)[1:])
    response = HttpResponse(body, content_type=paging.GEOJSON)
    response["Content-Crs"] = query.crs.header
    return response


@ogc_view
def item(request: HttpRequest, collection_id: str, feature_id: str) -> HttpResponse:
    c, reader = _collection(request, collection_id)
    params.check_format(request.GET)
    if not feature_id.isascii() or not feature_id.isdigit() or int(feature_id) > params.MAX_ID:
        raise Http404
    out_crs = crs_mod.parse(request.GET.get("crs"), "crs")
    rows = access.scoped(c, reader, c.rows()).filter(pk=int(feature_id))
    found = features.fetch(c, rows, out_crs)
    if not found:
        raise Http404
    url = f"{_base(request)}collections/{c.id}"
    feature = json.loads(found[0][1])
    feature["links"] = [
        _link(request.build_absolute_uri(), "self", paging.GEOJSON, "this document"),
        _link(url, "collection", JSON, "the collection"),
    ]
    response = _json(feature, paging.GEOJSON)
    response["Content-Crs"] = out_crs.header
    return response

