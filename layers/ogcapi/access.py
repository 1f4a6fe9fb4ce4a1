"""Who reads the OGC API, and what of each collection they may see.

Rules:
- A reader is the request's API client (a key in `X-API-Key`, or `api_key` in the query: the
  DRF `ApiKeyAuthentication` of geogrid.apiclients), else its session user. A key that matches
  no active client is a 403 (`not_authenticated`) whatever else the request carries.
- Public collections (grids, hotspots): everyone.
- Protected collections (appeals, buildings) are **hidden** from `/collections` for readers who
  may not read them, and answer 403 when asked for directly: `not_authenticated` to anonymous
  callers (no challenge to send, as everywhere in GeoGrid), `forbidden` to a key without the
  permission (`read_appeals`, `read_buildings`).
- Scope: a key sees the rows whose grid lies in its scopes (`ApiClient.scope_q`); a signed-in
  person the rows in the subtrees of their current posts (geogrid.access: a grid code prefix),
  a superuser everything, anyone else nothing (an empty collection, not an error). A feature
  outside the scope is a 404, like one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request

from geogrid.access import assigned_codes
from geogrid.apiclients import ApiKeyAuthentication
from geogrid.models import ApiClient

from .collections import Collection


@dataclass(frozen=True)
class Reader:
    user: Any
    client: ApiClient | None = None

    @property
    def signed_in(self) -> bool:
        return self.client is not None or bool(
            self.user is not None and self.user.is_authenticated and self.user.is_active)


def reader_for(request: HttpRequest) -> Reader:
    """The reader of a request; a bad key raises (403 in the one error shape)."""
    found = ApiKeyAuthentication().authenticate(Request(request))
    if found is not None:
        return Reader(user=found[0], client=found[1])
    return Reader(user=getattr(request, "user", None))


def may_read(collection: Collection, reader: Reader) -> bool:
    if collection.public:
        return True
    if reader.client is not None:
        return reader.client.may(collection.permission or "")
    return reader.signed_in


def require(collection: Collection, reader: Reader) -> None:
    """Raise the refusal for a reader who may not read the collection."""
    if may_read(collection, reader):
        return
    if not reader.signed_in:
        raise NotAuthenticated(_("Sign in, or send an API key, to read this collection."))
    raise PermissionDenied(_("This API key may not read this collection."))


def scoped(collection: Collection, reader: Reader, rows: QuerySet) -> QuerySet:
    """The rows of the collection the reader may see."""
    if collection.public:
        return rows
    if reader.client is not None:
        return rows.filter(reader.client.scope_q(collection.scope_field))
    user = reader.user
    if user is not None and user.is_authenticated and user.is_active and user.is_superuser:
        return rows
    roots = assigned_codes(user) if user is not None else []
    if not roots:
        return rows.none()
    return rows.filter(reduce(or_, (Q(**{f"{collection.scope_field}__startswith": r})
                                    for r in roots)))
