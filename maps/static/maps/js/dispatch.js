/* Dispatcher dashboard: heat map, clustered markers (or vector tiles when there are too many
 * points), per-grid choropleth, overdue and nearly-due lists, key figures, and the detail of
 * one appeal with exactly the actions this user may take. Refreshes every 15 s in place. */
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
  var legend = L.control({ position: "bottomright" });
  legend.onAdd = function () { this._div = L.DomUtil.create("div", "legend"); return this._div; };
  legend.addTo(map);
  var lastPointsKey = null, current = null, pendingAction = null, fitted = false;
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
    if (tiles && tiles._url === url) return;
    if (tiles) map.removeLayer(tiles);
    tiles = L.vectorGrid.protobuf(url, {
      rendererFactory: L.canvas.tile, interactive: true, maxNativeZoom: 18,
      vectorTileLayerStyles: {
        bins: function (p) { var c = Math.min(1, Math.log10(1 + p.count) / 3); return { fill: true, fillColor: "#ff6f00", fillOpacity: 0.15 + 0.6 * c, weight: 0 }; },
        appeals: function () { return { radius: 4, fill: true, fillColor: "#1f6fd1", fillOpacity: 0.9, color: "#fff", weight: 1 }; }
      }
    }).on("click", function (e) { if (e.layer.properties && e.layer.properties.tracking) openAppeal(e.layer.properties.tracking); })
      .addTo(map);
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
      if (body.use_tiles) useTiles(); else return usePoints(analyticsQuery() + "|" + body.count);
    });
  }

  var gridShapes = {};
  function colour(t) {
    var stops = ["#fff5eb", "#fdd0a2", "#fd8d3c", "#d94801", "#7f2704"];
    return stops[Math.max(0, Math.min(stops.length - 1, Math.floor(t * stops.length)))];
  }
  function refreshChoropleth() {
    var v = values(), level = v.grid ? Math.min(5, D.levelOfCode[v.grid.length] + 1) : D.defaultLevel;
    var key = level + ":" + (v.grid || "");
    var shapes = gridShapes[key] ? Promise.resolve(gridShapes[key]) :
      read("/api/v1/grids/?page_size=1000&level=" + level + (v.grid ? "&code_prefix=" + v.grid : "")).then(function (fc) {
        if (fc) gridShapes[key] = fc;
        return fc;
      });
    var stats = read("/api/v1/heat/grids?" + analyticsQuery({ level: level, parent: v.grid || "" }));
    return Promise.all([shapes, stats]).then(function (both) {
      var fc = both[0], body = both[1] || {}, rows = body.grids || body.results || body;
      var byCode = {};
      (Array.isArray(rows) ? rows : []).forEach(function (r) { byCode[r.code] = r; });
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
          (r.on_time_rate !== undefined && r.on_time_rate !== null ? " · " + T.onTime + " " + pct(r.on_time_rate) : ""));
      };
      if (fc && fc.features) choropleth.addData(fc);
      choropleth.bringToBack();
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
        var x = metric === "on_time_rate" ? pct(t * max) : (t * max).toFixed(metric === "appeals" ? 0 : 1);
        var swatch = document.createElement("i");
        swatch.style.background = colour(t * 0.999);
        box.appendChild(document.createElement("br"));
        box.appendChild(swatch);
        box.appendChild(document.createTextNode(x));
      });
    });
  }

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

  // ---- refresh cycle -------------------------------------------------------------------------------
  function refresh() {
    $("report-link").href = "/maps/report.html?" + analyticsQuery();
    readFailure = null;
    return Promise.all([refreshHeat(), refreshPoints(), refreshChoropleth(), refreshLists(), refreshKpis()])
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
  GeoGrid.dashboard = { refresh: refresh, openAppeal: openAppeal };
})();
