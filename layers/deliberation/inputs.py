"""The fields of each deliberation request, checked at the edge: lengths are the columns',
numbers finite and bounded, text without NUL bytes (StrictCharField), moments within the years
the product keeps (a year 1 or 9999 never reaches the database or the calendar)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from geogrid.inputs import StrictCharField
from layers.deliberation.models import (
    MINUTES_MAX,
    OWNER_MAX,
    PLACE_MAX,
    REASON_MAX,
    TEXT_MAX,
    TITLE_MAX,
    Assessment,
    Effect,
    Offer,
    Project,
    Size,
    Venue,
)

CODE_MAX = 32  # grid codes
REF_MAX = 40  # an appeal's tracking number or public id
WISH_CODE_MAX = 20  # Wish.code
MAX_LINKS = 50  # appeals linked in one request
MAX_COUNT = 100_000  # attendees of one kind, votes
MAX_PUBLISH_DAYS = 366
MAX_PROJECT_YEARS = 5
MAX_OFFERS = 50
ID_MAX = 2**63 - 1
YEARS = (2000, 2100)


class MomentInput(serializers.DateTimeField):
    """An ISO datetime within YEARS (timezone-aware after parsing)."""

    default_error_messages = {"range": _("Give a moment between the years 2000 and 2100.")}

    def to_internal_value(self, value: Any) -> dt.datetime:
        if not isinstance(value, str):
            self.fail("invalid", format="YYYY-MM-DDThh:mm[:ss][+HH:MM]")
        try:
            moment = super().to_internal_value(value)
        except (OverflowError, ValueError):
            self.fail("range")
        if not YEARS[0] <= moment.year <= YEARS[1]:
            self.fail("range")
        return moment


class DayInput(serializers.DateField):
    default_error_messages = {"range": _("Give a date between the years 2000 and 2100.")}

    def to_internal_value(self, value: Any) -> dt.date:
        if not isinstance(value, str):
            self.fail("invalid", format="YYYY-MM-DD")
        day = super().to_internal_value(value)
        if not YEARS[0] <= day.year <= YEARS[1]:
            self.fail("range")
        return day


def count(label: Any, **kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=0, max_value=MAX_COUNT, label=label, **kwargs)


class ProposeInput(serializers.Serializer):
    """A proposal for a grid; staff may raise it from appeals or a micro-wish."""

    grid = StrictCharField(max_length=CODE_MAX, help_text="the grid it is for: a community or a "
                                                          "grid in it (code)")
    title = StrictCharField(max_length=TITLE_MAX)
    description = StrictCharField(max_length=TEXT_MAX, required=False, allow_blank=True,
                                  default="")
    size = serializers.ChoiceField(choices=Size.choices)
    appeals = serializers.ListField(
        child=StrictCharField(max_length=REF_MAX), required=False, default=list,
        max_length=MAX_LINKS, help_text="appeals it is raised from: tracking numbers or public "
                                        "ids (staff)")
    wish = StrictCharField(max_length=WISH_CODE_MAX, required=False, allow_blank=True,
                           default="", help_text="the micro-wish it is raised from (its code; "
                                                 "staff)")


class AssessInput(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Assessment.choices, label=_("outcome"))
    reason = StrictCharField(max_length=REASON_MAX, label=_("reason"))


class LinkInput(serializers.Serializer):
    appeals = serializers.ListField(child=StrictCharField(max_length=REF_MAX), min_length=1,
                                    max_length=MAX_LINKS, label=_("appeals"))


class MeetingInput(serializers.Serializer):
    held_at = MomentInput(label=_("held at"))
    venue = serializers.ChoiceField(choices=Venue.choices, label=_("venue"))
    place = StrictCharField(max_length=PLACE_MAX, required=False, allow_blank=True, default="",
                            label=_("place"))
    residents = count(_("residents"), required=False, default=0)
    owners_committee = count(_("owners' committee (业委会)"), required=False, default=0)
    property_company = count(_("property company (物业)"), required=False, default=0)
    community = count(_("community"), required=False, default=0)
    units = count(_("units"), required=False, default=0)
    minutes = StrictCharField(max_length=MINUTES_MAX, required=False, allow_blank=True,
                              default="", label=_("minutes"))


class DecideInput(serializers.Serializer):
    text = StrictCharField(max_length=TEXT_MAX, label=_("decision"))
    votes_for = count(_("for"), required=False, allow_null=True, default=None)
    votes_against = count(_("against"), required=False, allow_null=True, default=None)
    votes_abstain = count(_("abstained"), required=False, allow_null=True, default=None)
    publish_days = serializers.IntegerField(
        min_value=1, max_value=MAX_PUBLISH_DAYS, required=False, allow_null=True, default=None,
        label=_("published for (days)"),
        help_text="default: GEOGRID['DELIBERATION']['DECISION_PUBLISH_DAYS']")


class ProjectInput(serializers.Serializer):
    owner = StrictCharField(max_length=OWNER_MAX, label=_("owner"))
    due_on = DayInput(label=_("due"))
    offers = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=ID_MAX), required=False,
        default=list, max_length=MAX_OFFERS, label=_("offers taken"),
        help_text="open offers of the community the project takes")


class EvaluateInput(serializers.Serializer):
    effect = serializers.ChoiceField(choices=Effect.choices, label=_("effect"))
    evaluation = StrictCharField(max_length=TEXT_MAX, label=_("evaluation"))
    project = serializers.ChoiceField(
        choices=[(Project.Status.DONE.value, Project.Status.DONE.label),
                 (Project.Status.DROPPED.value, Project.Status.DROPPED.label)],
        required=False, default=Project.Status.DONE.value, label=_("the project"))


class WithdrawInput(serializers.Serializer):
    reason = StrictCharField(max_length=REASON_MAX, label=_("reason"))


class OfferInput(serializers.Serializer):
    community = StrictCharField(max_length=CODE_MAX, help_text="the community's code")
    kind = serializers.ChoiceField(choices=Offer.Kind.choices)
    partner_unit = serializers.IntegerField(min_value=1, max_value=ID_MAX, required=False,
                                            allow_null=True, default=None)
    volunteer = serializers.IntegerField(min_value=1, max_value=ID_MAX, required=False,
                                         allow_null=True, default=None)
    resource = StrictCharField(max_length=TITLE_MAX)
    description = StrictCharField(max_length=REASON_MAX, required=False, allow_blank=True,
                                  default="")

