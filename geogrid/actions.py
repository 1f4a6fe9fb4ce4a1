"""Action registries: each workflow action of a layer declared once.

A layer makes one `ActionRegistry` and declares every action on its service function:

    APPEAL_ACTIONS = ActionRegistry("appeal")

    @APPEAL_ACTIONS.action("dispatch", label=_("Dispatch"), sources=(ACCEPTED, RETURNED),
                           who=as_dispatcher, inputs=DispatchInput)
    def dispatch(ref, actor, *, grid=None, department=None, version=None, note="", at=None):
        ...

Everything else reads the registry, so adding an action is one edit:
- the transition frame checks `sources` and `who` (layers/<layer>/transitions.py);
- `input_serializer(name)` validates the request body at the edge (version, note and the
  action's own fields, with lengths and ranges) and is the request schema in OpenAPI;
- `urls()` makes one endpoint per action (`…/actions/<name>/`) with its own schema;
- `labels()` and `client_data()` give the screens the names, labels (in the request's
  language, not frozen at import) and the fields to ask for (sent with `json_script`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from django.urls import URLPattern, path
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from geogrid.inputs import StrictCharField

NOTE_MAX = 2000
NoteRule = Literal["optional", "required", "none"]


@dataclass(frozen=True)
class Action:
    name: str
    label: str | Promise
    sources: tuple[str, ...]
    who: Callable[[Any, Any], str | None]  # (actor, object) → the role acting, or None
    service: Callable[..., Any]
    inputs: type[serializers.Serializer] | None = None  # the action's own fields
    version: bool = True  # the client must send the version it last read
    note: NoteRule = "optional"
    internal: bool = False  # taken by the system only: no endpoint, not offered on screens
    help: str = ""  # for the API docs; defaults to the service's docstring

    def allowed(self, state: str, actor: Any, obj: Any) -> bool:
        return state in self.sources and bool(self.who(actor, obj))


@dataclass
class ActionRegistry:
    """The actions of one layer's workflow, in declaration order."""

    layer: str
    _actions: dict[str, Action] = field(default_factory=dict)

    def action(self, name: str, *, label: str | Promise, sources: tuple[str, ...],
               who: Callable[[Any, Any], str | None],
               inputs: type[serializers.Serializer] | None = None, version: bool = True,
               note: NoteRule = "optional", internal: bool = False,
               ) -> Callable[[Callable], Callable]:
        """Decorator: declare the decorated service function as action `name`."""

        def register(service: Callable) -> Callable:
            self.add(Action(name=name, label=label, sources=tuple(sources), who=who,
                            service=service, inputs=inputs, version=version, note=note,
                            internal=internal, help=(service.__doc__ or "").strip()))
            return service

        return register

    def add(self, action: Action) -> Action:
        if action.name in self._actions:
            raise ValueError(f"{self.layer} action {action.name!r} is declared twice")
        self._actions[action.name] = action
        self.__dict__.pop("_serializers", None)
        return action

    # -- reading ---------------------------------------------------------------------------
    def __getitem__(self, name: str) -> Action:
        return self._actions[name]

    def __contains__(self, name: object) -> bool:
        return name in self._actions

    def __iter__(self) -> Iterator[Action]:
        return iter(self._actions.values())

    def public(self) -> list[Action]:
        """The actions people take (endpoints, screens); internal ones are left out."""
        return [a for a in self if not a.internal]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.public())

    def available(self, state: str, actor: Any, obj: Any) -> list[str]:
        """The actions `actor` may take on `obj` in `state`."""
        return [a.name for a in self.public() if a.allowed(state, actor, obj)]

    def labels(self) -> dict[str, str]:
        """Action → label in the active language (evaluated now, not at import)."""
        return {a.name: str(a.label) for a in self}

    # -- input at the edge -----------------------------------------------------------------
    @cached_property
    def _serializers(self) -> dict[str, type[serializers.Serializer]]:
        return {a.name: _input_serializer(self.layer, a) for a in self}

    def input_serializer(self, name: str) -> type[serializers.Serializer]:
        return self._serializers[name]

    def client_data(self) -> list[dict]:
        """What a screen needs to offer the actions: name, label and the fields to ask for."""
        out = []
        for action in self.public():
            fields = []
            for fname, f in self.input_serializer(action.name)().fields.items():
                if fname == "version":
                    continue
                item: dict[str, Any] = {"name": fname, "required": f.required,
                                        "type": _field_type(f), "label": str(f.label or fname)}
                if isinstance(f, serializers.ChoiceField):
                    item["choices"] = [[k, str(v)] for k, v in f.choices.items()]
                max_length = getattr(f, "max_length", None)
                if max_length:
                    item["max_length"] = max_length
                fields.append(item)
            out.append({"name": action.name, "label": str(action.label),
                        "version": action.version, "fields": fields})
        return out

    # -- endpoints -------------------------------------------------------------------------
    def urls(self, route: str, view: type[ActionView], name: str) -> list[URLPattern]:
        """One endpoint per action: `route` with `<action>` replaced by the action's name,
        served by a subclass of `view` (an ActionView) that knows its action."""
        return [
            path(route.replace("<action>", a.name), view.for_action(self, a.name),
                 name=f"{name}-{a.name}")
            for a in self.public()
        ]


