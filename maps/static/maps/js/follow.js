/* Follow page: the reporter's view of one appeal (token from the URL fragment) and rating. */
(function () {
  "use strict";
  var T = GeoGrid.readJson("strings");
  var tracking = document.getElementById("appeal").dataset.tracking;
  var token = (location.hash.match(/token=([^&]+)/) || [])[1];
  token = token ? decodeURIComponent(token) : "";
  var withToken = { headers: { "X-Appeal-Token": token } };
  var url = "/api/v1/appeals/" + encodeURIComponent(tracking) + "/";
  var rateForm = document.getElementById("rate-form");

  function text(id, value) { document.getElementById(id).textContent = value || "—"; }

  function render(a) {
    document.getElementById("f-summary").hidden = false;
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
    // The section stays while it thanks the reporter for the rating just sent.
    document.getElementById("rate").hidden =
      !(a.actions || []).includes("rate") && document.getElementById("rated").hidden;
  }

  function load() {
    return GeoGrid.api.get(url, withToken).then(render, function (err) {
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
