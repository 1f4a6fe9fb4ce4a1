"""Input parsing and output shapes of the appeals API (the logic lives in layers.intake)."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from layers.intake import mask_phone
from layers.models import Appeal, Channel


class AppealInSerializer(serializers.Serializer):
    category = serializers.CharField(max_length=16)
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.MOBILE)
    lon = serializers.FloatField(required=False, allow_null=True)
    lat = serializers.FloatField(required=False, allow_null=True)
    crs = serializers.CharField(required=False, allow_blank=True, max_length=32, default="")
    address = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")
    description = serializers.CharField(required=False, allow_blank=True, default="")
    contact_phone = serializers.RegexField(
        r"^\+?[0-9][0-9 -]{4,19}$",
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


def appeal_out(appeal: Appeal, *, full: bool) -> dict:
    """What the reporter (full=False) or a dispatcher (full=True) sees of an appeal."""
    grid = appeal.grid
    return {
        "tracking": appeal.tracking,
        "status": appeal.status,
        "status_label": appeal.get_status_display(),
        "category": {"code": appeal.category.code, "name_zh": appeal.category.name_zh,
                     "name_en": appeal.category.name_en},
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
        "contact_phone": appeal.contact_phone if full else mask_phone(appeal.contact_phone),
        "reported_at": appeal.reported_at.isoformat(),
        "photos": [
            {"url": p.image.url, "thumbnail": p.thumbnail.url, "width": p.width,
             "height": p.height}
            for p in appeal.photos.all()
        ],
        "timeline": [
            {"kind": e.kind, "label": e.get_kind_display(), "at": e.at.isoformat()}
            for e in appeal.events.all()
        ],
    }
