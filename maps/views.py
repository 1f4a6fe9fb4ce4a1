"""Map screens: thin views that render templates; the data comes from the REST API."""

from __future__ import annotations

from itertools import groupby

from django.conf import settings
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from geogrid.hierarchy import Level
from geogrid.models import Grid
from geogrid.roles import Role, has_role
from layers.models import Category, Channel
from maps.basemaps import map_config
from maps.icons import symbol_for


def navigation(request: HttpRequest) -> list[dict]:
    """The screens this user may open, in the order they use them."""
    user = request.user
    items = [("home", _("Overview")), ("report", _("Report a problem"))]
    if user.is_authenticated and user.is_staff:
        items.append(("admin:index", _("Administration")))
    return [
        {"url": reverse(name), "label": label, "active": request.path == reverse(name)}
        for name, label in items
    ]


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


def report(request: HttpRequest) -> HttpResponse:
    """/m/ — the phone page: anyone may report; a logged-in grid worker files patrol reports."""
    patrol = request.user.is_authenticated and has_role(request.user, Role.GRID_WORKER)
    return page(
        request,
        "maps/m/report.html",
        {
            "patrol": patrol,
            "channel": Channel.PATROL if patrol else Channel.MOBILE,
            "categories": _categories(),
            "strings": _report_strings(),
            "max_description": settings.GEOGRID.get("APPEAL_DESCRIPTION_MAX_CHARS", 2000),
        },
    )


def follow(request: HttpRequest, tracking: str) -> HttpResponse:
    """/m/follow/<tracking>/ — the page reads the token from the URL fragment and asks the API."""
    return page(request, "maps/m/follow.html", {"tracking": tracking, "strings": _report_strings()})
