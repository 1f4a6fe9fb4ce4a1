"""/m/unit/ — the micro-unit leader's phone page: my unit's households, a move-in or move-out
recorded at the door, an issue that becomes an appeal in one step. Everything it shows comes
from the people API (layers/people), so the same masking, scope and access log apply."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from layers.people.access import Viewer
from layers.people.models import MicroUnit
from layers.people.services import DWELLING_ACTIONS, HOUSEHOLD_ACTIONS
from maps.views import _categories, page


@login_required
def unit_page(request: HttpRequest) -> HttpResponse:
    viewer = Viewer(request.user)
    units = [{"id": u.pk, "code": u.code, "name": u.name}
             for u in MicroUnit.objects.filter(pk__in=viewer.unit_ids).order_by("code")]
    categories = [{"code": c["code"], "name": c["name"]}
                  for _major, items in _categories() for c in items]
    strings = {
        "none": _("You lead no micro-unit or building yet."),
        "size": _("persons"), "moveOut": _("Moved out"), "issue": _("Raise an issue"),
        "moveIn": _("A household moves in"), "confirmMoveOut": _("Record that %s moved out?"),
        "saved": _("Saved."), "failed": _("Not saved."), "offline": _("No connection."),
        "referred": _("Sent as appeal %s"), "noCategory": _("(keep it in the ledger only)"),
        "conflict": _("Someone changed this household meanwhile; it was reloaded."),
        "name": _("Name"), "idNumber": _("ID number"), "phone": _("Phone"),
        "submit": _("Save"), "text": _("What is wrong?"), "vacant": _("vacant"),
        "ledger": _("四清"),
    }
    return page(request, "maps/m/unit.html", {
        "units": units, "buildings": sorted(viewer.building_ids),
        "page_data": {"units": units, "buildings": sorted(viewer.building_ids),
                      "categories": categories, "strings": strings,
                      "actions": {"household": HOUSEHOLD_ACTIONS.labels(),
                                  "dwelling": DWELLING_ACTIONS.labels()}},
    })
