"""Request checks that hold for every view, before any view runs."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _

from geogrid.errors import error_body, renderer_for, wants_json


class RejectNulMiddleware:
    """A NUL character in the path or the query string is refused with a 400 (PostgreSQL
    cannot store or compare it, so it would otherwise surface as a 500 deep in a query).
    Body fields are checked by the serializers (DRF's CharField refuses NUL)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        where = None
        if "\x00" in request.path:
            where = "path"
        else:
            for name, values in request.GET.lists():
                if "\x00" in name or any("\x00" in v for v in values):
                    where = name.replace("\x00", "") or "query"
                    break
        if where is None:
            return self.get_response(request)
        message = _("NUL characters are not allowed")
        if (render := renderer_for(request)) is not None:
            return render(request, 400, f"{where}: {message}")
        if wants_json(request):
            return JsonResponse(error_body(message, "invalid", {where: [message]}), status=400)
        return HttpResponseBadRequest(message)
