"""The queryables of a collection (Part 3): a JSON Schema of the properties a CQL2 filter may
name, written from the collection's allow-list (layers/ogcapi/collections.py), so the schema
and the filter translator (cql.py) agree by construction."""

from __future__ import annotations

from typing import Any

from . import collections as c

_TYPES: dict[str, dict[str, Any]] = {
    c.STRING: {"type": "string"}, c.INTEGER: {"type": "integer"},
    c.NUMBER: {"type": "number"}, c.BOOLEAN: {"type": "boolean"},
    c.DATETIME: {"type": "string", "format": "date-time"},
    c.DATE: {"type": "string", "format": "date"},
}
_GEOMETRY_FORMATS = {"Point": "geometry-point", "Polygon": "geometry-polygon",
                     "MultiPolygon": "geometry-multipolygon"}


def queryables(collection: c.Collection, url: str) -> dict[str, Any]:
    props: dict[str, Any] = {
        "geometry": {"title": "geometry", "format": _GEOMETRY_FORMATS[collection.geometry_type],
                     "x-ogc-role": "primary-geometry"},
    }
    for p in collection.queryables():
        schema = {"title": str(p.title or p.name), **_TYPES[p.type]}
        if p.enum:
            schema["enum"] = list(p.enum)
        props[p.name] = schema
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": url,
        "type": "object",
        "title": str(collection.title),
        "properties": props,
        "additionalProperties": False,
    }
