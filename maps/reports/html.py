"""`manage.py render_map`: one self-contained HTML map report of a grid subtree — heat map of the
filtered appeals, the subtree's grid boundaries with labels, a per-grid choropleth with legend,
hotspots and a weekly time-lapse. Opens offline: every script and stylesheet is inlined."""

from __future__ import annotations

import html as html_lib
from dataclasses import dataclass, field

import folium
from branca.colormap import LinearColormap
from branca.element import Element, MacroElement
from django.utils import timezone
from django.utils.translation import gettext as _
from folium.plugins import HeatMap
from folium.template import Template

from layers.analytics.filters import AppealFilter
from layers.analytics.heat import grid_stats, heat_bins
from layers.analytics.hotspots import as_feature
from layers.analytics.models import Hotspot
from layers.analytics.reportdata import extent, report_level, subtree_grids, weekly_heat

from .inline import inline_assets
from .timelapse import WeeklyHeatLapse


@dataclass
class MapReportParams:
    filter: AppealFilter = field(default_factory=AppealFilter)
    grid: str | None = None  # subtree root code; None = every district
    title: str = ""
    heat_zoom: int = 16  # heat bins are 2**HEAT_SHIFT per tile side at this zoom
    max_weeks: int = 26


class Legend(MacroElement):
    """A plain HTML legend (branca's colormap legend needs d3 from a CDN)."""

    _template = Template(
        """
        {% macro html(this, kwargs) %}
        <div id="{{ this.get_name() }}" class="geogrid-legend" style="position:absolute;
             z-index:1000;right:10px;bottom:24px;background:#fff;padding:6px 8px;
             font:12px sans-serif;box-shadow:0 0 4px rgba(0,0,0,.3)">
          <div style="font-weight:bold;margin-bottom:4px">{{ this.caption }}</div>
          {% for colour, label in this.items %}
          <div><span style="display:inline-block;width:14px;height:10px;background:{{ colour }};
               margin-right:4px"></span>{{ label }}</div>
          {% endfor %}
        </div>
        {% endmacro %}
        """
    )

    def __init__(self, caption: str, items: list[tuple[str, str]]):
        super().__init__()
        self._name = "Legend"
        self.caption = caption
        self.items = items


def _title(params: MapReportParams) -> str:
    if params.title:
        return params.title
    filt = params.filter
    period = ""
    if filt.date_from or filt.date_to:
        period = f" {filt.date_from or '…'} – {filt.date_to or '…'}"
    return _("Appeals map report") + (f" {params.grid}" if params.grid else "") + period


