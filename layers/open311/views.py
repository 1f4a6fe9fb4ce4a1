"""The Open311 GeoReport v2 endpoints (docs/standards.md): thin views over the layer's
services. Each parses its input (layers/open311/inputs.py), calls one service and renders
JSON or XML by the path's extension; every refusal is the spec's error (layers/open311/
errors.py), a method the endpoint does not take a 405 with `Allow`. Plain Django views, not
DRF: the spec's form bodies, XML answers and error shape are not the API's, and the endpoints
are not in GeoGrid's OpenAPI document (their contract is the spec's)."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from geogrid.ratelimit import client_address, enforce
from layers.appeals.models import Category
from layers.open311 import inputs, serialize, service_requests, updates
from layers.open311.access import Caller
from layers.open311.errors import as_open311, not_found
from layers.open311.formats import error_response, render

View = Callable[..., HttpResponse]


def endpoint(*methods: str) -> Callable[[View], View]:
    """Method check, the caller (API key), and the spec's errors around a view."""
    allowed = set(methods) | ({"HEAD"} if "GET" in methods else set())

    def wrap(view: View) -> View:
        @csrf_exempt  # key-authenticated machine API; session cookies are ignored
        @functools.wraps(view)
        def run(request: HttpRequest, *args: str, fmt: str, **kwargs: str) -> HttpResponse:
            if request.method not in allowed:
                message = _("method %(m)s is not allowed here") % {"m": request.method}
                return error_response(fmt, 405, message, {"Allow": ", ".join(sorted(allowed))})
            try:
                caller = Caller.of(request)
                if caller.client is None:  # the public feed: per address, in every worker
                    enforce("open311", client_address(request),
                            _("too many requests without an API key; try again later"))
                return view(request, caller, fmt, *args, **kwargs)
            except Exception as exc:
                error = as_open311(exc)
                if error is None:
                    raise
                return error_response(fmt, error.status, error.description, error.headers)
        return run
    return wrap


@endpoint("GET")
def discovery(request: HttpRequest, caller: Caller, fmt: str) -> HttpResponse:
    base = request.build_absolute_uri(request.path.rsplit("/", 1)[0] + "/")
    return render(fmt, "discovery", serialize.discovery_out(base))


@endpoint("GET")
def services(request: HttpRequest, caller: Caller, fmt: str) -> HttpResponse:
    rows = Category.objects.filter(active=True).order_by("code")
    return render(fmt, "services", [serialize.service_out(c) for c in rows])


@endpoint("GET")
def service_definition(request: HttpRequest, caller: Caller, fmt: str,
                       code: str) -> HttpResponse:
    category = Category.objects.filter(code=code[:16], active=True).first()
    if category is None:
        raise not_found()
    return render(fmt, "service_definition", serialize.definition_out(category))


@endpoint("GET", "POST")
def requests(request: HttpRequest, caller: Caller, fmt: str) -> HttpResponse:
    if request.method == "POST":
        client = caller.require("submit")
        data = inputs.clean(inputs.RequestIn, request.POST)
        result = service_requests.submit(client, data)
        return render(fmt, "requests", [service_requests.submitted_out(result)])
    query = inputs.clean(inputs.RequestsQuery, request.GET)
    found = service_requests.find(caller, query)
    return render(fmt, "requests",
                  [serialize.request_out(a, public=caller.public) for a in found])


@endpoint("GET")
def request_detail(request: HttpRequest, caller: Caller, fmt: str, ref: str) -> HttpResponse:
    appeal = service_requests.one(caller, ref)
    return render(fmt, "requests", [serialize.request_out(appeal, public=caller.public)])


@endpoint("GET")
def token(request: HttpRequest, caller: Caller, fmt: str, ref: str) -> HttpResponse:
    appeal = service_requests.by_token(caller, ref)
    return render(fmt, "requests", [{"service_request_id": appeal.tracking, "token": ref}])


@endpoint("GET", "POST")
def request_updates(request: HttpRequest, caller: Caller, fmt: str) -> HttpResponse:
    if request.method == "POST":
        client = caller.require("update")
        data = inputs.clean(inputs.UpdateIn, request.POST)
        record = updates.post(client, data, request.FILES.getlist("media"))
        return render(fmt, "updates", [updates.submitted_out(record)])
    query = inputs.clean(inputs.UpdatesQuery, request.GET)
    return render(fmt, "updates", [serialize.update_out(e, public=caller.public)
                                   for e in updates.find(caller, query)])
