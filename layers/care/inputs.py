"""Input of the care actions, checked at the edge: lengths match the columns, groups are the
active ones in the table, coordinates are finite and on Earth, times are not in the future."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from geogrid.inputs import FiniteFloatField, StrictCharField
from layers.care.models import (
    FINDING_AREAS,
    NOTE_MAX,
    CareGroup,
    CareSubject,
    CareVisitor,
    Colour,
    ExtraRound,
    Finding,
    Visit,
    VisitDue,
)
from layers.wishes.models import MAX_VALUE_YUAN, TITLE_MAX
from layers.wishes.models import TEXT_MAX as WISH_TEXT_MAX
from layers.wishes.models import Category as WishCategory

SKEW = dt.timedelta(minutes=5)  # a phone's clock may run a little ahead
BACKDATE = dt.timedelta(days=30)  # a visit may be recorded up to this long after it happened


class GroupsField(serializers.ListField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=StrictCharField(max_length=24), min_length=1, max_length=10,
                         **kwargs)

    def to_internal_value(self, data: Any) -> list[str]:
        codes = sorted(set(super().to_internal_value(data)))
        known = set(CareGroup.objects.filter(active=True, code__in=codes)
                    .values_list("code", flat=True))
        unknown = [c for c in codes if c not in known]
        if unknown:
            raise serializers.ValidationError(_("unknown group(s): %(g)s") % {
                "g": ", ".join(unknown)})
        return codes


class Id(serializers.IntegerField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, max_value=2**62, **kwargs)


class VisitorInput(serializers.Serializer):
    user = Id(label=_("visitor (user id)"))
    role = serializers.ChoiceField(choices=CareVisitor.Role.choices, label=_("role"))


class EnrolInput(serializers.Serializer):
    """A grid worker proposes to enrol a person; community staff approve (another person)."""

    person = Id(label=_("person"))
    groups = GroupsField(label=_("groups"))
    colour = serializers.ChoiceField(choices=Colour.choices, label=_("colour"))
    colour_reason = StrictCharField(max_length=NOTE_MAX, label=_("reason for the colour"))
    notice_given_on = serializers.DateField(required=False, default=None,
                                            label=_("enrolment notice given on"))
    notice_method = serializers.ChoiceField(choices=CareSubject.Notice.choices, required=False,
                                            default="", label=_("notice method"))
    visitors = serializers.ListField(child=VisitorInput(), required=False, default=list,
                                     max_length=10)

    def validate_notice_given_on(self, value: dt.date | None) -> dt.date | None:
        if value is not None and value > timezone.localdate():
            raise serializers.ValidationError(_("must not be in the future"))
        return value


class ReassessInput(serializers.Serializer):
    colour = serializers.ChoiceField(choices=Colour.choices, label=_("colour"))
    groups = GroupsField(label=_("groups"))
    reason = StrictCharField(max_length=NOTE_MAX, label=_("reason"))


class ExitInput(serializers.Serializer):
    reason = StrictCharField(max_length=200, label=_("reason"))


class TriggerInput(serializers.Serializer):
    trigger = serializers.ChoiceField(choices=VisitDue.Trigger.choices, label=_("trigger"))


class EndVisitorInput(serializers.Serializer):
    user = Id(label=_("visitor (user id)"))


class VisitInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Visit.Kind.choices, label=_("kind"))
    mode = serializers.ChoiceField(choices=Visit.Mode.choices, label=_("mode"))
    started_at = serializers.DateTimeField(label=_("started"))
    ended_at = serializers.DateTimeField(label=_("ended"))
    lon = FiniteFloatField(min_value=-180, max_value=180, required=False, default=None,
                           label=_("longitude (WGS 84)"))
    lat = FiniteFloatField(min_value=-90, max_value=90, required=False, default=None,
                           label=_("latitude (WGS 84)"))
    accuracy_m = FiniteFloatField(min_value=0, max_value=100_000, required=False, default=None,
                                  label=_("location accuracy (m)"))
    living = serializers.ChoiceField(choices=Finding.choices, label=_("basic living"))
    living_note = StrictCharField(max_length=NOTE_MAX, required=False, allow_blank=True,
                                  default="")
    safety = serializers.ChoiceField(choices=Finding.choices, label=_("safety"))
    safety_note = StrictCharField(max_length=NOTE_MAX, required=False, allow_blank=True,
                                  default="")
    family_care = serializers.ChoiceField(choices=Finding.choices, label=_("family care"))
    family_care_note = StrictCharField(max_length=NOTE_MAX, required=False, allow_blank=True,
                                       default="")
    services = serializers.ChoiceField(choices=Finding.choices, label=_("services received"))
    services_note = StrictCharField(max_length=NOTE_MAX, required=False, allow_blank=True,
                                    default="")
    suggested_colour = serializers.ChoiceField(choices=Colour.choices, required=False,
                                               default="", label=_("suggested colour"))
    appeal_category = serializers.RegexField(
        r"^[A-Za-z0-9_.-]{1,16}$", required=False, default="", label=_("follow-up appeal category"),
        help_text="with an urgent finding: the category of the appeal raised in the same step")
    appeal_text = StrictCharField(max_length=2000, required=False, allow_blank=True, default="",
                                  label=_("follow-up appeal text"))
    photos = serializers.ListField(child=serializers.FileField(), required=False, default=list,
                                   max_length=4, label=_("photos (the door, the activity)"))
    # A need the visit found that a volunteer could meet: a micro-wish for the household
    # (layers.wishes), reviewed like any wish. Only with a concern or an urgent finding.
    wish_category = serializers.ChoiceField(choices=WishCategory.choices, required=False,
                                            default="", label=_("follow-up wish category"))
    wish_title = StrictCharField(max_length=TITLE_MAX, required=False, allow_blank=True,
                                 default="", label=_("follow-up wish: what is needed"))
    wish_public_title = StrictCharField(max_length=TITLE_MAX, required=False, allow_blank=True,
                                        default="", label=_("follow-up wish: title on the wall"))
    wish_description = StrictCharField(max_length=WISH_TEXT_MAX, required=False,
                                       allow_blank=True, default="")
    wish_est_value = serializers.IntegerField(min_value=0, max_value=MAX_VALUE_YUAN,
                                              required=False, default=None,
                                              label=_("follow-up wish: estimated value (yuan)"))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs["wish"] = self._wish(attrs)
        now = timezone.now()
        started, ended = attrs["started_at"], attrs["ended_at"]
        if ended < started:
            raise serializers.ValidationError({"ended_at": _("before the start")})
        if ended > now + SKEW:
            raise serializers.ValidationError({"ended_at": _("in the future")})
        if started < now - BACKDATE:
            raise serializers.ValidationError(
                {"started_at": _("more than %(d)d days ago") % {"d": BACKDATE.days}})
        if ended - started > dt.timedelta(hours=12):
            raise serializers.ValidationError({"ended_at": _("a visit lasts at most 12 hours")})
        located = [attrs["lon"] is not None, attrs["lat"] is not None]
        if any(located) and not all(located):
            raise serializers.ValidationError({"lat" if located[0] else "lon": _(
                "send both coordinates or neither")})
        if all(located) and attrs["accuracy_m"] is None:
            raise serializers.ValidationError({"accuracy_m": _("required with a location")})
        if not any(located) and attrs["accuracy_m"] is not None:
            raise serializers.ValidationError({"lon": _("an accuracy without a location")})
        urgent = any(attrs[a] == Finding.URGENT for a in FINDING_AREAS)
        if urgent and not attrs["appeal_category"]:
            raise serializers.ValidationError({"appeal_category": _(
                "an urgent finding needs a follow-up appeal: choose its category")})
        if attrs["appeal_category"] and not attrs["appeal_text"].strip():
            raise serializers.ValidationError({"appeal_text": _("describe the problem")})
        if attrs["wish"] and not any(attrs[a] in (Finding.URGENT, Finding.CONCERN)
                                     for a in FINDING_AREAS):
            raise serializers.ValidationError({"wish_title": _(
                "only a visit with a concern or an urgent finding raises a wish")})
        return attrs

    @staticmethod
    def _wish(attrs: dict[str, Any]) -> dict[str, Any] | None:
        """The follow-up wish's fields, all or none: a title needs a category and a value."""
        wish = {k: attrs.pop("wish_" + k) for k in
                ("category", "title", "public_title", "description", "est_value")}
        if not wish["title"].strip():
            if wish["category"] or wish["est_value"] is not None:
                raise serializers.ValidationError({"wish_title": _("say what is needed")})
            return None
        for name in ("category", "est_value"):
            if wish[name] in ("", None):
                raise serializers.ValidationError({"wish_" + name: _("required with a wish")})
        return wish


class ExtraRoundInput(serializers.Serializer):
    grid = serializers.RegexField(r"^[0-9]{1,32}$", label=_("grid code (its subtree)"))
    colours = serializers.ListField(child=serializers.ChoiceField(choices=Colour.choices),
                                    required=False, default=list, max_length=3,
                                    label=_("colours (all when empty)"))
    reason = serializers.ChoiceField(choices=ExtraRound.Reason.choices, label=_("reason"))
    note = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    due_at = serializers.DateTimeField(label=_("due"))

    def validate_due_at(self, value: dt.datetime) -> dt.datetime:
        now = timezone.now()
        if value <= now:
            raise serializers.ValidationError(_("must be in the future"))
        if value > now + dt.timedelta(days=60):
            raise serializers.ValidationError(_("at most 60 days ahead"))
        return value


class OpenInput(serializers.Serializer):
    reason = StrictCharField(max_length=200, label=_("reason"))
