"""Thin API views: parse, call the service, shape the answer."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from geogrid import coords
from geogrid.access import user_may_act_on
from geogrid.models import Grid
from geogrid.roles import Role, has_role
from layers.assignment import assign_point, swapped_would_locate
from layers.intake import AppealInput, submit_appeal, token_matches
from layers.models import Appeal
from layers.ratelimit import client_address, over_limit
from layers.serializers import AppealInSerializer, appeal_out


def _errors(exc: ValidationError) -> dict:
    if hasattr(exc, "error_dict"):
        return {name: [str(m) for e in errs for m in e.messages]
                for name, errs in exc.error_dict.items()}
    return {"non_field_errors": exc.messages}


class AppealListView(APIView):
    """POST /api/v1/appeals/ — JSON or multipart (photos)."""

    permission_classes = [AllowAny]

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
            },
            status=status.HTTP_201_CREATED,
        )


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


class AppealDetailView(APIView):
    """GET /api/v1/appeals/{tracking}/ — reporter with the token, or a dispatcher."""

    permission_classes = [AllowAny]

    def get(self, request, tracking: str):
        appeal = (
            Appeal.objects.select_related("category", "grid")
            .prefetch_related("photos", "events")
            .filter(tracking=tracking)
            .first()
        )
        if appeal is None:
            raise Http404
        full = may_see_everything(request.user, appeal)
        token = request.headers.get("X-Appeal-Token") or request.query_params.get("token")
        own = request.user.is_authenticated and appeal.reporter_id == request.user.id
        if not (full or own or token_matches(appeal, token)):
            raise Http404  # no hint whether the number exists
        return Response(appeal_out(appeal, full=full))


class LocateView(APIView):
    """GET /api/v1/locate?lon=&lat=&crs= — the grid, its path and staff, before submitting."""

    permission_classes = [AllowAny]

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
