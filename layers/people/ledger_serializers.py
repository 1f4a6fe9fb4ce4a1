"""The 四清 ledger API's query parameters and answers (layers.people.ledger_views).

Parameters are read by serializers that document themselves in /api/docs/ and refuse a bad
value with a 400 naming it (geogrid.errors); answers are rendered through the serializers below,
so what is sent is what the schema says."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from geogrid.hierarchy import Level
from geogrid.models import Grid
from geogrid.periods import DayField
from geogrid.queryparams import QueryParams

MICRO_GRID = int(Level.MICRO_GRID)


# --- parameters ---------------------------------------------------------------------------------
def _grid_field() -> serializers.RegexField:
    message = gettext_lazy("a grid code (digits)")
    return serializers.RegexField(
        r"^[0-9]{1,32}$", error_messages={"invalid": message},
        help_text="the grid's code: its subtree")


def _as_of_field() -> DayField:
    return DayField(required=False, default=None,
                    help_text="the day the ledger is computed for (default today; today or "
                              "later: the ledger keeps only the latest verification)")


def _current_grid(code: str) -> Grid:
    grid = Grid.objects.current().filter(code=code).first()
    if grid is None:
        raise serializers.ValidationError(
            _("no current grid has the code %(code)r") % {"code": code})
    return grid


def _not_past(day: dt.date | None) -> dt.date | None:
    if day is not None and day < timezone.localdate():
        raise serializers.ValidationError(
            _("today or later: the ledger keeps only the latest verification, so it cannot "
              "be replayed for a past day"))
    return day


class LedgerParams(QueryParams):
    """GET /api/v1/people/ledger/"""

    grid = _grid_field()
    as_of = _as_of_field()

    def validate_grid(self, value: str) -> Grid:
        return _current_grid(value)

    def validate_as_of(self, value: dt.date | None) -> dt.date | None:
        return _not_past(value)


class UnitLedgerParams(QueryParams):
    """GET /api/v1/people/micro-units/{id}/ledger/"""

    as_of = _as_of_field()

    def validate_as_of(self, value: dt.date | None) -> dt.date | None:
        return _not_past(value)


class CountsParams(QueryParams):
    """GET /api/v1/people/counts/"""

    grid = _grid_field()
    level = serializers.ChoiceField(
        choices=Level.choices, required=False, default=None,
        error_messages={"invalid_choice": gettext_lazy("a grid level from 1 to 5")},
        help_text="the level of the rows (default: the grid's children; a micro-grid gives "
                  "its own row); not above the grid's own level")

    def validate_grid(self, value: str) -> Grid:
        return _current_grid(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        grid: Grid = attrs["grid"]
        level = attrs.get("level")
        if level is None:
            attrs["level"] = min(grid.level + 1, MICRO_GRID)
        elif int(level) < grid.level:
            raise serializers.ValidationError(
                {"level": [_("not above the grid's own level (%(level)d)") % {
                    "level": grid.level}]})
        attrs["level"] = int(attrs["level"])
        return attrs


# --- answers ------------------------------------------------------------------------------------


class LedgerFigureSerializer(serializers.Serializer):
    clear = serializers.IntegerField(help_text="numerator")
    of = serializers.IntegerField(help_text="denominator")
    share = serializers.FloatField(allow_null=True,
                                   help_text="clear / of, a fraction; null when `of` is 0")
    tick = serializers.BooleanField(allow_null=True,
                                    help_text="clear = of > 0; null when `of` is 0")


class LedgerChangeFigureSerializer(LedgerFigureSerializer):
    pending = serializers.IntegerField(
        help_text="reported, not verified and not yet due: in neither clear nor of")
    overdue = serializers.IntegerField(help_text="due and still not verified (in `of`)")


class LedgerFiguresSerializer(serializers.Serializer):
    units = serializers.IntegerField(help_text="micro-units counted")
    dwellings = serializers.IntegerField()
    households = serializers.IntegerField(help_text="active households")
    occupancy = LedgerFigureSerializer(help_text="人户清: dwellings whose occupancy was "
                                                 "verified within LEDGER_DAYS.occupancy")
    profile = LedgerFigureSerializer(help_text="户情清: active households whose profile was "
                                               "verified within LEDGER_DAYS.profile")
    changes = LedgerChangeFigureSerializer(help_text="变化清: reported changes verified within "
                                                     "LEDGER_DAYS.changes of being reported")
    issues = LedgerFigureSerializer(help_text="问题清: active households with no issue open "
                                              "longer than LEDGER_DAYS.issues without an appeal")


class LedgerDaysSerializer(serializers.Serializer):
    occupancy = serializers.IntegerField()
    profile = serializers.IntegerField()
    changes = serializers.IntegerField()
    issues = serializers.IntegerField()
    changes_window = serializers.IntegerField(
        help_text="changes reported this many days back are considered")


class LedgerGridRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.IntegerField()


class LedgerRowSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["grid", "micro_unit"])
    id = serializers.IntegerField(allow_null=True, help_text="the micro-unit's id (null for "
                                                             "grids)")
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.IntegerField(allow_null=True, help_text="the grid's level (null for "
                                                                "micro-units)")
    figures = LedgerFiguresSerializer()


class GridLedgerSerializer(serializers.Serializer):
    grid = LedgerGridRefSerializer()
    as_of = serializers.DateField()
    days = LedgerDaysSerializer()
    figures = LedgerFiguresSerializer(help_text="the whole subtree: sums of the units' "
                                                "numerators and denominators")
    rows = LedgerRowSerializer(many=True, help_text="the child grids, or the micro-units of a "
                                                    "micro-grid")


class MicroUnitRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    grid = LedgerGridRefSerializer()


class FocusHouseholdSerializer(serializers.Serializer):
    household = serializers.IntegerField(help_text="the household's id")
    building = serializers.CharField(help_text="the building's standard address")
    room = serializers.CharField(help_text="unit and room, e.g. 2单元301室")
    head_name = serializers.CharField(help_text="empty when the household has no head")
    size = serializers.IntegerField(help_text="members (open residences)")
    tags = serializers.ListField(child=serializers.CharField())
    contact_phone = serializers.CharField(
        help_text="masked, e.g. 138****5678; empty when none")


class UnitLedgerSerializer(serializers.Serializer):
    unit = MicroUnitRefSerializer()
    as_of = serializers.DateField()
    days = LedgerDaysSerializer()
    figures = LedgerFiguresSerializer()
    focus_tags = serializers.ListField(child=serializers.CharField())
    focus = FocusHouseholdSerializer(many=True, help_text="重点关注: active households with a "
                                                          "focus tag (every read is logged)")


class HouseholdCountsSerializer(serializers.Serializer):
    households = serializers.IntegerField(help_text="active households")
    residents = serializers.IntegerField(
        help_text="open residences of active households, except 户在人不在")
    focus_households = serializers.IntegerField(help_text="active households with a focus tag")


class HouseholdCountRowSerializer(HouseholdCountsSerializer):
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.IntegerField()


class HouseholdCountsAnswerSerializer(serializers.Serializer):
    grid = LedgerGridRefSerializer()
    level = serializers.IntegerField(help_text="the level of the rows")
    totals = HouseholdCountsSerializer()
    rows = HouseholdCountRowSerializer(many=True)
