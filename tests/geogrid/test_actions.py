"""An action registry drives the endpoints, their input checks, the OpenAPI schema and the
labels: declaring an action is the only edit (geogrid.actions)."""

from __future__ import annotations

import types
from typing import Any

import pytest
from django.test import override_settings
from django.urls import path
from django.utils import translation
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.views import SpectacularAPIView
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from geogrid.actions import ActionRegistry, ActionView
from geogrid.errors import Conflict

# A throwaway layer: lamps kept in a dict, polished by anyone, switched off by nobody.
LAMPS: dict[str, dict[str, Any]] = {}


class PolishInput(serializers.Serializer):
    shine = serializers.IntegerField(min_value=1, max_value=10, label="shine")


def make_registry() -> ActionRegistry:
    toys = ActionRegistry("lamp")

    @toys.action("polish", label=translation.gettext_lazy("Close"), sources=("dull",),
                 who=lambda actor, lamp: "anyone", inputs=PolishInput)
    def polish(key: str, actor: Any, *, shine: int, version: int | None = None,
               note: str = "", at: Any = None) -> dict:
        """Make a dull lamp shine."""
        lamp = LAMPS[key]
        if version != lamp["version"]:
            raise Conflict("stale", current={"version": lamp["version"]})
        lamp.update(state="shiny", shine=shine, version=lamp["version"] + 1, note=note)
        return lamp

    @toys.action("switch_off", label="Switch off", sources=("shiny",), who=lambda a, o: None,
                 internal=True)
    def switch_off(key: str, actor: Any, **kwargs: Any) -> None:
        """Nobody over HTTP."""

    return toys


class LampActionView(ActionView):
    permission_classes = [AllowAny]

    def load(self, request: Any, **kwargs: Any) -> str:
        return kwargs["key"]

    def actor(self, request: Any, ref: str) -> None:
        return None

    def respond(self, request: Any, ref: str, actor: Any, result: dict) -> Response:
        return Response(result)


def urlconf(registry: ActionRegistry) -> types.ModuleType:
    module = types.ModuleType("lamp_urls")
    module.urlpatterns = [  # type: ignore[attr-defined]
        *registry.urls("lamps/<str:key>/actions/<action>/", LampActionView, name="lamp"),
        path("schema/", SpectacularAPIView.as_view(), name="schema"),
    ]
    return module


@pytest.fixture
def lamps():
    LAMPS.clear()
    LAMPS["a"] = {"state": "dull", "version": 1}
    registry = make_registry()
    with override_settings(ROOT_URLCONF=urlconf(registry)):
        yield registry


def test_the_endpoint_validates_the_declared_fields_and_calls_the_service(client, lamps):
    url = "/lamps/a/actions/polish/"
    bad = client.post(url, {"version": 1, "shine": 11}, content_type="application/json")
    assert bad.status_code == 400 and list(bad.json()["fields"]) == ["shine"]
    no_version = client.post(url, {"shine": 5}, content_type="application/json")
    assert no_version.status_code == 400 and list(no_version.json()["fields"]) == ["version"]
    assert LAMPS["a"]["state"] == "dull"
    ok = client.post(url, {"version": 1, "shine": 5, "note": "elbow grease"},
                     content_type="application/json")
    assert ok.status_code == 200 and ok.json()["state"] == "shiny"
    stale = client.post(url, {"version": 1, "shine": 5}, content_type="application/json")
    assert stale.status_code == 409 and stale.json()["current"] == {"version": 2}
    # Internal actions get no endpoint.
    assert client.post("/lamps/a/actions/switch_off/", {}).status_code == 404


def test_the_schema_documents_each_action_with_its_fields(lamps):
    schema = SchemaGenerator(urlconf=urlconf(lamps)).get_schema(request=None, public=True)
    operation = schema["paths"]["/lamps/{key}/actions/polish/"]["post"]
    assert operation["operationId"] == "lamp_action_polish"
    assert operation["description"] == "Make a dull lamp shine."
    body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][body.rsplit("/", 1)[-1]]
    assert set(component["properties"]) == {"version", "note", "shine"}
    assert set(component["required"]) == {"version", "shine"}
    assert "/lamps/{key}/actions/switch_off/" not in schema["paths"]


def test_labels_and_screen_data_follow_the_request_language(lamps):
    with translation.override("zh-hans"):
        assert lamps.labels()["polish"] == "结案"  # the label is a lazy msgid, not frozen
        (polish,) = lamps.client_data()
    with translation.override("en"):
        assert lamps.labels()["polish"] == "Close"
    assert polish["name"] == "polish" and polish["version"] is True
    shine = next(f for f in polish["fields"] if f["name"] == "shine")
    assert shine == {"name": "shine", "required": True, "type": "number", "label": "shine"}
    assert lamps.available("dull", None, None) == ["polish"]
    assert lamps.available("shiny", None, None) == []


def test_an_action_declared_twice_is_refused():
    registry = make_registry()
    with pytest.raises(ValueError, match="declared twice"):
        registry.action("polish", label="again", sources=(), who=lambda a, o: None)(print)
