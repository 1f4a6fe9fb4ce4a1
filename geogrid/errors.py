"""One error contract for every JSON endpoint.

Every error answer has the same body, whatever raised it (docs/api-errors.md):

    {"detail":   "one sentence for a person",
     "code":     "invalid" | "not_authenticated" | "forbidden" | "not_found" | "conflict" |
                 "rate_limited" | "method_not_allowed" | "unsupported_media_type" |
                 "not_acceptable" | "server_error",
     "fields":   {"lat": ["…"], …},          # per input field; {} when none
     "problems": [GeoJSON Feature, …]}        # e.g. topology problems; [] when none

The HTTP status comes from the exception class, never from the view: services raise
Django's ValidationError (400, naming fields) and PermissionDenied (403), or one of the
ApiError classes below (Conflict 409, RateLimited 429 with Retry-After, …); DRF's own
exceptions map the same way. `api_exception_handler` is DRF's EXCEPTION_HANDLER;
`json_400`/`json_403`/`json_404`/`json_500` answer non-DRF failures under /api/ in the same
shape.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
    ValidationError,
)
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_default_handler

# Paths answered in JSON, errors included (a map library asks /tiles/… for vector tiles and
# reads their errors as JSON; a tile address the URLconf cannot match is a 404 like any other).
JSON_PREFIXES = ("/api/", "/tiles/", "/open311/", "/ogcapi/")

# A standard answers its errors in its own shape (Open311's [{code, description}], in XML or
# JSON): the app serving the prefix registers a renderer when it loads (geogrid imports no
# layer). The handlers below and geogrid.middleware ask `renderer_for` before the one shape.
ErrorRenderer = Callable[[HttpRequest, int, str], HttpResponse]
_RENDERERS: dict[str, ErrorRenderer] = {}


def register_error_renderer(prefix: str, render: ErrorRenderer) -> None:
    """`render(request, status, detail)` answers every error under `prefix` that no view
    answered itself (unknown paths, Django's refusals, crashes, NUL in the query)."""
    _RENDERERS[prefix] = render


def renderer_for(request: HttpRequest) -> ErrorRenderer | None:
    found = [p for p in _RENDERERS if request.path.startswith(p)]
    return _RENDERERS[max(found, key=len)] if found else None


class ApiError(Exception):
    """An error with its HTTP status, for services and views alike."""

    status = 400
    code = "invalid"

    def __init__(self, detail: str, *, fields: Mapping[str, Iterable[str]] | None = None,
                 problems: list[dict] | None = None, extra: Mapping[str, Any] | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = str(detail)
        self.fields = {k: [str(m) for m in v] for k, v in (fields or {}).items()}
        self.problems = list(problems or [])
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})


class Invalid(ApiError):
    """Bad input that is not one field's fault alone (400)."""


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    """The object changed since the client read it, or its state does not allow the action.
    `current` (e.g. {"status": …, "version": …}) lets the client reload and retry."""

    status, code = 409, "conflict"

    def __init__(self, detail: str, *, current: Mapping[str, Any] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(detail, extra={"current": dict(current or {})}, **kwargs)
        self.current = dict(current or {})


def integrity_conflict(exc: Exception) -> Conflict:
    """A constraint the database enforces refused a change (another request won a race): 409,
    naming the constraint."""
    diag = getattr(getattr(exc, "__cause__", None), "diag", None)
    name = getattr(diag, "constraint_name", None) or "constraint"
    return Conflict(_("the register changed meanwhile: %(e)s") % {"e": name})


class RateLimited(ApiError):
    status, code = 429, "rate_limited"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(int(retry_after))})
        self.retry_after = int(retry_after)


def error_body(detail: str, code: str, fields: Mapping[str, list[str]] | None = None,
               problems: list[dict] | None = None, **extra: Any) -> dict:
    return {"detail": detail, "code": code, "fields": dict(fields or {}),
            "problems": list(problems or []), **extra}


def validation_fields(exc: ValidationError) -> dict[str, list[str]]:
    """Django ValidationError → {field: [messages]}; messages without a field under '__all__'
    are returned as the detail instead (see `from_django_validation`)."""
    if hasattr(exc, "error_dict"):
        return {name: [str(m) for e in errs for m in e.messages]
                for name, errs in exc.error_dict.items()}
    return {}


