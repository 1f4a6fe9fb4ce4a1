"""/m/points/ — the volunteer's phone page (爱心积分): balance and history, the community's shops
and their items, reserving one, the pickup codes (with a QR code to show at the counter), the
counter card, and — for a user who is no volunteer yet — the application.

Everything personal comes from the API (layers/volunteering, layers/shop), as this user may see
it; the page holds only labels and the communities one may apply to. The QR code of a pickup
code is drawn by the server (segno) for that code's own volunteer only, while it is reserved.
"""

from __future__ import annotations

import io
from typing import Any

import segno
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from geogrid.hierarchy import Level
from geogrid.models import Grid
from layers.shop.codes import normalise
from layers.shop.models import Redemption
from layers.volunteering.models import EntryKind, Volunteer
from maps.views import navigation


def _strings() -> dict[str, str]:
    return {
        "balance": _("Points"), "none": _("Nothing yet."), "reserve": _("Reserve"),
        "reserved": _("Reserved: show the code %s at the counter."),
        "cancel": _("Cancel"), "cancelled": _("Cancelled: the points are back."),
        "failed": _("Not done."), "offline": _("The server cannot be reached; please try again."),
        "stock": _("%s left"), "price": _("%s points"), "until": _("collect by %s"),
        "applied": _("Your application has been sent; community staff will decide."),
        "card": _("Show this code at the counter (valid until %s)."),
        "loadFailed": _("Could not be loaded."),
    }


@login_required
def points_page(request: HttpRequest) -> HttpResponse:
    communities = list(Grid.objects.current().filter(level=Level.COMMUNITY)
                       .order_by("code").values("code", "name"))
    volunteer = Volunteer.objects.filter(user_id=request.user.pk or 0).first()
    data: dict[str, Any] = {
        "strings": _strings(), "communities": communities,
        "kinds": {k: str(v) for k, v in EntryKind.choices},
        "statuses": {k: str(v) for k, v in Redemption.Status.choices},
    }
    return render(request, "maps/m/points.html", {
        "nav": navigation(request), "map_config": None, "is_volunteer": volunteer is not None,
        "page_data": data})


@login_required
def pickup_qr(request: HttpRequest, code: str) -> HttpResponse:
    """The QR code (SVG) of one of the user's own reserved pickup codes; 404 otherwise."""
    code = normalise(code)
    if not Redemption.objects.filter(pickup_code=code, status=Redemption.Status.RESERVED,
                                     account__volunteer__user_id=request.user.pk or 0).exists():
        raise Http404
    out = io.BytesIO()  # a standalone SVG (with its namespace): it is shown as an <img>
    segno.make(code, error="m").save(out, kind="svg", scale=6, border=2)
    response = HttpResponse(out.getvalue(), content_type="image/svg+xml")
    response["Cache-Control"] = "private, no-store"
    return response
