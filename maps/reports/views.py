"""Download of the folium map report for the dashboard's current filters. Wired in maps/urls.py
(imports flow maps → layers, so the analytics URLconf cannot point here).

The report itself is an HTML file; a request that cannot have one gets the one JSON error shape
of geogrid.errors (not signed in, a bad filter naming its parameter, a method other than GET).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from rest_framework.exceptions import MethodNotAllowed, NotAuthenticated

from geogrid.errors import error_response
from layers.analytics.filters import FilterError, parse_filter

from .html import MapReportParams, render_map_html


def map_report_download(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        response = error_response(MethodNotAllowed(request.method))
        response["Allow"] = "GET, HEAD"
        return response
    if not request.user.is_authenticated:
        return error_response(NotAuthenticated(_("Sign in to see appeals on the map.")))
    try:
        filt = parse_filter(request.GET, request.user)
    except FilterError as exc:  # a Django ValidationError naming the parameter
        return error_response(exc)
    grid = request.GET.get("grid", "").strip() or None
    html = render_map_html(MapReportParams(filter=filt, grid=grid))
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="geogrid-map-report.html"'
    return response
