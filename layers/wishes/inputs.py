"""Input of the wishes endpoints, checked at the edge: lengths match the columns, the value is
within the setting, ids are positive, choices are the model's. The services check what needs
the database (the household is the resident's, the volunteer exists, the state allows it)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from geogrid.inputs import StrictCharField
from layers.wishes.conf import wish_setting
from layers.wishes.models import TEXT_MAX, TITLE_MAX, Category, Claim

MAX_PHOTOS = 4
MAX_PARTICIPANTS = 20


class Id(serializers.IntegerField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, max_value=2**62, **kwargs)


class PostInput(serializers.Serializer):
    """A resident posts for their own household (no `household`/`wisher`); a grid worker or a
    micro-unit/building leader posts for a household of their scope (`household`, and the
    `wisher` living there — its head when left out)."""

    household = Id(required=False, default=None, label=_("household (on a resident's behalf)"))
    wisher = Id(required=False, default=None, label=_("wisher (a person of the household)"))
    category = serializers.ChoiceField(choices=Category.choices, label=_("category"))
    title = StrictCharField(max_length=TITLE_MAX, label=_("what is wished"))
    public_title = StrictCharField(max_length=TITLE_MAX, required=False, allow_blank=True,
                                   default="", label=_("title on the wall (no name, no address)"))
    description = StrictCharField(max_length=TEXT_MAX, required=False, allow_blank=True,
                                  default="", label=_("description"))
    est_value = serializers.IntegerField(min_value=0, label=_("estimated value (yuan)"))

    def validate_est_value(self, value: int) -> int:
        limit = wish_setting("MAX_VALUE_YUAN")
        if value > limit:
            raise serializers.ValidationError(_("at most %(n)d yuan") % {"n": limit})
        return value

    def validate_title(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError(_("say what is wished"))
        return value.strip()


class PublishInput(serializers.Serializer):
    public_title = StrictCharField(max_length=TITLE_MAX, required=False, allow_blank=True,
                                   default="", label=_("title on the wall (de-identified)"))


class DirectInput(serializers.Serializer):
    volunteer = Id(label=_("volunteer"))


class ClaimInput(serializers.Serializer):
    mode = serializers.ChoiceField(choices=Claim.Mode.choices, required=False,
                                   default=Claim.Mode.ONE_TO_ONE, label=_("mode"))
    partner_unit = Id(required=False, default=None,
                      label=_("claim for this partner unit (you are a member)"))
    participants = serializers.ListField(child=Id(), required=False, default=list,
                                         max_length=MAX_PARTICIPANTS,
                                         label=_("other volunteers (多对一)"))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        mode, unit, others = attrs["mode"], attrs["partner_unit"], attrs["participants"]
        if mode == Claim.Mode.UNIT_PAIRING and unit is None:
            raise serializers.ValidationError({"partner_unit": _("a pairing is a unit's claim")})
        if mode == Claim.Mode.MANY_TO_ONE:
            if unit is not None:
                raise serializers.ValidationError(
                    {"partner_unit": _("many to one is led by a volunteer")})
            if not others:
                raise serializers.ValidationError(
                    {"participants": _("name the volunteers who take part")})
        elif others:
            raise serializers.ValidationError(
                {"participants": _("participants only in the many-to-one mode")})
        if len(set(others)) != len(others):
            raise serializers.ValidationError({"participants": _("a volunteer twice")})
        return attrs


class DeliverInput(serializers.Serializer):
    photos = serializers.ListField(child=serializers.FileField(), min_length=1,
                                   max_length=MAX_PHOTOS,
                                   label=_("photos of the delivery (not of the wisher)"),
                                   error_messages={"min_length": _("add at least one photo")})


class SettleInput(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=[("redo", _("back to the claimant (claimed)")), ("close", _("close the wish"))],
        label=_("outcome"))
