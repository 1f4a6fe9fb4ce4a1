/* The dashboard's micro-wish layer (layers.wishes): wishes per grid — open (on the wall),
 * claimed (claimed, delivered or disputed) and fulfilled (confirmed) — from
 * /api/v1/wishes/figures/layer/?grid=<code>&by=<level>, as polygons shaded by the open wishes
 * (a popup gives the three figures) and a small summary in `element`. Figures only: the
 * endpoint answers counts, never a wish or a person, to posts with wishes.counts or
 * wishes.grid (dispatchers, managers, grid and community staff); a grid outside them is a 404
 * and is left out.
 *
 *   var layer = GeoGrid.wishes.addLayer(map, element, { grids: ["350427001001"], by: 5 });
 *   layer.refresh()   reload now (returns a promise)     layer.remove()   take it off the map
 *
 * options.grids defaults to element.dataset.grids (comma-separated codes); options.by to
 * element.dataset.by, else each grid's children (the API's default). `element` gets
 * data-state (loading, ready, missing, error), data-loaded (incremented on every answer),
 * data-features and, for the totals, <dd data-figure="open|claimed|fulfilled">. Polygons carry
 * data-wish-grid. No script of its own is inline: CSP-clean like the other screens. Load it
 * after leaflet.js, geogrid-map.js and api.js. */
(function (global) {
  "use strict";
  var GeoGrid = global.GeoGrid = global.GeoGrid || {};
  var zh = (document.documentElement.lang || "").indexOf("zh") === 0;
  var T = zh ? {
    title: "微心愿", open: "待认领", claimed: "已认领", fulfilled: "已实现", none: "暂无数据",
    failed: "微心愿数据无法加载"
  } : {
    title: "Micro-wishes", open: "open", claimed: "claimed", fulfilled: "fulfilled",
    none: "No figures", failed: "The wish figures could not be loaded"
  };
  var FIGURES = ["open", "claimed", "fulfilled"];

  function shade(t) {  // 0 … 1 → light to dark green
    var light = [232, 245, 233], dark = [27, 94, 32];
    var c = light.map(function (l, i) { return Math.round(l + (dark[i] - l) * t); });
    return "rgb(" + c.join(",") + ")";
  }

  function popup(p) {
    var box = document.createElement("div");
    var head = document.createElement("strong");
    head.textContent = p.name + " (" + p.grid + ")";
    box.appendChild(head);
    FIGURES.forEach(function (f) {
      var row = document.createElement("div");
      row.textContent = T[f] + ": " + p[f];
      box.appendChild(row);
    });
    return box;
  }

  function summary(element, totals) {
    var dl = element.querySelector("dl.wish-totals");
    if (!dl) {
      dl = document.createElement("dl");
      dl.className = "wish-totals";
      element.appendChild(dl);
    }
    dl.textContent = "";
    FIGURES.forEach(function (f) {
      var dt = document.createElement("dt"), dd = document.createElement("dd");
      dt.textContent = T[f];
      dd.dataset.figure = f;
      dd.textContent = String(totals[f] || 0);
      dl.append(dt, dd);
    });
  }

  function addLayer(map, element, options) {
    options = options || {};
    var grids = options.grids || (element.dataset.grids || "").split(",").filter(Boolean);
    var by = options.by || element.dataset.by || "";
    var layer = L.geoJSON(null, {
      style: function () { return { weight: 1, color: "#2e7d32", fillOpacity: 0.5 }; }
    });

    function get(code) {
      var url = "/api/v1/wishes/figures/layer/?grid=" + encodeURIComponent(code) +
        (by ? "&by=" + encodeURIComponent(by) : "");
      return GeoGrid.api.get(url).then(function (fc) { return fc; }, function (err) {
        if (!(err instanceof GeoGrid.ApiError)) throw err;
        return { failed: true, missing: err.status === 404 };
      });
    }

    function refresh() {
      element.dataset.state = "loading";
      return Promise.all(grids.map(get)).then(function (answers) {
        var features = [];
        answers.forEach(function (a) { if (!a.failed) features = features.concat(a.features); });
        var max = Math.max.apply(null, features.map(function (f) {
          return f.properties.open;
        }).concat([1]));
        layer.clearLayers();
        layer.options.style = function (f) {
          return { weight: 1, color: "#2e7d32", fillColor: shade(f.properties.open / max),
                   fillOpacity: 0.55 };
        };
        layer.options.onEachFeature = function (f, l) { l.bindPopup(popup(f.properties)); };
        features.forEach(function (f) { if (f.geometry) layer.addData(f); });
        if (!map.hasLayer(layer)) layer.addTo(map);
        layer.eachLayer(function (l) {
          var el = l.getElement && l.getElement();
          if (el) el.setAttribute("data-wish-grid", l.feature.properties.grid);
        });
        var totals = {};
        features.forEach(function (f) {
          FIGURES.forEach(function (k) { totals[k] = (totals[k] || 0) + f.properties[k]; });
        });
        summary(element, totals);
        var failed = answers.filter(function (a) { return a.failed; });
        element.dataset.state = !answers.length ? "missing"
          : failed.length === answers.length
            ? (failed.every(function (a) { return a.missing; }) ? "missing" : "error")
            : "ready";
        element.dataset.features = String(features.length);
        element.dataset.loaded = String(Number(element.dataset.loaded || 0) + 1);
        element.title = features.length ? T.title : T.none;
      }, function () {
        element.dataset.state = "error";
        element.dataset.loaded = String(Number(element.dataset.loaded || 0) + 1);
        element.title = T.failed;
      });
    }

    refresh();
    return {
      layer: layer,
      refresh: refresh,
      remove: function () { if (map.hasLayer(layer)) map.removeLayer(layer); }
    };
  }

  GeoGrid.wishes = { addLayer: addLayer };
})(window);
