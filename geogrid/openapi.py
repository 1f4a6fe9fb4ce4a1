"""The OpenAPI schema (/api/schema/) tells the truth about every answer, errors included.

Every error answer has the one shape of geogrid.errors; this module writes it into the schema
once, so that no view repeats it:

- `ERROR_SCHEMA` / `CONFLICT_SCHEMA` are the components `Error` and `Conflict` (a 409 adds
  `current`);
- `error_responses` (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]) gives every operation the
  errors any of them can answer — 400 (any parameter, even an unknown one carrying a NUL
  byte) and 403 (not signed in, outside the caller's grids, a missing CSRF token) — plus 404
  where the path names something or the list has pages, and 415 where there is a body; it then
  points every 4xx answer of every operation, declared by a view or added here, at `Error`
  (`Conflict` for 409) and gives each 429 its `Retry-After` header;
- a view declares only the errors particular to it, by status and description:
  `responses={200: TheAnswer, **conflict(_("…")), **rate_limited(_("…"))}`.

The answers themselves are serializers (or `GeoJSON…` helpers below) next to the code that
builds them. tests/test_api_fuzz.py sends schema-generated requests to every operation and
fails on any answer the schema does not describe (docs/api-errors.md).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers

ERROR_CODES = ("invalid", "not_authenticated", "forbidden", "not_found", "method_not_allowed",
               "not_acceptable", "unsupported_media_type", "conflict", "rate_limited",
               "server_error")

GEOJSON_FEATURE: dict[str, Any] = {
    "type": "object",
    "description": "a GeoJSON Feature (RFC 7946)",
    "required": ["type", "geometry", "properties"],
    "properties": {
        "type": {"type": "string", "enum": ["Feature"]},
        "id": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
        "geometry": {"type": "object", "nullable": True,
                     "description": "a GeoJSON geometry in WGS 84 longitude/latitude"},
        "properties": {"type": "object", "nullable": True, "additionalProperties": True},
    },
}

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The one error shape of every JSON endpoint (docs/api-errors.md).",
    "required": ["detail", "code", "fields", "problems"],
    "properties": {
        "detail": {"type": "string", "description": "one sentence for a person"},
        "code": {"type": "string", "enum": list(ERROR_CODES),
                 "description": "what kind of error, for programs"},
        "fields": {
            "type": "object",
            "description": "input field → its messages (nested fields as `field.sub`, "
                           "several general messages under `__all__`); {} when none",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
        "problems": {
            "type": "array",
            "description": "GeoJSON Features locating the problems, e.g. a boundary's "
                           "overlaps and gaps (properties.kind, properties.message); [] when none",
            "items": GEOJSON_FEATURE,
        },
    },
}

CONFLICT_SCHEMA: dict[str, Any] = {
    "allOf": [
        {"$ref": "#/components/schemas/Error"},
        {
            "type": "object",
            "required": ["current"],
            "properties": {
                "current": {
                    "type": "object",
                    "additionalProperties": True,
                    "description": "what the object is now, e.g. {\"status\": \"in_progress\", "
                                   "\"version\": 7} for an appeal or {\"version\": 812} for a "
                                   "grid: reload and try again",
                },
            },
        },
    ],
}

RETRY_AFTER: dict[str, Any] = {
    "required": True,
    "description": "seconds until the client's window ends",
    "schema": {"type": "integer", "minimum": 0},
}

DESCRIPTIONS = {
    "400": "the input is not valid: `fields` names each bad parameter or body field",
    "403": "not signed in (`not_authenticated`), or not allowed (`forbidden`): outside your "
           "grids, not your role, or no CSRF token with the session",
    "404": "no such object, or one you may not see (`not_found`: no hint whether it exists), "
           "or a page past the last",
    "405": "the method is not allowed",
    "406": "no answer in an acceptable media type",
    "409": "the object changed since you read it, or its state does not allow this: `current` "
           "says what it is now",
    "415": "the body's media type is not accepted",
    "429": "too many requests from your address: come back after `Retry-After` seconds",
}


def conflict(description: str = DESCRIPTIONS["409"]) -> dict[int, OpenApiResponse]:
    """`responses={…, **conflict("…")}`: the operation may answer 409 (shape: `Conflict`)."""
    return {409: OpenApiResponse(description=str(description))}


def rate_limited(description: str = DESCRIPTIONS["429"]) -> dict[int, OpenApiResponse]:
    """`responses={…, **rate_limited("…")}`: the operation is rate-limited (429, Retry-After)."""
    return {429: OpenApiResponse(description=str(description))}


def error_responses(result: dict, generator: Any = None, request: Any = None,
                    public: bool = True, **kwargs: Any) -> dict:
    """drf-spectacular postprocessing hook: the one error shape on every operation."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    schemas["Conflict"] = CONFLICT_SCHEMA
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            if method not in ("get", "put", "patch", "post", "delete", "head", "options"):
                continue
            responses = operation.setdefault("responses", {})
            for status in _common_errors(path, operation):
                responses.setdefault(status, {})
            for status, response in responses.items():
                if not str(status).startswith("4"):
                    continue
                name = "Conflict" if str(status) == "409" else "Error"
                response["content"] = {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}
                if not response.get("description"):
                    response["description"] = DESCRIPTIONS.get(str(status), "")
                if str(status) == "429":
                    response.setdefault("headers", {})["Retry-After"] = RETRY_AFTER
            operation["responses"] = dict(sorted(responses.items()))
    return result


def _common_errors(path: str, operation: dict) -> list[str]:
    statuses = ["400", "403"]
    paged = any(p.get("in") == "query" and p.get("name") == "page"
                for p in operation.get("parameters", []))
    if "{" in path or paged:
        statuses.append("404")
    if "requestBody" in operation:
        statuses.append("415")
    return statuses


# --- GeoJSON in answers --------------------------------------------------------------------


@extend_schema_field({"type": "object", "nullable": True,
                      "description": "a GeoJSON geometry in WGS 84 longitude/latitude",
                      "required": ["type"],
                      "properties": {"type": {"type": "string"}}})
class GeoJSONGeometryField(serializers.JSONField):
    """A GeoJSON geometry object (or null), for the docs of answers built as dicts."""


@extend_schema_field({"type": "array", "minItems": 2, "maxItems": 2,
                      "items": {"type": "number"}, "description": "[longitude, latitude]"})
class LonLatField(serializers.JSONField):
    pass


@extend_schema_field(OpenApiTypes.OBJECT)
class AnyObjectField(serializers.JSONField):
    """An object whose keys vary (documented in the field's help_text)."""
