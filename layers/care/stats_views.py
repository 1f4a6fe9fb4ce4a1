"""Care figures under /api/v1/care/ (layers.care.stats_urls; definitions in layers.care.stats).

- `stats/?grid=&by=&from=&to=` — rows per grid at level `by` and month, and totals;
- `stats/layer/?grid=&by=&month=` — the same figures of one month as a GeoJSON
  FeatureCollection of the grids (current boundaries), for the dashboard's layer.

Who: any post holding a care capability on the requested grid — care.grid, care.subtree,
care.list or care.counts (layers.care.access.CareViewer) — or a superuser; a grid outside
them answers the 404 of a grid that does not exist, anonymous callers 403 like the people
views. Rows of grids whose groups the viewer does not see in full (dispatchers, managers,
subdistrict staff: `sees_groups_everywhere_in`) have every count under MIN_CELL and every
rate or mean derived from one blanked (null); `suppressed_below` then says MIN_CELL.
No personal data is shown, so no access-log row is written.

Parameters are checked at the edge: a bad grid code, an unknown grid, `by` not 3–5 or above
the grid's level, a bad month, from after to, more than MAX_MONTHS months, a NUL byte → 400 in
the one error shape (geogrid.errors).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from geogrid.errors import NotFound
from geogrid.models import Grid
from geogrid.periods import PeriodError, check_year
from geogrid.queryparams import GridLevelParams
from layers.care import stats
from layers.care.access import CareViewer, in_roots

_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")


# --- parameters ---------------------------------------------------------------------------------
@extend_schema_field(OpenApiTypes.STR)
class MonthField(serializers.Field):
    """A month, YYYY-MM, as the date of its first day."""

    def to_internal_value(self, data: object) -> dt.date:
        match = _MONTH.match(str(data).strip())
        if not match or not 1 <= int(match[2]) <= 12:
            raise serializers.ValidationError(_("a month like 2026-05"))
        try:
            check_year(int(match[1]))
        except PeriodError as exc:
            raise serializers.ValidationError(str(exc)) from None
        return dt.date(int(match[1]), int(match[2]), 1)

    def to_representation(self, value: dt.date) -> str:
        return f"{value:%Y-%m}"


def _this_month() -> dt.date:
    return timezone.localdate().replace(day=1)


def _months_back(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 - n
    return dt.date(index // 12, index % 12 + 1, 1)


class StatsParams(GridLevelParams):
    """GET /api/v1/care/stats/"""

    # "from" is a Python keyword: the field is declared below under its query name.
    to = MonthField(required=False, default=None,
                    help_text="the last month, YYYY-MM (default: this month)")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        last = attrs.get("to") or _this_month()
        first = attrs.get("from") or _months_back(last, 11)
        if first > last:
            raise serializers.ValidationError({"from": [_("not after `to`")]})
        if stats.months_between(first, last) > stats.MAX_MONTHS:
            raise serializers.ValidationError({"from": [
                _("at most %(n)d months") % {"n": stats.MAX_MONTHS}]})
        attrs["from"], attrs["to"] = first, last
        return attrs


StatsParams._declared_fields["from"] = MonthField(
    required=False, default=None,
    help_text="the first month, YYYY-MM (default: eleven months before `to`)")


class LayerParams(GridLevelParams):
    """GET /api/v1/care/stats/layer/"""

    month = MonthField(required=False, default=None,
                       help_text="the month, YYYY-MM (default: this month)")


# --- answers ------------------------------------------------------------------------------------
def _count(help_text: str = "") -> serializers.IntegerField:
    return serializers.IntegerField(allow_null=True, help_text=help_text or "null: suppressed")


class SubjectCountsSerializer(serializers.Serializer):
    red = _count()
    yellow = _count()
    blue = _count()
    total = _count("active subjects at the month's end; null: suppressed")


class VisitCountsSerializer(serializers.Serializer):
    key = _count("重点访")
    necessary = _count("必要访")
    anytime = _count("随时访")
    regular = _count("定期访")
    total = _count()


class FiguresSerializer(serializers.Serializer):
    subjects = SubjectCountsSerializer()
    visits = VisitCountsSerializer()
    visited_in_interval = _count("active subjects with a counting visit within their colour's "
                                 "interval before the month's end")
    visit_rate = serializers.FloatField(allow_null=True,
                                        help_text="探访率 = visited_in_interval / subjects")
    overdue = _count("visits due in the month met late or still unmet and past due")
    mean_days_overdue = serializers.FloatField(allow_null=True)


class StatsRowSerializer(FiguresSerializer):
    grid = serializers.CharField(help_text="the row's grid code")
    name = serializers.CharField()
    month = serializers.CharField(help_text="YYYY-MM")


class StatsAnswerSerializer(serializers.Serializer):
    grid = serializers.CharField()
    by = serializers.IntegerField()
    to = serializers.CharField()
    suppressed_below = serializers.IntegerField(
        allow_null=True, help_text="counts under this are null in some rows; null: none are")
    rows = StatsRowSerializer(many=True)
    totals = FiguresSerializer(help_text="visits and overdue over the period; subjects and "
                                         "visited at the last month's end")


StatsAnswerSerializer._declared_fields["from"] = serializers.CharField()


class LayerFeatureSerializer(serializers.Serializer):
    type = serializers.CharField()
    geometry = serializers.JSONField(help_text="the grid's boundary (GeoJSON MultiPolygon)")
    properties = StatsRowSerializer()


class LayerAnswerSerializer(serializers.Serializer):
    type = serializers.CharField()
    suppressed_below = serializers.IntegerField(allow_null=True)
    features = LayerFeatureSerializer(many=True)


# --- views --------------------------------------------------------------------------------------
def _viewer_for(request: Request, grid: Grid) -> CareViewer:
    if not request.user.is_authenticated:
        raise NotAuthenticated(_("log in to see the care figures"))
    viewer = CareViewer(request.user)
    roots = [*viewer.full_roots, *viewer.masked_roots, *viewer.counts_roots]
    if not (viewer.is_super or in_roots(grid.code, roots)):
        raise NotFound(_("No such grid."))  # as if it did not exist: no probing for subjects
    return viewer


def _rows(viewer: CareViewer, report: stats.Report) -> tuple[list[dict[str, Any]], bool]:
    limit = stats.min_cell()
    out, suppressed = [], False
    for row in report.rows:
        full = viewer.sees_groups_everywhere_in(row.code)
        suppressed |= not full
        out.append({"grid": row.code, "name": row.name, "month": f"{row.month:%Y-%m}",
                    **row.figures.as_dict(min_cell=None if full else limit)})
    return out, suppressed


class StatsView(APIView):
    permission_classes = [AllowAny]  # _viewer_for answers anonymous callers

    @extend_schema(operation_id="care_stats", summary="Care figures per grid and month",
                   parameters=[StatsParams], responses={200: StatsAnswerSerializer})
    def get(self, request: Request) -> Response:
        if not request.user.is_authenticated:
            raise NotAuthenticated(_("log in to see the care figures"))
        params = StatsParams.parse(request.query_params)
        grid: Grid = params["grid"]
        viewer = _viewer_for(request, grid)
        report = stats.care_stats(grid.code, params["by"], params["from"], params["to"])
        rows, suppressed = _rows(viewer, report)
        full_total = viewer.sees_groups_everywhere_in(grid.code)
        suppressed |= not full_total
        body = {
            "grid": grid.code, "by": params["by"], "from": f"{params['from']:%Y-%m}",
            "to": f"{params['to']:%Y-%m}",
            "suppressed_below": stats.min_cell() if suppressed else None, "rows": rows,
            "totals": report.totals.as_dict(min_cell=None if full_total else stats.min_cell()),
        }
        return Response(StatsAnswerSerializer(body).data)


class StatsLayerView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(operation_id="care_stats_layer",
                   summary="Care figures of one month as a GeoJSON layer of the grids",
                   parameters=[LayerParams], responses={200: LayerAnswerSerializer})
    def get(self, request: Request) -> Response:
        if not request.user.is_authenticated:
            raise NotAuthenticated(_("log in to see the care figures"))
        params = LayerParams.parse(request.query_params)
        grid: Grid = params["grid"]
        viewer = _viewer_for(request, grid)
        month = params["month"] or _this_month()
        report = stats.care_stats(grid.code, params["by"], month, month, geometry=True)
        rows, suppressed = _rows(viewer, report)
        features = [{"type": "Feature", "geometry": json.loads(r.geometry or "null"),
                     "properties": props} for r, props in zip(report.rows, rows, strict=True)]
        body = {"type": "FeatureCollection",
                "suppressed_below": stats.min_cell() if suppressed else None,
                "features": features}
        return Response(LayerAnswerSerializer(body).data)
