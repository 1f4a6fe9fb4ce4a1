"""The volunteering API under /api/v1/volunteering/: thin views over layers.volunteering.services.

Who sees what is layers.volunteering.access; a volunteer, an application, a record or an account
out of the viewer's sight answers 404 like one that does not exist. Staff reads of volunteers
and ledgers write one access-log row each (geogrid.accesslog), in the read's transaction.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from geogrid import accesslog
from geogrid.actions import ActionView
from geogrid.errors import NotFound
from geogrid.hierarchy import Level, level_for_code
from geogrid.models import AccessLog, Grid
from geogrid.openapi import conflict
from geogrid.queryparams import PageParams, QueryParams, page_of
from layers.volunteering import services
from layers.volunteering.access import COUNTS, REVERSE, VERIFY, PointsViewer
from layers.volunteering.figures import FigureQuery, points_figures
from layers.volunteering.inputs import AdjustmentInput, ApplyInput, RecordInput, RegisterInput
from layers.volunteering.models import (
    PointsAccount,
    PointsAdjustment,
    PointsEntry,
    ServiceRecord,
    Volunteer,
    VolunteerApplication,
)
from layers.volunteering.serializers import (
    AdjustmentOut,
    ApplicationOut,
    EntryOut,
    EntryPage,
    MeOut,
    PointsFiguresOut,
    PointsLayerOut,
    RecordOut,
    VolunteerOut,
    adjustment_out,
    application_out,
    entry_out,
    record_out,
    volunteer_out,
)
from layers.volunteering.services import (
    ADJUSTMENT_ACTIONS,
    APPLICATION_ACTIONS,
    RECORD_ACTIONS,
)

GRID = serializers.RegexField(r"^[0-9]{1,32}$", required=False, default=None,
                              help_text="a grid code: its subtree")
NOT_FOUND = {404: OpenApiResponse(description="no such object in your sight")}


def viewer_of(request: Request) -> PointsViewer:
    if not request.user.is_authenticated:
        raise NotAuthenticated(_("log in to see points"))
    return PointsViewer(request.user)


def _entries(account: PointsAccount, p: dict[str, Any]) -> dict[str, Any]:
    rows = account.entries.order_by("-id")
    count, size, page = page_of(rows, p)
    reversed_ids = set(PointsEntry.objects.filter(reverses__in=page)
                       .values_list("reverses_id", flat=True))
    return {"count": count, "page": p["page"], "page_size": size,
            "results": [entry_out(e, reversed_ids) for e in page]}


# -- the volunteer's own ------------------------------------------------------------------------
class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="volunteering_me",
                   summary="Your volunteer record and balance (null when you are none), and "
                           "your pending application", responses={200: MeOut})
    def get(self, request: Request) -> Response:
        viewer = viewer_of(request)
        v = viewer.volunteer
        application = (VolunteerApplication.objects.filter(user=viewer.user)
                       .select_related("community").order_by("-applied_at").first())
        return Response({
            "volunteer": volunteer_out(v) if v else None,
            "application": application_out(application, APPLICATION_ACTIONS.available(
                application.status, viewer, application)) if application else None})


class MyEntriesView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="volunteering_my_entries", parameters=[PageParams],
                   summary="Your ledger, newest first: kind, points, balance after, what for",
                   responses={200: EntryPage})
    def get(self, request: Request) -> Response:
        viewer = viewer_of(request)
        p = PageParams.parse(request.query_params)
        if viewer.volunteer is None:
            raise NotFound(_("you are not a volunteer"))
        account = services.ledger.account_for(viewer.volunteer)
        return Response(_entries(account, p))


# -- volunteers (staff) ------------------------------------------------------------------------
class VolunteerParams(PageParams):
    grid = GRID


class VolunteerListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="volunteering_volunteers_list", parameters=[VolunteerParams],
                   summary="Volunteers of your subtree with their balances (one access-log row)",
                   responses={200: VolunteerOut(many=True)})
    def get(self, request: Request) -> Response:
        viewer = viewer_of(request)
        p = VolunteerParams.parse(request.query_params)
        rows = (Volunteer.objects.filter(viewer.staff_scope("community__code"))
                .select_related("community", "partner_unit", "account").order_by("id"))
        if p["grid"]:
            rows = rows.filter(community__code__startswith=p["grid"])
        with transaction.atomic():
            _count, _size, page = page_of(rows, p, 100)
            if page:
                accesslog.record(request, user=request.user, post=viewer.grants.post_for(
                    VERIFY, REVERSE), action=AccessLog.Action.LIST, subject_type="volunteer",
                    subject_ids=[v.pk for v in page], fields=["display_name", "balance"])
        return Response([volunteer_out(v) for v in page])

    @extend_schema(operation_id="volunteering_volunteers_register", request=RegisterInput,
                   summary="Register a user as a volunteer of your community",
                   responses={201: VolunteerOut, **conflict()})
    def post(self, request: Request) -> Response:
        viewer = viewer_of(request)
        data = RegisterInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = services.register_volunteer(viewer, **data.validated_data)
        return Response(volunteer_out(Volunteer.objects.select_related(
            "community", "partner_unit", "account").get(pk=v.pk)), status=201)


# -- applications ------------------------------------------------------------------------------
class ApplicationParams(PageParams):
    status = serializers.ChoiceField(choices=VolunteerApplication.Status.choices,
                                     required=False, default="pending")


class ApplicationListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="volunteering_applications_list",
                   parameters=[ApplicationParams],
                   summary="Applications to decide in your subtree, and your own",
                   responses={200: ApplicationOut(many=True)})
    def get(self, request: Request) -> Response:
        viewer = viewer_of(request)
        p = ApplicationParams.parse(request.query_params)
        rows = (VolunteerApplication.objects.filter(status=p["status"])
                .filter(viewer.scope(VERIFY, "community__code") | Q(user=request.user))
                .select_related("community").order_by("applied_at", "id"))
        _count, _size, page = page_of(rows, p, 100)
        return Response([application_out(a, APPLICATION_ACTIONS.available(a.status, viewer, a))
                         for a in page])

    @extend_schema(operation_id="volunteering_apply", request=ApplyInput,
                   summary="Ask to serve a community as a volunteer (staff approve)",
                   responses={201: ApplicationOut, **conflict()})
    def post(self, request: Request) -> Response:
        viewer = viewer_of(request)
        data = ApplyInput(data=request.data)
        data.is_valid(raise_exception=True)
        a = services.apply(viewer, **data.validated_data)
        return Response(application_out(a, APPLICATION_ACTIONS.available(a.status, viewer, a)),
                        status=201)


class _Action(ActionView):
    """The actions' common frame: out of sight → 404, no right → 403, before the body."""

    permission_classes = [IsAuthenticated]
    model: Any
    visible: Any
    out: Any
    out_serializer: Any

    def load(self, request: Request, **kwargs: Any) -> int:
        viewer = viewer_of(request)
        obj = self.model.objects.filter(pk=kwargs["pk"]).first()
        if obj is None or not type(self).visible(viewer, obj):
            raise NotFound(_("not found"))
        return int(kwargs["pk"])

    def actor(self, request: Request, ref: Any) -> PointsViewer:
        return viewer_of(request)

    def respond(self, request: Request, ref: Any, actor: Any, result: Any) -> Response:
        actions = (self.registry.available(services.state_of(result), actor, result)
                   if not isinstance(result, PointsEntry) else [])
        return Response(type(self).out(result, actions))

    @classmethod
    def action_response_schema(cls, name: str) -> Any:
        return {200: cls.out_serializer, **conflict()}


