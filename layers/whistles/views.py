"""/api/v1/whistles/…: the list and blowing, a community's request, one whistle, a department
member's own units, the map layer, the figures, the departments one may call in, and the
actions (one endpoint each, from the registries). Thin: parse, call the service, shape the
answer; errors are raised (one shape).

Who sees what is layers.whistles.access: a whistle out of the caller's sight is a 404 like one
that does not exist; anonymous callers get 403.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from geogrid.actions import ActionView
from geogrid.errors import NotFound
from geogrid.openapi import conflict
from geogrid.queryparams import PageParams, QueryParams, YearParams, page_of
from geogrid.roles import Role
from layers.appeals.actors import Actor
from layers.appeals.models import Department
from layers.whistles import access, figures, services
from layers.whistles.inputs import BlowInput
from layers.whistles.models import Whistle, WhistleUnit
from layers.whistles.serializers import WhistleDepartmentOut, WhistleOut, whistle_out


def _rows() -> QuerySet[Whistle]:
    return (Whistle.objects.select_related("subdistrict", "requested_by_grid", "appeal")
            .prefetch_related(Prefetch("units", WhistleUnit.objects.select_related("department")
                                       .order_by("role", "id"))))


def _one(actor: Actor, pk: int) -> Whistle:
    found = access.visible(actor, _rows().prefetch_related("events")).filter(pk=pk).first()
    if found is None:
        raise NotFound(_("no such whistle"))
    return found


class ListParams(PageParams):
    status = serializers.MultipleChoiceField(
        choices=Whistle.Status.choices, required=False,
        help_text="one or more states (repeat the parameter); default: every state")
    open = serializers.BooleanField(required=False, default=False,
                                    help_text="only whistles not closed or cancelled")


class WhistlePageOut(serializers.Serializer):
    count = serializers.IntegerField()
    page_size = serializers.IntegerField()
    results = WhistleOut(many=True)


class WhistleListView(APIView):
    """GET the whistles in sight, newest first; POST blows one (the blowing office)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="whistles_list", parameters=[ListParams],
                   responses={200: WhistlePageOut})
    def get(self, request: Request) -> Response:
        p = ListParams.parse(request.query_params)
        actor = Actor(user=request.user)
        rows = access.visible(actor, _rows())
        if p.get("status"):
            rows = rows.filter(status__in=p["status"])
        if p["open"]:
            rows = rows.filter(status__in=Whistle.OPEN)
        count, size, page = page_of(rows.order_by("-created_at", "-id"), p)
        return Response({"count": count, "page_size": size,
                         "results": [whistle_out(w, actor, full=False) for w in page]})

    @extend_schema(request=BlowInput, responses={201: WhistleOut, **conflict()})
    def post(self, request: Request) -> Response:
        return _create(request, services.blow)


class RequestView(APIView):
    """POST: a community's staff ask their subdistrict to blow (approve/decline follow)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=BlowInput, responses={201: WhistleOut, **conflict()})
    def post(self, request: Request) -> Response:
        return _create(request, services.request)


def _create(request: Request, service: Any) -> Response:
    inputs = BlowInput(data=request.data if hasattr(request.data, "get") else {})
    inputs.is_valid(raise_exception=True)
    actor = Actor(user=request.user)
    whistle = service(actor, **inputs.validated_data)
    return Response(whistle_out(_one(actor, whistle.pk), actor), status=201)


class WhistleDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="whistles_detail", responses={200: WhistleOut})
    def get(self, request: Request, pk: int) -> Response:
        actor = Actor(user=request.user)
        return Response(whistle_out(_one(actor, pk), actor))


class WhistleMineOut(serializers.Serializer):
    whistles = WhistleOut(many=True)


class MineView(APIView):
    """GET: the whistles that call in the caller's departments and are still open — what a
    department member sees on the phone (report in, refuse, done)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: WhistleMineOut})
    def get(self, request: Request) -> Response:
        actor = Actor(user=request.user)
        rows = _rows().filter(
            status__in=Whistle.OPEN,
            pk__in=WhistleUnit.objects.filter(department_id__in=actor.department_ids)
            .values("whistle_id")).order_by("-blown_at", "-id")[:200]
        return Response({"whistles": [whistle_out(w, actor, full=False) for w in rows]})


class MapParams(QueryParams):
    open = serializers.BooleanField(required=False, default=True,
                                    help_text="only whistles not closed or cancelled")


class WhistleMapOut(serializers.Serializer):
    type = serializers.CharField()
    features = serializers.ListField(child=serializers.JSONField())


