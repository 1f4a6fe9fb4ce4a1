/* Dispatcher dashboard: heat map, clustered markers (or vector tiles when there are too many
 * points), per-grid choropleth, overdue and nearly-due lists, key figures, and the detail of
 * one appeal with exactly the actions this user may take. Refreshes every 15 s in place.
 *
 * The household layer (layers.people) is counts per grid only — labels and a choropleth metric
 * from /api/v1/people/counts/, never a point per household — and the 四清 figures of the chosen
 * grid (else the user's own) from /api/v1/people/ledger/, in #households and #ledger: each
 * figure's <dd id="ledger-occupancy|profile|changes|issues"> carries data-clear, data-of and
 * data-share; #ledger carries data-grid, data-as-of, data-state (loading, ready, forbidden,
 * none, error) and data-loaded (incremented on every answer). The register changes slowly and
 * its sums are the heaviest reads here, so its answers are reused for D.people.refreshMs (60 s)
 * and the side panel reuses the labels' totals; GeoGrid.dashboard.refreshPeople() reloads them
 * now and returns a promise.
 *
 * The care layer (layers.care) is figures per grid from /api/v1/care/stats/layer/ (an overlay
 * coloured by visit rate or overdue visits, shown when #care-layer is ticked; a cell the API
 * suppresses stays grey) and the visits overdue in the user's scope from
 * /api/v1/care/dues/?state=overdue in #care-overdue (li[data-due][data-grid]): shown exactly as
 * the API answers — the grid and the due only for posts that may not see the subjects. #care
 * carries data-state (ready, error), data-loaded and data-layer (off, ready, missing, error);
 * GeoGrid.dashboard.refreshCare() reloads both now.
 *
 * Whistles (吹哨报到, layers.whistles) are drawn by dashboard-whistles.js: the layer (ticked by
 * #whistles-layer), the whistle panel and figures in #whistles, and the blowing form in the
 * appeal's panel (#a-whistle); refreshed every D.whistles.refreshMs (30 s), or now with
 * GeoGrid.dashboard.refreshWhistles(); GeoGrid.dashboard.openWhistle(id) opens one.
 *
 * First render: the map is fitted to D.bounds (the user's grids) before any read, and the first
 * refresh draws the map's layers (heat, appeals, choropleth) before it loads the side panels;
 * window.GeoGridTimings has firstHeat, firstRender (map drawn) and firstRefresh (everything),
 * in ms from this script's start (bench/bench_dashboard.py reads them). */
