"""Open311 answers: JSON or XML by the path's extension, errors in the spec's shape.

- JSON: `application/json; charset=utf-8`, the list or object as is (non-ASCII unescaped).
- XML: `text/xml; charset=utf-8`, the XML declaration first, then one root per kind of
  answer (ROOTS) with one element per list item; a nested list is a container whose items
  take the singular name (ITEMS: endpoints/endpoint, attributes/attribute, …). `None` is an
  empty element, booleans are `true`/`false`. Characters XML 1.0 cannot carry (control
  characters stored by an import) are dropped from XML text.
- Errors: `[{"code": 404, "description": "…"}]` or `<errors><error><code>404</code>
  <description>…</description></error></errors>`, whatever the status (400, 403, 404, 405,
  500). The format of an error follows the path too: a path ending in `.xml` gets XML, any
  other path JSON.
- Moments are W3C date-times with the deployment's offset, to the second
  (`2026-05-01T09:30:00+08:00`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# The XML root of each kind of answer, and the element of one of its items.
ROOTS = {
    "discovery": ("discovery", None),
    "services": ("services", "service"),
    "service_definition": ("service_definition", None),
    "requests": ("service_requests", "request"),
    "updates": ("service_request_updates", "request_update"),
    "errors": ("errors", "error"),
}
# Nested lists: container name → item name.
ITEMS = {"endpoints": "endpoint", "formats": "format", "attributes": "attribute",
         "values": "value"}
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def format_of(request: HttpRequest) -> str:
    """The answer's format: XML for a path ending in .xml, else JSON."""
    return "xml" if request.path.lower().endswith(".xml") else "json"


def w3c(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return timezone.localtime(moment).isoformat(timespec="seconds")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(parent: ET.Element, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, Mapping):
        for key, inner in value.items():
            _add(parent, str(key), inner)
    else:
        parent.text = _text(value)


def _add(parent: ET.Element, name: str, value: Any) -> None:
    element = ET.SubElement(parent, name)
    if isinstance(value, list):
        item_name = ITEMS.get(name, "item")
        for item in value:
            _fill(ET.SubElement(element, item_name), item)
    else:
        _fill(element, value)


def to_xml(kind: str, data: Any) -> bytes:
    root_name, item_name = ROOTS[kind]
    root = ET.Element(root_name)
    if item_name is None:
        _fill(root, data)
    else:
        for item in data:
            _fill(ET.SubElement(root, item_name), item)
    body = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body).encode("utf-8")


def render(fmt: str, kind: str, data: Any, status: int = 200) -> HttpResponse:
    if fmt == "xml":
        content = to_xml(kind, data)
    else:
        content = json.dumps(data, ensure_ascii=False).encode("utf-8")
    return HttpResponse(content, status=status, content_type=CONTENT_TYPES[fmt])


def error_response(fmt: str, status: int, description: str,
                   headers: Mapping[str, str] | None = None) -> HttpResponse:
    response = render(fmt, "errors", [{"code": status, "description": str(description)}],
                      status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def render_error(request: HttpRequest, status: int, detail: str) -> HttpResponse:
    """geogrid.errors' renderer for /open311/: unknown paths, Django's refusals, crashes."""
    return error_response(format_of(request), status, detail)
