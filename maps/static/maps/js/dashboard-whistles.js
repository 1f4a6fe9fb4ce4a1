/* The dashboard's whistles (吹哨报到, layers.whistles): a map layer, a whistle panel, the blowing
 * form on an appeal's panel, and the figures.
 *
 *   var w = GeoGrid.whistles.attach(map, {
 *     panel: element,          // the sidebar section: the whistle panel and the figures
 *     appealBox: element,      // inside the appeal's panel: the blowing form, or its whistle
 *     openAppeal: function (tracking) {…},   // the dashboard opens an appeal
 *     openStatuses: [...]      // the appeal states one may blow for
 *   }, D.whistles);            // maps/whistles.py dashboard_data(): districts, registries, labels
 *   w.refresh({grid: "code", layer: true})   read the layer (and figures) again; a promise
 *   w.appeal(appeal)          the appeal panel shows this appeal: offer to blow, or its whistle
 *   w.open(id)                open one whistle in the panel; a promise
 *
 * The layer (GET /api/v1/whistles/map/: the open whistles in sight with a place): one circle
 * per whistle, coloured by its state (red: a unit's report-in limit passed), each unit's state
 * and clock in its popup, with a button that opens the whistle. The panel shows the whistle's
 * units (state, role, clock, how they reported in, the result, the rating) and exactly the
 * actions the API offers — the blowing office's: resolve, close, cancel, call in another
 * department; per unit: rate (满意 / 基本满意 / 不满意, speed and quality 1–5), release, replace —
 * each form built from the action registry (D.whistles.whistleActions / unitActions). The
 * figures (GET /api/v1/whistles/figures/?district=, the district's dispatchers): per department
 * the report-in rate, mean response, completion and satisfaction; per subdistrict the whistles
 * per 100 appeals with their flags.
 *
 * Stable hooks for tests: the panel's data-loaded (incremented on every layer answer) and
 * data-features; circles carry data-whistle; #wh-detail[data-whistle][data-status];
 * li[data-unit][data-department][data-status]; buttons data-action / data-unit-action;
 * #wh-figures[data-loaded][data-district] with tr[data-department] td[data-figure] and
 * tr[data-subdistrict] td[data-figure]; #a-whistle[data-state] (blow, open, none). */
