"""Input parsing and output shapes of the appeals API (the logic lives in layers.appeals.intake)."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from geogrid.inputs import FiniteFloatField
from layers.appeals.intake import mask_phone
from layers.appeals.models import CONTACT_PHONE_MAX_LENGTH, Appeal, Channel, Status
from layers.appeals.photo_views import photo_out


class AppealInSerializer(serializers.Serializer):
    category = serializers.CharField(max_length=16)
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.MOBILE)
    lon = FiniteFloatField(required=False, allow_null=True)
    lat = FiniteFloatField(required=False, allow_null=True)
    crs = serializers.CharField(required=False, allow_blank=True, max_length=32, default="")
    address = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")
    description = serializers.CharField(required=False, allow_blank=True, default="")
    contact_phone = serializers.RegexField(
        r"^\+?[0-9][0-9 -]{4,19}$",
        max_length=CONTACT_PHONE_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        error_messages={"invalid": _("not a phone number")},
    )
    photos = serializers.ListField(
        child=serializers.FileField(allow_empty_file=False), required=False, default=list
    )

    def validate_description(self, value: str) -> str:
        limit = settings.GEOGRID["APPEAL_DESCRIPTION_MAX_CHARS"]
        if len(value) > limit:
            raise serializers.ValidationError(
                _("the description has %(n)d characters; at most %(limit)d are allowed")
                % {"n": len(value), "limit": limit}
            )
        return value


ACTOR_ROLES = {
    "dispatcher": _("dispatcher"),
    "grid_staff": _("grid staff"),
    "grid_leader": _("grid leader"),
    "department": _("department"),
    "subdistrict": _("subdistrict office"),
    "community": _("community staff"),
    "reporter": _("reporter"),
    "resident": _("resident"),
    "system": _("system"),
    "admin": _("administrator"),
}
# Notes the public may read; other notes (return reasons, internal remarks) are for staff.
# A whistle's mirror rows name departments and grids only (layers.whistles.notices).
PUBLIC_NOTE_KINDS = {"reject", "resolve", "rate", "reopen", "close", "whistle"}


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


def _display_name(user) -> str:
    if user is None:
        return ""
    return (f"{user.first_name} {user.last_name}".strip()) or user.username


def assignee_out(appeal: Appeal) -> dict | None:
    if appeal.department:
        d = appeal.department
        return {"kind": "department", "grid": None,
                "department": {"code": d.code, "name_zh": d.name_zh, "name_en": d.name_en}}
    if appeal.assigned_grid:
        g = appeal.assigned_grid
        return {"kind": "grid", "department": None,
                "grid": {"code": g.code, "name": g.name, "level": g.level}}
    return None


def timeline_out(appeal: Appeal, *, names: bool) -> list[dict]:
    rows = []
    for e in appeal.events.all():
        role = e.actor_role or ("reporter" if e.kind == "received" else "system")
        named = names and e.actor_id
        actor = _display_name(e.actor) if named else str(ACTOR_ROLES.get(role, role))
        rows.append({
            "at": e.at.isoformat(),
            "kind": e.kind,
            "action": e.kind,
            "label": e.get_kind_display(),
            "from_status": e.from_status or None,
            "to_status": e.to_status or None,
            "actor": actor,
            "actor_role": role,
            "note": e.note if (names or e.kind in PUBLIC_NOTE_KINDS) else "",
            "photos": [photo_out(appeal.tracking, p) for p in e.photos.all()],
        })
    return rows


class LocateInSerializer(serializers.Serializer):
    """GET /api/v1/locate: a coordinate pair in any supported CRS (WGS 84 by default)."""

    lon = FiniteFloatField(help_text="longitude, or x of a projected CRS")
    lat = FiniteFloatField(help_text="latitude, or y of a projected CRS")
    crs = serializers.CharField(required=False, allow_blank=True, max_length=32, default="",
                                help_text="wgs84 (default), cgcs2000, gcj02, bd09, EPSG:nnnn")


class NotificationReadSerializer(serializers.Serializer):
    """POST /api/v1/notifications/read/: {ids: [..]} or {all: true}."""

    ids = serializers.ListField(child=serializers.IntegerField(min_value=1,
                                                               max_value=2**63 - 1),
                                required=False, max_length=10_000)
    all = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("all") and "ids" not in attrs:
            raise serializers.ValidationError(
                {"ids": [_("a list of notification ids, or all: true")]})
        return attrs


def category_out(appeal: Appeal) -> dict:
    return {"code": appeal.category.code, "name_zh": appeal.category.name_zh,
            "name_en": appeal.category.name_en}


def appeal_out(appeal: Appeal, *, full: bool, names: bool | None = None,
               actions: list[str] | None = None, now=None) -> dict:
    """What the reporter (full=False) or a dispatcher (full=True) sees of an appeal; `names`
    (staff in scope) shows who acted instead of their role; `actions` are the viewer's."""
    from layers.appeals.deadlines import is_overdue, provisional_years

    names = full if names is None else names
    grid = appeal.grid
    return {
        "tracking": appeal.tracking,
        "public_id": str(appeal.public_id),
        "share_url": share_url(appeal),
        "version": appeal.version,
        "status": appeal.status,
        "status_label": appeal.get_status_display(),
        "category": category_out(appeal),
        "channel": appeal.channel,
        "description": appeal.description,
        "address": appeal.address,
        "location": (
            {"lon": appeal.location.x, "lat": appeal.location.y} if appeal.location else None
        ),
        "assignment": {
            "method": appeal.assignment,
            "grid": {"code": grid.code, "name": grid.name, "version_id": grid.id} if grid else None,
            "distance_m": appeal.assignment_distance_m,
        },
        "assignee": assignee_out(appeal),
        "escalation_level": appeal.escalation_level,
        "contact_phone": appeal.contact_phone if full else mask_phone(appeal.contact_phone),
        "reported_at": appeal.reported_at.isoformat(),
        "accepted_at": _iso(appeal.accepted_at),
        "dispatched_at": _iso(appeal.dispatched_at),
        "due_at": _iso(appeal.due_at),
        "deadline_provisional": bool(provisional_years(appeal)),
        "overdue": is_overdue(appeal, now),
        "resolved_at": _iso(appeal.resolved_at),
        "checked_at": _iso(appeal.checked_at),
        "closed_at": _iso(appeal.closed_at),
        "result": appeal.result,
        "feedback": {
            "resolution": appeal.resolution or None,
            "satisfaction": appeal.satisfaction or None,
            "comment": appeal.feedback_comment,
            "rated_at": _iso(appeal.rated_at),
        },
        "redo_count": appeal.redo_count,
        "reopen_count": appeal.reopen_count,
        "supporters": appeal.supporters,
        "merged_into": appeal.merged_into.tracking if appeal.merged_into else None,
        "photos": [
            {**photo_out(appeal.tracking, p), "width": p.width, "height": p.height}
            for p in appeal.photos.all() if p.event_id is None
        ],
        "actions": list(actions or []),
        "timeline": timeline_out(appeal, names=names),
    }


