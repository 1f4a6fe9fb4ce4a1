"""What the scan page (/q/<token>, rendered by maps.views.placard_report on the report page's
template) shows: the placard located, the 四长 board read now, the scan counted — or why not.

Anonymous scans share the `locate` rate limit per address (geogrid.ratelimit), counted before
the token is looked up, so nobody can try tokens faster than they could move a pin.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from geogrid.errors import NotFound, RateLimited
from geogrid.ratelimit import client_address, enforce
from layers.placards import reports
from layers.placards.models import Placard
from layers.placards.services import PlacardGone


def placard_page_context(request: HttpRequest, token: str) -> dict[str, Any]:
    """The page's context, or {"refusal", "status", "title", "headers"} for a refused scan."""
    try:
        if not request.user.is_authenticated:
            enforce("locate", client_address(request),
                    _("Too many scans from this address; please try again later."))
        scene = reports.scan(token)
    except RateLimited as exc:
        return {"refusal": exc.detail, "status": 429, "title": _("Please wait"),
                "headers": {"Retry-After": str(exc.retry_after)}}
    except PlacardGone as exc:
        return {"refusal": exc.detail, "status": 410, "title": _("This code was replaced")}
    except NotFound as exc:
        return {"refusal": exc.detail, "status": 404, "title": _("Unknown code")}
    p = scene.placard
    return {
        "channel": "qr_code",
        "placard": {
            "token": p.token, "label": p.label, "kind": p.kind,
            "lon": round(scene.lon, 7), "lat": round(scene.lat, 7),
            "submit": reverse("placards:report", args=[p.token]),
            "pinMovedMetres": settings.GEOGRID["PLACARDS"]["PIN_MOVED_METRES"],
        },
        "placard_label": p.label,
        "placard_kind": Placard.Kind(p.kind).label,
        "placard_unit": p.unit_no,
        "board": scene.board(),
    }
