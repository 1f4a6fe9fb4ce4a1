"""Thin API views: parse, call the service, shape the answer."""

from __future__ import annotations

import datetime as dt
import hashlib

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from geogrid import coords
from geogrid.access import assigned_codes, user_may_act_on
from geogrid.models import Grid
from geogrid.roles import Role, has_role
from layers import notifications, workflow
from layers.assignment import assign_point, swapped_would_locate
from layers.intake import AppealInput, submit_appeal, token_matches
from layers.models import CLOCK_STATUSES, Appeal, Channel, Status
from layers.ratelimit import client_address, over_limit
from layers.serializers import (
    ActionInSerializer,
    AppealInSerializer,
    FeedbackInSerializer,
    appeal_out,
    feature_out,
)
from layers.stats import BY_CHOICES, StatsQuery, grid_stats


def _errors(exc: ValidationError) -> dict:
    if hasattr(exc, "error_dict"):
        return {name: [str(m) for e in errs for m in e.messages]
                for name, errs in exc.error_dict.items()}
    return {"non_field_errors": exc.messages}


class AppealListView(APIView):
    """POST /api/v1/appeals/ — JSON or multipart (photos).
    GET /api/v1/appeals/ — the staff's appeals as a paginated GeoJSON FeatureCollection."""

    permission_classes = [AllowAny]

    @extend_schema(
        summary="Appeals in the user's grids, as a GeoJSON FeatureCollection",
        parameters=[OpenApiParameter(n, str, description=d) for n, d in (
            ("status", "comma-separated statuses"), ("category", "comma-separated codes"),
            ("channel", "comma-separated channels"), ("grid", "grid code (its subtree)"),
            ("since", "reported at or after (date or datetime)"),
            ("until", "reported before; a date includes that day"),
            ("overdue", "1: late (running past due, or resolved late)"),
            ("due_within_hours", "running and due within N hours"),
            ("q", "tracking number, address or description contains"),
            ("page", "page number"), ("page_size", "at most 1000"))],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        if not request.user.is_authenticated:
            return Response({"detail": _("log in to list appeals")},
                            status=status.HTTP_403_FORBIDDEN)
        actor = workflow.Actor(user=request.user)
        now = timezone.now()
        rows = Appeal.objects.filter(visible_to(actor)).filter(_list_filters(request, now))
        page, size = _page(request)
        count = rows.count()
        items = (rows.select_related("category", "grid", "assigned_grid", "department")
                 .order_by("-reported_at", "-id")[(page - 1) * size: page * size])
        return Response({
            "type": "FeatureCollection",
            "count": count,
            "page": page,
            "page_size": size,
            "next": _page_url(request, page + 1) if page * size < count else None,
            "previous": _page_url(request, page - 1) if page > 1 else None,
            "features": [feature_out(a, now) for a in items],
        })

    @extend_schema(request=AppealInSerializer, responses={201: OpenApiTypes.OBJECT})
    def post(self, request):
        client = client_address(request)
        if not request.user.is_authenticated:
            window = over_limit("appeal", client)
            if window:
                return Response(
                    {"detail": _("too many submissions from this address; try again later")},
                    status=status.HTTP_429_TOO_MANY_REQUESTS,
                    headers={"Retry-After": str(window)},
                )
        # Refuse oversized bodies before reading the photos into memory or temp files.
        limit = settings.GEOGRID["APPEAL_PHOTO_MAX_BYTES"] * settings.GEOGRID["APPEAL_MAX_PHOTOS"]
        if int(request.META.get("CONTENT_LENGTH") or 0) > limit + 2**20:
            return Response(
                {"photos": [_("the request is larger than the photo limits allow")]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        data = request.data
        if hasattr(data, "getlist"):  # multipart: photos repeat under one name
            data = {k: data.get(k) for k in data if k != "photos"} | {
                "photos": request.FILES.getlist("photos")
            }
        serializer = AppealInSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        try:
            result = submit_appeal(AppealInput(**serializer.validated_data, client=client),
                                   actor=request.user)
        except ValidationError as exc:
            return Response(_errors(exc), status=status.HTTP_400_BAD_REQUEST)
        except PermissionDenied as exc:
            return Response({"channel": [str(exc)]}, status=status.HTTP_403_FORBIDDEN)
        appeal = result.appeal
        return Response(
            {
                "tracking": appeal.tracking,
                "token": result.token,
                "status": appeal.status,
                "url": f"/api/v1/appeals/{appeal.tracking}/",
                "assignment": result.assignment.as_dict(),
                "possible_duplicates": result.duplicates,
                "repeat_problem": _repeat(result.repeat_of),
            },
            status=status.HTTP_201_CREATED,
        )


def _repeat(spot) -> dict | None:
    """The active hotspot a new appeal repeats: the same problem reported again nearby."""
    if spot is None:
        return None
    return {
        "hotspot": spot.pk,
        "count": spot.count,
        "first_report": spot.first_report.isoformat(),
        "last_report": spot.last_report.isoformat(),
    }


def may_see_everything(user, appeal: Appeal) -> bool:
    """Dispatchers of the appeal's district (and superusers) see the unmasked phone."""
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return True
    if not has_role(user, Role.DISPATCHER):
        return False
    district = Grid.objects.current().filter(code=appeal.district_code).only("id", "code").first()
    return district is not None and user_may_act_on(user, district)


def actor_for(request, appeal: Appeal | None = None) -> workflow.Actor:
    """The request's user, whether it holds the appeal's token, and an anonymous client key."""
    token = request.headers.get("X-Appeal-Token") or request.query_params.get("token")
    key = ""
    if not request.user.is_authenticated:
        raw = f"{client_address(request)}|{settings.SECRET_KEY}".encode()
        key = hashlib.sha256(raw).hexdigest()
    return workflow.Actor(
        user=request.user,
        token_ok=appeal is not None and token_matches(appeal, token),
        client_key=key,
    )


def _is_staff_on(actor: workflow.Actor, appeal: Appeal) -> bool:
    return bool(
        workflow.as_dispatcher(actor, appeal) or workflow.as_handler(actor, appeal)
        or workflow.as_checker(actor, appeal) or actor.covers(workflow.location_code(appeal))
        or actor.covers(workflow.handler_code(appeal))
    )


def _load(tracking: str) -> Appeal:
    appeal = (
        Appeal.objects.select_related("category", "grid", "assigned_grid", "department",
                                      "merged_into")
        .prefetch_related("photos", "events__photos", "events__actor")
        .filter(tracking=tracking)
        .first()
    )
    if appeal is None:
        raise Http404
    return appeal


def detail_response(request, tracking: str, actor: workflow.Actor | None = None) -> dict:
    """The detail as this viewer sees it; Http404 when they may not see it at all."""
    appeal = _load(tracking)
    actor = actor or actor_for(request, appeal)
    full = may_see_everything(request.user, appeal)
    staff = full or _is_staff_on(actor, appeal)
    if not (staff or workflow.as_reporter(actor, appeal)):
        raise Http404  # no hint whether the number exists
    return appeal_out(appeal, full=full, names=staff,
                      actions=workflow.available_actions(appeal, actor))


class AppealDetailView(APIView):
    """GET /api/v1/appeals/{tracking}/ — reporter with the token, or staff in scope."""

    permission_classes = [AllowAny]

    @extend_schema(summary="One appeal: state, deadline, assignee, your actions, timeline",
                   responses=OpenApiTypes.OBJECT)
    def get(self, request, tracking: str):
        return Response(detail_response(request, tracking))


# Fields each action reads from the request body, besides version and note.
ACTION_FIELDS = {
    "dispatch": ("grid", "department"),
    "escalate": ("department",),
    "extend": ("hours",),
    "resolve": ("result",),
    "merge": ("master",),
    "rate": ("resolution", "satisfaction", "comment"),
}
# Residents' actions do not need the version (they add, they do not overwrite).
VERSION_OPTIONAL = {"rate", "support"}


def _run_action(request, tracking: str, action: str, body: dict) -> Response:
    appeal = Appeal.objects.filter(tracking=tracking).only("id", "token_hash").first()
    if appeal is None:
        raise Http404
    actor = actor_for(request, appeal)
    if not (actor.active or actor.token_ok or action == "support"):
        raise Http404
    kwargs: dict = {}
    raw_version = body.get("version")
    if raw_version in (None, ""):
        if action not in VERSION_OPTIONAL:
            return Response({"version": [_("the version you last read is required")]},
                            status=status.HTTP_400_BAD_REQUEST)
    else:
        try:
            kwargs["version"] = int(raw_version)
        except (TypeError, ValueError):
            return Response({"version": [_("a whole number is required")]},
                            status=status.HTTP_400_BAD_REQUEST)
    if action != "support":
        note = body.get("note", "")
        if action == "rate":
            note = None
        elif not isinstance(note, str):
            return Response({"note": [_("text is required")]},
                            status=status.HTTP_400_BAD_REQUEST)
        if note is not None:
            kwargs["note"] = note
    for name in ACTION_FIELDS.get(action, ()):
        if name in body:
            kwargs[name] = body.get(name)
    if action == "resolve" and hasattr(request, "FILES"):
        kwargs["photos"] = request.FILES.getlist("photos")
    if action == "support":
        window = over_limit("support", client_address(request)) if not actor.active else 0
        if window:
            return Response({"detail": _("too many requests; try again later")},
                            status=status.HTTP_429_TOO_MANY_REQUESTS,
                            headers={"Retry-After": str(window)})
    try:
        workflow.SERVICES[action](tracking, actor, **kwargs)
    except ValidationError as exc:
        return Response(_errors(exc), status=status.HTTP_400_BAD_REQUEST)
    except PermissionDenied as exc:
        return Response({"detail": str(exc)}, status=status.HTTP_403_FORBIDDEN)
    except workflow.Conflict as exc:
        return Response({"detail": str(exc), "status": exc.status, "version": exc.version},
                        status=status.HTTP_409_CONFLICT)
    except Appeal.DoesNotExist:
        raise Http404 from None
    if action == "support" and not (actor.token_ok or _is_staff_on(actor, appeal)):
        # A supporter is not the reporter: the count, not the report.
        fresh = Appeal.objects.only("tracking", "supporters").get(pk=appeal.pk)
        return Response({"tracking": fresh.tracking, "supporters": fresh.supporters,
                         "supported": True})
    return Response(detail_response(request, tracking, actor))


def _body(request) -> dict:
    data = request.data
    if hasattr(data, "getlist"):  # multipart or form: single values, photos from FILES
        return {k: data.get(k) for k in data if k != "photos"}
    return dict(data) if isinstance(data, dict) else {}


class AppealActionView(APIView):
    """POST /api/v1/appeals/{tracking}/actions/{action}/ — one workflow transition.
    JSON {version, note, …fields}; multipart for resolve with after-photos."""

    permission_classes = [AllowAny]

    @extend_schema(summary="Take a workflow action", request=ActionInSerializer,
                   responses={200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT,
                              403: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT})
    def post(self, request, tracking: str, action: str):
        if action not in workflow.SERVICES:
            raise Http404
        return _run_action(request, tracking, action, _body(request))


class AppealFeedbackView(APIView):
    """POST /api/v1/appeals/{tracking}/feedback/ — the reporter's rating (X-Appeal-Token)."""

    permission_classes = [AllowAny]

    @extend_schema(summary="The reporter rates the result (header X-Appeal-Token)",
                   request=FeedbackInSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request, tracking: str):
        return _run_action(request, tracking, "rate", _body(request))


class AppealSupportView(APIView):
    """POST /api/v1/appeals/{tracking}/support/ — a resident supports an existing appeal."""

    permission_classes = [AllowAny]

    @extend_schema(summary="Support an existing appeal", request=None,
                   responses=OpenApiTypes.OBJECT)
    def post(self, request, tracking: str):
        return _run_action(request, tracking, "support", {})


def visible_to(actor: workflow.Actor) -> Q:
    """Appeals the actor's posts cover (where they lie or who handles them); dispatchers also
    see their district's unlocated queue; department members what is assigned to them;
    people without posts the appeals they reported."""
    if actor.is_super:
        return Q()
    scope = Q(pk__in=[])
    for code, _post in actor.posts:
        scope |= Q(grid__code__startswith=code) | Q(assigned_grid__code__startswith=code)
        if "dispatcher" in actor.roles:
            scope |= Q(grid__isnull=True, district_code__startswith=code)
    if actor.department_ids:
        scope |= Q(department_id__in=actor.department_ids)
    if not actor.posts and not actor.department_ids:
        scope = Q(reporter=actor.user)
    return scope


def _csv(request, name: str) -> list[str]:
    raw = request.query_params.get(name, "")
    return [v.strip() for v in raw.split(",") if v.strip()]


def _moment(request, name: str, *, end: bool = False) -> dt.datetime | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        day = parse_date(raw)
        moment = None if day else parse_datetime(raw)
    except ValueError:
        day = moment = None
    if day is not None:
        # A date means the whole day: until=2026-10-31 includes that day.
        moment = dt.datetime.combine(day + dt.timedelta(days=1 if end else 0), dt.time.min)
    if moment is None:
        raise DRFValidationError({name: [_("a date (YYYY-MM-DD) or an ISO datetime")]})
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _list_filters(request, now: dt.datetime) -> Q:
    where = Q()
    statuses = _csv(request, "status")
    bad = [s for s in statuses if s not in Status.values]
    if bad:
        raise DRFValidationError({"status": [_("unknown status: %(s)s") % {"s": ", ".join(bad)}]})
    if statuses:
        where &= Q(status__in=statuses)
    if categories := _csv(request, "category"):
        where &= Q(category__code__in=categories)
    channels = _csv(request, "channel")
    bad = [c for c in channels if c not in Channel.values]
    if bad:
        raise DRFValidationError({"channel": [_("unknown channel: %(c)s") % {
            "c": ", ".join(bad)}]})
    if channels:
        where &= Q(channel__in=channels)
    if grid := request.query_params.get("grid"):
        where &= Q(grid__code__startswith=grid) | Q(grid__isnull=True, district_code=grid)
    if since := _moment(request, "since"):
        where &= Q(reported_at__gte=since)
    if until := _moment(request, "until", end=True):
        where &= Q(reported_at__lt=until)
    if request.query_params.get("overdue") in ("1", "true", "yes"):
        where &= Q(status__in=CLOCK_STATUSES, due_at__lt=now) | Q(on_time=False)
    if (hours := request.query_params.get("due_within_hours")) not in (None, ""):
        try:
            value = float(hours)
        except ValueError:
            raise DRFValidationError({"due_within_hours": [_("a number of hours")]}) from None
        where &= Q(status__in=CLOCK_STATUSES, due_at__gte=now,
                   due_at__lte=now + dt.timedelta(hours=value))
    if q := request.query_params.get("q", "").strip():
        where &= (Q(tracking__icontains=q) | Q(address__icontains=q)
                  | Q(description__icontains=q))
    return where


MAX_PAGE_SIZE = 1000


def _page(request) -> tuple[int, int]:
    out = []
    for name, default, top in (("page", 1, None), ("page_size", 200, MAX_PAGE_SIZE)):
        raw = request.query_params.get(name) or str(default)
        try:
            value = int(raw)
        except ValueError:
            raise DRFValidationError({name: [_("a whole number is required")]}) from None
        if value < 1 or (top and value > top):
            raise DRFValidationError(
                {name: [_("between 1 and %(n)d") % {"n": top}] if top else
                 [_("must be 1 or more")]})
        out.append(value)
    return out[0], out[1]


def _page_url(request, page: int) -> str:
    query = request.query_params.copy()
    query["page"] = str(page)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


class StatsView(APIView):
    """GET /api/v1/stats/?grid=CODE&since=&until=&by=category|channel"""

    @extend_schema(
        summary="Closed-loop statistics of a grid's subtree",
        parameters=[OpenApiParameter("grid", str, description="default: your own grid"),
                    OpenApiParameter("since", str), OpenApiParameter("until", str),
                    OpenApiParameter("by", str, enum=list(BY_CHOICES))],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        code = request.query_params.get("grid", "")
        if not code and request.user.is_authenticated:
            # Without a grid: the user's own (first) subtree, e.g. a dispatcher's district.
            roots = assigned_codes(request.user)
            code = roots[0] if roots else ""
            if not code and request.user.is_superuser:
                code = Grid.objects.current().filter(level=1).values_list(
                    "code", flat=True).order_by("code").first() or ""
        if not code:
            raise DRFValidationError({"grid": [_("this parameter is required")]})
        grid = Grid.objects.current().filter(code=code).first()
        if grid is None:
            raise DRFValidationError({"grid": [_("no current grid has the code %(code)r") % {
                "code": code}]})
        if not request.user.is_authenticated or not user_may_act_on(request.user, grid):
            return Response({"detail": _("this grid is outside your grids")},
                            status=status.HTTP_403_FORBIDDEN)
        by = request.query_params.get("by") or None
        if by not in (None, *BY_CHOICES):
            raise DRFValidationError({"by": [_("one of: %(v)s") % {"v": ", ".join(BY_CHOICES)}]})
        since, until = _moment(request, "since"), _moment(request, "until", end=True)
        result = grid_stats(StatsQuery(grid_code=code, since=since, until=until, by=by))
        return Response({
            "grid": {"code": grid.code, "name": grid.name, "level": grid.level},
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
            **result,
        })


class NotificationListView(APIView):
    """GET /api/v1/notifications/?unread=1&page=&page_size= — the logged-in user's."""

    @extend_schema(parameters=[OpenApiParameter("unread", str), OpenApiParameter("page", int),
                               OpenApiParameter("page_size", int)],
                   responses=OpenApiTypes.OBJECT)
    def get(self, request):
        if not request.user.is_authenticated:
            return Response({"detail": _("log in to read notifications")},
                            status=status.HTTP_403_FORBIDDEN)
        rows = notifications.for_user(request.user)
        unread = rows.filter(read_at__isnull=True).count()
        if request.query_params.get("unread") in ("1", "true"):
            rows = rows.filter(read_at__isnull=True)
        page, size = _page(request)
        count = rows.count()
        return Response({
            "count": count,
            "unread": unread,
            "page": page,
            "results": [
                {"id": n.id, "kind": n.kind, "message": notifications.render(n),
                 "appeal": n.appeal.tracking if n.appeal_id else None,
                 "created_at": n.created_at.isoformat(),
                 "read_at": n.read_at.isoformat() if n.read_at else None}
                for n in rows[(page - 1) * size: page * size]
            ],
        })


class NotificationReadView(APIView):
    """POST /api/v1/notifications/read/ {ids: [..]} or {all: true} — mark as read."""

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def post(self, request):
        if not request.user.is_authenticated:
            return Response({"detail": _("log in to read notifications")},
                            status=status.HTTP_403_FORBIDDEN)
        ids = request.data.get("ids")
        if request.data.get("all") in (True, "1", "true"):
            ids = None
        elif not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
            raise DRFValidationError({"ids": [_("a list of notification ids, or all: true")]})
        return Response({"marked": notifications.mark_read(request.user, ids)})


class LocateView(APIView):
    """GET /api/v1/locate?lon=&lat=&crs= — the grid, its path and staff, before submitting."""

    permission_classes = [AllowAny]

    @extend_schema(parameters=[OpenApiParameter(n, str) for n in ("lon", "lat", "crs")],
                   responses=OpenApiTypes.OBJECT)
    def get(self, request):
        params = request.query_params
        values = {}
        for name in ("lon", "lat"):
            raw = params.get(name)
            if raw in (None, ""):
                raise DRFValidationError({name: [_("this parameter is required")]})
            try:
                values[name] = float(raw)
            except ValueError as exc:
                raise DRFValidationError({name: [_("%(value)r is not a number") % {
                    "value": raw}]}) from exc
        try:
            crs = coords.parse_crs(params.get("crs"))
            if crs.geographic:
                coords.check_lon_lat(values["lon"], values["lat"])
            lon, lat = coords.to_wgs84(values["lon"], values["lat"], crs)
            coords.check_lon_lat(lon, lat)
        except coords.CoordinateError as exc:
            raise DRFValidationError({exc.field: [str(exc)]}) from exc
        result = assign_point(lon, lat)
        body = {"lon": round(lon, 7), "lat": round(lat, 7), **result.as_dict()}
        if not result.located and swapped_would_locate(lon, lat):
            body["warning"] = _("outside every grid, but inside one with lat and lon swapped")
        return Response(body)
