"""Map screens: thin views that render templates; the data comes from the REST API (and the
one JSON endpoint of the screens, the grid summary, answers errors in geogrid.errors' shape)."""

from __future__ import annotations

import datetime as dt
from itertools import groupby

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.gis.db.models import Extent
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Min, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from geogrid.access import grids_user_may_act_on, user_may_act_on
from geogrid.calendar_db import working_calendar
from geogrid.capabilities import Capability, Grants
from geogrid.hierarchy import Level, code_lengths
from geogrid.models import Grid, Post, StaffAssignment
from geogrid.roles import Role, has_role
from layers.appeals.models import OPEN_STATUSES, Appeal, Category, Channel
from layers.appeals.transitions import APPEAL_ACTIONS
from layers.buildings.models import Building
from layers.care.models import CareVisitor
from layers.placards.pages import placard_page_context
from layers.shop.access import ShopViewer
from maps.basemaps import map_config
from maps.icons import symbol_for


def navigation(request: HttpRequest) -> list[dict]:
    """The screens this user may open, in the order they use them."""
    user = request.user
    items = [("home", _("Overview")), ("report", _("Report a problem")),
             ("wishes-page", _("Micro-wishes"))]
    if user.is_authenticated and (user.is_superuser or has_role(user, Role.DISPATCHER)):
        items.append(("dispatch", _("Dispatch")))
    if user.is_authenticated and _may_edit_grids(user):
        items.append(("grid-editor", _("Grid editor")))
    if user.is_authenticated and StaffAssignment.objects.current().filter(
            user=user, post__in=(Post.MICRO_UNIT_LEADER, Post.BUILDING_LEADER)).exists():
        items.append(("unit", _("My micro-unit")))
    if user.is_authenticated and user.departments.filter(active=True).exists():
        items.append(("whistles-page", _("Whistles")))  # 吹哨报到: a department's members
    if user.is_authenticated and (user.is_superuser or StaffAssignment.objects.current().filter(
            user=user, post__in=(Post.COMMUNITY_STAFF, Post.SUBDISTRICT_STAFF)).exists()):
        items.append(("proposals-page", _("Proposals")))  # 协商议事: community staff
    if user.is_authenticated and may_visit_care(user):
        items.append(("care-visits", _("Care visits")))
    if user.is_authenticated:  # a volunteer's account, or the application to become one
        items.append(("points-page", _("My points")))
    if user.is_authenticated and ShopViewer(user).operated:
        items.append(("shop-counter-page", _("Points shop counter")))
    if user.is_authenticated and user.is_staff:
        items.append(("admin:index", _("Administration")))
    return [
        {"url": reverse(name), "label": label, "active": request.path == reverse(name)}
        for name, label in items
    ]


def may_visit_care(user) -> bool:
    """Who records care visits: a post holding care.grid or care.subtree (geogrid.capabilities),
    or an open assignment as a subject's visitor (building leader, volunteer…)."""
    grants = Grants(user)
    return (grants.has(Capability.CARE_GRID) or grants.has(Capability.CARE_SUBTREE)
            or CareVisitor.objects.filter(user=user, until__isnull=True).exists())