(function (global) {
  "use strict";
  var GeoGrid = global.GeoGrid = global.GeoGrid || {};
  var COLOURS = { requested: "#78909c", blown: "#f57c00", working: "#1f6fd1", resolved: "#2e7d32",
                  late: "#d32f2f" };
  // Taken on the phone page by the department's members, or needing people not on this screen.
  var SKIP = ["report_in", "refuse", "finish", "add_helper", "helper_hours"];
  var SCALES = { speed: 5, quality: 5 };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function fmt(text, value) { return text.replace("%s", value); }
  function pct(x) { return x === null || x === undefined ? "—" : (100 * x).toFixed(1) + "%"; }
  function when(iso) { return iso ? new Date(iso).toLocaleString() : "—"; }

  function attach(map, elements, W) {
    var T = W.strings, api = GeoGrid.api;
    var english = (document.documentElement.lang || "").indexOf("en") === 0;
    var panel = elements.panel, appealBox = elements.appealBox;
    var WA = {}, UA = {};
    (W.whistleActions || []).forEach(function (a) { WA[a.name] = a; });
    (W.unitActions || []).forEach(function (a) { UA[a.name] = a; });
    var layer = L.featureGroup();
    var features = [], grid = "", showLayer = true, current = null, pending = null, appeal = null;
    var departments = {};  // district → promise of [{code, name_zh, name_en}]

    // ---- the panel's parts ------------------------------------------------------------------
    panel.dataset.loaded = "0";
    panel.appendChild(el("h3", "", T.title));
    var note = panel.appendChild(el("p", "muted wh-note"));
    note.setAttribute("aria-live", "polite");
    var detail = panel.appendChild(el("div", "detail wh-detail"));
    detail.id = "wh-detail";
    detail.hidden = true;
    var figures = panel.appendChild(el("div", "wh-figures"));
    figures.id = "wh-figures";
    figures.dataset.loaded = "0";
    figures.hidden = !(W.districts || []).length;

    function depName(d) { return d ? ((english && d.name_en) || d.name_zh || d.code) : ""; }
    function departmentsOf(district) {
      if (!departments[district]) {
        departments[district] = api.get("/api/v1/whistles/departments/?district=" +
          encodeURIComponent(district)).then(function (b) { return b.departments; }, function (err) {
          delete departments[district];
          throw err;
        });
      }
      return departments[district];
    }
    function clockText(unit) {
      var c = unit.report_clock || {};
      if (unit.reported_at) {
        return fmt(T.reportedAt, when(unit.reported_at)) +
          (c.overdue && c.minutes_left !== null ? " " + fmt(T.reportedLate, -c.minutes_left) : "");
      }
      if (unit.status !== "notified" || c.minutes_left === null || c.minutes_left === undefined) return "";
      return c.minutes_left < 0 ? fmt(T.overdueBy, -c.minutes_left) : fmt(T.minutesLeft, c.minutes_left);
    }
    function late(w) {
      return w.units.some(function (u) { return u.status === "notified" && u.report_clock && u.report_clock.overdue; });
    }
    function inGrid(w) {
      var code = w.subdistrict.code;
      return !grid || code.indexOf(grid) === 0 || grid.indexOf(code) === 0;
    }

    // ---- the map layer ----------------------------------------------------------------------
    function popup(w) {
      var box = el("div", "wh-popup");
      box.appendChild(el("strong", "", w.code + " " + w.title));
      box.appendChild(el("div", "", w.status_label + " · " + w.reason_label));
      var ul = box.appendChild(el("ul", "wh-popup-units"));
      w.units.forEach(function (u) {
        var li = ul.appendChild(el("li"));
        li.dataset.department = u.department.code;
        li.dataset.status = u.status;
        var clock = clockText(u);
        li.textContent = depName(u.department) + " (" + (W.roles[u.role] || u.role) + "): " +
          u.status_label + (clock ? " · " + clock : "");
      });
      var b = box.appendChild(el("button", "wh-open", T.open));
      b.type = "button";
      b.dataset.whistle = w.id;
      b.addEventListener("click", function () { map.closePopup(); open(w.id); });
      return box;
    }
    function draw() {
      // A refresh keeps the popup the dispatcher is reading open.
      var reading = null;
      layer.eachLayer(function (m) { if (m.isPopupOpen()) reading = m.whistleId; });
      layer.clearLayers();
      features.filter(function (f) { return inGrid(f.properties); }).forEach(function (f) {
        var w = f.properties, c = f.geometry.coordinates;
        var m = L.circleMarker([c[1], c[0]], {
          radius: 9, color: "#fff", weight: 2, fillOpacity: 0.95,
          fillColor: late(w) ? COLOURS.late : COLOURS[w.status] || "#546e7a"
        });
        m.bindPopup(function () { return popup(w); });
        m.bindTooltip(w.code + " " + w.title);
        m.whistleId = w.id;
        layer.addLayer(m);
      });
      if (showLayer && !map.hasLayer(layer)) layer.addTo(map);
      if (!showLayer && map.hasLayer(layer)) map.removeLayer(layer);
      layer.eachLayer(function (m) {
        var e = m.getElement && m.getElement();
        if (e) e.setAttribute("data-whistle", m.whistleId);
        if (reading === m.whistleId && showLayer) m.openPopup();
      });
      panel.dataset.features = String(layer.getLayers().length);
    }
    function readLayer() {
      return api.get("/api/v1/whistles/map/").then(function (fc) {
        features = (fc.features || []).filter(function (f) { return f.geometry; });
        note.textContent = "";
        draw();
      }, function (err) {
        if (!(err instanceof GeoGrid.ApiError)) throw err;
        note.textContent = err.detail || T.mapFailed;
      }).then(function () {
        panel.dataset.loaded = String(Number(panel.dataset.loaded) + 1);
        if (appeal) showAppeal(appeal);
      });
    }

    // ---- the figures ------------------------------------------------------------------------
    function figureDistrict() {
      var ds = W.districts || [];
      var chosen = grid ? grid.slice(0, 6) : "";
      return ds.indexOf(chosen) >= 0 ? chosen : ds[0] || "";
    }
    function table(head, rows) {
      var t = el("table"), tr = el("tr");
      head.forEach(function (h) { tr.appendChild(el("th", "", h)); });
      t.appendChild(el("thead")).appendChild(tr);
      var body = t.appendChild(el("tbody"));
      rows.forEach(function (r) { body.appendChild(r); });
      return t;
    }
    function row(attrs, cells) {
      var tr = el("tr");
      Object.keys(attrs).forEach(function (k) { tr.dataset[k] = attrs[k]; });
      cells.forEach(function (c) {
        var td = tr.appendChild(el("td", c[2] || "", c[1]));
        if (c[0]) td.dataset.figure = c[0];
      });
      return tr;
    }
    function readFigures() {
      var district = figureDistrict();
      if (!district) return Promise.resolve();
      return api.get("/api/v1/whistles/figures/?district=" + district).then(function (f) {
        figures.textContent = "";
        figures.dataset.district = district;
        figures.appendChild(el("h4", "", T.figures));
        if (!f.departments.length) figures.appendChild(el("p", "muted", T.noFigures));
        else {
          figures.appendChild(table(["", T.called, T.reportRate, T.meanResponse, T.completion, T.satisfaction],
            f.departments.map(function (d) {
              return row({ department: d.department }, [
                ["", d.name || d.department], ["called", String(d.called)],
                ["report_rate", pct(d.report_rate)],
                ["mean_response_min", d.mean_response_min === null ? "—" : String(d.mean_response_min)],
                ["completion_rate", pct(d.completion_rate)], ["satisfaction_rate", pct(d.satisfaction_rate)]]);
            }))).id = "wh-departments";
        }
        figures.appendChild(el("h4", "", T.subdistricts));
        if (f.median_per_100_appeals !== null) {
          figures.appendChild(el("p", "muted", fmt(T.median, f.median_per_100_appeals)));
        }
        figures.appendChild(table(["", T.whistles, T.appeals, T.per100, ""],
          f.subdistricts.map(function (s) {
            return row({ subdistrict: s.subdistrict }, [
              ["", s.name], ["whistles", String(s.whistles)], ["appeals", String(s.appeals)],
              ["per_100_appeals", s.per_100_appeals === null ? "—" : String(s.per_100_appeals)],
              ["flag", s.flag === "low" ? T.flagLow : s.flag === "high" ? T.flagHigh : "",
               s.flag ? "flag-" + s.flag : ""]]);
          }))).id = "wh-subdistricts";
        figures.dataset.state = "ready";
      }, function (err) {
        if (!(err instanceof GeoGrid.ApiError)) throw err;
        figures.textContent = err.detail || T.figuresFailed;
        figures.dataset.state = "error";
      }).then(function () {
        figures.dataset.loaded = String(Number(figures.dataset.loaded) + 1);
      });
    }

    // ---- one whistle ------------------------------------------------------------------------
    function actionButton(label, attr, name, onClick) {
      var b = el("button", "", label);
      b.type = "button";
      b.dataset[attr] = name;
      b.addEventListener("click", onClick);
      return b;
    }
    function render(w) {
      current = w;
      detail.hidden = false;
      detail.textContent = "";
      detail.dataset.whistle = w.id;
      detail.dataset.status = w.status;
      var h = detail.appendChild(el("h2"));
      h.appendChild(el("span", "wh-code", w.code));
      var close = h.appendChild(el("button", "", "×"));
      close.type = "button";
      close.setAttribute("aria-label", T.cancel);
      close.addEventListener("click", function () { detail.hidden = true; current = null; pending = null; });
      detail.appendChild(el("p", "", w.title)).appendChild(el("span", "muted", " · " + w.reason_label));
      var state = detail.appendChild(el("p"));
      state.appendChild(el("strong", "wh-status-label", w.status_label));
      var cc = w.completion_clock || {};
      if (cc.due_at && (w.status === "blown" || w.status === "working")) {
        state.appendChild(el("span", cc.overdue ? "overdue" : "muted", " · " + (cc.overdue
          ? fmt(T.completionOverdue, -cc.minutes_left) : fmt(T.dueBy, when(cc.due_at)))));
      }
      if (w.appeal) {
        var link = detail.appendChild(el("p")).appendChild(el("a", "wh-appeal", fmt(T.appeal, w.appeal)));
        link.href = "#";
        link.addEventListener("click", function (e) { e.preventDefault(); elements.openAppeal(w.appeal); });
      }
      var bar = detail.appendChild(el("div", "toolbar wh-actions"));
      (w.actions || []).filter(function (n) { return WA[n] && SKIP.indexOf(n) < 0; }).forEach(function (n) {
        bar.appendChild(actionButton(WA[n].label, "action", n, function () { start(WA[n], null); }));
      });
      detail.appendChild(el("h3", "", T.units));
      var ul = detail.appendChild(el("ul", "wh-units"));
      w.units.forEach(function (u) {
        var li = ul.appendChild(el("li"));
        li.dataset.unit = u.id;
        li.dataset.department = u.department.code;
        li.dataset.status = u.status;
        li.dataset.role = u.role;
        li.appendChild(el("strong", "", depName(u.department)));
        li.appendChild(document.createTextNode(" (" + (W.roles[u.role] || u.role) + ") · "));
        li.appendChild(el("span", "u-status", u.status_label));
        var clock = clockText(u);
        if (clock) {
          li.appendChild(el("div", u.report_clock.overdue && !u.reported_at ? "overdue" : "muted", clock));
        }
        if (u.report_mode) {
          li.appendChild(el("div", "muted", u.report_mode === "remote" ? T.remote
            : u.report_distance_m === null ? T.onSiteNoPlace : fmt(T.onSite, Math.round(u.report_distance_m))));
        }
        if (u.result) li.appendChild(el("div", "", fmt(T.result, u.result)));
        if (u.refused_reason) li.appendChild(el("div", "overdue", fmt(T.refusedBecause, u.refused_reason)));
        if (u.rating) {
          var rating = (W.ratings.filter(function (r) { return r[0] === u.rating; })[0] || [0, u.rating])[1];
          li.appendChild(el("div", "u-rating", fmt(T.rated, rating + " · " + T.speed + " " + u.speed +
            " · " + T.quality + " " + u.quality)));
        }
        var ub = el("div", "toolbar");
        (u.actions || []).filter(function (n) { return UA[n] && SKIP.indexOf(n) < 0; }).forEach(function (n) {
          ub.appendChild(actionButton(UA[n].label, "unitAction", n, function () { start(UA[n], u); }));
        });
        if (ub.childNodes.length) li.appendChild(ub);
      });
      var form = detail.appendChild(el("form", "save wh-action-form"));
      form.id = "wh-action-form";
      form.noValidate = true;
      form.hidden = true;
      detail.appendChild(el("h3", "", T.timeline));
      var tl = detail.appendChild(el("ol", "timeline"));
      var names = {};
      w.units.forEach(function (u) { names[u.department.code] = depName(u.department); });
      (w.timeline || []).forEach(function (ev) {
        var li = tl.appendChild(el("li"));
        li.appendChild(el("time", "", when(ev.at) + (ev.actor_role ? " · " + ev.actor_role : "")));
        var label = ev.kind === "blow" ? T.blowEvent : (WA[ev.kind] || UA[ev.kind] || {}).label || ev.kind;
        li.appendChild(document.createTextNode(label + (ev.department ? " · " + (names[ev.department] || ev.department) : "") +
          (ev.note ? " — " + ev.note : "")));
      });
      // A refresh keeps a form being filled in, when its action is still offered.
      if (pending && pending.unit) {
        var still = w.units.filter(function (u) {
          return u.id === pending.unit.id && (u.actions || []).indexOf(pending.action.name) >= 0;
        })[0];
        if (still) start(pending.action, still, pending.values); else pending = null;
      } else if (pending) {
        if ((w.actions || []).indexOf(pending.action.name) >= 0) start(pending.action, null, pending.values);
        else pending = null;
      }
    }
    function open(id, quietly) {
      return api.get("/api/v1/whistles/" + id + "/").then(function (w) {
        if (!current || current.id !== w.id) pending = null;
        render(w);
        if (!quietly) detail.scrollIntoView({ block: "nearest" });
        return w;
      }, function (err) {
        if (!(err instanceof GeoGrid.ApiError)) throw err;
        note.textContent = err.detail || T.failed;
      });
    }

    // An action's form, from the registry's fields (department pickers and 1–5 scales).
    function fieldInput(f, district) {
      var input;
      if (f.name === "department" || f.name === "lead") {
        input = el("select");
        input.appendChild(new Option(T.choose, ""));
        departmentsOf(district).then(function (rows) {
          var taken = current ? current.units.filter(function (u) { return u.status !== "replaced"; })
            .map(function (u) { return u.department.code; }) : [];
          rows.forEach(function (d) {
            if (taken.indexOf(d.code) < 0 || f.name === "lead") input.appendChild(new Option(depName(d) + " (" + d.code + ")", d.code));
          });
        });
      } else if (SCALES[f.name]) {
        input = el("select");
        input.appendChild(new Option("", ""));
        for (var i = SCALES[f.name]; i >= 1; i--) input.appendChild(new Option(String(i), String(i)));
      } else if (f.type === "choice") {
        input = el("select");
        if (!f.required) input.appendChild(new Option("", ""));
        (f.choices || []).forEach(function (c) { input.appendChild(new Option(c[1], c[0])); });
      } else if (f.type === "number") {
        input = el("input");
        input.type = "number";
      } else {
        input = el(f.max_length && f.max_length > 200 ? "textarea" : "input");
        if (f.max_length) input.maxLength = f.max_length;
      }
      input.name = f.name;
      input.id = "wh-act-" + f.name;
      input.required = !!f.required;
      return input;
    }
    function start(action, unit, values) {
      var form = $form();
      pending = { action: action, unit: unit, values: values || {} };
      form.textContent = "";
      form.hidden = false;
      form.dataset.action = action.name;
      form.appendChild(el("p", "", action.label + (unit ? " · " + depName(unit.department) : "")));
      action.fields.filter(function (f) { return f.name !== "assists"; }).forEach(function (f) {
        var label = form.appendChild(el("label", "", (T[f.name] || f.label) + " "));
        var input = label.appendChild(fieldInput(f, current.district));
        if (pending.values[f.name]) input.value = pending.values[f.name];
        input.addEventListener("change", function () { pending.values[f.name] = input.value; });
        input.addEventListener("input", function () { pending.values[f.name] = input.value; });
        form.appendChild(el("p", "errors")).dataset.field = f.name;
      });
      form.appendChild(el("p", "errors")).dataset.field = "non_field_errors";
      var bar = form.appendChild(el("div", "toolbar"));
      var ok = bar.appendChild(el("button", "primary", T.confirm));
      ok.type = "submit";
      var cancel = bar.appendChild(el("button", "", T.cancel));
      cancel.type = "button";
      cancel.addEventListener("click", function () { form.hidden = true; pending = null; });
      form.onsubmit = function (e) {
        e.preventDefault();
        var body = {};
        if (action.version) body.version = unit ? unit.version : current.version;
        action.fields.forEach(function (f) {
          var input = form.elements[f.name];
          if (!input || input.value === "") return;
          body[f.name] = f.type === "number" || SCALES[f.name] ? Number(input.value) : input.value;
        });
        var url = unit ? "/api/v1/whistles/units/" + unit.id + "/actions/" + action.name + "/"
          : "/api/v1/whistles/" + current.id + "/actions/" + action.name + "/";
        ok.disabled = true;
        api.post(url, body).then(function (w) {
          pending = null;
          render(w);
          readLayer();
          readFigures();
        }, function (err) {
          ok.disabled = false;
          var labels = {};
          action.fields.forEach(function (f) { labels[f.name] = T[f.name] || f.label; });
          api.showErrors(form, err, { labels: labels, fallback: err.status === 409 ? T.conflict : T.failed,
                                      offline: T.offline });
          if (err.status === 409) open(current.id, true);
        });
      };
      var first = form.querySelector("select, input, textarea");
      if (first) first.focus();
    }
    function $form() { return detail.querySelector("#wh-action-form"); }

    // ---- blowing the whistle for an appeal --------------------------------------------------
    function showAppeal(a) {
      appeal = a;
      if (!appealBox) return;
      var open_ = features.filter(function (f) { return f.properties.appeal === a.tracking; })[0];
      if (open_) {
        if (appealBox.dataset.state === "open" && appealBox.dataset.tracking === a.tracking) return;
        appealBox.textContent = "";
        appealBox.dataset.state = "open";
        appealBox.dataset.tracking = a.tracking;
        var p = appealBox.appendChild(el("p", "", fmt(T.existing, open_.properties.code) + " "));
        var b = p.appendChild(actionButton(T.open, "whistle", open_.properties.id, function () {
          open(open_.properties.id);
        }));
        b.className = "wh-open";
        return;
      }
      var may = (elements.openStatuses || []).indexOf(a.status) >= 0;
      if (!may) { appealBox.textContent = ""; appealBox.dataset.state = "none"; return; }
      // Keep the form being filled in for this appeal across refreshes.
      if (appealBox.dataset.tracking === a.tracking && appealBox.dataset.state === "blow") return;
      appealBox.textContent = "";
      appealBox.dataset.state = "blow";
      appealBox.dataset.tracking = a.tracking;
      var start_ = appealBox.appendChild(el("button", "", T.blow));
      start_.type = "button";
      start_.id = "wh-blow-start";
      start_.addEventListener("click", function () { blowForm(a); start_.hidden = true; });
    }
    function blowForm(a) {
      var district = a.tracking.split("-")[0];
      var form = appealBox.appendChild(el("form", "save wh-blow"));
      form.id = "wh-blow-form";
      form.noValidate = true;
      form.appendChild(el("p", "", T.blowTitle));
      var reason = form.appendChild(el("label", "", T.reason + " ")).appendChild(el("select"));
      reason.name = "reason";
      W.reasons.forEach(function (r) { reason.appendChild(new Option(r[1], r[0])); });
      form.appendChild(el("p", "errors")).dataset.field = "reason";
      var title = form.appendChild(el("label", "", T.whistleTitle + " ")).appendChild(el("input"));
      title.name = "title";
      title.maxLength = 100;
      var cat = a.category ? (english ? a.category.name_en : a.category.name_zh) : "";
      title.value = (cat ? cat + " " : "") + a.tracking;
      form.appendChild(el("p", "errors")).dataset.field = "title";
      var lead = form.appendChild(el("label", "", T.lead + " ")).appendChild(el("select"));
      lead.name = "lead";
      lead.appendChild(new Option(T.choose, ""));
      form.appendChild(el("p", "errors")).dataset.field = "lead";
      var fs = form.appendChild(el("fieldset", "assists"));
      fs.appendChild(el("legend", "", T.assists));
      form.appendChild(el("p", "errors")).dataset.field = "assists";
      var text = form.appendChild(el("label", "", T.description + " ")).appendChild(el("textarea"));
      text.name = "description";
      text.rows = 2;
      text.maxLength = 2000;
      form.appendChild(el("p", "errors")).dataset.field = "description";
      form.appendChild(el("p", "errors")).dataset.field = "non_field_errors";
      var bar = form.appendChild(el("div", "toolbar"));
      var send = bar.appendChild(el("button", "primary", T.send));
      send.type = "submit";
      var cancel = bar.appendChild(el("button", "", T.cancel));
      cancel.type = "button";
      cancel.addEventListener("click", function () { appealBox.dataset.state = ""; showAppeal(a); });
      departmentsOf(district).then(function (rows) {
        if (!rows.length) fs.appendChild(el("p", "muted", T.noDepartments));
        rows.forEach(function (d) {
          lead.appendChild(new Option(depName(d) + " (" + d.code + ")", d.code));
          var row = fs.appendChild(el("label"));
          var box = row.appendChild(el("input"));
          box.type = "checkbox";
          box.name = "assists";
          box.value = d.code;
          row.appendChild(document.createTextNode(" " + depName(d) + " (" + d.code + ")"));
        });
      }, function (err) {
        if (err instanceof GeoGrid.ApiError) fs.appendChild(el("p", "errors", err.detail || T.failed));
      });
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        var assists = Array.prototype.filter.call(form.querySelectorAll("input[name=assists]"), function (b) {
          return b.checked && b.value !== lead.value;
        }).map(function (b) { return b.value; });
        send.disabled = true;
        api.post("/api/v1/whistles/", { reason: reason.value, title: title.value, lead: lead.value,
          assists: assists, description: text.value, appeal: a.tracking }).then(function (w) {
          appealBox.textContent = "";
          appealBox.dataset.state = "open";
          var p = appealBox.appendChild(el("p", "ok", fmt(T.blown, w.code) + " "));
          p.appendChild(actionButton(T.open, "whistle", w.id, function () { open(w.id); })).className = "wh-open";
          render(w);
          readLayer();
          readFigures();
        }, function (err) {
          send.disabled = false;
          api.showErrors(form, err, { labels: { lead: T.lead, assists: T.assists, appeal: "appeal", grid: "grid" },
                                      fallback: err.status === 409 ? T.conflict : T.failed, offline: T.offline });
        });
      });
      lead.focus();
    }

    // ---- the refresh cycle ------------------------------------------------------------------
    function refresh(options) {
      options = options || {};
      grid = options.grid || "";
      showLayer = options.layer !== false;
      return Promise.all([readLayer(), readFigures(),
                          current && !pending ? open(current.id, true) : null]);
    }
    function setView(options) {
      var before = [grid, showLayer];
      grid = options.grid || "";
      showLayer = options.layer !== false;
      if (before[0] !== grid || before[1] !== showLayer) draw();
      if (before[0] !== grid) readFigures();
    }

    return { refresh: refresh, setView: setView, appeal: showAppeal, open: open, layer: layer,
             readFigures: readFigures };
  }

  GeoGrid.whistles = { attach: attach, colours: COLOURS };
})(window);
