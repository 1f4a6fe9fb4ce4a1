"""/healthz: is the database reachable and does it have PostGIS? For load balancers and humans.

With a read replica configured, "replica" shows its state (ok / lagging / unavailable) and
"warnings" says when reads fall back to the primary; the status stays 200 while the primary
answers (docs/replicas.md)."""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from geogrid.dbrouting import replica_configured, replica_state

log = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            postgres = cursor.fetchone()[0]
            cursor.execute("SELECT postgis_lib_version()")
            postgis = cursor.fetchone()[0]
    except DatabaseError as exc:
        log.warning("healthz: database unavailable: %s", exc)
        return JsonResponse(
            {"status": "unavailable", "database": None, "error": "database unreachable"},
            status=503,
        )
    body: dict = {"status": "ok", "database": f"PostgreSQL {postgres}", "postgis": postgis}
    if replica_configured():
        replica = replica_state(fresh=True).as_json()
        body["replica"] = replica
        if replica["state"] != "ok":
            body["warnings"] = [
                f"read replica {replica['state']}: reads use the primary"
                + (f" ({replica['error']})" if replica.get("error") else "")
            ]
    return JsonResponse(body)
