/* Grid editor: the hierarchy beside the map; draw, edit (with snapping), split, merge and save
 * through the grid API. Topology problems the server reports are drawn on the map and nothing
 * is saved until they are fixed. */
(function () {
  "use strict";
  var T = GeoGrid.readJson("strings");
  var config = GeoGrid.readJson("map-config");
  var map = GeoGrid.createMap("map", config);
  GeoGrid.maps = { editor: map };
  map.pm.setGlobalOptions({ snappable: true, snapDistance: 18, allowSelfIntersection: false });
  map.pm.setLang(document.documentElement.lang === "en" ? "en" : "zh");

  var STYLE = {
    selected: { color: "#1f6fd1", weight: 3, fillOpacity: 0.08 },
    child: { color: "#37474f", weight: 1.5, fillOpacity: 0.04 },
    sibling: { color: "#90a4ae", weight: 1, dashArray: "4 3", fillOpacity: 0 },
    problem: { color: "#d32f2f", weight: 2, fillColor: "#ff1744", fillOpacity: 0.45 }
  };
  var selected = null;       // the selected grid's GeoJSON Feature
  var layers = {
    siblings: L.featureGroup().addTo(map),
    children: L.featureGroup().addTo(map),
    selected: L.featureGroup().addTo(map),
    problems: L.featureGroup().addTo(map)
  };
  var pending = null;        // {mode, layer} while drawing or editing
  var $ = function (id) { return document.getElementById(id); };
  var api = GeoGrid.api;

  // ---- API -------------------------------------------------------------------------------
  function features(url) {
    return api.get(url).then(function (fc) { return fc.features || []; },
      function (err) { showError(err); return []; });
  }

  // ---- messages and problems ---------------------------------------------------------------
  function say(kind, lines) {
    var box = $("messages");
    box.innerHTML = "";
    [].concat(lines).forEach(function (line) {
      var p = document.createElement("p");
      p.className = kind;
      p.textContent = line;
      box.appendChild(p);
    });
  }
  /* An ApiError: topology problems are drawn on the map and listed one per line; field
   * messages go next to the fields of `form` (if given); the rest is said in the messages box. */
  function showError(err, form) {
    layers.problems.clearLayers();
    if (form) api.clearErrors(form);
    var lines = err.problems.map(function (f) { return f.properties && f.properties.message; })
      .filter(Boolean);
    if (!lines.length) {
      lines = [api.showErrors(form || $("messages"), err, { fallback: T.failed, offline: T.offline })
        || T.failed];
    }
    say("error", lines);
    if (err.problems.length) {
      L.geoJSON({ type: "FeatureCollection", features: err.problems }, {
        style: STYLE.problem,
        onEachFeature: function (f, layer) { layer.bindTooltip(f.properties.message, { sticky: true }); }
      }).addTo(layers.problems);
    }
  }

  // ---- tree --------------------------------------------------------------------------------
  function treeNode(feature) {
    var li = document.createElement("li");
    li.setAttribute("role", "treeitem");
    li.dataset.code = feature.id;
    var toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "toggle";
    toggle.textContent = feature.properties.level < 5 ? "▸" : "·";
    toggle.setAttribute("aria-label", T.expand);
    var link = document.createElement("a");
    link.textContent = feature.properties.name + " " + feature.id.slice(-3);
    link.title = feature.id;
    link.addEventListener("click", function () { select(feature.id); });
    var list = document.createElement("ul");
    li.append(toggle, link, list);
    toggle.addEventListener("click", function () {
      if (feature.properties.level >= 5) return;
      if (list.childElementCount) { list.innerHTML = ""; toggle.textContent = "▸"; return; }
      toggle.textContent = "▾";
      features("/api/v1/grids/" + feature.id + "/children/?page_size=1000").then(function (kids) {
        kids.forEach(function (k) { list.appendChild(treeNode(k)); });
      });
    });
    return li;
  }
  function loadTree() {
    var tree = $("tree");
    tree.innerHTML = "";
    return features("/api/v1/grids/?level=1").then(function (roots) {
      roots.forEach(function (f) { tree.appendChild(treeNode(f)); });
      return roots;
    });
  }
  function markSelected(code) {
    document.querySelectorAll(".tree a").forEach(function (a) {
      a.classList.toggle("selected", a.title === code);
    });
  }

  // ---- selection ---------------------------------------------------------------------------
  function label(layer, text) {
    layer.bindTooltip(text, { permanent: true, direction: "center", className: "grid-label" });
  }
  function select(code, keepMessages) {
    cancel();
    if (!keepMessages) { say("muted", []); layers.problems.clearLayers(); }
    return api.get("/api/v1/grids/" + code + "/").then(function (grid) {
      selected = grid;
      var p = selected.properties;
      $("detail").hidden = false;
      $("d-name").textContent = p.name;
      $("d-code").textContent = selected.id;
      $("d-level").textContent = p.level_label;
      $("d-area").textContent = (p.area_m2 / 1e6).toFixed(3);
      markSelected(code);
      layers.selected.clearLayers();
      var shape = L.geoJSON(selected, { style: STYLE.selected }).addTo(layers.selected);
      map.fitBounds(shape.getBounds(), { padding: [30, 30], animate: false });
      layers.children.clearLayers();
      layers.siblings.clearLayers();
      var loads = [features("/api/v1/grids/" + code + "/children/?page_size=1000").then(function (kids) {
        $("d-children").textContent = kids.length;
        L.geoJSON({ type: "FeatureCollection", features: kids }, {
          style: STYLE.child,
          onEachFeature: function (f, layer) { label(layer, f.properties.name); layer.feature = f; }
        }).addTo(layers.children);
      })];
      if (p.parent) {
        loads.push(features("/api/v1/grids/" + p.parent + "/children/?page_size=1000").then(function (sibs) {
          L.geoJSON({ type: "FeatureCollection", features: sibs.filter(function (f) { return f.id !== code; }) }, {
            style: STYLE.sibling,
            onEachFeature: function (f, layer) { layer.feature = f; }
          }).addTo(layers.siblings);
        }));
      }
      loadSummary(code);
      loadStaff(code);
      return Promise.all(loads);
    }, function (err) { showError(err); });
  }
  function loadSummary(code) {
    ["d-households", "d-buildings", "d-open"].forEach(function (id) { $(id).textContent = "—"; });
    api.get("/maps/grids/" + code + "/summary").then(function (s) {
      $("d-households").textContent = s.households.toLocaleString();
      $("d-buildings").textContent = s.buildings.toLocaleString();
      $("d-open").textContent = s.open_appeals.toLocaleString();
    }, function () { /* the figures are a help: the editor works without them */ });
  }
  function loadStaff(code) {
    api.get("/api/v1/grids/" + code + "/staff/").then(function (posts) {
      var list = $("d-staff");
      list.innerHTML = "";
      (posts || []).forEach(function (s) {
        var li = document.createElement("li");
        var text = document.createElement("span");
        text.textContent = s.post_label + " " + s.name + (s.phone ? " " + s.phone : "");
        var end = document.createElement("button");
        end.type = "button";
        end.textContent = "×";
        end.title = T.endPost;
        end.addEventListener("click", function () {
          api.del("/api/v1/grids/" + code + "/staff/?id=" + s.id).then(function () {
            loadStaff(code);
          }, function (err) { showError(err); });
        });
        li.append(text, end);
        list.appendChild(li);
      });
    }, function (err) { showError(err); });
  }

  // ---- drawing, editing, splitting, merging --------------------------------------------------
  function codesIn(group) {
    // Feature groups hold L.geoJSON groups, which hold one layer per feature.
    var codes = [];
    group.eachLayer(function (g) {
      (g.eachLayer ? g : L.featureGroup([g])).eachLayer(function (l) { if (l.feature) codes.push(l.feature.id); });
    });
    return codes;
  }
  function nextCode(prefix, codes) {
    var n = codes.reduce(function (m, c) { return Math.max(m, parseInt(c.slice(-3), 10)); }, 0) + 1;
    return prefix + String(n).padStart(3, "0");
  }
  function nextChildCode() { return nextCode(selected.id, codesIn(layers.children)); }
  function nextSiblingCode() {
    return nextCode(selected.properties.parent, codesIn(layers.siblings).concat([selected.id]));
  }
  function showForm(hint, code, name, fields) {
    $("save-form").hidden = false;
    api.clearErrors($("save-form"));
    $("save-hint").textContent = hint;
    $("f-code").value = code || "";
    $("f-name").value = name || "";
    $("f-code-row").hidden = !fields;
    $("f-name-row").hidden = !fields;
  }
  function setActive(id) {
    document.querySelectorAll("#tools button").forEach(function (b) { b.classList.toggle("active", b.id === id); });
  }
  function cancel() {
    if (!pending) return;
    map.pm.disableDraw();
    if (pending.layer && pending.mode !== "edit" && pending.mode !== "merge") map.removeLayer(pending.layer);
    if (pending.mode === "edit") layers.selected.eachLayer(function (l) { l.pm && l.pm.disable(); });
    layers.siblings.eachLayer(function (l) { l.off("click"); });
    pending = null;
    $("save-form").hidden = true;
    setActive(null);
  }
  // Vertex-first snapping: Geoman snaps to the nearest point of any boundary, which on a shared
  // corner is often the edge a pixel away rather than the corner itself. Before saving, each
  // corner within a few pixels of a neighbour's corner takes that corner's exact coordinates,
  // so shared edges match to the last digit and no sliver gap or overlap appears.
  var SNAP_PX = 10;
  function neighbourVertices() {
    var out = [];
    [layers.selected, layers.children, layers.siblings].forEach(function (group) {
      group.eachLayer(function (g) {
        (g.eachLayer ? g : L.featureGroup([g])).eachLayer(function (l) {
          if (l.getLatLngs) out = out.concat(L.LineUtil.isFlat(l.getLatLngs()) ? l.getLatLngs() : flatten(l.getLatLngs()));
        });
      });
    });
    return out;
  }
  function flatten(nested) {
    return nested.reduce(function (acc, x) { return acc.concat(Array.isArray(x) ? flatten(x) : [x]); }, []);
  }
  function snapCorners(layer) {
    var targets = neighbourVertices().map(function (ll) { return { ll: ll, p: map.latLngToContainerPoint(ll) }; });
    // Rings of a polygon, or polygons of rings of a multi-polygon (every stored boundary is one).
    function snap(latlngs) {
      return latlngs.map(function (ll) {
        if (Array.isArray(ll)) return snap(ll);
        var p = map.latLngToContainerPoint(ll), best = null, bestD = SNAP_PX;
        targets.forEach(function (t) { var d = p.distanceTo(t.p); if (d <= bestD) { best = t.ll; bestD = d; } });
        return best ? L.latLng(best.lat, best.lng) : ll;
      });
    }
    layer.setLatLngs(snap(layer.getLatLngs()));
  }
  function geometryOf(layer) {
    if (layer instanceof L.Polygon) snapCorners(layer);
    var gj = layer.toGeoJSON(false);  // full precision: 6 decimals would move edges by ~0.1 m
    return gj.type === "FeatureCollection" ? gj.features[0].geometry : gj.geometry;
  }

  $("btn-draw").addEventListener("click", function () {
    cancel();
    if (selected.properties.level >= 5) { say("warning", [T.noChildren]); return; }
    pending = { mode: "draw" };
    setActive("btn-draw");
    say("muted", [T.drawHint]);
    map.pm.enableDraw("Polygon", { snappable: true, snapDistance: 18, finishOn: null });
  });
  $("btn-split").addEventListener("click", function () {
    cancel();
    pending = { mode: "split" };
    setActive("btn-split");
    say("muted", [T.splitHint]);
    map.pm.enableDraw("Line", { snappable: true, snapDistance: 18 });
  });
  $("btn-edit").addEventListener("click", function () {
    cancel();
    pending = { mode: "edit" };
    setActive("btn-edit");
    layers.selected.eachLayer(function (group) {
      group.eachLayer ? group.eachLayer(function (l) { l.pm.enable({ snappable: true, snapDistance: 18 }); pending.layer = l; })
        : group.pm.enable({ snappable: true }); });
    showForm(T.editHint, selected.id, selected.properties.name, false);
  });
  $("btn-merge").addEventListener("click", function () {
    cancel();
    pending = { mode: "merge" };
    setActive("btn-merge");
    say("muted", [T.mergeHint]);
    layers.siblings.eachLayer(function (group) {
      group.eachLayer(function (l) {
        l.on("click", function () {
          pending.other = l.feature;
          l.setStyle({ color: "#ef6c00", weight: 3 });
          showForm(T.mergeConfirm.replace("%s", l.feature.properties.name), "", "", false);
        });
      });
    });
  });

  map.on("pm:create", function (e) {
    if (!pending) { map.removeLayer(e.layer); return; }
    pending.layer = e.layer;
    if (pending.mode === "draw") showForm(T.saveHint, nextChildCode(), "", true);
    if (pending.mode === "split") showForm(T.splitSave, nextSiblingCode(), "", true);
  });

  $("btn-cancel").addEventListener("click", function () { cancel(); say("muted", []); });

  $("save-form").addEventListener("submit", function (e) {
    e.preventDefault();
    if (!pending) return;
    var code = selected.id, version = selected.properties.version, req;
    if (pending.mode === "draw") {
      req = api.post("/api/v1/grids/", { type: "Feature", geometry: geometryOf(pending.layer),
        properties: { code: $("f-code").value.trim(), name: $("f-name").value.trim() } });
    } else if (pending.mode === "edit") {
      req = api.put("/api/v1/grids/" + code + "/", { type: "Feature", geometry: geometryOf(pending.layer),
        properties: { version: version, name: selected.properties.name } });
    } else if (pending.mode === "split") {
      req = api.post("/api/v1/grids/" + code + "/split/", { version: version, line: geometryOf(pending.layer),
        new_code: $("f-code").value.trim(), new_name: $("f-name").value.trim() });
    } else if (pending.mode === "merge") {
      if (!pending.other) { say("warning", [T.mergeHint]); return; }
      req = api.post("/api/v1/grids/" + code + "/merge/", { version: version,
        other: pending.other.id, other_version: pending.other.properties.version });
    }
    $("btn-save").disabled = true;
    req.then(function (saved) {
      $("btn-save").disabled = false;
      var warnings = saved.warnings || [];
      cancel();
      layers.problems.clearLayers();
      select(code, true).then(function () {
        say(warnings.length ? "warning" : "ok", [T.saved].concat(warnings));
      });
      loadTree().then(function () { markSelected(code); });
    }, function (err) {
      $("btn-save").disabled = false;
      if (err.status === 409) {
        // Someone else saved first: drop this edit and show the grid as it is now.
        say("error", [err.detail || T.conflict]);
        select(code, true);
      } else {
        showError(err, $("save-form"));  // keep the drawing so it can be fixed
      }
    });
  });

  $("staff-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var data = Object.fromEntries(new FormData(e.target).entries());
    api.post("/api/v1/grids/" + selected.id + "/staff/", data).then(function () {
      e.target.reset();
      api.clearErrors(e.target);
      loadStaff(selected.id);
      say("ok", [T.saved]);
    }, function (err) { showError(err, e.target); });
  });

  loadTree().then(function (roots) {
    var wanted = (location.hash.match(/grid=(\d+)/) || [])[1];
    if (wanted) select(wanted); else if (roots.length) select(roots[0].id);
  });
})();