class ApplicationActionView(_Action):
    model = VolunteerApplication
    visible = staticmethod(services.application_visible)
    out = staticmethod(application_out)
    out_serializer = ApplicationOut


# -- service records ---------------------------------------------------------------------------
class RecordParams(PageParams):
    status = serializers.ChoiceField(choices=ServiceRecord.Status.choices, required=False,
                                     default=None)
    grid = GRID
    mine = serializers.BooleanField(required=False, default=False,
                                    help_text="only your own service")


def _records(viewer: PointsViewer) -> QuerySet[ServiceRecord]:
    own = Q(volunteer=viewer.volunteer) if viewer.volunteer else Q(pk__in=[])
    return (ServiceRecord.objects.filter(own | viewer.staff_scope("grid__code"))
            .select_related("volunteer", "grid", "entry"))


class RecordListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="volunteering_records_list", parameters=[RecordParams],
                   summary="Service records: your own, or those of your subtree (staff)",
                   responses={200: RecordOut(many=True)})
    def get(self, request: Request) -> Response:
        viewer = viewer_of(request)
        p = RecordParams.parse(request.query_params)
        rows = _records(viewer).order_by("-served_on", "-id")
        if p["mine"]:
            rows = rows.filter(volunteer=viewer.volunteer) if viewer.volunteer else rows.none()
        if p["status"]:
            rows = rows.filter(status=p["status"])
        if p["grid"]:
            rows = rows.filter(grid__code__startswith=p["grid"])
        _count, _size, page = page_of(rows, p, 100)
        return Response([record_out(r, RECORD_ACTIONS.available(r.status, viewer, r))
                         for r in page])

    @extend_schema(operation_id="volunteering_records_create", request=RecordInput,
                   summary="Record a service (your own, or — staff — a volunteer's)",
                   responses={201: RecordOut})
    def post(self, request: Request) -> Response:
        viewer = viewer_of(request)
        data = RecordInput(data=request.data)
        data.is_valid(raise_exception=True)
        r = services.submit_record(viewer, **data.validated_data)
        return Response(record_out(r, RECORD_ACTIONS.available(r.status, viewer, r)),
                        status=201)


