"""The collections the OGC API serves, each declared once: what it reads, which properties it
shows (the allow-list CQL2 filters and the queryables come from), who may read it.

Rules:
- Grids: one collection per level (districts … micro-grids), the **current** versions only,
  public (boundaries are not personal data). Codes are strings (18+ digits overflow a JSON
  number in JavaScript clients).
- Buildings and appeals: only for authenticated readers, and only in their scope
  (layers/ogcapi/access.py). Appeals show no personal data: no reporter, no contact phone, no
  free text (description, address — it can name a flat —, result, feedback); an appeal without
  a location is not a feature of the map layer.
- Hotspots: a public aggregate (clusters of at least HOTSPOT_MIN_POINTS appeals; hull, counts,
  grid codes — nothing of one appeal).
- A feature's id is the row's primary key (an integer: the paging cursor runs on it). A grid's
  id is that of its current version; its stable name is the `code` property.
- Every property is an ORM path read in SQL; nothing here loops over rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.gis.db.models import Extent
from django.db.models import Max, Min, Model, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from geogrid.hierarchy import Level
from geogrid.models import ApiClient, Grid
from layers.analytics.models import Hotspot
from layers.appeals.models import Appeal, Channel, Status
from layers.buildings.models import Building

STRING, INTEGER, NUMBER, BOOLEAN = "string", "integer", "number", "boolean"
DATETIME, DATE, OBJECT, ARRAY = "date-time", "date", "object", "array"


@dataclass(frozen=True)
class Prop:
    """One property of a feature: its name in the answer, where it comes from, its type."""

    name: str
    source: str  # an ORM path, e.g. "parent__code"
    type: str
    title: str | Promise = ""
    enum: tuple[str, ...] = ()
    queryable: bool = True


@dataclass(frozen=True)
class Collection:
    id: str
    title: str | Promise
    description: str | Promise
    model: type[Model]
    geometry: str  # the geometry field
    geometry_type: str  # GeoJSON type, for the queryables
    props: tuple[Prop, ...]
    rows: Callable[[], QuerySet]  # every feature, before the reader's scope
    # None: public; else the ApiClient permission a key needs (sessions: signed in).
    permission: str | None = None
    scope_field: str = ""  # the grid-code path the reader's scope applies to
    # (start, end) fields the `datetime` parameter applies to; the same field twice for an
    # instant; None: not temporal (`datetime` is then checked and ignored).
    temporal: tuple[str, str | None] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def public(self) -> bool:
        return self.permission is None

    def prop(self, name: str) -> Prop | None:
        return next((p for p in self.props if p.name == name and p.queryable), None)

    def queryables(self) -> tuple[Prop, ...]:
        return tuple(p for p in self.props if p.queryable)

    def temporal_extent(self) -> list[str | None]:
        if self.temporal is None:
            return [None, None]
        start, end = self.temporal
        got = self.rows().aggregate(lo=Min(start), hi=Max(end or start))
        return [v.isoformat() if v is not None else None for v in (got["lo"], got["hi"])]


def spatial_extent() -> list[float]:
    """The districts' extent (lon/lat): every collection lies within it."""
    box = Grid.objects.current().filter(level=Level.DISTRICT).aggregate(e=Extent("boundary"))["e"]
    return list(box) if box else [-180.0, -90.0, 180.0, 90.0]


GRID_IDS = {Level.DISTRICT: "districts", Level.SUBDISTRICT: "subdistricts",
            Level.COMMUNITY: "communities", Level.ZONE: "zones", Level.MICRO_GRID: "micro-grids"}

GRID_PROPS = (
    Prop("code", "code", STRING, _("grid code")),
    Prop("name", "name", STRING, _("name")),
    Prop("level", "level", INTEGER, _("level")),
    Prop("parent_code", "parent__code", STRING, _("code of the parent grid")),
    Prop("area_m2", "area_m2", NUMBER, _("area (m²)")),
    Prop("valid_from", "valid_from", DATETIME, _("valid from")),
)


def _grids(level: int) -> Callable[[], QuerySet]:
    return lambda: Grid.objects.current().filter(level=level)


