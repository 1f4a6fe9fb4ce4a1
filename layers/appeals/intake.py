"""Appeal intake: the one service function that stores a new appeal.

`submit_appeal` validates everything first (category, channel, coordinates, photos), assigns the
point, and only then writes — appeal, photos, timeline rows — in one transaction. Any problem
raises ValidationError naming the field, and nothing is stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.contrib.gis.geos import Point
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from geogrid import coords
from geogrid.locate import (
    Assignment,
    AssignmentMethod,
    assign_point,
    district_for_point,
    locate_point,
)
from geogrid.photos import CleanPhoto, clean_photos
from geogrid.pii import mask_phone  # noqa: F401  (the one mask, re-exported for the serializers)
from geogrid.roles import Role
from layers.analytics.hotspots import active_hotspot_for
from layers.analytics.models import Hotspot
from layers.appeals import partitions, timeline, tracking
from layers.appeals import photos as store_photos
from layers.appeals.category_cache import active_category
from layers.appeals.intake_sql import insert_appeal
from layers.appeals.models import OPEN_STATUSES, Appeal, AppealEvent, Category, Channel

PUBLIC_CHANNELS = {Channel.MOBILE, Channel.SNAPSHOT, Channel.QR_CODE, Channel.WECHAT}
WORKER_CHANNELS = PUBLIC_CHANNELS | {Channel.PATROL}


@dataclass
class AppealInput:
    category: str
    channel: str = Channel.MOBILE
    lon: float | None = None
    lat: float | None = None
    crs: str = ""
    address: str = ""
    description: str = ""
    contact_phone: str = ""
    photos: list = field(default_factory=list)
    reported_at: dt.datetime | None = None
    client: str = ""


@dataclass
class IntakeResult:
    appeal: Appeal
    token: str
    assignment: Assignment
    duplicates: list[dict]
    repeat_of: Hotspot | None = None  # an active hotspot this appeal repeats ("repeat problem")


def user_roles(user: User | AnonymousUser) -> frozenset[str]:
    """The role (group) names of an active user, in one query: what `has_role` answers for each
    role, read once for a whole submission instead of once per question."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    return frozenset(user.groups.values_list("name", flat=True))


def allowed_channels(user: User | AnonymousUser,
                     roles: frozenset[str] | None = None) -> set[str]:
    """Channels this user may submit on; `roles` = user_roles(user) when the caller has them."""
    if user.is_authenticated and user.is_active:
        roles = user_roles(user) if roles is None and not user.is_superuser else roles
        if user.is_superuser or Role.DISPATCHER.value in (roles or ()):
            return set(Channel.values)
        if Role.GRID_WORKER.value in (roles or ()):
            return {c.value for c in WORKER_CHANNELS}
    return {c.value for c in PUBLIC_CHANNELS}


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(appeal: Appeal, token: str | None) -> bool:
    if not token or not appeal.token_hash:
        return False
    return hmac.compare_digest(appeal.token_hash, hash_token(token))


def _locate(data: AppealInput) -> tuple[float | None, float | None, Assignment]:
    if data.lon is None and data.lat is None:
        if not data.address.strip():
            raise ValidationError(
                {"lon": _("coordinates (lon, lat) or an address are required")}
            )
        from layers.buildings.geocoding import (
            geocode,  # only address-only appeals need the register
        )

        hit = geocode(data.address)
        if hit is None:
            return None, None, Assignment(method=AssignmentMethod.UNLOCATED)
        return hit.lon, hit.lat, assign_point(hit.lon, hit.lat)
    if data.lon is None or data.lat is None:
        missing = "lon" if data.lon is None else "lat"
        raise ValidationError({missing: _("both lon and lat are required")})
    try:
        located = locate_point(data.lon, data.lat, data.crs)
    except coords.CoordinateError as exc:
        raise ValidationError({exc.field: str(exc)}) from exc
    if located.swapped_suspect:
        raise ValidationError(
            {
                "lat": _(
                    "the point (lon %(lon)s, lat %(lat)s) is outside every grid, but inside one "
                    "with latitude and longitude swapped: check their order"
                )
                % {"lon": data.lon, "lat": data.lat}
            }
        )
    return located.lon, located.lat, located.assignment


def _validate(data: AppealInput, actor,
              roles: frozenset[str]) -> tuple[Category, list[CleanPhoto]]:
    errors: dict[str, list[str]] = {}
    category = active_category(data.category)
    if category is None:
        errors["category"] = [_("unknown category %(code)r") % {"code": data.category}]
    if data.channel not in Channel.values:
        errors["channel"] = [_("unknown channel %(channel)r") % {"channel": data.channel}]
    elif data.channel not in allowed_channels(actor, roles):
        raise PermissionDenied(_("you may not submit appeals on this channel"))
    limit = settings.GEOGRID["APPEAL_DESCRIPTION_MAX_CHARS"]
    if len(data.description) > limit:
        errors["description"] = [
            _("the description has %(n)d characters; at most %(limit)d are allowed")
            % {"n": len(data.description), "limit": limit}
        ]
    photos: list[CleanPhoto] = []
    try:
        photos = clean_photos(list(data.photos))
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors or category is None:  # an unknown category is one of the errors
        raise ValidationError(errors)
    return category, photos