def page(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    return render(
        request, template, {"nav": navigation(request), "map_config": map_config(), **context}
    )


def home(request: HttpRequest) -> HttpResponse:
    counts = dict(
        Grid.objects.current()
        .values_list("level")
        .annotate(n=Count("id"))
        .values_list("level", "n")
    )
    levels = [(level.label, counts.get(level.value, 0)) for level in Level]
    return page(request, "maps/home.html", {"levels": levels})


def _categories() -> list[tuple[str, list[dict]]]:
    english = (get_language() or "").startswith("en")
    rows = Category.objects.filter(active=True).order_by("code")
    items = [
        {
            "code": c.code,
            "major": c.major_en if english else c.major_zh,
            "name": c.name_en if english else c.name_zh,
            "symbol": symbol_for(c.icon),
        }
        for c in rows
    ]
    # Community classes residents meet most first, then events, components, request natures.
    order = {"L": 0, "E": 1, "C": 2, "R": 3}
    items.sort(key=lambda c: (order.get(c["code"][0], 9), c["code"]))
    return [(major, list(group)) for major, group in groupby(items, key=lambda c: c["major"])]


def _report_strings() -> dict:
    return {
        "unlocated": _("Outside every grid: the district's dispatchers will place it."),
        "inGrid": _("Grid:"),
        "nearest": _("nearest grid"),
        "ancestor": _("no micro-grid here; the larger grid takes it"),
        "leader": _("grid leader"),
        "locating": _("Finding the grid…"),
        "offline": _("The server cannot be reached; please try again."),
        "noGeolocation": _("Your position is not available; tap the map instead."),
        "pinFirst": _("Place the pin where the problem is first."),
        "failed": _("The report could not be sent."),
    }


def _report_context(patrol: bool) -> dict:
    return {
        "patrol": patrol,
        "channel": Channel.PATROL if patrol else Channel.MOBILE,
        "categories": _categories(),
        "strings": _report_strings(),
        "max_description": settings.GEOGRID.get("APPEAL_DESCRIPTION_MAX_CHARS", 2000),
    }


def report(request: HttpRequest) -> HttpResponse:
    """/m/ — the phone page: anyone may report; a logged-in grid worker files patrol reports."""
    patrol = request.user.is_authenticated and has_role(request.user, Role.GRID_WORKER)
    return page(request, "maps/m/report.html", _report_context(patrol))


def placard_report(request: HttpRequest, token: str) -> HttpResponse:
    """/q/<token> — the report page opened by a QR placard (layers.placards): located at the
    placard, the grid and the 四长 board read now, the scan counted; 404 for an unknown code,
    410 for a revoked one, 429 when an address scans too often (the `locate` limit)."""
    context = placard_page_context(request, token)
    if "refusal" in context:
        response = page(request, "placards/refused.html", context)
        response.status_code = context["status"]
        for name, value in context.get("headers", {}).items():
            response[name] = value
        return response
    return page(request, "placards/scan.html", {**_report_context(False), **context})


def follow(request: HttpRequest, tracking: str) -> HttpResponse:
    """/m/follow/<tracking>/ — the page reads the token from the URL fragment and asks the API."""
    return page(request, "maps/m/follow.html", {"tracking": tracking, "strings": _report_strings()})


def _may_edit_grids(user) -> bool:
    return user.is_superuser or has_role(user, Role.GRID_MANAGER)


@login_required
def grid_editor(request: HttpRequest) -> HttpResponse:
    """/maps/grids/ — grid managers draw, edit, split and merge grids and assign staff."""
    if not _may_edit_grids(request.user):
        raise PermissionDenied
    strings = {
        "expand": _("show child grids"),
        "failed": _("The change was not saved."),
        "offline": _("The server cannot be reached; please try again."),
        "conflict": _("Someone else changed this grid meanwhile; select it again and redo."),
        "saved": _("Saved."),
        "noChildren": _("Micro-grids have no child grids."),
        "drawHint": _(
            "Click the corners of the new grid on the map (corners snap to nearby boundaries); "
            "click the first corner again to finish."
        ),
        "saveHint": _("Give the new grid its code and name, then save."),
        "editHint": _("Drag the corners (they snap to neighbouring boundaries), then save."),
        "splitHint": _("Draw a line across the grid from edge to edge; double-click to finish."),
        "splitSave": _("The smaller part becomes a new grid: give its code and name."),
        "mergeHint": _("Click the neighbouring grid to merge into this one."),
        "mergeConfirm": _("Merge %s into this grid?"),
        "endPost": _("end this post"),
    }
    return page(request, "maps/grids.html", {"strings": strings, "posts": Post.choices})


class GridSummaryView(APIView):
    """GET /maps/grids/<code>/summary — households, buildings and open appeals in a grid's
    subtree (current versions), for the grid editor; errors in the one shape (geogrid.errors).
    The one scope rule (geogrid.access): a post whose subtree holds the grid, or a superuser —
    being a dispatcher somewhere is not enough."""

    permission_classes = [IsAuthenticated]

    @extend_schema(summary="Households, buildings and open appeals in a grid's subtree",
                   responses={200: inline_serializer("GridSummary", fields={
                       "households": serializers.IntegerField(),
                       "buildings": serializers.IntegerField(),
                       "open_appeals": serializers.IntegerField(),
                   })})
    def get(self, request: Request, code: str) -> Response:
        grid = get_object_or_404(Grid.objects.current(), code=code)
        if not user_may_act_on(request.user, grid):
            raise PermissionDenied(_("this grid is outside your grids"))
        in_subtree = {"grid__code__startswith": code, "grid__valid_to__isnull": True}
        buildings = Building.objects.filter(**in_subtree).aggregate(
            n=Count("id"), h=Sum("households")
        )
        open_appeals = Appeal.objects.filter(status__in=OPEN_STATUSES, **in_subtree).count()
        return Response(
            {
                "households": buildings["h"] or 0,
                "buildings": buildings["n"],
                "open_appeals": open_appeals,
            }
        )


def _scope_bounds(user) -> list[list[float]] | None:
    """[[south, west], [north, east]] of the top grids the user may act on: the dashboard fits
    the map to it before its first reads (else it read heat and counts twice, before and after
    fitting to the grid outlines)."""
    grids = grids_user_may_act_on(user)
    top = grids.aggregate(level=Min("level"))["level"]
    if top is None:
        return None
    box = grids.filter(level=top).aggregate(box=Extent("boundary"))["box"]
    return [[box[1], box[0]], [box[3], box[2]]] if box else None


def _scope_grids(user) -> list[dict]:
    """Subdistricts and communities the user may act on, for the dashboard's grid filter."""
    grids = grids_user_may_act_on(user).filter(level__lte=Level.COMMUNITY).order_by("code")
    return [
        {"code": g.code, "name": g.name, "indent": "\u3000" * (g.level - 1)}
        for g in grids.only("code", "name", "level")[:500]
    ]


@login_required
def dispatch(request: HttpRequest) -> HttpResponse:
    """/maps/dispatch/ — the dispatcher's live map, lists and actions."""
    if not (request.user.is_superuser or has_role(request.user, Role.DISPATCHER)):
        raise PermissionDenied
    lengths = code_lengths()
    strings = {
        "appeals": _("appeals"),
        "per100": _("per 100 households"),
        "onTime": _("on time"),
        "unlocated": _("not in any grid yet"),
        "due": _("due"),
        "overdue": _("overdue"),
        "refreshed": _("refreshed"),
        "conflict": _("Someone else acted on this appeal first; it has been reloaded."),
        "failed": _("The action was not carried out."),
        "offline": _("The server cannot be reached; please try again."),
        "provisional": _("provisional: the holiday schedule for this year is not imported yet"),
        "households": _("households"),
        "residents": _("residents"),
        "focus": _("focus households"),
        "ledgerForbidden": _("The 四清 figures of this grid need a post with its people "
                             "(grid staff, community or subdistrict staff)."),
        "ledgerNone": _("No grid with people of yours to show the 四清 figures of."),
        "ledgerEmpty": _("No micro-units here yet."),
        "changesLabel": _("reported changes"),
        "pending": _("waiting for verification"),
        "overdue_changes": _("overdue"),
        "countsForbidden": _("Household counts of this grid are not yours to see."),
        "careNone": _("No overdue visits in your grids."),
        "careDaysOverdue": _("%s days overdue"),
        "careSubjects": _("care subjects"),
        "careVisitRate": _("visit rate (探访率)"),
        "careVisits": _("visits"),
        "careOverdue": _("overdue visits"),
        "careMeanDays": _("mean days overdue"),
        "careSuppressed": _("Counts under %s are not shown here."),
        "careLayerMissing": _("The care figures are not available."),
        "red": _("red"), "yellow": _("yellow"), "blue": _("blue"),
    }
    dashboard = {
        "openStatuses": [str(s) for s in OPEN_STATUSES],
        "bounds": _scope_bounds(request.user),
        "refreshMs": 15_000,
        "defaultLevel": Level.COMMUNITY,
        "levelOfCode": {length: level for level, length in lengths.items()},
        # Each action's label and the fields to ask for, from the action registry.
        "actions": APPEAL_ACTIONS.client_data(),
        "people": _people_roots(request.user),
        "care": {"roots": _care_roots(request.user), "refreshMs": 60_000},
        "participation": _participation(request.user),
        "whistles": _whistles(request.user),
    }
    return page(
        request,
        "maps/dispatch.html",
        {
            "categories": _categories(),
            "channels": Channel.choices,
            "scope_grids": _scope_grids(request.user),
            "strings": strings,
            "dashboard": dashboard,
            "provisional_years": _provisional_years_ahead(),
        },
    )


def _whistles(user) -> dict:
    """The whistle layer and panels (maps/whistles.py; imported here, not at the top: that
    module builds on this one)."""
    from maps.whistles import dashboard_data

    return dashboard_data(user)


def _roots(grants: Grants, *capabilities: Capability) -> list[str]:
    """The top grids on which the user holds any of `capabilities` (geogrid.capabilities):
    where a dashboard layer starts; every district for a superuser. The API checks each request
    again."""
    if grants.is_super:
        return list(Grid.objects.current().filter(level=Level.DISTRICT)
                    .order_by("code").values_list("code", flat=True))
    codes = sorted({c for cap in capabilities for c in grants.codes(cap)})
    return [c for c in codes if not any(c != r and c.startswith(r) for r in codes)]


def _people_roots(user) -> dict:
    """The household layer: household counts (COUNTS, GRID or SUBTREE) and the 四清 figures
    (GRID or SUBTREE)."""
    grants = Grants(user)
    return {"counts": _roots(grants, Capability.COUNTS, Capability.GRID, Capability.SUBTREE),
            "ledger": _roots(grants, Capability.GRID, Capability.SUBTREE),
            "refreshMs": 60_000}  # the register changes slowly; its sums are the heavy reads


def _care_roots(user) -> list[str]:
    """The care layer and the overdue list: any care capability."""
    return _roots(Grants(user), Capability.CARE_COUNTS, Capability.CARE_LIST,
                  Capability.CARE_GRID, Capability.CARE_SUBTREE)


def _participation(user) -> dict:
    """The micro-wish layer (wish figures), the points panel (points figures) and the placards
    layer (placards the user manages; the API answers only those)."""
    grants = Grants(user)
    return {
        "wishes": _roots(grants, Capability.WISH_COUNTS, Capability.WISH_GRID),
        "points": _roots(grants, Capability.POINTS_COUNTS),
        "placards": bool(_roots(grants, Capability.PLACARD_MANAGE, Capability.PLACARD_MAP)),
        "refreshMs": 60_000,  # wishes, points and placards change slowly
        "pointStrings": {
            "title": _("Volunteer points (爱心积分)"), "show": _("Show on the map"),
            "earned": _("earned"), "redeemed": _("redeemed"), "outstanding": _("outstanding"),
            "volunteers": _("volunteers"), "value": _("outstanding value (yuan)"),
            "stock": _("shop stock value (yuan)"), "shops": _("shops"),
            "failed": _("The points figures could not be loaded.")},
        "placardStrings": {
            "building": _("building"), "stairwell": _("stairwell"), "shop": _("shop"),
            "place": _("place"), "active": _("active"), "revoked": _("revoked"),
            "scans": _("scans"), "reports": _("reports"), "version": _("print run"),
            "sheet": _("print sheet (PDF)"), "truncated": _("only the first %s shown")},
    }


def _provisional_years_ahead() -> list[int]:
    """Years whose holiday schedule is not imported that deadlines set now may reach."""
    cal = working_calendar()
    today = timezone.localdate()
    horizon = today + dt.timedelta(days=settings.GEOGRID.get("CALENDAR_WARNING_DAYS", 60))
    return cal.provisional_years(today, horizon)
