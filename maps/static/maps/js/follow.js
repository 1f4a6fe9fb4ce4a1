/* Follow page: the reporter's view of one appeal (token from the URL fragment) and rating.
 * Opened by a share link (/m/follow/<public id>/, no token) it shows the share card instead:
 * what and where, how many support it, and a button to support it (docs/appeals.md). */
(function () {
  "use strict";
  var T = GeoGrid.readJson("strings");
  // The tracking number (the reporter's link, with the token) or the public id (a share link).
  var tracking = document.getElementById("appeal").dataset.tracking;
  var token = (location.hash.match(/token=([^&]+)/) || [])[1];
  token = token ? decodeURIComponent(token) : "";
  var withToken = { headers: { "X-Appeal-Token": token } };
  var url = "/api/v1/appeals/" + encodeURIComponent(tracking) + "/";
  var rateForm = document.getElementById("rate-form");

  function text(id, value) { document.getElementById(id).textContent = value || "—"; }

  function showPhotos(photos) {
    // The photos are served to the token holder only: fetched with the token in a header
    // (never in a URL, where logs would keep it) and shown from a blob: URL.
    var box = document.getElementById("f-photos");
    box.innerHTML = "";
    (photos || []).forEach(function (p) {
      var img = document.createElement("img");
      img.alt = "";
      box.appendChild(img);
      fetch(p.thumbnail, withToken).then(function (r) {
        if (!r.ok) throw new Error(r.status);
        return r.blob();
      }).then(function (blob) {
        img.addEventListener("load", function () { URL.revokeObjectURL(img.src); });
        img.src = URL.createObjectURL(blob);
      }, function () { img.remove(); });
    });
  }

  function render(a) {
    document.getElementById("f-summary").hidden = false;
    showPhotos(a.photos);
    var english = document.documentElement.lang === "en";
    text("f-status", a.status_label || a.status);
    text("f-category", a.category ? (english ? a.category.name_en : a.category.name_zh) : "");
    var grid = a.assignment && a.assignment.grid;
    var gridName = grid && (grid.path ? grid.path.slice(1).map(function (g) { return g.name; }).join(" › ") : grid.name);
    text("f-grid", gridName || T.unlocated);
    text("f-due", a.due_at ? new Date(a.due_at).toLocaleString() : "");
    var list = document.getElementById("f-timeline");
    list.innerHTML = "";
    (a.timeline || a.events || []).forEach(function (ev) {
      var li = document.createElement("li");
      var time = document.createElement("time");
      time.textContent = new Date(ev.at).toLocaleString();
      li.appendChild(time);
      li.appendChild(document.createTextNode(ev.label || ev.kind || ev.to_status || ""));
      if (ev.note) { li.appendChild(document.createTextNode(" — " + ev.note)); }
      list.appendChild(li);
    });
    if (a.tracking) text("f-tracking", a.tracking);  // also when opened by the public id
    var share = document.getElementById("f-share");
    if (a.share_url) {
      share.querySelector("a").href = a.share_url;
      share.hidden = false;
    }
    // The section stays while it thanks the reporter for the rating just sent.
    document.getElementById("rate").hidden =
      !(a.actions || []).includes("rate") && document.getElementById("rated").hidden;
  }

  // ---- the share card: someone the reporter shared the link with --------------------------
  var card = null;
  function renderCard(c) {
    card = c;
    var english = document.documentElement.lang === "en";
    document.getElementById("appeal").hidden = true;
    document.getElementById("share-card").hidden = false;
    text("s-category", c.category ? (english ? c.category.name_en : c.category.name_zh) : "");
    text("s-grid", c.grid ? c.grid.name : T.unlocated);
    text("s-reported", c.reported_on);
    text("s-supporters", String(c.supporters));
  }
  document.getElementById("s-support").addEventListener("click", function () {
    var button = this;
    var problem = document.getElementById("s-error");
    if (!card) return;
    button.disabled = true;
    problem.hidden = true;
    // Anonymous support goes by the public id; every refusal is one answer (no hint why).
    GeoGrid.api.post(card.support_url, {}).then(function (r) {
      text("s-supporters", String(r.supporters));
      document.getElementById("s-done").hidden = false;
    }, function (err) {
      problem.textContent = err.detail || (err.status ? T.failed : T.offline);
      problem.hidden = false;
      button.disabled = err.status !== 0 && err.status !== 429 && err.status < 500;
    });
  });

  function load() {
    return GeoGrid.api.get(url, withToken).then(function (a) {
      // The reporter and staff get the appeal (it has a status); others the share card.
      if (a && a.support_url && !a.status) renderCard(a); else render(a);
    }, function (err) {
      var missing = document.getElementById("f-missing");
      // A wrong link says only that (no hint whether the number exists); an outage says so.
      if (err.status === 0 || err.status >= 500) missing.textContent = err.detail || T.offline;
      missing.hidden = false;
    });
  }

  rateForm.addEventListener("submit", function (e) {
    e.preventDefault();
    var body = Object.fromEntries(new FormData(rateForm).entries());
    GeoGrid.api.post(url + "feedback/", body, withToken).then(function () {
      rateForm.hidden = true;
      document.getElementById("rated").hidden = false;
      load();
    }, function (err) {
      GeoGrid.api.showErrors(rateForm, err, { general: document.getElementById("rate-errors"),
        fallback: T.failed, offline: T.offline });
      if (err.status === 409) load();  // the state changed meanwhile: show it as it is now
    });
  });
  load();
})();
