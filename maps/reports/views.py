"""Download of the folium map report for the dashboard's current filters. Wired in maps/urls.py
(imports flow maps → layers, so the analytics URLconf cannot point here)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from layers.analytics.filters import FilterError, parse_filter

from .html import MapReportParams, render_map_html


@require_GET
def map_report_download(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return JsonResponse({"detail": _("Sign in to see appeals on the map.")}, status=403)
    try:
        filt = parse_filter(request.GET, request.user)
    except FilterError as exc:
        return JsonResponse({"detail": str(exc)}, status=400)
    grid = request.GET.get("grid", "").strip() or None
    html = render_map_html(MapReportParams(filter=filt, grid=grid))
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="geogrid-map-report.html"'
    return response
