"""Query parameters of appeal queries: one filter for the appeal list and the map layers.

`AppealFilterParams` is a DRF serializer over the query string that declares the parameters the
appeal list (GET /api/v1/appeals/) and the map layers (tiles, heat, counts, per-grid rates, map
reports) share:

    category  category codes; an unknown code is refused
    status    statuses; `open` means every open status
    channel   channels
    grid      a grid code: its subtree (code prefix); an appeal without a grid counts for its
              district (district_code), as in the statistics

(lists comma-separated or repeated: ?status=received,accepted or ?status=received&status=…).
Each resource subclasses it with its own parameters: the list with `AppealListParams` here
(since/until, overdue, due_within_hours, q, page, page_size), the map layers with
layers.analytics.filters.MapFilterParams (from/to or days). Every date goes through
geogrid.periods. A serializer documents its parameters: `extend_schema(parameters=[TheParams])`.

`TheParams.parse(query)` checks every parameter (known codes and statuses; dates; finite,
bounded numbers) and returns the validated values; a bad one raises FilterError, a Django
ValidationError naming the parameter, which geogrid.errors answers as a 400 (never a 500) and
whose str() reads "status: unknown status: replied" for commands.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from django.db.models import Q
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from geogrid.inputs import FiniteFloatField
from geogrid.periods import MomentField
from geogrid.queryparams import (  # noqa: F401  (FilterError: re-exported for callers)
    MAX_PAGE,
    MAX_PAGE_SIZE,
    FilterError,
    PageParams,
    QueryParams,
    message,
    whole_number,
)
from layers.appeals.models import CLOCK_STATUSES, OPEN_STATUSES, Category, Channel, Status

MAX_DUE_WITHIN_HOURS = 24 * 366
MAX_VALUES = 200  # values of one list parameter
GRID_CODE_MAX = 32


@extend_schema_field(OpenApiTypes.STR)
class ValueListField(serializers.Field):
    """Values comma-separated or repeated → a tuple of distinct values, in order. With `choices`
    an unknown value is refused (`unknown` gives the message for them); `aliases` name a group
    of values. Subclasses say what the values become (`to_internal_value`)."""

    default_error_messages = {
        "invalid_choice": serializers.ChoiceField.default_error_messages["invalid_choice"],
    }

    def __init__(self, *, choices: tuple[str, ...] | None = None,
                 aliases: Mapping[str, tuple[str, ...]] | None = None,
                 unknown: Callable[[str], str] | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("default", tuple)  # () when absent (a callable: not in the docs)
        super().__init__(**kwargs)
        self.choices, self.aliases, self.unknown = choices, dict(aliases or {}), unknown

    def get_value(self, dictionary: Mapping[str, Any]) -> Any:
        if isinstance(dictionary, MultiValueDict) and self.field_name in dictionary:
            return dictionary.getlist(self.field_name)  # a QueryDict: every repetition
        return super().get_value(dictionary)

    def values(self, data: Any) -> tuple[str, ...]:
        """The distinct values in `data`, aliases expanded; ValidationError for unknown ones."""
        items = data if isinstance(data, (list, tuple)) else [data]
        values = [v.strip() for item in items for v in str(item).split(",") if v.strip()]
        if len(values) > MAX_VALUES:
            raise serializers.ValidationError(_("at most %(n)d values") % {"n": MAX_VALUES})
        if self.choices is not None:
            bad = [v for v in values if v not in self.choices and v not in self.aliases]
            if bad:
                if self.unknown is None:
                    self.fail("invalid_choice", input=", ".join(bad))
                raise serializers.ValidationError(self.unknown(", ".join(bad)))
        out = [x for v in values for x in self.aliases.get(v, (v,))]
        return tuple(dict.fromkeys(out))

    def to_representation(self, value: tuple[Any, ...]) -> str:
        return ",".join(map(str, value))


class CodeListField(ValueListField):
    """Codes (statuses, channels…) → a tuple of distinct codes, in order."""

    def to_internal_value(self, data: Any) -> tuple[str, ...]:
        return self.values(data)


class CategoryListField(ValueListField):
    """Category codes → the categories' ids (sorted); an unknown code is refused."""

    def to_internal_value(self, data: Any) -> tuple[int, ...]:
        codes = self.values(data)
        if not codes:
            return ()
        found = dict(Category.objects.filter(code__in=codes).values_list("code", "id"))
        unknown = [c for c in codes if c not in found]
        if unknown:
            raise serializers.ValidationError(
                _("unknown category: %(codes)s") % {"codes": ", ".join(unknown)})
        return tuple(sorted(found.values()))