def find_duplicates(category_id: int, lon: float, lat: float, moment: dt.datetime) -> list[dict]:
    """Open appeals of the same category within the configured radius and days of `moment`
    (with their tracking numbers and states: the API shows those only to staff who may read
    them, layers.appeals.views.duplicates_for)."""
    radius = float(settings.GEOGRID["DUPLICATE_RADIUS_M"])
    since = moment - dt.timedelta(days=settings.GEOGRID["DUPLICATE_DAYS"])
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH p AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS g)
            SELECT a.tracking, a.public_id,
                   ST_Distance(a.location::geography, p.g::geography) AS d,
                   a.reported_at, a.status
              FROM layers_appeal a, p
             WHERE a.category_id = %(cat)s AND a.status = ANY(%(open)s)
               AND a.reported_at BETWEEN %(since)s AND %(until)s
               AND a.location && ST_Expand(p.g, %(r)s / (111000.0 * cos(radians(%(lat)s))),
                                           %(r)s / 110000.0)
               AND ST_DWithin(a.location::geography, p.g::geography, %(r)s)
             ORDER BY d, a.reported_at DESC LIMIT 10
            """,
            {"lon": lon, "lat": lat, "cat": category_id, "open": [str(s) for s in OPEN_STATUSES],
             "since": since, "until": moment, "r": radius},
        )
        return [
            {"tracking": t, "public_id": str(public_id), "distance_m": round(d, 1),
             "reported_at": at.isoformat(), "status": status}
            for t, public_id, d, at, status in cursor.fetchall()
        ]


def submit_appeal(data: AppealInput, *, actor: User | AnonymousUser) -> IntakeResult:
    """Validate, assign and store one appeal. Raises ValidationError / PermissionDenied."""
    roles = user_roles(actor)
    category, photos = _validate(data, actor, roles)
    lon, lat, assignment = _locate(data)
    moment = data.reported_at or timezone.now()
    duplicates = (  # _locate gives both coordinates or neither
        find_duplicates(category.id, lon, lat, moment)
        if lon is not None and lat is not None
        else []
    )
    point = Point(lon, lat, srid=4326) if lon is not None else None
    hotspot = active_hotspot_for(point, category.code, moment) if point is not None else None
    district = assignment.district_code or district_for_point(lon, lat)
    token = secrets.token_urlsafe(18)
    user = actor if actor.is_authenticated else None
    role = submitter_role(actor, roles)
    fields: dict[str, Any] = {
        "token_hash": hash_token(token),
        "district_code": district,
        "location": Point(lon, lat, srid=4326) if lon is not None else None,
        "raw_x": data.lon,
        "raw_y": data.lat,
        "raw_crs": (data.crs or "wgs84") if data.lon is not None else "",
        "address": data.address,
        "category": category,
        "description": data.description,
        "channel": data.channel,
        "reporter": user,
        "contact_phone": data.contact_phone,
        "grid_id": assignment.grid_id,
        "assignment": assignment.method,
        "assignment_distance_m": assignment.distance_m,
        "reported_at": moment,
    }

    def events(appeal: Appeal) -> tuple[AppealEvent, AppealEvent]:
        return (
            AppealEvent(**timeline.row(
                appeal, AppealEvent.Kind.RECEIVED, role=role, actor=user,
                from_status="", data={
                    "channel": data.channel, "client": data.client, "photos": len(photos),
                    "possible_duplicates": [d["tracking"] for d in duplicates],
                    "repeat_of_hotspot": hotspot.pk if hotspot else None})),
            AppealEvent(**timeline.row(
                appeal, AppealEvent.Kind.ASSIGNED, role="system", actor=user,
                data={"method": assignment.method, "grid": assignment.code,
                      "version_id": assignment.grid_id, "distance_m": assignment.distance_m})),
        )

    if not photos:  # one statement, no transaction to open and commit (intake_sql)
        appeal = Appeal(tracking="", **fields)
        insert_appeal(appeal, events(appeal), district, moment)
        return IntakeResult(appeal, token, assignment, duplicates, hotspot)
    partitions.ensure_month(moment)
    with store_photos.deleting_on_failure() as saved, transaction.atomic():
        appeal = Appeal.objects.create(tracking=tracking.next_tracking(district, moment),
                                       **fields)
        store_photos.store(appeal, photos, saved)
        AppealEvent.objects.bulk_create(events(appeal))
    return IntakeResult(appeal, token, assignment, duplicates, hotspot)


def submitter_role(user: User | AnonymousUser, roles: frozenset[str] | None = None) -> str:
    """What a timeline shows for who submitted: the reporter, or staff reporting on patrol.
    `roles` = user_roles(user) when the caller has them."""
    if not user.is_authenticated:
        return "reporter"
    roles = user_roles(user) if roles is None else roles
    if user.is_superuser or Role.DISPATCHER.value in roles:
        return Role.DISPATCHER.value
    if Role.GRID_WORKER.value in roles:
        return "grid_staff"
    return "reporter"

