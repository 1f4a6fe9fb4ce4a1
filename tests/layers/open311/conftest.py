"""The Open311 tests' world: the layers test city (district X = 350427, micro-grids A, B, C)
plus a district Y, a department, API clients, and appeals filed through the real intake by a
named reporter with a phone number (which no Open311 answer may show)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from django.contrib.auth.models import Group
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from geogrid import apiclients
from geogrid.models import Post
from layers.appeals import transitions
from layers.appeals.actors import SYSTEM
from layers.appeals.intake import AppealInput, submit_appeal
from layers.appeals.models import Appeal, Department
from tests.factories import assign, make_grid, make_user
from tests.layers.factories import DISTRICT, A, B, box, make_city

Y = "350428"
YA = Y + "001001001001"
POINT = {A: (117.795, 26.40), B: (117.805, 26.405), YA: (117.845, 26.40)}
REPORTER_PHONE = "13812345678"
REPORTER_NAME = ("Zhangsan", "Reporterson")
BASE = "/open311/v2/"
SCHEMAS = Path(__file__).parent / "schemas"


@dataclass
class World:
    grids: dict
    dept: Department
    reporter: Any
    keys: dict[str, str] = field(default_factory=dict)  # client name → raw key
    clients: dict[str, Any] = field(default_factory=dict)

    def file(self, code: str = A, category: str = "R0102", description: str = "路灯不亮",
             **extra: Any) -> Appeal:
        lon, lat = POINT[code]
        return submit_appeal(AppealInput(category=category, lon=lon, lat=lat,
                                         description=description,
                                         contact_phone=REPORTER_PHONE, **extra),
                             actor=self.reporter).appeal

    def to_department(self, appeal: Appeal) -> Appeal:
        transitions.accept(appeal, SYSTEM)
        return transitions.dispatch(appeal, SYSTEM, department=self.dept.code)


def build_world() -> World:
    grids = make_city()
    grids[Y] = make_grid(Y, boundary=box(117.83, 26.38, 117.88, 26.42), name="区Y")
    parent = grids[Y]
    for code, name in ((Y + "001", "街道Y"), (Y + "001001", "社区Y"), (Y + "001001001", "片区Y"),
                       (YA, "微网格YA")):
        grids[code] = parent = make_grid(code, parent=parent,
                                         boundary=box(117.84, 26.39, 117.85, 26.41), name=name)
    reporter = make_user("resident", first_name=REPORTER_NAME[0], last_name=REPORTER_NAME[1],
                         email="zhangsan@example.com")
    dept = Department.objects.create(code="SWJ", name_zh="水务局", name_en="Water bureau")
    w = World(grids=grids, dept=dept, reporter=reporter)
    for name, perms, scopes in (
            ("water works system", ["update", "read_appeals"], [DISTRICT]),
            ("hotline 12345", ["submit", "read_appeals"], [DISTRICT]),
            ("district Y system", ["update", "read_appeals", "submit"], [Y]),
            ("reader without rights", ["read_buildings"], [DISTRICT])):
        client, raw = apiclients.create_client(name, permissions=perms, scopes=scopes)
        w.clients[name], w.keys[name] = client, raw
    dept.members.add(w.clients["water works system"].user)
    dept.members.add(w.clients["district Y system"].user)
    hotline = w.clients["hotline 12345"].user
    hotline.groups.add(Group.objects.get_or_create(name="dispatcher")[0])
    assign(hotline, grids[DISTRICT], Post.DISPATCHER)
    return w


@pytest.fixture
def world(db) -> World:
    return build_world()


# --- reading answers -----------------------------------------------------------------------
def _registry() -> Registry:
    resources = [(p.name, Resource.from_contents(json.loads(p.read_text()), DRAFT4))
                 for p in SCHEMAS.glob("*.json")]
    return Registry().with_resources(resources)


REGISTRY = _registry()


def validate(body: Any, schema: str) -> None:
    """Hold an answer to one of the vendored Open311 schemas (draft 4, formats checked)."""
    contents = json.loads((SCHEMAS / schema).read_text())
    jsonschema.Draft4Validator(contents, registry=REGISTRY,
                               format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
                               ).validate(body)


LISTS = {"endpoints", "formats", "attributes", "values"}


def from_xml(content: bytes) -> Any:
    """An XML answer back into the JSON's structure (every value as text, empty = None)."""
    assert content.startswith(b'<?xml version="1.0" encoding="utf-8"?>'), content[:60]
    root = ET.fromstring(content)

    def read(element: ET.Element) -> Any:
        children = list(element)
        if element.tag in LISTS:
            return [read(c) for c in children]
        if not children:
            return element.text
        return {c.tag: read(c) for c in children}

    if root.tag in ("discovery", "service_definition"):
        return read(root)
    return [read(item) for item in root]


def as_text(value: Any) -> Any:
    """The JSON answer with every scalar as XML writes it."""
    if isinstance(value, dict):
        return {k: as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_text(v) for v in value]
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def errors_of(response, status: int, fmt: str = "json") -> str:
    """The one error's description, after checking the spec's shape."""
    assert response.status_code == status, response.content
    if fmt == "xml":
        assert response["Content-Type"] == "text/xml; charset=utf-8"
        root = ET.fromstring(response.content)
        assert root.tag == "errors" and [e.tag for e in root] == ["error"]
        assert root.find("error/code").text == str(status)
        return root.find("error/description").text or ""
    assert response["Content-Type"] == "application/json; charset=utf-8"
    body = response.json()
    assert isinstance(body, list) and len(body) == 1 and set(body[0]) == {"code",
                                                                          "description"}
    assert body[0]["code"] == status and body[0]["description"]
    return body[0]["description"]
