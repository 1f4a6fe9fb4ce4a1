"""Input fields of the people actions, checked at the edge: lengths match the columns, dates are
real and not in the future, ID numbers carry a valid checksum, tags come from the settings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from geogrid.inputs import StrictCharField
from layers.people import identity
from layers.people.models import ChangeEvent, ChangeVerification, Dwelling, Household, Person
from layers.people.models import Residence as R


def _not_future(value: dt.date) -> dt.date:
    if value > timezone.localdate():
        raise serializers.ValidationError(_("must not be in the future"))
    if value.year < 1900:
        raise serializers.ValidationError(_("must be after 1900"))
    return value


class PastDateField(serializers.DateField):
    def to_internal_value(self, value: Any) -> dt.date:
        return _not_future(super().to_internal_value(value))


class TagsField(serializers.ListField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=StrictCharField(max_length=8), max_length=10, **kwargs)

    def to_internal_value(self, data: Any) -> list[str]:
        tags = super().to_internal_value(data)
        allowed = settings.GEOGRID["HOUSEHOLD_TAGS"]
        unknown = [t for t in tags if t not in allowed]
        if unknown:
            raise serializers.ValidationError(
                _("unknown tag(s) %(tags)s; allowed: %(allowed)s")
                % {"tags": ", ".join(unknown), "allowed": ", ".join(allowed)})
        return sorted(set(tags))


class PhoneField(StrictCharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=20, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data).strip()
        if value and identity.phone_problem(value):
            raise serializers.ValidationError(_("not a phone number"))
        return value


class MemberInput(serializers.Serializer):
    """A person joining a household (move-in or birth)."""

    name = StrictCharField(max_length=50, label=_("name"))
    id_type = serializers.ChoiceField(choices=Person.IdType.choices,
                                      default=Person.IdType.RESIDENT_ID)
    id_number = StrictCharField(max_length=32, required=False, allow_blank=True, default="",
                                label=_("ID number"))
    relation = serializers.ChoiceField(choices=R.Relation.choices, label=_("relation to head"))
    phone = PhoneField(required=False, allow_blank=True, default="", label=_("phone"))
    birth_date = PastDateField(required=False, allow_null=True, default=None)
    gender = serializers.ChoiceField(choices=Person.Gender.choices, required=False,
                                     allow_blank=True, default="")
    population_kind = serializers.ChoiceField(choices=Person.PopulationKind.choices,
                                              default=Person.PopulationKind.REGISTERED)
    presence = serializers.ChoiceField(choices=R.Presence.choices, default=R.Presence.BOTH)

    def validate(self, attrs: dict) -> dict:
        number = attrs.get("id_number", "")
        if attrs["id_type"] == Person.IdType.NONE:
            if number:
                raise serializers.ValidationError({"id_number": _("no number for type 'none'")})
        elif not number:
            raise serializers.ValidationError({"id_number": _("required for this ID type")})
        elif attrs["id_type"] == Person.IdType.RESIDENT_ID:
            problem = identity.resident_id_problem(number)
            if problem:
                raise serializers.ValidationError({"id_number": _(problem)})
            birth, gender = identity.birth_date_and_gender(number)
            if birth > timezone.localdate():
                raise serializers.ValidationError({"id_number": _("birth date in the future")})
            attrs["birth_date"] = attrs.get("birth_date") or birth
            attrs["gender"] = attrs.get("gender") or gender
        return attrs


class MoveOutInput(serializers.Serializer):
    members = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), required=False,
        default=list, max_length=50, label=_("members leaving (empty: the whole household)"))
    effective_date = PastDateField(label=_("moved out on"))
    new_head = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False,
                                        allow_null=True, default=None,
                                        label=_("new head (when the head leaves)"))
    source = serializers.ChoiceField(  # type: ignore[assignment]  # DRF pops declared fields
        choices=ChangeEvent.Source.choices[:3],
                                     default=ChangeEvent.Source.DOOR)


class AddMemberInput(MemberInput):
    kind = serializers.ChoiceField(choices=[(ChangeEvent.Kind.MOVE_IN, _("moved in")),
                                            (ChangeEvent.Kind.BIRTH, _("birth"))],
                                   default=ChangeEvent.Kind.MOVE_IN)
    effective_date = PastDateField(label=_("since"))
    source = serializers.ChoiceField(  # type: ignore[assignment]  # DRF pops declared fields
        choices=ChangeEvent.Source.choices[:3],
                                     default=ChangeEvent.Source.DOOR)


class DeathInput(serializers.Serializer):
    member = serializers.IntegerField(min_value=1, max_value=2**63 - 1, label=_("member"))
    effective_date = PastDateField(label=_("died on"))
    new_head = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False,
                                        allow_null=True, default=None)


class HeadInput(serializers.Serializer):
    member = serializers.IntegerField(min_value=1, max_value=2**63 - 1, label=_("new head"))
    effective_date = PastDateField(label=_("since"))


class ContactInput(serializers.Serializer):
    contact_phone = PhoneField(allow_blank=True, label=_("contact phone"))


class TagsInput(serializers.Serializer):
    tags = TagsField(label=_("tags"))


class IssueInput(serializers.Serializer):
    text = StrictCharField(max_length=500, label=_("what is wrong"))
    category = StrictCharField(max_length=16, required=False, allow_blank=True, default="",
                               label=_("appeal category (refers it as an appeal at once)"))


class MoveInInput(serializers.Serializer):
    """A new household moving into a dwelling."""

    kind = serializers.ChoiceField(choices=Household.Kind.choices,
                                   default=Household.Kind.REGISTERED)
    tags = TagsField(required=False, default=list)
    contact_phone = PhoneField(required=False, allow_blank=True, default="")
    effective_date = PastDateField(label=_("moved in on"))
    members = MemberInput(many=True, max_length=20, min_length=1)  # type: ignore[call-arg]
    source = serializers.ChoiceField(  # type: ignore[assignment]  # DRF pops declared fields
        choices=ChangeEvent.Source.choices[:3],
                                     default=ChangeEvent.Source.DOOR)


class UsageInput(serializers.Serializer):
    usage = serializers.ChoiceField(choices=Dwelling.Usage.choices, label=_("usage"))


class VerifyInput(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=ChangeVerification.Outcome.choices,
                                      default=ChangeVerification.Outcome.CONFIRMED)


class UnmaskInput(serializers.Serializer):
    reason = StrictCharField(max_length=200, min_length=4, label=_("reason"))
    fields = serializers.MultipleChoiceField(  # type: ignore[assignment]  # popped by DRF
        choices=["id_number", "phone"], label=_("fields"))
