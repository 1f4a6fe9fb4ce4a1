"""Query parameters read by serializers, shared by every layer's lists and map layers.

`TheParams.parse(request.query_params)` checks every parameter and returns the validated
values; a bad one raises FilterError, a Django ValidationError naming the parameter, which
geogrid.errors answers as a 400 in the one error shape (never a 500) and whose str() reads
"status: unknown status: replied" for commands. A params class documents itself in OpenAPI:
`extend_schema(parameters=[TheParams])`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from rest_framework import serializers

from geogrid.periods import MomentField

MAX_PAGE_SIZE = 1000
MAX_PAGE = 10**6


class FilterError(ValidationError):
    """Bad query parameters, {parameter: [messages]}: a 400 in the one error shape."""

    def __str__(self) -> str:
        return "; ".join(m if name in ("__all__", "non_field_errors") else f"{name}: {m}"
                         for name, messages in self.message_dict.items() for m in messages)


class QueryParams(serializers.Serializer):
    """Query parameters read by a serializer; subclasses declare them as fields."""

    @classmethod
    def parse(cls, query: Mapping[str, Any], **context: Any) -> dict[str, Any]:
        """The validated parameters; FilterError naming every bad one."""
        params = cls(data=query, context=context)
        if not params.is_valid():
            raise FilterError({name: [str(m) for m in messages]
                               for name, messages in params.errors.items()})
        return dict(params.validated_data)


def message(text: str, **values: Any) -> str:
    """A translated message with values, translated when shown (in the request's language)."""
    return lazy(lambda: _(text) % values, str)()


def whole_number(low: int, high: int, **kwargs: Any) -> serializers.IntegerField:
    text = message(gettext_noop("a whole number from %(low)d to %(high)d"), low=low, high=high)
    return serializers.IntegerField(
        min_value=low, max_value=high, required=False,
        error_messages={k: text for k in ("invalid", "min_value", "max_value",
                                          "max_string_length")}, **kwargs)


class PageParams(QueryParams):
    page = whole_number(1, MAX_PAGE, default=1, help_text="page number, from 1")
    page_size = whole_number(1, MAX_PAGE_SIZE, default=None,
                             help_text=f"items per page, at most {MAX_PAGE_SIZE}")


def page_of(rows: Any, p: Mapping[str, Any], default: int = 50) -> tuple[int, int, list]:
    """(count, page size, the rows of the page) of a queryset for PageParams `p`."""
    size = p["page_size"] or default
    return rows.count(), size, list(rows[(p["page"] - 1) * size:p["page"] * size])


class GridLevelParams(QueryParams):
    """`grid` (a current grid's code: its subtree) and `by` (the level of the rows: community,
    zone or micro-grid; by default the grid's children, or the grid itself at the bottom; never
    above the grid). The figures endpoints of the layers (care, wishes) share them."""

    BY_LEVELS = (3, 4, 5)  # geogrid.hierarchy.Level: COMMUNITY, ZONE, MICRO_GRID

    grid = serializers.RegexField(
        r"^[0-9]{1,32}$", error_messages={"invalid": gettext_lazy("a grid code (digits)")},
        help_text="the grid's code: its subtree")
    by = serializers.ChoiceField(
        choices=BY_LEVELS, required=False, default=None,
        error_messages={"invalid_choice": gettext_lazy(
            "3 (communities), 4 (zones) or 5 (micro-grids)")},
        help_text="the level of the rows: 3 community, 4 zone, 5 micro-grid (default: the "
                  "grid's children, or the grid itself at level 5); not above the grid's own "
                  "level")

    def validate_grid(self, value: str) -> Any:
        from geogrid.models import Grid

        grid = Grid.objects.current().filter(code=value).first()
        if grid is None:
            raise serializers.ValidationError(
                _("no current grid has the code %(code)r") % {"code": value})
        return grid

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        grid, by, levels = attrs["grid"], attrs.get("by"), self.BY_LEVELS
        if by is None:
            by = min(max(grid.level + 1, levels[0]), levels[-1])
        elif int(by) < grid.level:
            raise serializers.ValidationError({"by": [
                _("not above the grid's own level (%(level)d)") % {"level": grid.level}]})
        attrs["by"] = int(by)
        return attrs


class YearParams(QueryParams):
    """`start` and `end` of a figures period: by default the 365 days up to now. The whistle
    and deliberation figures share them."""

    start = MomentField(required=False, default=None,
                        help_text="from this date (default: 365 days before `end`)")
    end = MomentField(end=True, required=False, default=None,
                      help_text="until this date, inclusive (default: now)")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs["end"] = attrs.get("end") or timezone.now()
        attrs["start"] = attrs.get("start") or attrs["end"] - dt.timedelta(days=365)
        if attrs["start"] >= attrs["end"]:
            raise serializers.ValidationError({"start": [_("the period is empty")]})
        return attrs