def build_map(params: MapReportParams) -> folium.Map:
    filt = params.filter
    if params.grid:
        filt = AppealFilter(**{**filt.__dict__, "prefixes": _narrow(filt.prefixes, params.grid)})
    bounds = extent(filt, params.grid) or (117.7, 26.3, 117.9, 26.5)
    west, south, east, north = bounds
    fmap = folium.Map(
        location=[(south + north) / 2, (west + east) / 2],
        zoom_start=13,
        tiles=None,
        control_scale=True,
        prefer_canvas=True,
    )
    fmap.fit_bounds([[south, west], [north, east]])
    title = html_lib.escape(_title(params))
    fmap.get_root().html.add_child(
        Element(
            f'<div class="geogrid-title" style="position:absolute;z-index:1000;left:50px;top:10px;'
            f'background:#fff;padding:4px 8px;font:bold 14px sans-serif">{title}</div>'
        )
    )

    level = report_level(params.grid)
    grids = subtree_grids(params.grid, level)
    stats = {row["code"]: row for row in grid_stats(filt, level, params.grid)}

    # Choropleth: appeals per 100 households (per km² where nobody lives).
    values = [s["per_100_households"] for s in stats.values() if s["per_100_households"]]
    top = max(values, default=1.0) or 1.0
    colours = LinearColormap(["#ffffcc", "#fd8d3c", "#bd0026"], vmin=0, vmax=top)
    choropleth = folium.FeatureGroup(name=_("Appeals per 100 households"), show=True)
    for grid in grids:
        row = stats.get(grid["code"], {})
        rate = row.get("per_100_households")
        tip = (
            f"{html_lib.escape(grid['name'])} {grid['code']}<br>"
            + _("appeals")
            + f": {row.get('appeals', 0)}<br>"
            + _("per 100 households")
            + f": {rate if rate is not None else '–'}<br>"
            + _("completion rate")
            + ": "
            + (f"{row['completion_rate']:.1%}" if row.get("completion_rate") else "–")
        )
        fill = colours(rate) if rate else "#eeeeee"
        folium.GeoJson(
            {"type": "Feature", "geometry": grid["geometry"], "properties": {}},
            style_function=lambda _f, c=fill: {
                "fillColor": c,
                "fillOpacity": 0.55,
                "color": "#555",
                "weight": 1,
            },
            tooltip=folium.Tooltip(tip),
        ).add_to(choropleth)
    choropleth.add_to(fmap)
    steps = 5
    Legend(
        _("Appeals per 100 households"),
        [(colours(top * i / (steps - 1)), f"{top * i / (steps - 1):.1f}") for i in range(steps)],
    ).add_to(fmap)

    boundaries = folium.FeatureGroup(name=_("Grid boundaries"), show=True)
    for grid in grids:
        folium.GeoJson(
            {"type": "Feature", "geometry": grid["geometry"], "properties": {}},
            style_function=lambda _f: {"fill": False, "color": "#1f4e79", "weight": 2},
        ).add_to(boundaries)
        folium.Marker(
            grid["label_at"],
            icon=folium.DivIcon(
                html=f'<div class="geogrid-label" style="font:11px sans-serif;color:#1f4e79;'
                f'white-space:nowrap;text-shadow:0 0 3px #fff">'
                f"{html_lib.escape(grid['name'])}</div>",
                icon_size=(1, 1),
            ),
        ).add_to(boundaries)
    boundaries.add_to(fmap)

    heat = heat_bins(filt, bounds, params.heat_zoom)
    HeatMap(heat["bins"], name=_("Heat map"), radius=12, blur=10).add_to(fmap)

    spots = folium.FeatureGroup(name=_("Hotspots"), show=True)
    for spot in Hotspot.objects.select_related("category").filter(active=True):
        feature = as_feature(spot)
        if filt.prefixes is not None and not any(
            g.startswith(p) for g in spot.grid_codes for p in filt.prefixes
        ):
            continue
        name = spot.category.name_zh if spot.category_id else _("several categories")
        tip = (
            f"{html_lib.escape(name)}: {spot.count} " + _("appeals") + "<br>"
            f"{spot.first_report:%Y-%m-%d} – {spot.last_report:%Y-%m-%d}"
        )
        folium.GeoJson(
            feature,
            style_function=lambda _f: {"color": "#7b2cbf", "weight": 2, "fillOpacity": 0.15},
            tooltip=folium.Tooltip(tip),
        ).add_to(spots)
    spots.add_to(fmap)

    weeks, frames = weekly_heat(filt, params.max_weeks)
    if weeks:
        WeeklyHeatLapse(weeks, frames, label=_("appeals per week")).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    fmap.get_root().html.add_child(
        Element(
            '<div style="position:absolute;z-index:1000;left:50px;bottom:6px;'
            'font:11px sans-serif;color:#555">'
            + html_lib.escape(
                _("Generated %(when)s by GeoGrid")
                % {"when": timezone.localtime().strftime("%Y-%m-%d %H:%M")}
            )
            + "</div>"
        )
    )
    return fmap


def _narrow(prefixes: tuple[str, ...] | None, root: str) -> tuple[str, ...]:
    if prefixes is None:
        return (root,)
    if any(root.startswith(p) for p in prefixes):
        return (root,)
    return tuple(p for p in prefixes if p.startswith(root))


def render_map_html(params: MapReportParams) -> str:
    return inline_assets(build_map(params).get_root().render())