class RecordActionView(_Action):
    model = ServiceRecord
    visible = staticmethod(services.record_visible)
    out = staticmethod(record_out)
    out_serializer = RecordOut


# -- ledgers and corrections (POINTS_REVERSE) -------------------------------------------------
def _account(viewer: PointsViewer, pk: int) -> PointsAccount:
    account = PointsAccount.objects.select_related("volunteer__community").filter(pk=pk).first()
    if account is None or not viewer.may(REVERSE, account.volunteer.community.code):
        raise NotFound(_("no such account in your scope"))
    return account


class AccountEntriesView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="volunteering_account_entries", parameters=[PageParams],
                   summary="One volunteer's ledger (POINTS_REVERSE; one access-log row)",
                   responses={200: EntryPage})
    def get(self, request: Request, pk: int) -> Response:
        viewer = viewer_of(request)
        p = PageParams.parse(request.query_params)
        with transaction.atomic():
            account = _account(viewer, pk)
            out = _entries(account, p)
            accesslog.record(request, user=request.user, post=viewer.grants.post_for(REVERSE),
                             action=AccessLog.Action.READ, subject_type="volunteer",
                             subject_ids=[account.volunteer_id], fields=["points_entries"])
        return Response(out)


class EntryActionView(_Action):
    model = PointsEntry
    visible = staticmethod(services.entry_visible)
    out_serializer = EntryOut

    @staticmethod
    def out(result: PointsEntry, actions: list[str]) -> dict[str, Any]:
        return entry_out(result, set())


class AdjustmentListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="volunteering_adjustments_list", parameters=[PageParams],
                   summary="Pending adjustments of your subtree (POINTS_REVERSE)",
                   responses={200: AdjustmentOut(many=True)})
    def get(self, request: Request) -> Response:
        viewer = viewer_of(request)
        p = PageParams.parse(request.query_params)
        rows = (PointsAdjustment.objects.filter(status="pending")
                .filter(viewer.scope(REVERSE, "account__volunteer__community__code"))
                .select_related("account__volunteer__community").order_by("proposed_at"))
        _count, _size, page = page_of(rows, p, 100)
        return Response([adjustment_out(a, ADJUSTMENT_ACTIONS.available(a.status, viewer, a))
                         for a in page])


class ProposeAdjustmentView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="volunteering_adjustment_propose", request=AdjustmentInput,
                   summary="Propose an adjustment of one account (another person approves)",
                   responses={201: AdjustmentOut, **conflict()})
    def post(self, request: Request, pk: int) -> Response:
        viewer = viewer_of(request)
        _account(viewer, pk)  # out of scope → 404 before the body is read
        data = AdjustmentInput(data=request.data)
        data.is_valid(raise_exception=True)
        a = services.propose_adjustment(viewer, pk, **data.validated_data)
        return Response(adjustment_out(a, ADJUSTMENT_ACTIONS.available(a.status, viewer, a)),
                        status=201)


class AdjustmentActionView(_Action):
    model = PointsAdjustment
    visible = staticmethod(services.adjustment_visible)
    out = staticmethod(adjustment_out)
    out_serializer = AdjustmentOut


# -- figures -----------------------------------------------------------------------------------
class FigureParams(QueryParams):
    grid = serializers.RegexField(r"^[0-9]{1,32}$", help_text="a grid code: its subtree")
    by = serializers.IntegerField(min_value=int(Level.SUBDISTRICT),
                                  max_value=int(Level.MICRO_GRID), required=False, default=None,
                                  help_text="the level of the rows (default: one below grid)")


def figure_query(viewer: PointsViewer, request: Request) -> FigureQuery:
    """The grid and level asked for, in the viewer's POINTS_COUNTS scope (404 otherwise)."""
    p = FigureParams.parse(request.query_params)
    code = p["grid"]
    level = level_for_code(code)
    if level is None or not viewer.may(COUNTS, code) or not Grid.objects.current().filter(
            code=code).exists():
        raise NotFound(_("no such grid in your scope"))
    by = p["by"] or min(level + 1, int(Level.MICRO_GRID))
    if by < level:
        raise NotFound(_("no such grid in your scope"))  # nothing of that level below it
    return FigureQuery(code, by)


class FiguresView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="volunteering_figures", parameters=[FigureParams],
                   summary="Points earned, redeemed, expired and outstanding per grid",
                   responses={200: PointsFiguresOut, **NOT_FOUND})
    def get(self, request: Request) -> Response:
        return Response(points_figures(figure_query(viewer_of(request), request)))


class FiguresLayerView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="volunteering_figures_layer", parameters=[FigureParams],
                   summary="The points figures as a GeoJSON FeatureCollection of the grids",
                   responses={200: PointsLayerOut, **NOT_FOUND})
    def get(self, request: Request) -> Response:
        return Response(points_figures(figure_query(viewer_of(request), request),
                                       geometry=True))