def _input_serializer(layer: str, action: Action) -> type[serializers.Serializer]:
    attrs: dict[str, Any] = {
        "version": serializers.IntegerField(
            required=action.version, min_value=1, max_value=2**31 - 1,
            help_text="the version of the object you last read (a stale one gets a 409)"),
    }
    if action.note == "required":
        attrs["note"] = StrictCharField(max_length=NOTE_MAX, label=gettext_lazy("Note"))
    elif action.note == "optional":
        attrs["note"] = StrictCharField(required=False, allow_blank=True, max_length=NOTE_MAX,
                                        default="", label=gettext_lazy("Note"))
    bases = (action.inputs,) if action.inputs else (serializers.Serializer,)
    camel = "".join(part.capitalize() for part in f"{layer}_{action.name}".split("_"))
    return type(f"{camel}Input", bases, attrs)


def _field_type(f: serializers.Field) -> str:
    if isinstance(f, serializers.ChoiceField):
        return "choice"
    if isinstance(f, (serializers.IntegerField, serializers.FloatField,
                      serializers.DecimalField)):
        return "number"
    if isinstance(f, serializers.ListField) and isinstance(f.child, serializers.FileField):
        return "files"
    return "text"


class ActionView(APIView):
    """POST one action: validate the body with the action's input serializer, call its
    service, answer the object as the viewer now sees it. A layer subclasses this and fills
    in the three hooks; errors are raised and shaped by geogrid.errors."""

    registry: ActionRegistry
    action_name: str

    def load(self, request: Request, **kwargs: Any) -> Any:
        """The object's reference for the service (raises Http404 when it is not there)."""
        raise NotImplementedError

    def actor(self, request: Request, ref: Any) -> Any:
        raise NotImplementedError

    def respond(self, request: Request, ref: Any, actor: Any, result: Any) -> Response:
        raise NotImplementedError

    def extra_inputs(self, request: Request) -> dict[str, Any]:
        """Inputs that do not come from the body's fields (none by default)."""
        return {}

    def post(self, request: Request, **kwargs: Any) -> Response:
        action = self.registry[self.action_name]
        ref = self.load(request, **kwargs)
        actor = self.actor(request, ref)
        data = request.data if hasattr(request.data, "get") else {}
        inputs = self.registry.input_serializer(action.name)(data=data)
        inputs.is_valid(raise_exception=True)
        result = action.service(ref, actor, **inputs.validated_data,
                                **self.extra_inputs(request))
        return self.respond(request, ref, actor, result)

    @classmethod
    def for_action(cls, registry: ActionRegistry, name: str,
                   operation_id: str | None = None) -> Callable:
        action = registry[name]
        camel = "".join(p.capitalize() for p in f"{registry.layer}_{name}".split("_"))

        # A function of its own per action: extend_schema annotates the function it decorates,
        # and decorating the shared `cls.post` gave every action the last one's schema.
        def post(self: ActionView, request: Request, **kwargs: Any) -> Response:
            return cls.post(self, request, **kwargs)

        post = extend_schema(
            operation_id=operation_id or f"{registry.layer}_action_{name}",
            summary=f"{registry.layer}: {action.label}",
            description=action.help,
            request={"application/json": registry.input_serializer(name),
                     "multipart/form-data": registry.input_serializer(name)},
            responses=cls.action_response_schema(name),
        )(post)
        view: type[ActionView] = type(f"{camel}ActionView", (cls,),
                                      {"registry": registry, "action_name": name, "post": post})
        return view.as_view()

    @classmethod
    def response_schema(cls) -> Any:
        """The answers of every action's endpoint, for the API docs (`extend_schema`
        responses); the error shape is added to every operation by geogrid.openapi."""
        return None

    @classmethod
    def action_response_schema(cls, name: str) -> Any:
        """The answers of action `name`'s endpoint; `response_schema()` unless overridden."""
        return cls.response_schema()
