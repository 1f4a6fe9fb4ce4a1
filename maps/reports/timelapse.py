"""A weekly heat time-lapse for folium maps, built on Leaflet.heat only.

folium's HeatMapWithTime needs leaflet-timedimension and iso8601-js-period, which folium does
not ship and maps/package.json does not install, so a report using it could not open offline.
This element draws one Leaflet.heat layer and swaps its points per week, with a slider and a
play button."""

from __future__ import annotations

import json

from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.template import Template


class WeeklyHeatLapse(JSCSSMixin, MacroElement):
    default_js = [("leaflet-heat.js", "leaflet-heat.js")]  # inlined by maps.reports.inline

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var weeks = {{ this.weeks }};
            var frames = {{ this.frames }};
            var layer = L.heatLayer([], {{ this.options }});
            var box = L.control({position: "bottomleft"});
            var index = 0, timer = null;
            box.onAdd = function () {
                var div = L.DomUtil.create("div", "geogrid-lapse leaflet-bar");
                div.style.cssText = "background:#fff;padding:6px 8px;font:12px sans-serif";
                div.innerHTML = '<button type="button">&#9654;</button> ' +
                    '<input type="range" min="0" max="' + (weeks.length - 1) + '" value="0"' +
                    ' style="vertical-align:middle;width:180px"> ' +
                    '<span></span> <small>{{ this.label }}</small>';
                L.DomEvent.disableClickPropagation(div);
                var button = div.querySelector("button"), slider = div.querySelector("input");
                var text = div.querySelector("span");
                function show(i) {
                    index = i; slider.value = i; text.textContent = weeks[i];
                    layer.setLatLngs(frames[i]);
                }
                slider.addEventListener("input", function () { show(+slider.value); });
                button.addEventListener("click", function () {
                    if (timer) {
                        clearInterval(timer); timer = null; button.innerHTML = "&#9654;"; return;
                    }
                    button.innerHTML = "&#10074;&#10074;";
                    timer = setInterval(function () { show((index + 1) % weeks.length); }, 700);
                });
                div._show = show;
                return div;
            };
            var control = box.addTo(map);
            layer.on("add", function () { control.getContainer()._show(index); });
            {{ this.get_name() }} = layer;
            layer.addTo(map);
            control.getContainer()._show(0);
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        weeks: list[str],
        frames: list[list[list[float]]],
        label: str = "",
        name: str = "lapse",
        **options,
    ):
        super().__init__()
        self._name = "WeeklyHeatLapse"
        self.layer_name = name
        self.weeks = json.dumps(weeks)
        self.frames = json.dumps(frames, separators=(",", ":"))
        self.label = label
        self.options = json.dumps({"radius": 14, "blur": 12, **options})
