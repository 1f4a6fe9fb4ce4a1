"""/m/care/ — the visitor's phone page (关爱走访): my visits due, overdue first; a subject's
card; a visit recorded at the door (location, one photo, the four findings, an urgent finding's
follow-up appeal) or a 必要访 triggered. Everything it shows comes from the care API
(layers/care), so the same levels, scope and access log apply: the page itself holds no
personal data."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from layers.care.models import CareGroup, Colour, Visit, VisitDue
from layers.care.services import SUBJECT_ACTIONS
from maps.views import _categories, may_visit_care, page


def _choices(choices: Iterable[tuple[str, Any]]) -> list[list[str]]:
    return [[value, str(label)] for value, label in choices]


@login_required
def care_page(request: HttpRequest) -> HttpResponse:
    english = (get_language() or "").startswith("en")
    categories = [{"code": c["code"], "name": c["name"]}
                  for _major, items in _categories() for c in items]
    strings = {
        "none": _("No visits are due for you."),
        "overdueBy": _("overdue by %s days"), "dueOn": _("due %s"),
        "nextDue": _("Next visit due"), "phone": _("Phone"), "groups": _("Groups"),
        "checklist": _("Checklist"), "visitors": _("Visitors"),
        "locating": _("Finding your location…"),
        "located": _("Location found (± %s m)."),
        "noLocation": _("Your location is not available; the visit is saved without it."),
        "distance": _("%s m from the home"), "far": _("far from the home"),
        "saved": _("Visit saved."), "failed": _("Not saved."),
        "offline": _("The server cannot be reached; please try again."),
        "appeal": _("Follow-up appeal %s raised."),
        "notCounted": _("This visit does not count for the visit plan (its mode)."),
        "triggered": _("A 必要访 is now due by %s."),
        "chooseCategory": _("(choose the appeal's category)"),
        "noColour": _("(no change suggested)"),
        "notePlaceholder": _("note (optional)"),
        "loadFailed": _("The list could not be loaded."),
    }
    return page(request, "maps/m/care.html", {
        "may_visit": may_visit_care(request.user),
        "page_data": {
            "categories": categories, "strings": strings,
            "kinds": _choices(Visit.Kind.choices), "modes": _choices(Visit.Mode.choices),
            "colours": _choices(Colour.choices), "triggers": _choices(VisitDue.Trigger.choices),
            "actions": SUBJECT_ACTIONS.labels(),
            # Names of the group codes the API answers to those who may see them (FULL).
            "groups": {g.code: g.name if english else g.name_zh
                       for g in CareGroup.objects.filter(active=True)},
        },
    })
