/* Follow page: the reporter's view of one appeal (token from the URL fragment) and rating. */
(function () {
  "use strict";
  var T = GeoGrid.readJson("strings");
  var tracking = document.getElementById("appeal").dataset.tracking;
  var token = (location.hash.match(/token=([^&]+)/) || [])[1];
  token = token ? decodeURIComponent(token) : "";
  var headers = { Accept: "application/json", "X-Appeal-Token": token };

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
    document.getElementById("rate").hidden = !(a.actions || []).includes("rate");
  }

  function load() {
    return fetch("/api/v1/appeals/" + encodeURIComponent(tracking) + "/", { headers: headers })
      .then(function (r) {
        if (!r.ok) { document.getElementById("f-missing").hidden = false; return null; }
        return r.json().then(render);
      });
  }

  document.getElementById("rate-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var body = Object.fromEntries(new FormData(e.target).entries());
    fetch("/api/v1/appeals/" + encodeURIComponent(tracking) + "/feedback/", {
      method: "POST", credentials: "same-origin",
      headers: Object.assign({ "Content-Type": "application/json", "X-CSRFToken": GeoGrid.csrfToken() }, headers),
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (res) {
        if (!r.ok) {
          document.getElementById("rate-errors").textContent =
            Object.values(res).map(function (v) { return [].concat(v).join(" "); }).join(" ");
          return;
        }
        e.target.hidden = true;
        document.getElementById("rated").hidden = false;
        load();
      });
    });
  });
  load();
})();
