"""The OpenAPI schema's own promises (geogrid.openapi); tests/test_api_fuzz.py holds the
answers to it.

Every operation documents its errors in the one shape (`Error`, `Conflict` for 409, 429 with
Retry-After), every JSON answer has a described shape (no bare `object`), and each workflow
action's endpoint documents its own input (they all used to show the last action's)."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from layers.appeals.transitions import APPEAL_ACTIONS

METHODS = ("get", "put", "patch", "post", "delete")


@pytest.fixture(scope="module")
def schema(tmp_path_factory):
    import json

    out = tmp_path_factory.mktemp("schema") / "schema.json"
    # --validate: the schema is valid OpenAPI 3 (drf-spectacular checks it with its validator).
    call_command("spectacular", "--validate", "--format", "openapi-json", "--file", str(out))
    return json.loads(out.read_text(encoding="utf-8"))


def operations(schema):
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                yield f"{method.upper()} {path}", item[method]


def resolve(schema, node):
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def test_every_operation_documents_its_errors_in_the_one_shape(schema):
    assert schema["components"]["schemas"]["Error"]["required"] == [
        "detail", "code", "fields", "problems"]
    for label, operation in operations(schema):
        responses = operation["responses"]
        assert {"400", "403"} <= set(responses), label
        if "{" in label:
            assert "404" in responses, label
        for status, response in responses.items():
            if status.startswith("4"):
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/Conflict" if status == "409" else "/Error"), label
                assert response["description"], (label, status)
        if "429" in responses:
            assert responses["429"]["headers"]["Retry-After"]["required"], label


# Answers still documented as any object, by the layer that owns them: remove an entry once its
# answer has a serializer (the test fails while an entry is no longer needed).
UNDESCRIBED = {"POST /api/v1/people/imports/"}


def test_every_json_answer_has_a_described_shape(schema):
    undescribed = set()
    for label, operation in operations(schema):
        for status, response in operation["responses"].items():
            content = response.get("content", {}).get("application/json")
            if not status.startswith("2") or content is None:
                continue
            body = resolve(schema, content["schema"])
            if not ("properties" in body or "items" in body or "oneOf" in body
                    or "allOf" in body):
                undescribed.add(label)
    assert undescribed == UNDESCRIBED


def test_each_action_documents_its_own_input(schema):
    paths = schema["paths"]
    for name in APPEAL_ACTIONS.names:
        operation = paths[f"/api/v1/appeals/{{tracking}}/actions/{name}/"]["post"]
        assert operation["operationId"] == f"appeal_action_{name}"
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        camel = "".join(part.capitalize() for part in f"appeal_{name}".split("_"))
        assert ref.endswith(f"/{camel}Input"), (name, ref)
    dispatch = resolve(schema, {"$ref": "#/components/schemas/AppealDispatchInput"})
    assert {"grid", "department", "version"} <= set(dispatch["properties"])
    assert paths["/api/v1/appeals/{tracking}/feedback/"]["post"]["operationId"] == \
        "appeal_feedback"


def test_grid_pages_are_documented_as_answered(schema):
    # They were documented with DRF's `results` (required) and answered `features`.
    page = resolve(schema, schema["paths"]["/api/v1/grids/"]["get"]["responses"]["200"]
                   ["content"]["application/json"]["schema"])
    assert page["required"] == ["type", "count", "next", "previous", "features"]
    assert page["properties"]["features"]["type"] == "array"
    at = schema["paths"]["/api/v1/grids/at/"]["get"]
    assert {p["name"] for p in at["parameters"] if p.get("required")} == {"lon", "lat"}