def share_url(appeal: Appeal) -> str:
    """The link a reporter shares (a QR code, a chat): the public id, never the tracking
    number; whoever opens it sees `public_out` and may support the appeal."""
    return f"/m/follow/{appeal.public_id}/"


def public_out(appeal: Appeal) -> dict:
    """What the share link shows someone who is neither the reporter nor staff on the appeal:
    what and where, and how many back it — not its tracking number, state, version, text,
    photos, contact or timeline (none of which a stranger needs to add their support)."""
    grid = appeal.grid
    return {
        "public_id": str(appeal.public_id),
        "category": category_out(appeal),
        "grid": {"code": grid.code, "name": grid.name} if grid else None,
        "reported_on": timezone.localdate(appeal.reported_at).isoformat(),
        "supporters": appeal.supporters,
        "support_url": f"/api/v1/appeals/{appeal.public_id}/support/",
    }


def feature_out(appeal: Appeal, now) -> dict:
    """One appeal as a GeoJSON feature of the dispatcher's list (no personal data)."""
    from layers.appeals.deadlines import is_overdue

    grid = appeal.grid
    geometry = None
    if appeal.location is not None:
        geometry = {"type": "Point",
                    "coordinates": [round(appeal.location.x, 7), round(appeal.location.y, 7)]}
    return {
        "type": "Feature",
        "id": appeal.tracking,
        "geometry": geometry,
        "properties": {
            "tracking": appeal.tracking,
            "status": appeal.status,
            "status_label": appeal.get_status_display(),
            "category": category_out(appeal),
            "channel": appeal.channel,
            "grid": {"code": grid.code, "name": grid.name} if grid else None,
            "assignee": assignee_out(appeal),
            "reported_at": appeal.reported_at.isoformat(),
            "due_at": _iso(appeal.due_at),
            "overdue": is_overdue(appeal, now),
            "escalation_level": appeal.escalation_level,
            "supporters": appeal.supporters,
            "version": appeal.version,
        },
    }


# --- what the API answers, for its OpenAPI schema ---------------------------------------------
# The answers are built as dicts by the functions above; these serializers only describe them
# (drf-spectacular turns them into components). tests/test_api_fuzz.py checks every answer the
# fuzzer gets against the schema, so a key added above without its line here fails the suite.
class CategoryOut(serializers.Serializer):
    code = serializers.CharField()
    name_zh = serializers.CharField()
    name_en = serializers.CharField()


