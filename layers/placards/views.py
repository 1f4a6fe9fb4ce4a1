"""The placards API under /api/v1/placards/: thin views over layers.placards.services, .queries,
.reports and .sheets. Staff endpoints need PLACARD_MANAGE on the placard's grid (a placard out of
scope is a 404, like one that does not exist); the report endpoint is public and rate-limited.
Errors are raised and shaped by geogrid.errors."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from geogrid.actions import ActionView
from geogrid.capabilities import Capability, GrantedViewer
from geogrid.errors import Invalid, NotFound
from geogrid.openapi import conflict, rate_limited
from geogrid.ratelimit import client_address, enforce
from layers.appeals.serializers import share_url
from layers.placards import reports, services, sheets
from layers.placards.inputs import BulkInput, CreateInput, ListParams, ReportInput, SheetParams
from layers.placards.models import Placard
from layers.placards.queries import in_scope, scope_for
from layers.placards.serializers import (
    BulkOut,
    PlacardDetailOut,
    PlacardLayerOut,
    PlacardPageOut,
    ReportCreatedOut,
    detail_out,
    feature_out,
    placard_out,
    scan_totals,
)

SHEET_MAX_PAGES = 2000  # one request; a bigger grid is printed per community or zone
LAYER_MAX = 5000  # features on the map at once
MANAGE = Capability.PLACARD_MANAGE
LAYER_SCOPE = (MANAGE, Capability.PLACARD_MAP)
NOT_FOUND = OpenApiResponse(description="no such grid or placard, or none in your grids")


def _viewer(request: Request) -> GrantedViewer:
    return GrantedViewer(request.user)


def _placards(ids: list[int]) -> dict[int, Placard]:
    return Placard.objects.select_related("building").in_bulk(ids)


class PlacardListView(APIView):
    """GET: the placards in the viewer's grids (filters: grid, building, kind, status).
    POST: create one placard."""

    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="placards_list",
                   summary="Placards in your grids", parameters=[ListParams],
                   responses={200: PlacardPageOut})
    def get(self, request: Request) -> Response:
        params = ListParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        q = params.validated_data
        size = q["page_size"]
        with connection.cursor() as cursor:
            total, rows = in_scope(cursor, scope_for(_viewer(request), q["grid"]), q,
                                   offset=(q["page"] - 1) * size, limit=size)
        found = _placards([pk for pk, _code in rows])
        totals = scan_totals(found)
        return Response({"count": total, "page": q["page"], "page_size": size,
                         "results": [placard_out(found[pk], code, totals.get(pk, (0, 0)))
                                     for pk, code in rows if pk in found]})

    @extend_schema(operation_id="placards_create", summary="Create a placard", request=CreateInput,
                   responses={201: PlacardDetailOut, **conflict()})
    def post(self, request: Request) -> Response:
        data = CreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        viewer = _viewer(request)
        placard = services.create_placard(viewer, **data.validated_data)
        return Response(detail_out(placard, services.placard_grid(placard), viewer), status=201)


class PlacardBulkView(APIView):
    """POST: a placard for every building (and stairwell) of a grid subtree without one."""

    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="placards_bulk_create",
                   summary="Create placards for every building of a grid", request=BulkInput,
                   responses={201: BulkOut, 404: NOT_FOUND, **conflict()})
    def post(self, request: Request) -> Response:
        data = BulkInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.bulk_create(_viewer(request), **data.validated_data)
        return Response({"grid": result.grid, "building": result.building,
                         "stairwell": result.stairwell, "seconds": round(result.seconds, 3)},
                        status=201)


class PlacardDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="placard_detail",
                   summary="One placard: state, scans per day, timeline, your actions",
                   responses={200: PlacardDetailOut})
    def get(self, request: Request, pk: int) -> Response:
        viewer = _viewer(request)
        placard = services.managed(viewer, pk)
        return Response(detail_out(placard, services.placard_grid(placard), viewer))


class PlacardActionView(ActionView):
    """POST /api/v1/placards/{id}/actions/{action}/ — revoke or reprint."""

    permission_classes = [IsAuthenticated]

    def load(self, request: Request, **kwargs: Any) -> int:
        services.managed(_viewer(request), kwargs["pk"])  # out of scope: 404 before the body
        return int(kwargs["pk"])

    def actor(self, request: Request, ref: Any) -> GrantedViewer:
        return _viewer(request)

    def respond(self, request: Request, ref: Any, actor: Any, result: Any) -> Response:
        return Response(detail_out(result, services.placard_grid(result), actor))

    @classmethod
    def response_schema(cls) -> Any:
        return {200: PlacardDetailOut, **conflict()}


class PlacardSheetView(APIView):
    """GET ?placard=|building=|grid= — the A4 PDF, one page per (active) placard."""

    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="placards_sheet",
                   summary="Printable A4 sheet (PDF) of placards", parameters=[SheetParams],
                   responses={(200, "application/pdf"): OpenApiResponse(description="PDF"),
                              404: NOT_FOUND})
    def get(self, request: Request) -> HttpResponse:
        params = SheetParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        q = params.validated_data
        viewer = _viewer(request)
        if q["placard"] is not None:
            chosen = [services.managed(viewer, q["placard"])]
            name = f"placard-{q['placard']}"
        else:
            filters = {"status": Placard.Status.ACTIVE, "building": q["building"]}
            with connection.cursor() as cursor:
                total, rows = in_scope(cursor, scope_for(viewer, q["grid"]), filters,
                                       limit=SHEET_MAX_PAGES + 1)
            if total > SHEET_MAX_PAGES:
                raise Invalid(_("%(n)d pages are more than one sheet may hold (%(max)d): print "
                                "a smaller grid") % {"n": total, "max": SHEET_MAX_PAGES})
            found = _placards([pk for pk, _code in rows])
            chosen = [found[pk] for pk, _code in rows if pk in found]
            if not chosen:
                raise NotFound(_("no active placards there in your grids"))
            name = f"building-{q['building']}" if q["building"] else f"grid-{q['grid']}"
        pdf = sheets.render(chosen, base_url=request.build_absolute_uri("/"))
        services.record_printed(viewer, chosen)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="placards-{name}.pdf"'
        return response


class PlacardLayerView(APIView):
    """GET ?grid=&status= — the placards in the viewer's grids as GeoJSON, for the dashboard:
    those they manage, and for dispatchers and managers (PLACARD_MAP) those of their scope —
    locations and scan counts, nothing personal."""

    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="placards_layer",
                   summary="Placards as a GeoJSON FeatureCollection (dashboard layer)",
                   parameters=[ListParams], responses={200: PlacardLayerOut})
    def get(self, request: Request) -> Response:
        params = ListParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        q = params.validated_data
        viewer = _viewer(request)
        with connection.cursor() as cursor:
            total, rows = in_scope(cursor, scope_for(viewer, q["grid"], LAYER_SCOPE), q,
                                   limit=LAYER_MAX)
        found = _placards([pk for pk, _code in rows])
        totals = scan_totals(found)
        # A dispatcher sees the placards of their scope (PLACARD_MAP) but prints none.
        return Response({"type": "FeatureCollection", "count": total,
                         "truncated": total > len(rows),
                         "features": [feature_out(found[pk], code, totals.get(pk, (0, 0)),
                                                  manage=viewer.may(MANAGE, code))
                                      for pk, code in rows if pk in found]})


class PlacardReportView(APIView):
    """POST /api/v1/placards/scan/{token}/appeal/ — a report through a placard: anyone, JSON or
    multipart (photos). 404 for an unknown code, 410 for a revoked one."""

    permission_classes = [AllowAny]

    @extend_schema(operation_id="placard_report",
                   summary="Report a problem through a QR placard", request=ReportInput,
                   responses={201: ReportCreatedOut,
                              410: OpenApiResponse(description="the placard was revoked"),
                              **rate_limited()})
    def post(self, request: Request, token: str) -> Response:
        client = client_address(request)
        if not request.user.is_authenticated:
            enforce("intake", client, _("too many submissions from this address; try again "
                                        "later"))
        reports.open_placard(token)  # 404/410 before the body is read
        data = ReportInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = reports.submit_report(token, reports.Report(**data.validated_data),
                                       actor=request.user, client=client)
        appeal = result.intake.appeal
        return Response({
            "tracking": appeal.tracking, "token": result.intake.token,
            "public_id": str(appeal.public_id), "share_url": share_url(appeal),
            "status": appeal.status, "at_door": result.at_door,
            "assignment": result.intake.assignment.as_dict(),
            "told": result.told,
        }, status=201)