def grid_code_field(help_text: str) -> serializers.RegexField:
    message = gettext_lazy("a grid code (digits)")
    return serializers.RegexField(
        r"^[0-9]+$", max_length=GRID_CODE_MAX, required=False, default=None,
        error_messages={"invalid": message, "max_length": message}, help_text=help_text)


class AppealFilterParams(QueryParams):
    """The filter the appeal list and the map layers share. Validated values: `category` a
    tuple of category ids, `status` and `channel` tuples of values, `grid` a code or None."""

    category = CategoryListField(help_text="category codes, comma-separated (e.g. L0101,E0102)")
    status = CodeListField(
        choices=tuple(Status.values), aliases={"open": tuple(s.value for s in OPEN_STATUSES)},
        unknown=lambda bad: _("unknown status: %(status)s") % {"status": bad},
        help_text="statuses, comma-separated; `open` = every open status "
                  f"({', '.join(s.value for s in OPEN_STATUSES)})")
    channel = CodeListField(choices=tuple(Channel.values),
                            unknown=lambda bad: _("unknown channel: %(channel)s") % {
                                "channel": bad},
                            help_text="channels, comma-separated: " + ", ".join(Channel.values))
    grid = grid_code_field("a grid code: its subtree (an appeal without a grid counts for its "
                           "district)")


def shared_q(data: Mapping[str, Any]) -> Q:
    """The shared filter as a Q on appeals (layers.analytics.filters.AppealFilter renders the
    same conditions as SQL for the tiles' fact and cube tables)."""
    where = Q()
    if data.get("category"):
        where &= Q(category_id__in=data["category"])
    if data.get("status"):
        where &= Q(status__in=data["status"])
    if data.get("channel"):
        where &= Q(channel__in=data["channel"])
    if grid := data.get("grid"):
        where &= Q(grid__code__startswith=grid) | Q(grid__isnull=True,
                                                    district_code__startswith=grid)
    return where


class AppealListParams(AppealFilterParams, PageParams):
    """GET /api/v1/appeals/: the shared filter, the list's own filters and paging."""

    since = MomentField(required=False, default=None,
                        help_text="reported at or after (date or ISO datetime)")
    until = MomentField(end=True, required=False, default=None,
                        help_text="reported before (a date includes that whole day)")
    overdue = serializers.BooleanField(
        required=False, default=False,
        help_text="1: late (running past the deadline, or resolved late)")
    due_within_hours = FiniteFloatField(
        required=False, default=None, min_value=0, max_value=MAX_DUE_WITHIN_HOURS,
        help_text="running and due within this many hours",
        error_messages=dict.fromkeys(
            ("invalid", "finite", "min_value", "max_value", "max_string_length"),
            message(gettext_noop("a number of hours from 0 to %(n)d"), n=MAX_DUE_WITHIN_HOURS)))
    q = serializers.CharField(required=False, default="", allow_blank=True, max_length=200,
                              help_text="tracking number, address or description contains")


def list_filter(query: Mapping[str, Any], now: dt.datetime) -> Q:
    """The appeal list's filters as one Q: the shared ones, since, until, overdue,
    due_within_hours and q (FilterError when one is bad)."""
    data = AppealListParams.parse(query)
    where = shared_q(data)
    if data["since"]:
        where &= Q(reported_at__gte=data["since"])
    if data["until"]:
        where &= Q(reported_at__lt=data["until"])
    if data["overdue"]:
        where &= Q(status__in=CLOCK_STATUSES, due_at__lt=now) | Q(on_time=False)
    if data["due_within_hours"] is not None:
        where &= Q(status__in=CLOCK_STATUSES, due_at__gte=now,
                   due_at__lte=now + dt.timedelta(hours=data["due_within_hours"]))
    if q := data["q"].strip():
        where &= (Q(tracking__icontains=q) | Q(address__icontains=q)
                  | Q(description__icontains=q))
    return where


def page_params(query: Mapping[str, Any], default_size: int = 200) -> tuple[int, int]:
    """(page, page_size) from ?page=&page_size=, both whole numbers in range."""
    data = PageParams.parse(query)
    return data["page"], data["page_size"] or default_size