class GridRefOut(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class GridLevelRefOut(GridRefOut):
    level = serializers.IntegerField()


class DepartmentOut(serializers.Serializer):
    code = serializers.CharField()
    name_zh = serializers.CharField()
    name_en = serializers.CharField()


class AssigneeOut(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["grid", "department"])
    grid = GridLevelRefOut(allow_null=True)
    department = DepartmentOut(allow_null=True)


class PhotoOut(serializers.Serializer):
    url = serializers.CharField(help_text="served only to those who may read the appeal")
    thumbnail = serializers.CharField()


class AppealPhotoOut(PhotoOut):
    width = serializers.IntegerField()
    height = serializers.IntegerField()


class TimelineRowOut(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    action = serializers.CharField()
    from_status = serializers.CharField(allow_null=True)
    to_status = serializers.CharField(allow_null=True)
    actor = serializers.CharField(help_text="a name (staff in scope) or a role")
    actor_role = serializers.CharField()
    note = serializers.CharField(allow_blank=True)
    photos = PhotoOut(many=True)

    def get_fields(self) -> dict[str, serializers.Field]:
        # `label` is a field's own attribute: the field is added here, not declared.
        return {**super().get_fields(), "label": serializers.CharField()}


class LonLatOut(serializers.Serializer):
    lon = serializers.FloatField()
    lat = serializers.FloatField()


class AppealGridOut(GridRefOut):
    version_id = serializers.IntegerField()


class AppealAssignmentOut(serializers.Serializer):
    method = serializers.CharField(help_text="covers, nearest, ancestor or unlocated")
    grid = AppealGridOut(allow_null=True)
    distance_m = serializers.FloatField(allow_null=True)


class FeedbackOut(serializers.Serializer):
    resolution = serializers.CharField(allow_null=True)
    satisfaction = serializers.CharField(allow_null=True)
    comment = serializers.CharField(allow_blank=True)
    rated_at = serializers.DateTimeField(allow_null=True)


class AppealOut(serializers.Serializer):
    """An appeal as the reporter or staff in scope see it (`appeal_out`)."""

    tracking = serializers.CharField()
    public_id = serializers.UUIDField()
    share_url = serializers.CharField()
    version = serializers.IntegerField(help_text="send it back with an action (a stale one: 409)")
    status = serializers.ChoiceField(choices=Status.choices)
    status_label = serializers.CharField()
    category = CategoryOut()
    channel = serializers.ChoiceField(choices=Channel.choices)
    description = serializers.CharField(allow_blank=True)
    address = serializers.CharField(allow_blank=True)
    location = LonLatOut(allow_null=True)
    assignment = AppealAssignmentOut()
    assignee = AssigneeOut(allow_null=True)
    escalation_level = serializers.IntegerField()
    contact_phone = serializers.CharField(
        allow_blank=True, help_text="in full to dispatchers of the district, masked otherwise")
    reported_at = serializers.DateTimeField()
    accepted_at = serializers.DateTimeField(allow_null=True)
    dispatched_at = serializers.DateTimeField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)
    deadline_provisional = serializers.BooleanField(
        help_text="the deadline crosses a year whose holiday schedule is not imported yet")
    overdue = serializers.BooleanField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    checked_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    result = serializers.CharField(allow_blank=True)
    feedback = FeedbackOut()
    redo_count = serializers.IntegerField()
    reopen_count = serializers.IntegerField()
    supporters = serializers.IntegerField()
    merged_into = serializers.CharField(allow_null=True)
    photos = AppealPhotoOut(many=True)
    actions = serializers.ListField(child=serializers.CharField(),
                                    help_text="the actions you may take now")
    timeline = TimelineRowOut(many=True)


class AppealCardOut(serializers.Serializer):
    """The share card (`public_out`): what someone with the public id, but neither the reporter
    nor staff on the appeal, sees."""

    public_id = serializers.UUIDField()
    category = CategoryOut()
    grid = GridRefOut(allow_null=True)
    reported_on = serializers.DateField()
    supporters = serializers.IntegerField()
    support_url = serializers.CharField()


class SupportedOut(serializers.Serializer):
    """What a supporter who may not read the appeal gets back."""

    public_id = serializers.UUIDField()
    supporters = serializers.IntegerField()
    supported = serializers.BooleanField()


class PointOut(serializers.Serializer):
    type = serializers.ChoiceField(choices=["Point"])
    coordinates = serializers.ListField(child=serializers.FloatField(), min_length=2,
                                        max_length=2, help_text="[longitude, latitude]")


class AppealFeaturePropertiesOut(serializers.Serializer):
    tracking = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)
    status_label = serializers.CharField()
    category = CategoryOut()
    channel = serializers.ChoiceField(choices=Channel.choices)
    grid = GridRefOut(allow_null=True)
    assignee = AssigneeOut(allow_null=True)
    reported_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField(allow_null=True)
    overdue = serializers.BooleanField()
    escalation_level = serializers.IntegerField()
    supporters = serializers.IntegerField()
    version = serializers.IntegerField()