def _grid_collection(level: Level) -> Collection:
    return Collection(
        id=GRID_IDS[level], title=level.label,
        description=_("Current boundaries of the grids of this level (public)."),
        model=Grid, geometry="boundary", geometry_type="MultiPolygon", props=GRID_PROPS,
        rows=_grids(level.value), temporal=("valid_from", "valid_to"))


APPEALS = Collection(
    id="appeals", title=_("appeals"),
    description=_("Residents' appeals with a location, in the reader's scope; no personal data "
                  "and no free text."),
    model=Appeal, geometry="location", geometry_type="Point",
    props=(
        Prop("tracking", "tracking", STRING, _("tracking number")),
        Prop("status", "status", STRING, _("status"), enum=tuple(Status.values)),
        Prop("category", "category__code", STRING, _("category code")),
        Prop("category_name", "category__name_zh", STRING, _("category")),
        Prop("channel", "channel", STRING, _("channel"), enum=tuple(Channel.values)),
        Prop("reported_at", "reported_at", DATETIME, _("reported at")),
        Prop("due_at", "due_at", DATETIME, _("due at")),
        Prop("resolved_at", "resolved_at", DATETIME, _("resolved at")),
        Prop("closed_at", "closed_at", DATETIME, _("closed at")),
        Prop("on_time", "on_time", BOOLEAN, _("on time")),
        Prop("supporters", "supporters", INTEGER, _("supporters")),
        Prop("grid_code", "grid__code", STRING, _("micro-grid code")),
        Prop("district_code", "district_code", STRING, _("district code")),
    ),
    rows=lambda: Appeal.objects.filter(location__isnull=False),
    permission=ApiClient.Permission.READ_APPEALS, scope_field="grid__code",
    temporal=("reported_at", None))

BUILDINGS = Collection(
    id="buildings", title=_("buildings"),
    description=_("Buildings with their standard address, in the reader's scope."),
    model=Building, geometry="location", geometry_type="Point",
    props=(
        Prop("address", "address", STRING, _("standard address")),
        Prop("estate_or_road", "estate_or_road", STRING, _("estate or road")),
        Prop("door_no", "door_no", STRING, _("door number")),
        Prop("building_no", "building_no", STRING, _("building number")),
        Prop("units", "units", INTEGER, _("units")),
        Prop("households", "households", INTEGER, _("households")),
        Prop("grid_code", "grid__code", STRING, _("micro-grid code")),
    ),
    rows=lambda: Building.objects.all(),
    permission=ApiClient.Permission.READ_BUILDINGS, scope_field="grid__code")

HOTSPOTS = Collection(
    id="hotspots", title=_("hotspots"),
    description=_("Dense clusters of appeals of one category (public aggregate): hull, "
                  "counts, micro-grids, first and last report."),
    model=Hotspot, geometry="hull", geometry_type="Polygon",
    props=(
        Prop("category", "category__code", STRING, _("category code")),
        Prop("count", "count", INTEGER, _("appeals")),
        Prop("categories", "categories", OBJECT, _("appeals per category"), queryable=False),
        Prop("grid_codes", "grid_codes", ARRAY, _("micro-grids"), queryable=False),
        Prop("first_report", "first_report", DATETIME, _("first report")),
        Prop("last_report", "last_report", DATETIME, _("last report")),
        Prop("period_from", "period_from", DATE, _("period from")),
        Prop("period_to", "period_to", DATE, _("period to")),
        Prop("eps_m", "eps_m", NUMBER, _("distance (m)")),
        Prop("min_points", "min_points", INTEGER, _("minimum appeals")),
        Prop("active", "active", BOOLEAN, _("active")),
    ),
    rows=lambda: Hotspot.objects.all(),
    temporal=("first_report", "last_report"))

COLLECTIONS: dict[str, Collection] = {
    c.id: c for c in (*(_grid_collection(level) for level in Level), BUILDINGS, APPEALS, HOTSPOTS)
}


def get(collection_id: str) -> Collection | None:
    return COLLECTIONS.get(collection_id)
