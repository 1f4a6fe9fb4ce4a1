/* The department member's phone page (/m/whistles/, 吹哨报到): the whistles that call in the
 * member's departments — one card per called-in unit of theirs, open units first, the most
 * urgent report-in clock first — with the unit's state, role (主办/协办), the report-in clock
 * (ticking: minutes left, or overdue), the place on a small map, and exactly the buttons the API
 * offers in the unit's `actions`:
 *
 *   report_in   on site (the phone's location, navigator.geolocation; when it is refused or
 *               unavailable the page says so and offers accepting remotely) or remotely
 *   refuse      a reason is required
 *   finish      the result is required
 *
 * Every answer of an action is the whole whistle; the list is then read again. Nothing here is
 * personal: it all comes from GET /api/v1/whistles/mine/ as this user may see it.
 *
 * Stable hooks for tests: #whistles[data-loaded] (incremented on every answer);
 * li.wh-card[data-whistle][data-unit][data-department] with data-status (the unit's) and
 * data-role; .wh-clock[data-minutes][data-overdue]; buttons carry data-action (report_on_site,
 * report_remote, refuse, finish); .wh-status gets data-code (the API's error code, "ok", or
 * "denied" / "unavailable" for the location). */
(function () {
  "use strict";
  var data = GeoGrid.readJson("whistles-data");
  var config = GeoGrid.readJson("map-config");
  var T = data.strings;
  var api = GeoGrid.api;
  var list = document.getElementById("whistles");
  var template = document.getElementById("whistle-card");
  if (!list || !data) return;
  var english = (document.documentElement.lang || "").indexOf("en") === 0;
  var mine = {};
  (data.departments || []).forEach(function (d) { mine[d.code] = d; });
  var maps = [];          // the cards' small maps, removed before the list is drawn again
  var clocks = [];        // [element, unit, read at] of the ticking report-in clocks
  var busy = false;       // an action or an open form: the periodic reload waits

  function name(dep) { return (english && dep.name_en) || dep.name_zh || dep.code; }
  function when(iso) {
    return iso ? new Date(iso).toLocaleString([], { dateStyle: "short", timeStyle: "short" }) : "—";
  }
  function fmt(text, value) { return text.replace("%s", value); }
  function bump() { list.dataset.loaded = String(Number(list.dataset.loaded || 0) + 1); }
  function say(card, text, code) {
    var status = card.querySelector(".wh-status");
    status.textContent = text;
    status.dataset.code = code || "ok";
  }
  function failure(err) {
    if (err.status === 409) return err.detail || T.conflict;
    return err.detail || err.messages()[0] || (err.status ? T.failed : T.offline);
  }
  function button(label, action, cls, onClick) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "big " + (cls || "");
    b.dataset.action = action;
    b.textContent = label;
    b.addEventListener("click", onClick);
    return b;
  }
  function act(unit, name, body) {
    body.version = unit.version;
    return api.post("/api/v1/whistles/units/" + unit.id + "/actions/" + name + "/", body);
  }

  // ---- the report-in clock -------------------------------------------------------------------
  // Counted down from the server's minutes_left when the list was read (the phone's own clock
  // may be off); a unit that reported in keeps the clock the server stopped.
  function drawClock(el, unit, readAt) {
    var clock = unit.report_clock || {};
    if (unit.reported_at || clock.minutes_left === null || clock.minutes_left === undefined) {
      el.hidden = true;
      return;
    }
    var open = unit.status === "notified";
    var left = open ? Math.floor(clock.minutes_left - (Date.now() - readAt) / 60000)
      : clock.minutes_left;
    el.hidden = !open;
    el.dataset.minutes = String(left);
    el.dataset.overdue = left < 0 ? "1" : "0";
    el.textContent = left < 0 ? fmt(T.overdueBy, -left) : fmt(T.minutesLeft, left);
  }
  function tick() {
    clocks.forEach(function (c) { drawClock(c[0], c[1], c[2]); });
  }

  function reportText(unit) {
    var parts = [];
    if (unit.reported_at) {
      var text = fmt(T.reportedAt, when(unit.reported_at));
      var clock = unit.report_clock || {};
      if (clock.overdue && clock.minutes_left !== null) text += " " + fmt(T.reportedLate, -clock.minutes_left);
      parts.push(text);
      if (unit.report_mode === "on_site") {
        parts.push(unit.report_distance_m === null ? T.onSiteNoPlace
          : fmt(T.onSite, Math.round(unit.report_distance_m)) +
            (unit.report_distance_m > data.farMetres ? " · " + T.far : ""));
      } else if (unit.report_mode === "remote") {
        parts.push(T.remote);
      }
    }
    if (unit.done_at) parts.push(fmt(T.doneAt, when(unit.done_at)));
    return parts.join(" · ");
  }

  // ---- one card: one unit of mine on one whistle ---------------------------------------------
  function card(whistle, unit, readAt) {
    var li = template.content.firstElementChild.cloneNode(true);
    li.dataset.whistle = whistle.id;
    li.dataset.unit = unit.id;
    li.dataset.department = unit.department.code;
    li.dataset.status = unit.status;
    li.dataset.role = unit.role;
    var role = li.querySelector(".wh-role");
    role.textContent = data.roles[unit.role] || unit.role;
    role.classList.add("r-" + unit.role);
    li.querySelector(".wh-title").textContent = whistle.title;
    var meta = [whistle.code, whistle.reason_label, whistle.subdistrict.name, name(unit.department)];
    if (whistle.appeal) meta.push(fmt(T.appeal, whistle.appeal));
    li.querySelector(".wh-meta").textContent = meta.join(" · ");
    li.querySelector(".wh-unit-state").textContent = unit.status_label;
    li.querySelector(".wh-whistle-state").textContent = whistle.status_label;
    var clockEl = li.querySelector(".wh-clock");
    drawClock(clockEl, unit, readAt);
    clocks.push([clockEl, unit, readAt]);
    li.querySelector(".wh-report").textContent = reportText(unit);
    var text = [];
    if (unit.sent_back && unit.status === "reported") text.push(T.sentBack);
    if (unit.result) text.push(fmt(T.result, unit.result));
    if (unit.refused_reason) text.push(fmt(T.refusedBecause, unit.refused_reason));
    if (unit.rating) text.push(fmt(T.rated, data.ratings[unit.rating] || unit.rating));
    if (!text.length && whistle.description) text.push(whistle.description);
    li.querySelector(".wh-text").textContent = text.join(" · ");
    var others = whistle.units.filter(function (u) { return u.id !== unit.id; }).map(function (u) {
      return name(u.department) + " (" + (data.roles[u.role] || u.role) + ": " + u.status_label + ")";
    });
    li.querySelector(".wh-others").textContent = others.length ? fmt(T.others, others.join(", ")) : "";
    actions(li, whistle, unit);
    return li;
  }

  function smallMap(li, whistle) {
    var box = li.querySelector(".wh-map");
    if (!whistle.location || !config) { box.hidden = true; return; }
    var here = [whistle.location.lat, whistle.location.lon];
    var map = GeoGrid.createMap(box, L.extend({}, config, { center: here, zoom: 16 }), {
      zoomControl: false, dragging: false, scrollWheelZoom: false, touchZoom: false,
      doubleClickZoom: false, boxZoom: false, keyboard: false, attributionControl: false
    });
    L.circleMarker(here, { radius: 8, color: "#fff", weight: 2, fillColor: "#d32f2f",
                           fillOpacity: 0.95 }).addTo(map);
    maps.push(map);
  }

  // ---- the actions the API offers ------------------------------------------------------------
  function actions(li, whistle, unit) {
    var box = li.querySelector(".wh-actions");
    var offered = unit.actions || [];
    if (offered.indexOf("report_in") >= 0) {
      box.appendChild(button(T.onSiteButton, "report_on_site", "primary", function () {
        reportOnSite(li, unit);
      }));
      box.appendChild(button(T.remoteButton, "report_remote", "", function () {
        send(li, unit, "report_in", { mode: "remote" }, T.reported);
      }));
    }
    if (offered.indexOf("finish") >= 0) {
      box.appendChild(button(data.actions.finish, "finish", "primary", function () {
        openForm(li, unit, "finish", "result", T.finishResult, T.finished);
      }));
    }
    if (offered.indexOf("refuse") >= 0) {
      box.appendChild(button(data.actions.refuse, "refuse", "", function () {
        openForm(li, unit, "refuse", "reason", T.refuseReason, T.refused);
      }));
    }
  }

  function send(li, unit, name, body, done) {
    busy = true;
    li.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    return act(unit, name, body).then(function () {
      busy = false;
      say(li, done, "ok");
      return load();
    }, function (err) {
      busy = false;
      li.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
      var form = li.querySelector(".wh-form");
      if (!form.hidden) api.showErrors(form, err, { fallback: T.failed, offline: T.offline });
      say(li, failure(err), err.code);
      if (err.status === 409) load();
    });
  }

  function reportOnSite(li, unit) {
    var remote = li.querySelector("button[data-action=report_remote]");
    function offerRemote(text, code) {
      say(li, text, code);
      if (remote) { remote.classList.add("primary"); remote.focus(); }
    }
    if (!navigator.geolocation) { offerRemote(T.noGeolocation, "unavailable"); return; }
    say(li, T.locating, "locating");
    navigator.geolocation.getCurrentPosition(function (p) {
      send(li, unit, "report_in", { mode: "on_site", lon: p.coords.longitude, lat: p.coords.latitude },
           T.reported);
    }, function (e) {
      offerRemote(e && e.code === 1 ? T.denied : T.unavailable, e && e.code === 1 ? "denied" : "unavailable");
    }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
  }

  function openForm(li, unit, name, field, label, done) {
    var form = li.querySelector(".wh-form");
    var input = form.elements.text;
    busy = true;
    api.clearErrors(form);
    form.querySelector(".wh-form-label").textContent = label;
    form.querySelector(".errors").dataset.field = field;
    form.querySelector(".wh-send").textContent = data.actions[name];
    form.querySelector(".wh-cancel").textContent = T.cancel;
    form.dataset.action = name;
    input.name = "text";
    input.value = "";
    form.hidden = false;
    form.onsubmit = function (ev) {
      ev.preventDefault();
      api.clearErrors(form);
      var text = input.value.trim();
      if (!text) { form.querySelector(".errors").textContent = T.required; return; }
      var body = {};
      body[field] = text;
      send(li, unit, name, body, done);
    };
    form.querySelector(".wh-cancel").onclick = function () { form.hidden = true; busy = false; };
    input.focus();
  }

  // ---- the list ------------------------------------------------------------------------------
  function order(a, b) {
    // Units still to report in first (the nearest limit first), then at work, then the rest.
    var rank = { notified: 0, reported: 1, refused: 2, done: 3, released: 4, replaced: 5 };
    var ra = rank[a.unit.status], rb = rank[b.unit.status];
    if (ra !== rb) return (ra === undefined ? 9 : ra) - (rb === undefined ? 9 : rb);
    var ma = (a.unit.report_clock || {}).minutes_left, mb = (b.unit.report_clock || {}).minutes_left;
    return (ma === null ? 1e9 : ma) - (mb === null ? 1e9 : mb);
  }

  function load() {
    return api.get("/api/v1/whistles/mine/").then(function (body) {
      var readAt = Date.now(), rows = [];
      (body.whistles || []).forEach(function (w) {
        w.units.forEach(function (u) {
          if (mine[u.department.code] && u.status !== "replaced") rows.push({ whistle: w, unit: u });
        });
      });
      rows.sort(order);
      // Keep what a card said (e.g. "Reported in.") across the reload.
      var said = {};
      list.querySelectorAll("li.wh-card").forEach(function (li) {
        var s = li.querySelector(".wh-status");
        if (s.textContent) said[li.dataset.unit] = [s.textContent, s.dataset.code];
      });
      maps.forEach(function (m) { m.remove(); });
      maps = []; clocks = [];
      list.textContent = "";
      rows.forEach(function (r) {
        var li = card(r.whistle, r.unit, readAt);
        if (said[r.unit.id]) say(li, said[r.unit.id][0], said[r.unit.id][1]);
        list.appendChild(li);
        smallMap(li, r.whistle);
      });
      if (!rows.length) {
        var empty = document.createElement("li");
        empty.className = "muted wh-empty";
        empty.textContent = T.none;
        list.appendChild(empty);
      }
      bump();
    }, function (err) {
      list.textContent = "";
      var li = document.createElement("li");
      li.className = "errors";
      li.textContent = err.detail || (err.status ? T.loadFailed : T.offline);
      list.appendChild(li);
      bump();
    });
  }

  load();
  setInterval(tick, 15000);
  setInterval(function () { if (!busy && !document.hidden) load(); }, data.refreshMs || 60000);
  GeoGrid.whistlesPage = { reload: load };
})();
