"""吹哨报到 screens (layers/whistles, issue 19).

- /m/whistles/ — the department member's phone page: the whistles that call in the member's
  departments (open first), each unit's state, role and report-in clock, the place on a small
  map, and the buttons the API offers: report in on site (the phone's location) or remotely,
  refuse (with a reason), our part done (with the result).
- `dashboard_data(user)` — what the dispatcher's dashboard (/maps/dispatch/) needs for its
  whistle layer and panels (maps/static/maps/js/dashboard-whistles.js): the districts whose
  figures the user may read, the action registries' labels and fields, the choices.

Everything shown comes from the whistles API (/api/v1/whistles/…) as this user may see it; the
pages hold labels only. Routed in maps/urls.py; the dashboard calls `dashboard_data`.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from geogrid.hierarchy import Level
from geogrid.models import Grid
from geogrid.roles import Role
from layers.appeals.actors import Actor
from layers.whistles.models import Rating, Reason, Whistle, WhistleUnit
from layers.whistles.models import Role as UnitRole
from layers.whistles.services import ON_SITE_METRES, UNIT_ACTIONS, WHISTLE_ACTIONS
from maps.views import page


def _choices(choices: Any) -> dict[str, str]:
    return {str(value): str(label) for value, label in choices}


def _clock_strings() -> dict[str, str]:
    return {
        "minutesLeft": _("%s min left to report in"),
        "overdueBy": _("report-in overdue by %s min"),
        "reportedAt": _("reported in %s"),
        "reportedLate": _("(%s min late)"),
        "onSite": _("on site, %s m from the place"),
        "onSiteNoPlace": _("on site"),
        "remote": _("accepted remotely"),
        "far": _("far from the place"),
        "doneAt": _("done %s"),
        "dueBy": _("to be done by %s"),
        "completionOverdue": _("completion overdue by %s min"),
    }


def _member_strings() -> dict[str, str]:
    return {
        **_clock_strings(),
        "none": _("No whistle calls your department in right now."),
        "onSiteButton": _("Report in on site (my location)"),
        "remoteButton": _("Accept remotely"),
        "refuseReason": _("Why can your department not take part? (required)"),
        "finishResult": _("What did your department do? (required)"),
        "send": _("Send"), "cancel": _("Cancel"),
        "required": _("This is required."),
        "locating": _("Finding your location…"),
        "denied": _("Location access was refused. Allow it for this site in the browser's "
                    "settings to report in on site, or accept remotely."),
        "unavailable": _("Your location is not available right now; try again, or accept "
                         "remotely."),
        "noGeolocation": _("This browser cannot give your location; accept remotely instead."),
        "reported": _("Reported in."), "refused": _("Refusal sent."),
        "finished": _("Your part is marked done."),
        "failed": _("Not done."), "offline": _("The server cannot be reached; please try again."),
        "conflict": _("It was changed meanwhile; the list has been reloaded."),
        "appeal": _("appeal %s"), "result": _("Result: %s"), "refusedBecause": _("Refused: %s"),
        "sentBack": _("Sent back by the office: the work is not finished."),
        "rated": _("Rated: %s"), "others": _("Also called in: %s"),
        "loadFailed": _("The whistles could not be loaded."),
    }


@login_required
def whistles_page(request: HttpRequest) -> HttpResponse:
    departments = list(request.user.departments.filter(active=True).order_by("code")
                       .values("code", "name_zh", "name_en"))
    return page(request, "maps/m/whistles.html", {
        "may_report": bool(departments),
        "page_data": {
            "departments": departments,
            "strings": _member_strings(),
            "actions": UNIT_ACTIONS.labels(),
            "roles": _choices(UnitRole.choices),
            "ratings": _choices(Rating.choices),
            "farMetres": ON_SITE_METRES,
            "refreshMs": 60_000,
        },
    })


def _figure_districts(user: Any) -> list[str]:
    """The districts whose whistle figures the user may read (as FiguresView decides)."""
    actor = Actor(user=user)
    codes = Grid.objects.current().filter(level=Level.DISTRICT).order_by("code")
    if actor.is_super:
        return list(codes.values_list("code", flat=True))
    if Role.DISPATCHER not in actor.roles:
        return []
    return [c for c in codes.values_list("code", flat=True) if actor.covers(c)]


def dashboard_data(user: Any) -> dict[str, Any]:
    """The dashboard's `whistles` entry (dispatch.html's json_script "dashboard")."""
    return {
        "districts": _figure_districts(user),
        "refreshMs": 30_000,
        "whistleActions": WHISTLE_ACTIONS.client_data(),
        "unitActions": UNIT_ACTIONS.client_data(),
        "reasons": [[str(v), str(label)] for v, label in Reason.choices],
        "ratings": [[str(v), str(label)] for v, label in Rating.choices],
        "roles": _choices(UnitRole.choices),
        "statuses": _choices(Whistle.Status.choices),
        "unitStatuses": _choices(WhistleUnit.Status.choices),
        "strings": {
            **_clock_strings(),
            "title": _("Whistles (吹哨报到)"),
            "blow": _("Blow the whistle"),
            "blowTitle": _("Call departments in for this appeal"),
            "reason": _("Reason"), "whistleTitle": _("Title"),
            "description": _("Description (optional)"),
            "lead": _("Lead department (主办)"), "assists": _("Assisting departments (协办)"),
            "choose": _("(choose)"), "send": _("Blow the whistle"), "cancel": _("Cancel"),
            "confirm": _("Confirm"),
            "blown": _("Whistle %s blown: the departments are notified."),
            "existing": _("Whistle %s is open for this appeal."),
            "open": _("Open"), "appeal": _("appeal %s"),
            "rating": _("Rating"), "speed": _("Speed (1–5)"), "quality": _("Quality (1–5)"),
            "note": _("Note"), "department": _("Department"),
            "units": _("Called-in units"), "timeline": _("Timeline"),
            "result": _("Result: %s"), "refusedBecause": _("Refused: %s"),
            "rated": _("Rated: %s"),
            "figures": _("Department figures (last 365 days)"),
            "called": _("called in"), "reportRate": _("report-in rate"),
            "meanResponse": _("mean response (min)"), "completion": _("completion"),
            "satisfaction": _("satisfaction"),
            "subdistricts": _("Whistles per 100 appeals by subdistrict"),
            "whistles": _("whistles"), "appeals": _("appeals"), "per100": _("per 100 appeals"),
            "median": _("district median: %s"),
            "flagLow": _("far below the median"), "flagHigh": _("far above the median"),
            "noFigures": _("No whistles in the period."),
            "figuresFailed": _("The whistle figures could not be loaded."),
            "noDepartments": _("No department serves this district."),
            "failed": _("The action was not carried out."),
            "offline": _("The server cannot be reached; please try again."),
            "conflict": _("Someone else acted on this whistle first; it has been reloaded."),
            "mapFailed": _("The whistles could not be loaded."),
            "blowEvent": _("Blown"),
        },
    }