class AppealFeatureOut(serializers.Serializer):
    """One appeal of the staff's list as a GeoJSON Feature (`feature_out`)."""

    type = serializers.ChoiceField(choices=["Feature"])
    id = serializers.CharField()
    geometry = PointOut(allow_null=True)
    properties = AppealFeaturePropertiesOut()


class AppealPageOut(serializers.Serializer):
    """A page of the staff's appeals as a GeoJSON FeatureCollection."""

    type = serializers.ChoiceField(choices=["FeatureCollection"])
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    features = AppealFeatureOut(many=True)


class PathGridOut(GridLevelRefOut):
    pass


class LocatedGridOut(GridLevelRefOut):
    version_id = serializers.IntegerField()
    path = PathGridOut(many=True, help_text="the district down to this grid")


class DutyStaffOut(serializers.Serializer):
    post = serializers.CharField()
    name = serializers.CharField()
    phone = serializers.CharField(allow_blank=True, help_text="the post's duty phone")


class LocatedOut(serializers.Serializer):
    """Where a point belongs (geogrid.locate.Assignment.as_dict)."""

    method = serializers.CharField(help_text="covers, nearest, ancestor or unlocated")
    distance_m = serializers.FloatField(allow_null=True)
    grid = LocatedGridOut(allow_null=True)
    staff = DutyStaffOut(many=True)


class LocateOut(LocatedOut):
    lon = serializers.FloatField(help_text="WGS 84")
    lat = serializers.FloatField(help_text="WGS 84")
    warning = serializers.CharField(
        required=False, help_text="outside every grid, but inside one with lat and lon swapped")


class DuplicateOut(serializers.Serializer):
    """An open appeal near a new one; tracking number and state only to those who may read
    it."""

    public_id = serializers.UUIDField(help_text="support this one instead of filing again")
    distance_m = serializers.FloatField()
    reported_at = serializers.DateTimeField()
    tracking = serializers.CharField(required=False)
    status = serializers.CharField(required=False)


class RepeatProblemOut(serializers.Serializer):
    hotspot = serializers.IntegerField()
    count = serializers.IntegerField()
    first_report = serializers.DateTimeField()
    last_report = serializers.DateTimeField()


class AppealCreatedOut(serializers.Serializer):
    """A new appeal: keep the token, it is the reporter's key to the appeal."""

    tracking = serializers.CharField()
    token = serializers.CharField(help_text="send as X-Appeal-Token (or ?token=) to follow "
                                            "and rate the appeal")
    public_id = serializers.UUIDField()
    share_url = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)
    url = serializers.CharField()
    assignment = LocatedOut()
    possible_duplicates = DuplicateOut(many=True)
    repeat_problem = RepeatProblemOut(allow_null=True)


class NotificationOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    message = serializers.CharField()
    appeal = serializers.CharField(allow_null=True, help_text="its tracking number")
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


class NotificationPageOut(serializers.Serializer):
    count = serializers.IntegerField()
    unread = serializers.IntegerField()
    page = serializers.IntegerField()
    results = NotificationOut(many=True)


class MarkedOut(serializers.Serializer):
    marked = serializers.IntegerField(help_text="how many were marked as read")


class StatsFiguresOut(serializers.Serializer):
    received = serializers.IntegerField()
    accepted = serializers.IntegerField()
    completed = serializers.IntegerField()
    closed = serializers.IntegerField()
    rejected = serializers.IntegerField()
    merged = serializers.IntegerField()
    timed = serializers.IntegerField()
    on_time = serializers.IntegerField()
    overdue_open = serializers.IntegerField()
    rated = serializers.IntegerField()
    satisfied = serializers.IntegerField()
    redone = serializers.IntegerField()
    escalated = serializers.IntegerField()
    escalations = serializers.IntegerField()
    supporters = serializers.IntegerField()
    completion_rate = serializers.FloatField(allow_null=True)
    on_time_rate = serializers.FloatField(allow_null=True)
    satisfaction_rate = serializers.FloatField(allow_null=True)
    redo_rate = serializers.FloatField(allow_null=True)
    mean_handling_hours = serializers.FloatField(allow_null=True)
    p90_handling_hours = serializers.FloatField(allow_null=True)


class StatsRowOut(StatsFiguresOut):
    key = serializers.CharField(help_text="the category code or the channel")
    name_zh = serializers.CharField(required=False, allow_null=True)
    name_en = serializers.CharField(required=False, allow_null=True)


class StatsOut(serializers.Serializer):
    grid = GridLevelRefOut()
    since = serializers.DateTimeField(allow_null=True)
    until = serializers.DateTimeField(allow_null=True)
    totals = StatsFiguresOut()
    by = serializers.CharField(allow_null=True)
    rows = StatsRowOut(many=True)
