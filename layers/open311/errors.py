"""Open311's errors: every refusal is `[{code, description}]` with the HTTP status as code.

Services raise what they always raise (ValidationError naming a field, PermissionDenied, the
workflow's Conflict); `as_open311` turns each into (status, description, headers). Open311 has
no 409: a workflow that refuses an update (wrong state, stale) is a 400, as the spec answers
every bad request. Field names in descriptions are the Open311 names (`long`, not `lon`).
"""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions as drf

from geogrid.errors import ApiError, Conflict

# GeoGrid's field names → Open311's, in error descriptions.
FIELD_NAMES = {"lon": "long", "lat": "lat", "category": "service_code",
               "address": "address_string", "contact_phone": "phone", "result": "description",
               "note": "description", "photos": "media", "channel": "channel"}


class Open311Error(Exception):
    def __init__(self, status: int, description: str,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(description)
        self.status, self.description = status, str(description)
        self.headers = dict(headers or {})


def bad(description: str) -> Open311Error:
    return Open311Error(400, description)


def not_found() -> Open311Error:
    return Open311Error(404, _("not found"))


def _first(fields: Mapping[str, list[str]], fallback: str) -> str:
    for name, messages in fields.items():
        if messages:
            if name in ("__all__", "non_field_errors"):
                return str(messages[0])
            return f"{FIELD_NAMES.get(name, name)}: {messages[0]}"
    return fallback


def _drf_fields(detail: object) -> dict[str, list[str]]:
    if isinstance(detail, Mapping):
        return {str(k): [str(m) for m in (v if isinstance(v, list) else [v])]
                for k, v in detail.items()}
    if isinstance(detail, list):
        return {"__all__": [str(m) for m in detail]}
    return {"__all__": [str(detail)]}


def as_open311(exc: BaseException) -> Open311Error | None:
    """The Open311 error for an exception the services raise; None for anything else."""
    if isinstance(exc, Open311Error):
        return exc
    if isinstance(exc, ValidationError):
        fields = ({k: [str(m) for e in v for m in e.messages] for k, v in exc.error_dict.items()}
                  if hasattr(exc, "error_dict") else {"__all__": [str(m) for m in exc.messages]})
        return bad(_first(fields, _("the request is not valid")))
    if isinstance(exc, drf.ValidationError):
        return bad(_first(_drf_fields(exc.detail), _("the request is not valid")))
    if isinstance(exc, PermissionDenied):
        return Open311Error(403, str(exc) or _("you may not do this"))
    if isinstance(exc, Http404):
        return not_found()
    if isinstance(exc, Conflict):
        return bad(exc.detail)
    if isinstance(exc, ApiError):
        return Open311Error(exc.status, exc.detail, exc.headers)
    return None
