/* The dashboard's points layer (爱心积分, issue 14): points earned, redeemed and outstanding per
 * grid, from GET /api/v1/volunteering/figures/layer/?grid=&by= (a GeoJSON FeatureCollection of
 * the grids with the figures as properties), and the shops' stock value from
 * GET /api/v1/shop/figures/?grid=. No personal data: counts and sums only.
 *
 *   GeoGrid.points.addPanel(map, element, {
 *     roots: ["350427"],        // grid codes where the user holds points.counts (the server's
 *                               // Grants(user).codes(Capability.POINTS_COUNTS)); required
 *     level: 3,                 // the level of the cells (3 community, 4 zone, 5 micro-grid)
 *     levelOfCode: {6: 1, …},   // code length → level (the dashboard's D.levelOfCode)
 *     strings: {…}              // labels in the page's language (English defaults below)
 *   }) → {layer, refresh(), setLevel(level), setRoots(roots), destroy()}
 *
 * The panel has a checkbox that shows the overlay (coloured by the chosen figure, darker =
 * more), a select of the figure, and the totals of the roots. Needs Leaflet and api.js (both in
 * maps/base.html). Stable hooks for tests: .points-panel[data-loaded] (incremented on every
 * answer), .points-total [data-figure], the overlay's paths carry class "points-cell". */
(function (global) {
  "use strict";
  var DEFAULTS = {
    title: "Volunteer points (爱心积分)", show: "Show on the map", earned: "Earned",
    redeemed: "Redeemed", outstanding: "Outstanding", volunteers: "Volunteers",
    value: "Outstanding value (yuan)", stock: "Shop stock value (yuan)",
    shops: "Shops", failed: "The points figures could not be loaded."
  };
  var FIGURES = ["outstanding", "earned", "redeemed"];
  var COLOURS = ["#fff5eb", "#fdd0a2", "#fdae6b", "#fd8d3c", "#e6550d", "#a63603"];

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function number(x) { return x === null || x === undefined ? "—" : Number(x).toLocaleString(); }

  function addPanel(map, element, options) {
    options = options || {};
    var T = {};
    Object.keys(DEFAULTS).forEach(function (k) { T[k] = (options.strings || {})[k] || DEFAULTS[k]; });
    var roots = (options.roots || []).slice();
    var level = options.level || 3;
    var api = global.GeoGrid.api;

    var panel = el("section", "points-panel");
    panel.dataset.loaded = "0";
    panel.appendChild(el("h3", "", T.title));
    var label = el("label");
    var box = el("input");
    box.type = "checkbox";
    label.appendChild(box);
    label.appendChild(document.createTextNode(" " + T.show));
    var select = el("select", "points-figure");
    FIGURES.forEach(function (f) { select.add(new Option(T[f], f)); });
    panel.appendChild(label);
    panel.appendChild(select);
    var totals = el("dl", "points-total");
    var status = el("p", "muted points-status");
    panel.appendChild(totals);
    panel.appendChild(status);
    element.appendChild(panel);

    var features = [];
    var layer = global.L.geoJSON(null, {
      style: function (f) { return style(f); },
      onEachFeature: function (f, l) {
        var p = f.properties;
        l.bindPopup("<strong></strong>");
        l.on("popupopen", function () {  // text nodes, never HTML from the data
          var root = l.getPopup().getElement().querySelector(".leaflet-popup-content");
          root.textContent = "";
          root.appendChild(el("strong", "", p.name + " (" + p.code + ")"));
          FIGURES.concat(["volunteers"]).forEach(function (k) {
            root.appendChild(el("div", "", T[k] + ": " + number(p[k])));
          });
        });
      }
    });

    function scale() {
      var key = select.value;
      var max = 0;
      features.forEach(function (f) { max = Math.max(max, f.properties[key] || 0); });
      return function (v) {
        if (!max || !v) return COLOURS[0];
        return COLOURS[Math.min(COLOURS.length - 1, Math.ceil(v / max * (COLOURS.length - 1)))];
      };
    }
    var colour = scale();
    function style(f) {
      return { weight: 1, color: "#8d6e63", fillOpacity: 0.6, className: "points-cell",
               fillColor: colour(f.properties[select.value]) };
    }

    function showTotals(points, shops) {
      totals.textContent = "";
      function row(name, key, value) {
        totals.appendChild(el("dt", "", name));
        var dd = el("dd", "", number(value));
        dd.dataset.figure = key;
        totals.appendChild(dd);
      }
      row(T.earned, "earned", points.earned);
      row(T.redeemed, "redeemed", points.redeemed);
      row(T.outstanding, "outstanding", points.outstanding);
      row(T.value, "value", points.value);
      row(T.volunteers, "volunteers", points.volunteers);
      row(T.shops, "shops", shops.shops);
      row(T.stock, "stock_value", shops.stock_value);
    }

    function refresh() {
      status.textContent = "";
      var sums = { earned: 0, redeemed: 0, outstanding: 0, value: 0, volunteers: 0 };
      var shopSums = { shops: 0, stock_value: 0 };
      features = [];
      return Promise.all(roots.map(function (root) {
        var by = Math.max(level, Math.min(5, rootLevel(root)));
        var q = "?grid=" + encodeURIComponent(root) + "&by=" + by;
        return Promise.all([api.get("/api/v1/volunteering/figures/layer/" + q),
                            api.get("/api/v1/shop/figures/?grid=" + encodeURIComponent(root))])
          .then(function (answers) {
            var fc = answers[0], shop = answers[1];
            features = features.concat(fc.features);
            Object.keys(sums).forEach(function (k) { sums[k] += fc.total[k] || 0; });
            shopSums.shops += shop.total.shops;
            shopSums.stock_value += shop.total.stock_value;
          });
      })).then(function () {
        layer.clearLayers();
        colour = scale();
        layer.addData({ type: "FeatureCollection", features: features });
        showTotals(sums, shopSums);
      }, function (err) {
        status.textContent = (err && err.detail) || T.failed;
      }).then(function () { panel.dataset.loaded = String(Number(panel.dataset.loaded) + 1); });
    }
    // A root's level from its code length (GB/T 30428.1 style: 6, 9, 12, 15, 18 digits).
    var levelOfCode = options.levelOfCode || { 6: 1, 9: 2, 12: 3, 15: 4, 18: 5 };
    function rootLevel(code) { return levelOfCode[code.length] || 3; }

    box.addEventListener("change", function () {
      if (box.checked) layer.addTo(map); else map.removeLayer(layer);
    });
    select.addEventListener("change", function () { colour = scale(); layer.setStyle(style); });
    refresh();
    return {
      layer: layer,
      refresh: refresh,
      setLevel: function (l) { level = l; return refresh(); },
      setRoots: function (r) { roots = r.slice(); return refresh(); },
      destroy: function () { map.removeLayer(layer); element.removeChild(panel); }
    };
  }

  global.GeoGrid = global.GeoGrid || {};
  global.GeoGrid.points = { addPanel: addPanel };
})(window);