class MapView(APIView):
    """GET a GeoJSON FeatureCollection of the whistles in sight that have a place, each with
    its units' states and clocks (the dispatcher's map layer)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=[MapParams], responses={200: WhistleMapOut})
    def get(self, request: Request) -> Response:
        p = MapParams.parse(request.query_params)
        actor = Actor(user=request.user)
        rows = access.visible(actor, _rows()).filter(location__isnull=False)
        if p["open"]:
            rows = rows.filter(status__in=Whistle.OPEN)
        features = []
        for w in rows.order_by("-created_at")[:2000]:
            props = whistle_out(w, actor, full=False)
            loc = props.pop("location")
            features.append({"type": "Feature", "id": w.pk, "properties": props,
                             "geometry": {"type": "Point", "coordinates": [loc["lon"],
                                                                           loc["lat"]]}})
        return Response({"type": "FeatureCollection", "features": features})


class FiguresParams(YearParams):
    district = serializers.RegexField(r"^[0-9]{6}$", help_text="the district's code")


class DepartmentFigureOut(serializers.Serializer):
    department = serializers.CharField()
    name = serializers.CharField()
    called = serializers.IntegerField()
    reported = serializers.IntegerField()
    on_time = serializers.IntegerField()
    done = serializers.IntegerField()
    released = serializers.IntegerField()
    refused = serializers.IntegerField()
    rated = serializers.IntegerField()
    satisfied = serializers.IntegerField()
    basically = serializers.IntegerField()
    report_rate = serializers.FloatField(allow_null=True)
    on_time_rate = serializers.FloatField(allow_null=True)
    completion_rate = serializers.FloatField(allow_null=True)
    satisfaction_rate = serializers.FloatField(allow_null=True,
                                               help_text="satisfied or basically, first time")
    mean_response_min = serializers.FloatField(allow_null=True)


class SubdistrictFigureOut(serializers.Serializer):
    subdistrict = serializers.CharField()
    name = serializers.CharField()
    appeals = serializers.IntegerField()
    whistles = serializers.IntegerField()
    per_100_appeals = serializers.FloatField(allow_null=True)
    flag = serializers.ChoiceField(choices=["low", "high"], allow_null=True)


class WhistleFiguresOut(serializers.Serializer):
    district = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    whistles = serializers.IntegerField()
    by_reason = serializers.DictField(child=serializers.IntegerField())
    median_per_100_appeals = serializers.FloatField(allow_null=True)
    departments = DepartmentFigureOut(many=True)
    subdistricts = SubdistrictFigureOut(many=True)


class FiguresView(APIView):
    """GET the district's whistle figures: per department (report-in rate, mean response,
    completion, satisfaction) and per subdistrict (whistles per 100 appeals, flagged when far
    from the district's median). Dispatchers of the district and superusers."""

    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=[FiguresParams], responses={200: WhistleFiguresOut})
    def get(self, request: Request) -> Response:
        p = FiguresParams.parse(request.query_params)
        actor = Actor(user=request.user)
        if not (actor.is_super or (Role.DISPATCHER in actor.roles
                                   and actor.covers(p["district"]))):
            raise PermissionDenied(_("the district's dispatchers see its whistle figures"))
        return Response(figures.figures(p["district"], p["start"], p["end"]))


class DepartmentsParams(QueryParams):
    district = serializers.RegexField(r"^[0-9]{6}$", help_text="the district's code")


class WhistleDepartmentsOut(serializers.Serializer):
    district = serializers.CharField()
    departments = WhistleDepartmentOut(many=True)


class DepartmentsView(APIView):
    """GET the active departments a whistle in this district may call in (those of the
    district and those serving every district), by code: what the blowing form offers as the
    lead and the assisting units. Names only — never their members. Any signed-in user (the
    departments are public bodies); blowing itself checks who blows."""

    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=[DepartmentsParams], responses={200: WhistleDepartmentsOut})
    def get(self, request: Request) -> Response:
        district = DepartmentsParams.parse(request.query_params)["district"]
        rows = (Department.objects.filter(active=True)
                .filter(Q(district_code="") | Q(district_code=district))
                .order_by("code").values("code", "name_zh", "name_en"))
        return Response({"district": district, "departments": list(rows)})


def _may(view: ActionView, actor: Actor, obj: Any) -> None:
    action = view.registry[view.action_name]
    if not action.who(actor, obj):
        raise PermissionDenied(_("you may not take this action: %(a)s") % {"a": action.label})


class WhistleActionView(ActionView):
    permission_classes = [IsAuthenticated]

    def load(self, request: Request, **kwargs: Any) -> int:
        # Out of sight → 404 and no right → 403, before the body is read (the service checks
        # again, locked).
        whistle = _one(Actor(user=request.user), kwargs["pk"])
        _may(self, Actor(user=request.user), whistle)
        return int(kwargs["pk"])

    def actor(self, request: Request, ref: Any) -> Actor:
        return Actor(user=request.user)

    def respond(self, request: Request, ref: Any, actor: Any, result: Any) -> Response:
        with transaction.atomic():
            return Response(whistle_out(_one(actor, ref), actor))

    @classmethod
    def action_response_schema(cls, name: str) -> Any:
        return {200: WhistleOut, **conflict()}


class UnitActionView(ActionView):
    permission_classes = [IsAuthenticated]

    def load(self, request: Request, **kwargs: Any) -> int:
        unit = WhistleUnit.objects.select_related("department").filter(pk=kwargs["pk"]).first()
        if unit is None:
            raise NotFound(_("no such unit"))
        unit.whistle = _one(Actor(user=request.user), unit.whistle_id)
        _may(self, Actor(user=request.user), unit)
        return int(kwargs["pk"])

    def actor(self, request: Request, ref: Any) -> Actor:
        return Actor(user=request.user)

    def respond(self, request: Request, ref: Any, actor: Any, result: Any) -> Response:
        whistle_id = WhistleUnit.objects.values_list("whistle_id", flat=True).get(pk=ref)
        return Response(whistle_out(_one(actor, whistle_id), actor))

    @classmethod
    def action_response_schema(cls, name: str) -> Any:
        return {200: WhistleOut, **conflict()}

