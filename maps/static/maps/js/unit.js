/* The micro-unit leader's phone page (/m/unit/): my unit's households from the people API,
 * a move-out or move-in recorded at the door, an issue raised (and referred as an appeal). */
(function () {
  "use strict";
  var data = GeoGrid.readJson("unit-data");
  var T = data.strings;
  var api = GeoGrid.api;
  var list = document.getElementById("households");
  var select = document.getElementById("unit-select");
  if (!select) return;
  var cardTemplate = document.getElementById("household-card");

  function today() {
    var d = new Date();
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
  }

  function scope() {
    var v = select.value;
    return v.charAt(0) === "u" ? { key: "micro_unit", id: v.slice(1) } : { key: "building", id: v.slice(1) };
  }

  function failure(err) {
    return err.detail || err.messages()[0] || (err.status ? T.failed : T.offline);
  }

  function showLedger() {
    var s = scope();
    var box = document.getElementById("unit-ledger");
    box.textContent = "";
    if (s.key !== "micro_unit") return;
    api.get("/api/v1/people/micro-units/" + s.id + "/ledger/").then(function (body) {
      var f = body.figures || body;
      var parts = ["occupancy", "profile", "changes", "issues"].filter(function (k) {
        return f[k] && f[k].percent !== null && f[k].percent !== undefined;
      }).map(function (k) { return (f[k].label || k) + " " + Math.round(f[k].percent) + "%"; });
      box.textContent = parts.length ? T.ledger + ": " + parts.join(" · ") : "";
    }, function () { /* the ledger is a help, not a must */ });
  }

  function card(h) {
    var li = cardTemplate.content.firstElementChild.cloneNode(true);
    li.dataset.household = h.id;
    li.querySelector(".h-room").textContent = h.room;
    li.querySelector(".h-name").textContent = h.head_name;
    li.querySelector(".h-size").textContent = h.size + " " + T.size;
    li.querySelector(".h-tags").textContent = h.tags.join(" · ");
    li.querySelector(".h-phone").textContent = h.contact_phone;
    var out = li.querySelector(".h-move-out");
    var status = li.querySelector(".h-status");
    out.textContent = T.moveOut;
    out.hidden = h.actions.indexOf("move_out") < 0;
    out.addEventListener("click", function () {
      if (!window.confirm(T.confirmMoveOut.replace("%s", h.room + " " + h.head_name))) return;
      out.disabled = true;
      api.post("/api/v1/people/households/" + h.id + "/actions/move_out/",
        { version: h.version, effective_date: today() }).then(function () {
        status.textContent = T.saved;
        li.classList.add("moved-out");
        li.dataset.status = "moved_out";
        loadDwellings();
      }, function (err) {
        out.disabled = false;
        status.textContent = err.status === 409 ? T.conflict : failure(err);
        if (err.status === 409) load();
      });
    });
    var issueBtn = li.querySelector(".h-issue");
    var form = li.querySelector(".h-issue-form");
    issueBtn.textContent = T.issue;
    issueBtn.hidden = h.actions.indexOf("raise_issue") < 0;
    form.querySelector("textarea").placeholder = T.text;
    form.querySelector("button").textContent = T.submit;
    var cat = form.querySelector("select");
    cat.add(new Option(T.noCategory, ""));
    data.categories.forEach(function (c) { cat.add(new Option(c.name, c.code)); });
    issueBtn.addEventListener("click", function () { form.hidden = !form.hidden; });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      api.post("/api/v1/people/households/" + h.id + "/actions/raise_issue/",
        { text: form.elements.text.value, category: cat.value }).then(function (issue) {
        form.hidden = true;
        form.reset();
        status.textContent = issue.appeal ? T.referred.replace("%s", issue.appeal) : T.saved;
      }, function (err) { api.showErrors(form, err); });
    });
    return li;
  }

  function load() {
    var s = scope();
    list.textContent = "";
    api.get("/api/v1/people/households/?" + s.key + "=" + s.id).then(function (page) {
      page.results.forEach(function (h) { list.appendChild(card(h)); });
      list.dataset.loaded = "1";
    }, function (err) { list.textContent = failure(err); });
    showLedger();
    loadDwellings();
  }

  var dwellingSelect = document.getElementById("dwelling-select");
  function loadDwellings() {
    var s = scope();
    api.get("/api/v1/people/dwellings/?" + s.key + "=" + s.id).then(function (rows) {
      dwellingSelect.textContent = "";
      rows.filter(function (d) { return d.actions.indexOf("move_in") >= 0; }).forEach(function (d) {
        dwellingSelect.add(new Option(d.room + (d.usage === "vacant" ? " (" + T.vacant + ")" : ""), d.id));
      });
    }, function () { dwellingSelect.textContent = ""; });
  }

  var moveIn = document.getElementById("move-in-form");
  moveIn.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var f = moveIn.elements;
    api.post("/api/v1/people/dwellings/" + f.dwelling.value + "/actions/move_in/", {
      kind: "registered", effective_date: today(),
      members: [{ name: f.name.value, id_number: f.id_number.value, phone: f.phone.value,
        relation: "head" }]
    }).then(function () {
      moveIn.reset();
      document.getElementById("move-in").open = false;
      load();
    }, function (err) { api.showErrors(moveIn, err); });
  });

  select.addEventListener("change", load);
  load();
})();
