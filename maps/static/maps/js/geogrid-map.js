/* GeoGrid map helpers: base maps (incl. GCJ-02 tiles) and the GCJ-02 shift.
 *
 * Our geometries are WGS 84. Gaode/AMap tiles are drawn in GCJ-02, so on a GCJ-02 base map the
 * map's CRS projects every WGS 84 coordinate through WGS84→GCJ-02 before Web Mercator, and
 * unprojects clicks back through the iterated inverse: overlays line up with the streets, and
 * a click still yields WGS 84. The formulas are the published GCJ-02 ones (the same as
 * geogrid/coords.py; a browser test checks both agree).
 */
(function (global) {
  "use strict";

  var A = 6378245.0;                    // Krasovsky 1940, the constants of GCJ-02
  var EE = 0.00669342162296594323;

  function outOfChina(lon, lat) {
    // Display only: a coarse box (the server uses a finer outline for stored data).
    return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271;
  }

  function delta(lon, lat) {
    var x = lon - 105.0, y = lat - 35.0, PI = Math.PI;
    var common = (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    var dLat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    dLat += common;
    dLat += (20.0 * Math.sin(y * PI) + 40.0 * Math.sin(y / 3.0 * PI)) * 2.0 / 3.0;
    dLat += (160.0 * Math.sin(y / 12.0 * PI) + 320 * Math.sin(y * PI / 30.0)) * 2.0 / 3.0;
    var dLon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    dLon += common;
    dLon += (20.0 * Math.sin(x * PI) + 40.0 * Math.sin(x / 3.0 * PI)) * 2.0 / 3.0;
    dLon += (150.0 * Math.sin(x / 12.0 * PI) + 300.0 * Math.sin(x / 30.0 * PI)) * 2.0 / 3.0;
    var radLat = lat / 180.0 * PI;
    var magic = 1 - EE * Math.sin(radLat) * Math.sin(radLat);
    var sqrtMagic = Math.sqrt(magic);
    dLat = (dLat * 180.0) / ((A * (1 - EE)) / (magic * sqrtMagic) * PI);
    dLon = (dLon * 180.0) / (A / sqrtMagic * Math.cos(radLat) * PI);
    return [dLon, dLat];
  }

  function wgs84ToGcj02(lon, lat) {
    if (outOfChina(lon, lat)) return [lon, lat];
    var d = delta(lon, lat);
    return [lon + d[0], lat + d[1]];
  }

  function gcj02ToWgs84(lon, lat) {
    if (outOfChina(lon, lat)) return [lon, lat];
    // Fixed-point iteration on the forward transform: converges to ~1e-9° in a few steps.
    var x = lon, y = lat;
    for (var i = 0; i < 30; i++) {
      var d = delta(x, y);
      var ex = x + d[0] - lon, ey = y + d[1] - lat;
      x -= ex; y -= ey;
      if (Math.abs(ex) < 1e-9 && Math.abs(ey) < 1e-9) break;
    }
    return [x, y];
  }

  var SM = L.Projection.SphericalMercator;
  var GcjMercator = {
    R: SM.R,
    MAX_LATITUDE: SM.MAX_LATITUDE,
    bounds: SM.bounds,
    project: function (latlng) {
      var g = wgs84ToGcj02(latlng.lng, latlng.lat);
      return SM.project(L.latLng(g[1], g[0]));
    },
    unproject: function (point) {
      var ll = SM.unproject(point);
      var w = gcj02ToWgs84(ll.lng, ll.lat);
      return L.latLng(w[1], w[0]);
    }
  };
  var CRS_GCJ02 = L.extend({}, L.CRS.EPSG3857, { code: "GCJ02", projection: GcjMercator });

  function crsFor(basemap) {
    return basemap && basemap.crs === "gcj02" ? CRS_GCJ02 : L.CRS.EPSG3857;
  }

  function tileLayers(basemap) {
    return (basemap.layers || []).map(function (spec) {
      return L.tileLayer(spec.url, {
        subdomains: spec.subdomains || "abc",
        attribution: spec.attribution || "",
        maxZoom: spec.maxZoom || 18
      });
    });
  }

  /* createMap(element, config) -> L.Map with a base-map switcher.
   * config: {basemaps: [...], center: [lat, lon], zoom}; the choice is remembered per browser. */
  function createMap(element, config, options) {
    var stored = null;
    try { stored = global.localStorage.getItem("geogrid.basemap"); } catch (e) { /* private mode */ }
    var chosen = config.basemaps.filter(function (b) { return b.id === stored; })[0] || config.basemaps[0];
    // maxZoom on the map itself: with no base map no tile layer sets one (markercluster needs it).
    var map = L.map(element, L.extend({ crs: crsFor(chosen), maxZoom: 19 }, options || {}))
      .setView(config.center, config.zoom);
    var current = tileLayers(chosen);
    current.forEach(function (layer) { layer.addTo(map); });
    map.geogridBasemap = chosen.id;

    var Switcher = L.Control.extend({
      options: { position: "topright" },
      onAdd: function () {
        var box = L.DomUtil.create("div", "leaflet-bar geogrid-basemap");
        var select = L.DomUtil.create("select", "", box);
        select.setAttribute("aria-label", "basemap");
        config.basemaps.forEach(function (b) {
          var opt = L.DomUtil.create("option", "", select);
          opt.value = b.id; opt.textContent = b.name;
          if (b.id === chosen.id) opt.selected = true;
        });
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.on(select, "change", function () {
          var next = config.basemaps.filter(function (b) { return b.id === select.value; })[0];
          setBasemap(map, next);
          current.forEach(function (layer) { map.removeLayer(layer); });
          current = tileLayers(next);
          current.forEach(function (layer) { layer.addTo(map); layer.bringToBack(); });
          try { global.localStorage.setItem("geogrid.basemap", next.id); } catch (e) { /* ignore */ }
        });
        return box;
      }
    });
    map.addControl(new Switcher());
    return map;
  }

  function setBasemap(map, basemap) {
    // Leaflet has no public API to change CRS; resetting the view re-projects every layer.
    var center = map.getCenter(), zoom = map.getZoom();
    map.options.crs = crsFor(basemap);
    map.geogridBasemap = basemap.id;
    map._resetView(center, zoom, true);
    map.fire("geogrid:basemap", { basemap: basemap });
  }

  function readJson(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  // The API client (api.js) adds GeoGrid.api to the same namespace.
  global.GeoGrid = L.extend(global.GeoGrid || {}, {
    wgs84ToGcj02: wgs84ToGcj02,
    gcj02ToWgs84: gcj02ToWgs84,
    CRS_GCJ02: CRS_GCJ02,
    createMap: createMap,
    setBasemap: setBasemap,
    readJson: readJson
  });
})(window);