(function () {
  "use strict";
  var T = GeoGrid.readJson("strings");
  var D = GeoGrid.readJson("dashboard");
  var config = GeoGrid.readJson("map-config");
  var map = GeoGrid.createMap("map", config);
  var form = document.getElementById("filters");
  var $ = function (id) { return document.getElementById(id); };
  var timings = window.GeoGridTimings = { start: performance.now() };
  GeoGrid.maps = { dispatch: map };

  var heat = L.heatLayer([], { radius: 18, blur: 16, minOpacity: 0.25 }).addTo(map);
  var markers = L.markerClusterGroup({ chunkedLoading: true, showCoverageOnHover: false });
  var tiles = null;
  var choropleth = L.geoJSON(null, { style: function () { return { weight: 1, color: "#546e7a", fillOpacity: 0 }; } }).addTo(map);
  choropleth.bringToBack();
  var hhLabels = L.layerGroup().addTo(map);  // household counts per grid, as labels
  var legend = L.control({ position: "bottomright" });
  legend.onAdd = function () { this._div = L.DomUtil.create("div", "legend"); return this._div; };
  legend.addTo(map);
  var lastPointsKey = null, current = null, pendingAction = null, fitted = false;
  // Fit to the user's grids before the first reads (the server sends their bounds), so that
  // heat and counts are read once for the view the dispatcher sees, not again after a fit.
  if (D.bounds) { map.fitBounds(D.bounds, { padding: [20, 20], animate: false }); fitted = true; }
  var api = GeoGrid.api;
  // The appeal actions from the registry: label and the fields each one asks for.
  var ACTIONS = {};
  (D.actions || []).forEach(function (a) { ACTIONS[a.name] = a; });
  var REPORTER_ACTIONS = ["rate", "support"];  // the reporter's, not offered on this screen

  // ---- helpers ---------------------------------------------------------------------------------
  // Background reads: a failure is shown beside the refresh time and the next refresh retries.
  var readFailure = null;
  function read(url) {
    return api.get(url).catch(function (err) {
      if (!(err instanceof GeoGrid.ApiError)) throw err;
      readFailure = err;
      return null;
    });
  }
  function values() { return Object.fromEntries(new FormData(form).entries()); }
  function bboxParam() { return map.getBounds().toBBoxString(); }
  // Analytics endpoints (heat, tiles, per-grid rates) take status=open|closed and days=N.
  function analyticsQuery(extra) {
    var v = values(), q = new URLSearchParams();
    ["category", "status", "channel", "days", "grid"].forEach(function (k) { if (v[k]) q.set(k, v[k]); });
    Object.keys(extra || {}).forEach(function (k) { q.set(k, extra[k]); });
    return q.toString();
  }
  // The appeal list takes explicit statuses and a since date.
  function listQuery(extra) {
    var v = values(), q = new URLSearchParams();
    if (v.category) q.set("category", v.category);
    if (v.channel) q.set("channel", v.channel);
    if (v.grid) q.set("grid", v.grid);
    if (v.status === "open") q.set("status", D.openStatuses.join(","));
    if (v.status === "closed") q.set("status", "closed");
    if (v.days) q.set("since", new Date(Date.now() - v.days * 864e5).toISOString().slice(0, 10));
    Object.keys(extra || {}).forEach(function (k) { q.set(k, extra[k]); });
    return q.toString();
  }
  function pct(x) { return x === null || x === undefined ? "—" : (100 * x).toFixed(1) + "%"; }
  // The people layer's reads, reused for D.people.refreshMs (a refusal too: it will not change).
  var peopleCache = {};
  function peopleGet(url) {
    var hit = peopleCache[url], now = Date.now();
    if (hit && now - hit.at < ((D.people || {}).refreshMs || 60000)) return hit.answer;
    var answer = api.get(url);
    peopleCache[url] = { at: now, answer: answer };
    answer.catch(function (err) {  // retry next time unless the server said no for good
      if (!(err instanceof GeoGrid.ApiError) || err.status === 0 || err.status >= 500) delete peopleCache[url];
    });
    return answer;
  }
  // A read whose failure is shown where its answer goes (not beside the refresh time).
  function quiet(answer) {
    return answer.catch(function (err) {
      if (!(err instanceof GeoGrid.ApiError)) throw err;
      return null;
    });
  }
  function choroplethLevel() {
    var v = values();
    return v.grid ? Math.min(5, D.levelOfCode[v.grid.length] + 1) : D.defaultLevel;
  }
  function countsUrl(code, level) {
    return "/api/v1/people/counts/?grid=" + encodeURIComponent(code) + "&level=" + level;
  }
  function when(iso) { return iso ? new Date(iso).toLocaleString() : "—"; }

  // ---- layers --------------------------------------------------------------------------------
  function refreshHeat() {
    return read("/api/v1/heat?" + analyticsQuery({ bbox: bboxParam(), zoom: map.getZoom() })).then(function (body) {
      if (!body) return;
      heat.setOptions({ max: Math.max(1, body.max || 1) });
      heat.setLatLngs(body.bins || []);
      if (!timings.firstHeat) {
        // The heat layer draws on the next animation frame; measure when it has.
        requestAnimationFrame(function () { timings.firstHeat = performance.now() - timings.start; });
      }
    });
  }
  function useTiles() {
    if (map.hasLayer(markers)) map.removeLayer(markers);
    var url = "/tiles/appeals/{z}/{x}/{y}.pbf?" + analyticsQuery();
    if (tiles && tiles._url === url) return Promise.resolve();
    if (tiles) map.removeLayer(tiles);
    tiles = L.vectorGrid.protobuf(url, {
      rendererFactory: L.canvas.tile, interactive: true, maxNativeZoom: 18,
      vectorTileLayerStyles: {
        bins: function (p) { var c = Math.min(1, Math.log10(1 + p.count) / 3); return { fill: true, fillColor: "#ff6f00", fillOpacity: 0.15 + 0.6 * c, weight: 0 }; },
        appeals: function () { return { radius: 4, fill: true, fillColor: "#1f6fd1", fillOpacity: 0.9, color: "#fff", weight: 1 }; }
      }
    }).on("click", function (e) { if (e.layer.properties && e.layer.properties.tracking) openAppeal(e.layer.properties.tracking); })
      .addTo(map);
    var layer = tiles;  // resolves when the visible tiles have drawn (or failed)
    return new Promise(function (resolve) { layer.once("load tileerror", resolve); setTimeout(resolve, 5000); });
  }
  function usePoints(key) {
    if (tiles) { map.removeLayer(tiles); tiles = null; }
    if (!map.hasLayer(markers)) map.addLayer(markers);
    if (key === lastPointsKey) return Promise.resolve();
    lastPointsKey = key;
    return read("/api/v1/appeals/?" + listQuery({ page_size: 1000 })).then(function (body) {
      if (!body) { lastPointsKey = null; return; }
      markers.clearLayers();
      (body.features || []).forEach(function (f) {
        if (!f.geometry) return;
        var c = f.geometry.coordinates;
        var m = L.circleMarker([c[1], c[0]], { radius: 6, color: "#fff", weight: 1, fillOpacity: 0.9,
          fillColor: f.properties.overdue ? "#d32f2f" : "#1f6fd1" });
        var cat = f.properties.category || {};
        m.bindTooltip(f.properties.tracking + " " + (document.documentElement.lang === "en" ? cat.name_en : cat.name_zh));
        m.on("click", function () { openAppeal(f.properties.tracking); });
        markers.addLayer(m);
      });
    });
  }
  function refreshPoints() {
    return read("/api/v1/heat/count?" + analyticsQuery({ bbox: bboxParam(), zoom: map.getZoom() })).then(function (body) {
      if (!body) return;
      return body.use_tiles ? useTiles() : usePoints(analyticsQuery() + "|" + body.count);
    });
  }

  var gridShapes = {};
  function colour(t) {
    var stops = ["#fff5eb", "#fdd0a2", "#fd8d3c", "#d94801", "#7f2704"];
    return stops[Math.max(0, Math.min(stops.length - 1, Math.floor(t * stops.length)))];
  }
  function refreshChoropleth() {
    var v = values(), level = choroplethLevel();
    var key = level + ":" + (v.grid || "");
    var shapes = gridShapes[key] ? Promise.resolve(gridShapes[key]) :
      read("/api/v1/grids/?page_size=1000&level=" + level + (v.grid ? "&code_prefix=" + v.grid : "")).then(function (fc) {
        if (fc) gridShapes[key] = fc;
        return fc;
      });
    var stats = read("/api/v1/heat/grids?" + analyticsQuery({ level: level, parent: v.grid || "" }));
    return Promise.all([shapes, stats, householdRows(level, v.grid)]).then(function (both) {
      var fc = both[0], body = both[1] || {}, rows = body.grids || body.results || body;
      var hh = both[2], byCode = {};
      (Array.isArray(rows) ? rows : []).forEach(function (r) { byCode[r.code] = r; });
      Object.keys(hh).forEach(function (code) {
        var r = byCode[code] = byCode[code] || { code: code };
        r.hh_households = hh[code].households;
        r.hh_residents = hh[code].residents;
        r.hh_focus = hh[code].focus_households;
      });
      var metric = v.metric, vals = Object.values(byCode).map(function (r) { return r[metric]; })
        .filter(function (x) { return x !== null && x !== undefined; });
      var max = Math.max.apply(null, vals.concat([0])) || 1;
      choropleth.clearLayers();
      choropleth.options.style = function (f) {
        var r = byCode[f.id], x = r ? r[metric] : null;
        return { weight: 1, color: "#546e7a", fillOpacity: x === null || x === undefined ? 0 : 0.45, fillColor: colour((x || 0) / max) };
      };
      choropleth.options.onEachFeature = function (f, layer) {
        var r = byCode[f.id] || {};
        layer.bindTooltip(f.properties.name + ": " + (r.appeals || 0) + " " + T.appeals +
          (r.per_100_households !== undefined && r.per_100_households !== null ? " · " + r.per_100_households.toFixed(1) + " " + T.per100 : "") +
          (r.on_time_rate !== undefined && r.on_time_rate !== null ? " · " + T.onTime + " " + pct(r.on_time_rate) : "") +
          (r.hh_households !== undefined ? " · " + r.hh_households.toLocaleString() + " " + T.households +
            " · " + r.hh_residents.toLocaleString() + " " + T.residents : ""));
      };
      if (fc && fc.features) choropleth.addData(fc);
      choropleth.bringToBack();
      drawHouseholdLabels(byCode);
      if (!fitted && choropleth.getLayers().length) {
        // First load: show the whole scope (or the chosen grid) rather than the default view.
        fitted = true;
        map.fitBounds(choropleth.getBounds(), { padding: [20, 20], animate: false });
      }
      // Built as elements: the Content-Security-Policy refuses style attributes in markup.
      var box = legend._div, title = document.createElement("strong");
      box.textContent = "";
      title.textContent = form.metric.selectedOptions[0].textContent;
      box.appendChild(title);
      [0, 0.25, 0.5, 0.75, 1].forEach(function (t) {
        var whole = metric === "appeals" || metric.indexOf("hh_") === 0;
        var x = metric === "on_time_rate" ? pct(t * max) : (t * max).toFixed(whole ? 0 : 1);
        var swatch = document.createElement("i");
        swatch.style.background = colour(t * 0.999);
        box.appendChild(document.createElement("br"));
        box.appendChild(swatch);
        box.appendChild(document.createTextNode(x));
      });
    });
  }

  // ---- the household layer (counts only) and the 四清 figures --------------------------------------
  // Counts for the choropleth's grids: the chosen grid's subtree, or each root of the user's.
  function householdRows(level, grid) {
    var roots = grid ? [grid] : ((D.people || {}).counts || []).filter(function (c) {
      return D.levelOfCode[c.length] <= level;
    });
    return Promise.all(roots.map(function (code) {
      return quiet(peopleGet(countsUrl(code, level)));
    })).then(function (bodies) {
      var rows = {};
      bodies.forEach(function (b) { ((b && b.rows) || []).forEach(function (r) { rows[r.code] = r; }); });
      return rows;
    });
  }
  function drawHouseholdLabels(byCode) {
    hhLabels.clearLayers();
    if (!form.hh_labels || !form.hh_labels.checked) return;
    choropleth.eachLayer(function (layer) {
      var r = layer.feature && byCode[layer.feature.id];
      if (!r || r.hh_households === undefined) return;
      var text = document.createElement("span");
      text.textContent = r.hh_households.toLocaleString() + " " + T.households +
        (r.hh_focus ? " · " + r.hh_focus + " " + T.focus : "");
      text.dataset.code = layer.feature.id;
      hhLabels.addLayer(L.marker(layer.getBounds().getCenter(), {
        icon: L.divIcon({ className: "hh-label", html: text, iconSize: null }),
        interactive: false, keyboard: false
      }));
    });
  }
  // The side panel's grid: the one chosen in the filters, else the user's first root.
  function panelGrid(roots) { return values().grid || (roots || [])[0] || ""; }
  function refreshHouseholdPanel() {
    var box = $("household-counts"), grid = panelGrid((D.people || {}).counts);
    var ids = { households: "hh-households", residents: "hh-residents", focus_households: "hh-focus" };
    function show(totals, state, name) {
      Object.keys(ids).forEach(function (k) {
        $(ids[k]).textContent = totals ? totals[k].toLocaleString() : "—";
        $(ids[k]).dataset.value = totals ? totals[k] : "";
      });
      $("hh-grid").textContent = name || "";
      box.dataset.grid = grid;
      box.dataset.state = state;
    }
    if (!grid) { show(null, "none"); return Promise.resolve(); }
    // The same request as the map's labels when they cover this grid: one sum, not two.
    var level = Math.max(choroplethLevel(), D.levelOfCode[grid.length]);
    return peopleGet(countsUrl(grid, level)).then(function (body) {
      show(body.totals, "ready", body.grid.name);
    }, function (err) {
      if (!(err instanceof GeoGrid.ApiError)) throw err;
      show(null, err.status === 403 ? "forbidden" : "error", err.status === 403 ? T.countsForbidden : err.detail);
    });
  }
  var FIGURES = ["occupancy", "profile", "changes", "issues"];
  function showFigure(name, f) {
    var dd = $("ledger-" + name);
    dd.textContent = f ? pct(f.share) : "—";
    dd.dataset.clear = f ? f.clear : "";
    dd.dataset.of = f ? f.of : "";
    dd.dataset.share = f && f.share !== null ? f.share : "";
    dd.classList.toggle("tick", !!(f && f.tick));
    if (f && f.of) {  // no denominator: no share, and no "0/0" either
      var of = document.createElement("span");
      of.className = "of";
      of.textContent = f.clear + "/" + f.of;
      dd.appendChild(of);
    }
  }
  function showLedgerRows(rows) {
    var table = $("ledger-rows"), body = table.tBodies[0];
    body.textContent = "";
    (rows || []).slice(0, 60).forEach(function (r) {
      var tr = document.createElement("tr");
      tr.dataset.code = r.code;
      [r.name].concat(FIGURES.map(function (n) { return pct(r.figures[n].share); })).forEach(function (text) {
        var td = document.createElement("td");
        td.textContent = text;
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    table.hidden = !(rows && rows.length);
  }
  function refreshLedger() {
    var box = $("ledger"), grid = panelGrid((D.people || {}).ledger);
    function done(state, note, grid_name) {
      box.dataset.grid = grid;
      box.dataset.state = state;
      box.dataset.loaded = String(Number(box.dataset.loaded || 0) + 1);
      $("ledger-note").textContent = note || "";
      $("ledger-grid").textContent = grid_name || "";
    }
    if (!grid) {
      FIGURES.forEach(function (n) { showFigure(n, null); });
      showLedgerRows([]);
      done("none", T.ledgerNone);
      return Promise.resolve();
    }
    return peopleGet("/api/v1/people/ledger/?grid=" + encodeURIComponent(grid)).then(function (body) {
      FIGURES.forEach(function (n) { showFigure(n, body.figures[n]); });
      showLedgerRows(body.rows);
      var c = body.figures.changes, note = body.figures.units ? "" : T.ledgerEmpty;
      if (c.pending || c.overdue) {
        note = T.changesLabel + ": " + c.pending + " " + T.pending + " · " + c.overdue + " " + T.overdue_changes;
      }
      box.dataset.asOf = body.as_of;
      done("ready", note, body.grid.name);
    }, function (err) {
      if (!(err instanceof GeoGrid.ApiError)) throw err;
      FIGURES.forEach(function (n) { showFigure(n, null); });
      showLedgerRows([]);
      done(err.status === 403 ? "forbidden" : "error", err.status === 403 ? T.ledgerForbidden : err.detail || T.offline);
    });
  }
  function refreshPeoplePanels() { return Promise.all([refreshHouseholdPanel(), refreshLedger()]); }
  // Now, not from the reused answers (e.g. after a change on the phone page).
  function refreshPeople() {
    peopleCache = {};
    return Promise.all([refreshPeoplePanels(), refreshChoropleth()]);
  }

  // ---- the care layer and the overdue visits ------------------------------------------------------
  var careCache = {};
  function careGet(url) {  // the figures change slowly: reused for D.care.refreshMs (60 s)
    var hit = careCache[url], now = Date.now();
    if (hit && now - hit.at < ((D.care || {}).refreshMs || 60000)) return hit.answer;
    var answer = api.get(url);
    careCache[url] = { at: now, answer: answer };
    answer.catch(function (err) {
      if (!(err instanceof GeoGrid.ApiError) || err.status === 0 || err.status >= 500) delete careCache[url];
    });
    return answer;
  }
  var careLayer = L.geoJSON(null), careDrawn = null;
  function careRoots() {
    var v = values();
    return v.grid ? [v.grid] : ((D.care || {}).roots || []);
  }
  function careCell(x, suppressed) {
    return x === null || x === undefined ? (suppressed ? "<" + suppressed : "—") : String(x);
  }
  function carePopup(p, suppressed) {
    var box = document.createElement("div"), s = p.subjects || {}, visits = p.visits || {};
    var lines = [
      [p.name + " (" + p.grid + ") · " + p.month],
      [T.careSubjects, careCell(s.total, suppressed) + " (" + ["red", "yellow", "blue"].map(function (c) {
        return T[c] + " " + careCell(s[c], suppressed); }).join(" · ") + ")"],
      [T.careVisitRate, p.visit_rate === null || p.visit_rate === undefined ? careCell(null, suppressed) : pct(p.visit_rate)],
      [T.careVisits, careCell(visits.total, suppressed)],
      [T.careOverdue, careCell(p.overdue, suppressed)],
      [T.careMeanDays, careCell(p.mean_days_overdue, suppressed)]
    ];
    lines.forEach(function (l, i) {
      var row = document.createElement(i ? "div" : "strong");
      row.textContent = l.length > 1 ? l[0] + ": " + l[1] : l[0];
      box.appendChild(row);
    });
    if (suppressed) {
      var note = document.createElement("small");
      note.className = "muted";
      note.textContent = T.careSuppressed.replace("%s", suppressed);
      box.appendChild(note);
    }
    return box;
  }
  function refreshCareLayer() {
    var section = $("care"), v = values();
    if (!v.care_layer) {
      if (map.hasLayer(careLayer)) map.removeLayer(careLayer);
      section.dataset.layer = "off";
      return Promise.resolve();
    }
    var metric = v.care_metric || "visit_rate";
    return Promise.all(careRoots().map(function (code) {
      var by = Math.min(5, Math.max(3, choroplethLevel(), D.levelOfCode[code.length] || 3));
      // The figures' endpoint may be missing (404) or refuse a grid: that grid is left out.
      return careGet("/api/v1/care/stats/layer/?grid=" + encodeURIComponent(code) + "&by=" + by)
        .then(function (fc) { return fc; }, function (err) {
          if (!(err instanceof GeoGrid.ApiError)) throw err;
          return { missing: err.status === 404, failed: true };
        });
    })).then(function (answers) {
      // The same answers (reused for a minute) and colours: keep the drawing and any open popup.
      var same = careDrawn && careDrawn.metric === metric && careDrawn.answers.length === answers.length &&
        answers.every(function (a, i) { return a === careDrawn.answers[i]; });
      if (same && map.hasLayer(careLayer)) return;
      careDrawn = { metric: metric, answers: answers };
      var features = [], suppressed = null, missing = answers.length > 0;
      answers.forEach(function (a) {
        if (!a.failed) { missing = false; features = features.concat(a.features || []); }
        else if (!a.missing) missing = false;
        if (a.suppressed_below) suppressed = a.suppressed_below;
      });
      var vals = features.map(function (f) { return f.properties[metric]; })
        .filter(function (x) { return x !== null && x !== undefined; });
      var max = Math.max.apply(null, vals.concat([0])) || 1;
      careLayer.clearLayers();
      careLayer.options.style = function (f) {
        var x = f.properties[metric];
        if (x === null || x === undefined) return { weight: 2, color: "#6a1b9a", fillColor: "#b0bec5", fillOpacity: 0.3, dashArray: "4" };
        // A low visit rate and many overdue visits are what needs attention: darker.
        var t = metric === "visit_rate" ? 1 - x : x / max;
        return { weight: 2, color: "#6a1b9a", fillColor: colour(t * 0.999), fillOpacity: 0.55 };
      };
      careLayer.options.onEachFeature = function (f, layer) { layer.bindPopup(carePopup(f.properties, suppressed)); };
      features.forEach(function (f) { if (f.geometry) careLayer.addData(f); });
      if (!map.hasLayer(careLayer)) careLayer.addTo(map);
      careLayer.eachLayer(function (layer) {
        var el = layer.getElement && layer.getElement();
        if (el) el.setAttribute("data-care-grid", layer.feature.properties.grid);
      });
      section.dataset.layer = missing ? "missing" : answers.some(function (a) { return a.failed; }) ? "error" : "ready";
      section.dataset.features = careLayer.getLayers().length;
    });
  }
  function refreshCareDues() {
    var section = $("care"), ul = $("care-overdue"), v = values();
    function done(state, note) {
      section.dataset.state = state;
      section.dataset.loaded = String(Number(section.dataset.loaded || 0) + 1);
      $("care-note").textContent = note || "";
    }
    if (!careRoots().length) { ul.textContent = ""; $("n-care-overdue").textContent = "0"; done("ready", T.careNone); return Promise.resolve(); }
    var url = "/api/v1/care/dues/?state=overdue&page_size=100" + (v.grid ? "&grid=" + encodeURIComponent(v.grid) : "");
    return careGet(url).then(function (rows) {
      ul.textContent = "";
      rows.forEach(function (r) {
        var li = document.createElement("li"), due = document.createElement("span");
        li.dataset.due = r.due.id;
        li.dataset.grid = r.grid || "";
        due.className = "when";
        due.textContent = T.careDaysOverdue.replace("%s", r.due.days_overdue);
        // Only what the answer holds: a name and an address only where this user may see them.
        var text = (r.grid_name || r.grid || "") + " · " + T.due + " " + when(r.due.due_at) +
          (r.name ? " · " + r.name : "") + (r.address ? " · " + r.address : "");
        li.append(due, document.createTextNode(text));
        ul.appendChild(li);
      });
      $("n-care-overdue").textContent = rows.length;
      done("ready", rows.length ? "" : T.careNone);
    }, function (err) {
      if (!(err instanceof GeoGrid.ApiError)) throw err;
      ul.textContent = "";
      done("error", err.detail || T.offline);
    });
  }
  function refreshCarePanels() { return Promise.all([refreshCareDues(), refreshCareLayer()]); }
  function refreshCare() { careCache = {}; careDrawn = null; return refreshCarePanels(); }

  // ---- lists and figures ------------------------------------------------------------------------
  function fillList(id, badge, features, count) {
    var english = document.documentElement.lang === "en";
    var ul = $(id);
    ul.innerHTML = "";
    features.forEach(function (f) {
      var li = document.createElement("li");
      li.dataset.tracking = f.properties.tracking;
      var due = document.createElement("span");
      due.className = "when";
      due.textContent = when(f.properties.due_at);
      var p = f.properties, cat = p.category ? (english ? p.category.name_en : p.category.name_zh) : "";
      li.append(due, document.createTextNode(p.tracking + " " + cat + (p.grid ? " · " + p.grid.name : "")));
      li.addEventListener("click", function () { openAppeal(f.properties.tracking); });
      ul.appendChild(li);
    });
    $(badge).textContent = count === undefined ? features.length : count;
  }
  function refreshLists() {
    return Promise.all([
      // Both lists are about open work, whatever the map shows.
      read("/api/v1/appeals/?" + listQuery({ overdue: 1, page_size: 50, status: D.openStatuses.join(",") }))
        .then(function (b) { if (b) fillList("overdue", "n-overdue", b.features || [], b.count); }),
      read("/api/v1/appeals/?" + listQuery({ due_within_hours: 4, page_size: 50, status: D.openStatuses.join(",") }))
        .then(function (b) { if (b) fillList("due-soon", "n-due", b.features || [], b.count); })
    ]);
  }
  function refreshKpis() {
    var v = values(), q = new URLSearchParams();
    if (v.grid) q.set("grid", v.grid);
    if (v.days) q.set("since", new Date(Date.now() - v.days * 864e5).toISOString().slice(0, 10));
    return read("/api/v1/stats/?" + q.toString()).then(function (body) {
      if (!body) return;
      var s = body.totals || {};
      $("k-received").textContent = (s.received || 0).toLocaleString();
      $("k-completion").textContent = pct(s.completion_rate);
      $("k-ontime").textContent = pct(s.on_time_rate);
      $("k-satisfaction").textContent = pct(s.satisfaction_rate);
    });
  }

  // ---- one appeal ---------------------------------------------------------------------------------
  function actionLabel(name) { return ACTIONS[name] ? ACTIONS[name].label : name; }
  function openAppeal(tracking) {
    if (!current || current.tracking !== tracking) pendingAction = null;
    return read("/api/v1/appeals/" + encodeURIComponent(tracking) + "/").then(function (appeal) {
      if (!appeal) return;
      current = appeal;
      renderAppeal(current);
    });
  }
  function renderAppeal(a) {
    var english = document.documentElement.lang === "en";
    $("detail").hidden = false;
    $("a-tracking").textContent = a.tracking;
    $("a-category").textContent = a.category ? (english ? a.category.name_en : a.category.name_zh) : "";
    $("a-status").textContent = a.status_label || a.status;
    var grid = a.assignment && a.assignment.grid;
    var who = a.assignee && (a.assignee.kind === "department" && a.assignee.department
      ? (english ? a.assignee.department.name_en : a.assignee.department.name_zh)
      : a.assignee.grid ? a.assignee.grid.code + " " + a.assignee.grid.name : "");
    $("a-grid").textContent = (grid ? grid.code + " " + grid.name : T.unlocated) + (who ? " → " + who : "");
    $("a-due").textContent = a.due_at ? T.due + " " + when(a.due_at) + (a.overdue ? " · " + T.overdue : "")
      + (a.deadline_provisional ? " · " + T.provisional : "") : "";
    $("a-description").textContent = a.description || "";
    $("a-photos").innerHTML = "";
    (a.photos || []).forEach(function (p) { var img = document.createElement("img"); img.src = p.thumbnail; img.alt = ""; $("a-photos").appendChild(img); });
    var box = $("a-actions");
    box.innerHTML = "";
    (a.actions || []).filter(function (n) { return ACTIONS[n] && REPORTER_ACTIONS.indexOf(n) < 0; }).forEach(function (name) {
      var b = document.createElement("button");
      b.type = "button";
      b.dataset.action = name;
      b.textContent = actionLabel(name);
      b.addEventListener("click", function () { startAction(name); });
      box.appendChild(b);
    });
    var tl = $("a-timeline");
    tl.innerHTML = "";
    (a.timeline || []).forEach(function (ev) {
      var li = document.createElement("li");
      var t = document.createElement("time");
      t.textContent = when(ev.at) + (ev.actor ? " · " + ev.actor : "");
      li.append(t, document.createTextNode((ev.label || ev.action || ev.kind || "") + (ev.note ? " — " + ev.note : "")));
      tl.appendChild(li);
    });
    // A refresh must not close a form the dispatcher is filling in for this appeal.
    var keepForm = pendingAction && (a.actions || []).indexOf(pendingAction) >= 0;
    if (!keepForm) { $("action-form").hidden = true; pendingAction = null; }
    if (a.location && !keepForm) map.panTo([a.location.lat, a.location.lon]);
    if (whistles) whistles.appeal(a);  // blow the whistle for it, or open its whistle
  }

  // The action form is built from the registry's description of the action's fields.
  function fieldInput(f) {
    var input;
    if (f.type === "choice") {
      input = document.createElement("select");
      if (!f.required) input.appendChild(new Option("", ""));
      (f.choices || []).forEach(function (c) { input.appendChild(new Option(c[1], c[0])); });
    } else if (f.type === "files") {
      input = document.createElement("input");
      input.type = "file";
      input.multiple = true;
      input.accept = "image/jpeg,image/png,image/webp";
    } else if (f.type === "number") {
      input = document.createElement("input");
      input.type = "number";
      input.step = "any";
    } else if (f.max_length && f.max_length > 200) {
      input = document.createElement("textarea");
      input.rows = 2;
    } else {
      input = document.createElement("input");
    }
    if (f.max_length && input.type !== "file") input.maxLength = f.max_length;
    input.name = f.name;
    input.id = "act-" + f.name;
    input.required = !!f.required;
    return input;
  }
  function buildForm(action) {
    var box = $("action-fields");
    box.innerHTML = "";
    action.fields.forEach(function (f) {
      var row = document.createElement("label");
      row.id = "row-" + f.name;
      row.dataset.type = f.type;
      row.append(document.createTextNode(f.label + " "), fieldInput(f));
      var errors = document.createElement("p");
      errors.className = "errors";
      errors.dataset.field = f.name;
      box.append(row, errors);
    });
  }
  function startAction(name) {
    pendingAction = name;
    buildForm(ACTIONS[name]);
    $("action-title").textContent = actionLabel(name);
    $("action-errors").textContent = "";
    $("action-form").hidden = false;
    var first = $("action-fields").querySelector("input, select, textarea");
    if (first) first.focus();
  }
  // The body of the request: JSON, or multipart when files are attached.
  function actionBody(action) {
    var form = $("action-form"), body = {}, files = [];
    if (action.version) body.version = current.version;
    action.fields.forEach(function (f) {
      var input = form.elements[f.name];
      if (f.type === "files") {
        Array.prototype.forEach.call(input.files, function (file) { files.push([f.name, file]); });
      } else if (input.value !== "") {
        body[f.name] = f.type === "number" ? Number(input.value) : input.value;
      }
    });
    if (!files.length) return body;
    var data = new FormData();
    Object.keys(body).forEach(function (k) { data.append(k, body[k]); });
    files.forEach(function (pair) { data.append(pair[0], pair[1]); });
    return data;
  }
  $("action-cancel").addEventListener("click", function () { $("action-form").hidden = true; pendingAction = null; });
  $("action-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var action = ACTIONS[pendingAction];
    if (!action || !current) return;
    var url = "/api/v1/appeals/" + encodeURIComponent(current.tracking) + "/actions/" + action.name + "/";
    api.post(url, actionBody(action)).then(function (appeal) {
      pendingAction = null;
      current = appeal; renderAppeal(current); refresh();
    }, function (err) {
      var labels = {};
      action.fields.forEach(function (f) { labels[f.name] = f.label; });
      api.showErrors($("action-form"), err, { general: $("action-errors"), labels: labels,
        fallback: err.status === 409 ? T.conflict : T.failed, offline: T.offline });
      // Someone else acted first: show the appeal as it is now (the form stays if it still applies).
      if (err.status === 409) openAppeal(current.tracking);
    });
  });
  $("a-close").addEventListener("click", function () { $("detail").hidden = true; current = null; });

  // ---- participation: micro-wishes, volunteer points, placards -------------------------------------
  // Each layer's own script draws it (dashboard-wishes.js, dashboard-points.js,
  // dashboard-placards.js); here they follow the form — the grid chosen, else the top grids where
  // the user may see them (D.participation) — and refresh every D.participation.refreshMs.
  var P = D.participation || {}, wishes = null, placards = null, points = null, participationAt = 0;
  function participationRoots(own) { var v = values(); return v.grid ? [v.grid] : (own || []); }
  function refreshParticipation() {
    var v = values(), jobs = [], due = Date.now() - participationAt >= (P.refreshMs || 60000);
    var wishGrids = participationRoots(P.wishes), wishKey = wishGrids.join(",");
    if (wishes && (!v.wishes_layer || wishes.key !== wishKey)) {
      wishes.remove(); wishes = null; $("wishes").dataset.state = "off";
    }
    if (v.wishes_layer && wishGrids.length && GeoGrid.wishes) {
      if (!wishes) { wishes = GeoGrid.wishes.addLayer(map, $("wishes"), { grids: wishGrids }); wishes.key = wishKey; }
      else if (due) jobs.push(wishes.refresh());
    }
    if (placards && (!v.placards_layer || placards.key !== (v.grid || ""))) {
      map.removeLayer(placards); placards = null;
    }
    if (v.placards_layer && P.placards && GeoGrid.placards) {
      if (!placards) {
        placards = GeoGrid.placards.addLayer(map, "/api/v1/placards/", { grid: v.grid || "", strings: P.placardStrings });
        placards.key = v.grid || "";
      } else if (due) jobs.push(placards.refresh());
    }
    if ((P.points || []).length && GeoGrid.points) {
      var pointRoots = participationRoots(P.points);
      if (!points) {
        points = GeoGrid.points.addPanel(map, $("points"), { roots: pointRoots, level: D.defaultLevel,
          levelOfCode: D.levelOfCode, strings: P.pointStrings });
        points.key = pointRoots.join(",");
      } else if (points.key !== pointRoots.join(",")) {
        points.key = pointRoots.join(","); points.setRoots(pointRoots);
      } else if (due) jobs.push(points.refresh());
    }
    if (due) participationAt = Date.now();
    return Promise.all(jobs);
  }

  // ---- whistles (吹哨报到): dashboard-whistles.js draws the layer, the panel and the figures ---------
  var WH = D.whistles, whistles = null, whistlesAt = 0;
  if (WH && GeoGrid.whistles) {
    whistles = GeoGrid.whistles.attach(map, { panel: $("whistles"), appealBox: $("a-whistle"),
      openAppeal: openAppeal, openStatuses: D.openStatuses }, WH);
  }
  function refreshWhistles() {
    if (!whistles) return Promise.resolve();
    var v = values(), view = { grid: v.grid || "", layer: !!v.whistles_layer };
    if (Date.now() - whistlesAt < (WH.refreshMs || 30000)) { whistles.setView(view); return Promise.resolve(); }
    whistlesAt = Date.now();
    return whistles.refresh(view);
  }

  // ---- refresh cycle -------------------------------------------------------------------------------
  function refreshMap() { return Promise.all([refreshHeat(), refreshPoints(), refreshChoropleth()]); }
  function refreshPanels() {
    return Promise.all([refreshLists(), refreshKpis(), refreshPeoplePanels(), refreshCarePanels(),
                        refreshParticipation(), refreshWhistles()]);
  }
  function refresh() {
    $("report-link").href = "/maps/report.html?" + analyticsQuery();
    readFailure = null;
    // The first time, the map's layers first and the side panels after them: on a small server
    // two dozen reads at once made the map wait for the panels' figures (city scale: the map
    // drew after ~3 s). timings.firstRender: the heat, the appeals and the grids have drawn.
    var first = !timings.firstRender;
    var work = first ? refreshMap().then(function () {
      return new Promise(function (resolve) {
        requestAnimationFrame(function () { timings.firstRender = performance.now() - timings.start; resolve(); });
      });
    }).then(refreshPanels) : Promise.all([refreshMap(), refreshPanels()]);
    return work
      .then(function () {
        timings.refreshes = (timings.refreshes || 0) + 1;
        var failed = readFailure;
        $("refreshed").textContent = failed ? failed.detail || T.offline
          : T.refreshed + " " + new Date().toLocaleTimeString();
        $("refreshed").classList.toggle("error", !!failed);
        if (current) return openAppeal(current.tracking);
      });
  }
  form.addEventListener("change", function (e) {
    lastPointsKey = null;
    if (e.target.name === "grid") fitted = false;
    refresh();
  });
  map.on("moveend", function () { refreshHeat(); refreshPoints(); });
  refresh().then(function () { timings.firstRefresh = performance.now() - timings.start; });
  setInterval(refresh, D.refreshMs);
  GeoGrid.dashboard = { refresh: refresh, openAppeal: openAppeal, refreshPeople: refreshPeople,
                        refreshCare: refreshCare,
                        openWhistle: function (id) { return whistles && whistles.open(id); },
                        refreshWhistles: function () { whistlesAt = 0; return refreshWhistles(); },
                        refreshParticipation: function () { participationAt = 0; return refreshParticipation(); } };
})();
