"""/m/shop/ — the shop operator's phone page (爱心积分超市 counter): type or scan a pickup code,
see what it is for (the volunteer's display name only) and hand it over; redeem at the counter
for a volunteer showing their card; restock with the donor; the shop's recent redemptions.

Everything comes from the shop API (layers/shop), which checks that the user works this shop's
counter today; the page holds labels only. Scanning uses the browser's BarcodeDetector where it
exists (Chromium on Android); typing always works.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from layers.shop.access import ShopViewer
from layers.shop.models import Redemption
from maps.views import navigation


@login_required
def counter_page(request: HttpRequest) -> HttpResponse:
    strings = {
        "notOperator": _("You do not work at a points shop counter."),
        "found": _("%(name)s: %(item)s × %(qty)s (%(points)s points)"),
        "collected": _("Handed over."), "redeemed": _("Redeemed and handed over."),
        "restocked": _("Stock now %s."), "failed": _("Not done."),
        "offline": _("The server cannot be reached; please try again."),
        "noScanner": _("This browser cannot scan; type the code."),
        "none": _("Nothing yet."),
    }
    return render(request, "maps/m/shop.html", {
        "nav": navigation(request), "map_config": None,
        "operator": bool(ShopViewer(request.user).operated),
        "page_data": {"strings": strings,
                      "statuses": {k: str(v) for k, v in Redemption.Status.choices}}})
