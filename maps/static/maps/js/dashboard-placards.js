/* The placards (民意二维码) layer of the dashboard: a point per placard in the user's grids,
   coloured by status, its scans and reports in the popup, with the printable sheet a click away.

   GeoGrid.placards.addLayer(map, apiBase, options) → a Leaflet layer group (already on the map)
     map      a Leaflet map
     apiBase  "/api/v1/placards/" (the layer reads <apiBase>layer/)
     options  { grid: "code" (a subtree), status: "active" | "revoked", refreshMs: 0,
                strings: {…} to translate the popup (defaults below are Chinese) }
   The layer has .refresh() and .stop(); it fires "placards:loaded" on the map with
   { count, truncated } after each load. The API scopes the answer (PLACARD_MANAGE), so the
   layer shows exactly what the user may manage; errors leave the previous points in place. */
(function (global) {
  "use strict";

  var COLOURS = { active: "#1a7f37", revoked: "#9a9a9a" };
  var DEFAULTS = {
    building: "楼栋码", stairwell: "单元楼道码", shop: "商铺码", place: "场所码",
    active: "有效", revoked: "已作废", scans: "扫码", reports: "反映", version: "版次",
    sheet: "打印(PDF)", truncated: "仅显示前 %s 个"
  };

  function text(value) {
    var span = document.createElement("span");
    span.textContent = value == null ? "" : String(value);
    return span.innerHTML;
  }

  function popup(feature, apiBase, T) {
    var p = feature.properties;
    return "<strong>" + text(p.label) + "</strong><br>" +
      text(T[p.kind] || p.kind) + " · " + text(T[p.status] || p.status) + "<br>" +
      text(T.scans) + " " + text(p.scans) + " · " + text(T.reports) + " " + text(p.reports) +
      " · " + text(T.version) + " " + text(p.print_version) +
      (p.status === "active" && p.manage !== false
        ? "<br><a href=\"" + text(apiBase) + "sheet.pdf?placard=" + encodeURIComponent(feature.id) +
          "\" download>" + text(T.sheet) + "</a>"
        : "");
  }

  function addLayer(map, apiBase, options) {
    options = options || {};
    apiBase = apiBase || "/api/v1/placards/";
    var T = L.extend({}, DEFAULTS, options.strings || {});
    var group = L.layerGroup().addTo(map);
    var timer = null;
    var seq = 0;

    function url() {
      var query = [];
      if (options.grid) query.push("grid=" + encodeURIComponent(options.grid));
      if (options.status) query.push("status=" + encodeURIComponent(options.status));
      return apiBase + "layer/" + (query.length ? "?" + query.join("&") : "");
    }

    function draw(fc) {
      group.clearLayers();
      L.geoJSON(fc, {
        pointToLayer: function (feature, latlng) {
          var colour = COLOURS[feature.properties.status] || "#1f4e79";
          return L.circleMarker(latlng, {
            radius: 5, color: "#fff", weight: 1, fillColor: colour, fillOpacity: 0.9
          });
        },
        onEachFeature: function (feature, layer) {
          layer.bindPopup(popup(feature, apiBase, T));
          layer.feature = feature;
        }
      }).eachLayer(function (layer) { group.addLayer(layer); });
      map.fire("placards:loaded", { count: fc.count, truncated: !!fc.truncated });
    }

    group.refresh = function () {
      var mine = ++seq;
      return GeoGrid.api.get(url()).then(function (fc) {
        if (mine === seq) draw(fc);
        return fc;
      }, function (err) {
        map.fire("placards:error", { error: err });
        return null;
      });
    };
    group.stop = function () {
      if (timer) global.clearInterval(timer);
      timer = null;
    };
    group.on("remove", group.stop);
    group.refresh();
    if (options.refreshMs) timer = global.setInterval(group.refresh, options.refreshMs);
    return group;
  }

  global.GeoGrid = global.GeoGrid || {};
  global.GeoGrid.placards = { addLayer: addLayer, colours: COLOURS };
})(window);
