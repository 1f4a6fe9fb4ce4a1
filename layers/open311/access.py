"""Who is calling an Open311 endpoint, what it may do, and which appeals it may see.

Open311 authenticates by API key only (geogrid.apiclients: the `api_key` field or the
`X-API-Key` header); a session cookie is ignored, so a browser's login never widens what an
answer shows and no CSRF token is needed. A key that matches no active client is a 403
wherever it is sent, even where no key is needed (a misconfigured client learns at once).

- no key: the public feed (discovery, services, GET requests and updates without personal
  data or anything that opens the app: layers/open311/serialize.py);
- a key: `submit` to POST requests, `update` to POST updates, `read_appeals` to read the
  appeals of its scopes (a key without it gets a 403 on the reads, not the public feed);
  `scopes` limit every appeal it reads or moves to their subtrees (where the appeal lies, the
  grid it is assigned to, or — unlocated — its district).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _

from geogrid import apiclients
from geogrid.models import ApiClient
from layers.appeals.models import Appeal
from layers.open311.errors import Open311Error


def appeal_scope_q(client: ApiClient) -> Q:
    """Appeals in the client's scopes: where they lie, where they are assigned, or (unlocated)
    their district."""
    return (client.scope_q("grid__code") | client.scope_q("assigned_grid__code")
            | (Q(grid__isnull=True) & client.scope_q("district_code")))


def covers(client: ApiClient, appeal: Appeal) -> bool:
    codes = [appeal.grid.code if appeal.grid else appeal.district_code]
    if appeal.assigned_grid:
        codes.append(appeal.assigned_grid.code)
    return any(client.covers(code) for code in codes)


@dataclass(frozen=True)
class Caller:
    client: ApiClient | None

    @classmethod
    def of(cls, request: HttpRequest) -> Caller:
        raw = apiclients.key_in(request)
        if raw is None and request.method == "POST":
            raw = request.POST.get(apiclients.PARAM) or None  # multipart forms too
        if raw is None:
            return cls(None)
        client = apiclients.client_for_key(raw)
        if client is None:
            raise Open311Error(403, _("the API key is not valid"))
        return cls(client)

    @property
    def public(self) -> bool:
        return self.client is None

    def require(self, permission: str) -> ApiClient:
        if self.client is None:
            raise Open311Error(403, _("an API key with the %(p)s permission is required")
                               % {"p": permission})
        if not self.client.may(permission):
            raise Open311Error(403, _("this API key does not have the %(p)s permission")
                               % {"p": permission})
        return self.client

    def readable(self) -> QuerySet[Appeal]:
        """The appeals this caller may read: all of them in the public feed (which shows no
        personal data), a keyed client's scopes (it needs `read_appeals`)."""
        rows = Appeal.objects.select_related("category", "grid", "assigned_grid", "department")
        if self.client is None:
            return rows.all()
        return rows.filter(appeal_scope_q(self.require("read_appeals")))
