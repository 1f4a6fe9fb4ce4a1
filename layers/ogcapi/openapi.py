"""The OpenAPI 3.0 document of the OGC API (the landing page's `service-desc`).

Rules:
- Written from the collections (layers/ogcapi/collections.py) and the parameters' own limits
  (params.py, crs.py), so it cannot drift from what the server answers: one path per
  collection for items, item and queryables (QGIS and schemathesis read them), the shared
  parameters under `components.parameters` (QGIS reads `limit` there for its page size).
- Every error answer is GeoGrid's one error shape (`components.schemas.Error`,
  docs/api-errors.md).
- Appeals and buildings declare the API key (`X-API-Key`) and the session cookie.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from . import params
from .collections import COLLECTIONS, Collection
from .crs import SUPPORTED

OPENAPI_TYPE = "application/vnd.oai.openapi+json;version=3.0"
GEOJSON = "application/geo+json"
JSON = "application/json"
SCHEMA_JSON = "application/schema+json"


def _param(name: str, schema: dict, description: str, *, style: str | None = None,
           explode: bool | None = None) -> dict:
    out: dict[str, Any] = {"name": name, "in": "query", "required": False,
                           "description": description, "schema": schema}
    if style:
        out["style"], out["explode"] = style, explode
    return out


def _parameters() -> dict[str, dict]:
    crs_enum = [c.uri for c in SUPPORTED]
    return {
        "limit": _param("limit", {"type": "integer", "minimum": 1,
                                  "maximum": params.MAX_LIMIT,
                                  "default": params.DEFAULT_LIMIT},
                        f"Features per page; above {params.MAX_LIMIT} clamped."),
        "offset": _param("offset", {"type": "integer", "minimum": 0, "default": 0},
                         "Features to skip (prefer the `next` link: keyset, fast at any depth)."),
        "cursor": _param("cursor", {"type": "integer", "minimum": 0},
                         "Keyset cursor of a `next` link: features after this id."),
        "before": _param("before", {"type": "integer", "minimum": 0},
                         "Keyset cursor of a `prev` link: features before this id."),
        "matched": _param("matched", {"type": "string", "maxLength": 200},
                          "The signed count a `next`/`prev` link carries (numberMatched of "
                          "the first page); ignored when it does not fit the request."),
        "bbox": _param("bbox", {"type": "array", "minItems": 4, "maxItems": 4,
                                "items": {"type": "number"}},
                       "minx,miny,maxx,maxy in `bbox-crs` (its axis order).", style="form",
                       explode=False),
        "bbox-crs": _param("bbox-crs", {"type": "string", "format": "uri", "enum": crs_enum},
                           "CRS of `bbox` (default CRS84)."),
        "crs": _param("crs", {"type": "string", "format": "uri", "enum": crs_enum},
                      "CRS of the answer (default CRS84); EPSG:4326 and 4490 are lat/lon."),
        "datetime": _param("datetime", {"type": "string"},
                           "An RFC 3339 instant, a date, or an interval `a/b` (`..` open)."),
        "filter": _param("filter", {"type": "string"}, "A CQL2 filter on the queryables."),
        "filter-lang": _param("filter-lang", {"type": "string", "enum": list(params.FILTER_LANGS),
                                              "default": "cql2-text"}, "The filter's language."),
        "filter-crs": _param("filter-crs", {"type": "string", "format": "uri", "enum": crs_enum},
                             "CRS of the filter's geometries (default CRS84)."),
        "f": _param("f", {"type": "string", "enum": list(params.FORMATS)}, "Format: JSON."),
        "featureId": {"name": "featureId", "in": "path", "required": True,
                      "description": "The feature's id (an integer).",
                      "schema": {"type": "string"}},
    }


def _schemas() -> dict[str, dict]:
    link = {"type": "object", "required": ["href", "rel"],
            "properties": {"href": {"type": "string"}, "rel": {"type": "string"},
                           "type": {"type": "string"}, "title": {"type": "string"}}}
    links = {"type": "array", "items": {"$ref": "#/components/schemas/Link"}}
    feature = {"type": "object", "required": ["type", "geometry", "properties"],
               "properties": {"type": {"type": "string", "enum": ["Feature"]},
                              "id": {"type": "integer"},
                              "geometry": {"type": "object", "nullable": True},
                              "properties": {"type": "object", "nullable": True},
                              "links": links}}
    return {
        "Link": link,
        "Error": {"type": "object", "required": ["detail", "code", "fields", "problems"],
                  "properties": {"detail": {"type": "string"}, "code": {"type": "string"},
                                 "fields": {"type": "object", "additionalProperties": {
                                     "type": "array", "items": {"type": "string"}}},
                                 "problems": {"type": "array", "items": {"type": "object"}}}},
        "Feature": feature,
        "FeatureCollection": {
            "type": "object", "required": ["type", "features"],
            "properties": {"type": {"type": "string", "enum": ["FeatureCollection"]},
                           "features": {"type": "array",
                                        "items": {"$ref": "#/components/schemas/Feature"}},
                           "links": links, "timeStamp": {"type": "string"},
                           "numberMatched": {"type": "integer", "minimum": 0},
                           "numberReturned": {"type": "integer", "minimum": 0}}},
        "Collection": {"type": "object", "required": ["id", "links"],
                       "properties": {"id": {"type": "string"}, "title": {"type": "string"},
                                      "description": {"type": "string"}, "links": links,
                                      "extent": {"type": "object"},
                                      "itemType": {"type": "string"},
                                      "crs": {"type": "array", "items": {"type": "string"}},
                                      "storageCrs": {"type": "string"}}},
        "Collections": {"type": "object", "required": ["collections", "links"],
                        "properties": {"links": links, "collections": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Collection"}}}},
        "LandingPage": {"type": "object", "required": ["links"],
                        "properties": {"title": {"type": "string"},
                                       "description": {"type": "string"}, "links": links}},
        "Conformance": {"type": "object", "required": ["conformsTo"],
                        "properties": {"conformsTo": {"type": "array",
                                                      "items": {"type": "string"}}}},
        "Queryables": {"type": "object", "required": ["type", "properties"],
                       "properties": {"type": {"type": "string"},
                                      "properties": {"type": "object"}}},
    }


def _ok(ref: str, media: str = JSON) -> dict:
    return {"200": {"description": "OK", "content": {
        media: {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}}


def _errors(*statuses: int) -> dict:
    return {str(s): {"$ref": f"#/components/responses/E{s}"} for s in statuses}


def _refs(*names: str) -> list[dict]:
    return [{"$ref": f"#/components/parameters/{n}"} for n in names]


def _collection_paths(c: Collection) -> dict[str, dict]:
    security: list[dict[str, list]] = [] if c.public else [{"apiKey": []}, {"session": []}]
    refused = () if c.public else (403,)
    tag = [c.id]

    def op(op_id: str, summary: str, responses: dict, parameters: list) -> dict:
        out = {"operationId": op_id, "summary": summary, "tags": tag, "parameters": parameters,
               "responses": responses}
        if security:
            out["security"] = security
        return {"get": out}

    base = f"/collections/{c.id}"
    items_params = _refs("limit", "offset", "cursor", "before", "matched", "bbox", "bbox-crs",
                         "crs", "datetime", "filter", "filter-lang", "filter-crs", "f") + [
        _param(p.name, {"type": p.type, **({"enum": list(p.enum)} if p.enum else {})},
               f"Features whose {p.name} equals this value.")
        for p in c.queryables() if p.type in params.SCALAR]
    return {
        base: op(f"describe-{c.id}", f"The collection {c.id}",
                 {**_ok("Collection"), **_errors(400, *refused)}, _refs("f")),
        f"{base}/items": op(f"items-{c.id}", f"Features of {c.id}",
                            {**_ok("FeatureCollection", GEOJSON), **_errors(400, *refused)},
                            items_params),
        f"{base}/items/{{featureId}}": op(
            f"item-{c.id}", f"One feature of {c.id}",
            {**_ok("Feature", GEOJSON), **_errors(400, 404, *refused)},
            _refs("featureId", "crs", "f")),
        f"{base}/queryables": op(f"queryables-{c.id}", f"Queryables of {c.id}",
                                 {**_ok("Queryables", SCHEMA_JSON), **_errors(400, *refused)},
                                 _refs("f")),
    }


def document(base_url: str) -> dict:
    """The OpenAPI 3.0 document; `base_url` is the landing page's absolute URL."""
    paths: dict[str, dict] = {
        "/": {"get": {"operationId": "landing", "summary": "Landing page", "tags": ["server"],
                      "parameters": _refs("f"),
                      "responses": {**_ok("LandingPage"), **_errors(400)}}},
        "/conformance": {"get": {"operationId": "conformance", "summary": "Conformance classes",
                                 "tags": ["server"], "parameters": _refs("f"),
                                 "responses": {**_ok("Conformance"), **_errors(400)}}},
        "/collections": {"get": {"operationId": "collections", "summary": "The collections",
                                 "tags": ["server"], "parameters": _refs("f"),
                                 "responses": {**_ok("Collections"), **_errors(400)}}},
    }
    for c in COLLECTIONS.values():
        paths.update(_collection_paths(c))
    error = {"content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "GeoGrid OGC API – Features", "version": "1.0.0",
                 "description": "Grids, buildings, appeals and hotspots of GeoGrid "
                                "(docs/standards.md).",
                 "license": {"name": "AGPL-3.0-or-later"}},
        "servers": [{"url": base_url.rstrip("/")}],
        "paths": paths,
        "components": {
            "parameters": _parameters(),
            "schemas": _schemas(),
            "responses": {
                "E400": {"description": "A bad parameter", **error},
                "E403": {"description": "Not signed in, or the key may not read this", **error},
                "E404": {"description": "No such feature (or not in the reader's scope)",
                         **error},
            },
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "session": {"type": "apiKey", "in": "cookie",
                            "name": settings.SESSION_COOKIE_NAME},
            },
        },
    }