def _flatten_drf(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail → {"field" or "field.sub": [messages]}."""
    if isinstance(detail, Mapping):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.update(_flatten_drf(value, name))
        return out
    if isinstance(detail, list):
        if all(not isinstance(v, (Mapping, list)) for v in detail):
            return {prefix or "non_field_errors": [str(v) for v in detail]}
        out = {}
        for i, value in enumerate(detail):
            out.update(_flatten_drf(value, f"{prefix}.{i}" if prefix else str(i)))
        return out
    return {prefix or "non_field_errors": [str(detail)]}


def _summary(fields: Mapping[str, list[str]], fallback: str) -> str:
    for name, messages in fields.items():
        if messages:
            general = name in ("non_field_errors", "__all__")
            return messages[0] if general else f"{name}: {messages[0]}"
    return fallback


def _lift_general(fields: dict[str, list[str]]) -> tuple[dict[str, list[str]], list[str]]:
    general = fields.pop("non_field_errors", []) + fields.pop("__all__", [])
    return fields, general


def to_response_parts(exc: BaseException) -> tuple[int, dict, dict[str, str]] | None:
    """(status, body, headers) for any exception the contract knows; None for the rest."""
    if isinstance(exc, ApiError):
        body = error_body(exc.detail, exc.code, exc.fields, exc.problems, **exc.extra)
        return exc.status, body, exc.headers
    if isinstance(exc, ValidationError):
        fields, general = _lift_general(validation_fields(exc))
        if not fields and not general:
            general = [str(m) for m in exc.messages]
        detail = general[0] if general else _summary(fields, _("The input is not valid."))
        # A rejection that knows where (geogrid.versions.TopologyRejected) lists its problems
        # as GeoJSON Features, so a map can draw them.
        problems = [p.as_feature() for p in getattr(exc, "problems", None) or ()]
        if len(general) > 1:
            fields = {**fields, "__all__": general}
        return 400, error_body(detail, "invalid", fields, problems), {}
    if isinstance(exc, PermissionDenied):
        detail = str(exc) or _("You may not do this.")
        return 403, error_body(detail, "forbidden"), {}
    if isinstance(exc, Http404):
        return 404, error_body(_("Not found."), "not_found"), {}
    if isinstance(exc, drf.ValidationError):
        fields, general = _lift_general(_flatten_drf(exc.detail))
        detail = general[0] if general else _summary(fields, _("The input is not valid."))
        return 400, error_body(detail, "invalid", fields), {}
    if isinstance(exc, drf.APIException):
        code = {
            drf.NotAuthenticated: "not_authenticated", drf.AuthenticationFailed:
            "not_authenticated", drf.PermissionDenied: "forbidden", drf.NotFound: "not_found",
            drf.MethodNotAllowed: "method_not_allowed", drf.NotAcceptable: "not_acceptable",
            drf.UnsupportedMediaType: "unsupported_media_type", drf.Throttled: "rate_limited",
            drf.ParseError: "invalid",
        }.get(type(exc), "invalid" if exc.status_code < 500 else "server_error")
        headers: dict[str, str] = {}
        if isinstance(exc, drf.Throttled):
            wait = exc.wait  # type: ignore[attr-defined]  # set by __init__; missing in the stubs
            if wait is not None:
                headers["Retry-After"] = str(int(wait) + 1)
        status = exc.status_code
        if isinstance(exc, (drf.NotAuthenticated, drf.AuthenticationFailed)):
            status = 403  # session auth: no WWW-Authenticate challenge to offer
        return status, error_body(str(exc.detail), code), headers
    return None


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every known error in the one shape; others stay 500s (and are
    answered by `json_500` in the same shape)."""
    parts = to_response_parts(exc)
    if parts is None:
        return drf_default_handler(exc, context)
    status, body, headers = parts
    return Response(body, status=status, headers=headers)


def error_response(exc: BaseException) -> JsonResponse:
    """The contract for plain Django views (JsonResponse), e.g. the analytics endpoints' tiles."""
    parts = to_response_parts(exc)
    if parts is None:
        raise exc
    status, body, headers = parts
    response = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    for name, value in headers.items():
        response[name] = value
    return response


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith(JSON_PREFIXES) or "application/json" in request.headers.get(
        "Accept", "")


def json_400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler400: Django's own refusals (a body over DATA_UPLOAD_MAX_MEMORY_SIZE, too many
    fields or files: SuspiciousOperation) in the one shape under /api/, its page elsewhere."""
    if wants_json(request):
        too_big = isinstance(exception, (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent))
        detail = _("The request is too large.") if too_big else _("The request is not valid.")
        if (render := renderer_for(request)) is not None:
            return render(request, 400, detail)
        return JsonResponse(error_body(detail, "invalid"), status=400)
    from django.views.defaults import bad_request

    return bad_request(request, exception or SuspiciousOperation())


def json_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler403: a PermissionDenied outside DRF in the one shape under /api/."""
    if wants_json(request):
        detail = str(exception or "") or _("You may not do this.")
        if (render := renderer_for(request)) is not None:
            return render(request, 403, detail)
        return JsonResponse(error_body(detail, "forbidden"), status=403)
    from django.views.defaults import permission_denied

    return permission_denied(request, exception or PermissionDenied())


def json_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: JSON in the one shape under /api/, Django's page elsewhere."""
    if wants_json(request):
        if (render := renderer_for(request)) is not None:
            return render(request, 404, _("Not found."))
        return JsonResponse(error_body(_("Not found."), "not_found"), status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception or Http404())


def json_500(request: HttpRequest) -> HttpResponse:
    """handler500: JSON in the one shape under /api/ (DEBUG off), Django's page elsewhere."""
    if wants_json(request):
        detail = _("Something went wrong on our side; it has been logged.")
        if (render := renderer_for(request)) is not None:
            return render(request, 500, detail)
        return JsonResponse(error_body(detail, "server_error"), status=500)
    from django.views.defaults import server_error

    return server_error(request)
