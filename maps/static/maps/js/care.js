/* The visitor's phone page (/m/care/): my visits due from the care API (overdue first), a
 * subject's card, a visit recorded at the door — the phone's location and its accuracy, one
 * photo, the four findings, and the follow-up appeal an urgent finding needs — or a 必要访
 * triggered. Nothing personal is in the page: it all comes from the API, as this user may see it.
 *
 * Stable hooks for tests: #dues[data-loaded] (incremented on every answer), li.care-due with
 * data-subject, data-due and data-overdue; #subject[data-subject]; #v-location[data-state]
 * (none, locating, located, failed); #s-status with data-visit, data-far, data-distance and
 * data-appeal after a visit is saved. */
(function () {
  "use strict";
  var data = GeoGrid.readJson("care-data");
  var T = data.strings;
  var api = GeoGrid.api;
  var $ = function (id) { return document.getElementById(id); };
  var list = $("dues");
  if (!list) return;
  var dueTemplate = $("due-card");
  var findingTemplate = $("finding-row");
  var visitForm = $("visit-form");
  var triggerForm = $("trigger-form");
  var status = $("s-status");
  var subject = null;  // the subject on the card, as the API answered it
  var position = null;  // {lon, lat, accuracy} of the phone, when it told us

  function failure(err) {
    return err.detail || err.messages()[0] || (err.status ? T.failed : T.offline);
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  // The value of an <input type=datetime-local> for a moment, in the phone's time zone.
  function localValue(d) {
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" +
      pad(d.getHours()) + ":" + pad(d.getMinutes());
  }
  function when(iso) {
    return iso ? new Date(iso).toLocaleString([], { dateStyle: "medium", timeStyle: "short" }) : "—";
  }
  function label(choices, value) {
    var hit = choices.filter(function (c) { return c[0] === value; })[0];
    return hit ? hit[1] : value;
  }
  function dueText(due) {
    if (!due) return "—";
    return due.overdue ? T.overdueBy.replace("%s", Math.max(1, Math.floor(due.days_overdue)))
      : T.dueOn.replace("%s", when(due.due_at));
  }
  function fill(select, choices, blank) {
    select.textContent = "";
    if (blank !== undefined) select.add(new Option(blank, ""));
    choices.forEach(function (c) { select.add(new Option(c[1], c[0])); });
  }

  // ---- my visits due ---------------------------------------------------------------------------
  function dueCard(row) {
    var li = dueTemplate.content.firstElementChild.cloneNode(true);
    li.dataset.subject = row.subject;
    li.dataset.due = row.due.id;
    li.dataset.overdue = row.due.overdue ? "1" : "0";
    li.classList.toggle("overdue", row.due.overdue);
    li.querySelector(".colour-dot").classList.add("c-" + row.colour);
    li.querySelector(".d-name").textContent = row.name || "";
    li.querySelector(".d-when").textContent = dueText(row.due) +
      (row.due.kind === "necessary" ? " · " + label(data.kinds, "necessary") : "");
    li.querySelector(".d-address").textContent = row.address || "";
    li.querySelector("button").addEventListener("click", function () { openSubject(row.subject); });
    return li;
  }
  function loadDues() {
    return api.get("/api/v1/care/dues/?mine=1&state=open&page_size=200").then(function (rows) {
      // Overdue first, most overdue on top; then the soonest due.
      rows = rows.filter(function (r) { return r.subject; }).sort(function (a, b) {
        return (b.due.overdue - a.due.overdue) || (new Date(a.due.due_at) - new Date(b.due.due_at));
      });
      list.textContent = "";
      rows.forEach(function (r) { list.appendChild(dueCard(r)); });
      if (!rows.length) {
        var empty = document.createElement("li");
        empty.className = "muted";
        empty.textContent = T.none;
        list.appendChild(empty);
      }
      var late = rows.filter(function (r) { return r.due.overdue; }).length;
      $("n-overdue").textContent = late;
      $("n-overdue").hidden = !late;
    }, function (err) {
      list.textContent = failure(err) || T.loadFailed;
    }).then(function () {
      list.dataset.loaded = String(Number(list.dataset.loaded || 0) + 1);
    });
  }

  // ---- one subject ----------------------------------------------------------------------------
  function showList() {
    $("subject").hidden = true;
    $("due-section").hidden = false;
    subject = null;
    window.scrollTo(0, 0);
  }
  function openSubject(id) {
    status.textContent = "";
    return api.get("/api/v1/care/subjects/" + id + "/").then(function (s) {
      subject = s;
      $("subject").dataset.subject = s.id;
      $("s-name").textContent = s.name;
      $("s-colour-dot").className = "colour-dot c-" + s.colour;
      $("s-address").textContent = s.address + (s.room ? " " + s.room : "");
      $("s-phone").textContent = s.phone ? T.phone + " " + s.phone : "";
      $("s-colour").textContent = label(data.colours, s.colour);
      // The groups are in the answer only for those who may see them (layers.care.access).
      $("s-groups").hidden = !(s.groups && s.groups.length);
      $("s-groups").textContent = s.groups && s.groups.length ? T.groups + ": " +
        s.groups.map(function (g) { return data.groups[g] || g; }).join(", ") : "";
      $("s-due").textContent = T.nextDue + ": " + dueText(s.next_due);
      var checklist = $("s-checklist");
      checklist.textContent = "";
      (s.checklist || []).forEach(function (c) {
        var li = document.createElement("li");
        li.textContent = c.label;
        checklist.appendChild(li);
      });
      $("start-visit").hidden = s.actions.indexOf("record_visit") < 0;
      $("start-trigger").hidden = s.actions.indexOf("trigger") < 0;
      visitForm.hidden = true;
      triggerForm.hidden = true;
      $("due-section").hidden = true;
      $("subject").hidden = false;
      window.scrollTo(0, 0);
    }, function (err) { status.textContent = failure(err); });
  }
  $("back").addEventListener("click", function () { showList(); loadDues(); });

  // ---- where the phone is ---------------------------------------------------------------------
  function locate() {
    var box = $("v-location");
    position = null;
    if (!navigator.geolocation) {
      box.dataset.state = "failed";
      box.textContent = T.noLocation;
      return;
    }
    box.dataset.state = "locating";
    box.textContent = T.locating;
    navigator.geolocation.getCurrentPosition(function (p) {
      position = { lon: p.coords.longitude, lat: p.coords.latitude, accuracy: p.coords.accuracy };
      box.dataset.state = "located";
      box.textContent = T.located.replace("%s", Math.round(p.coords.accuracy));
    }, function () {
      box.dataset.state = "failed";
      box.textContent = T.noLocation;
    }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
  }

  // ---- record a visit -------------------------------------------------------------------------
  function findingRows(checklist) {
    var box = $("v-findings");
    box.textContent = "";
    checklist.forEach(function (c) {
      var row = findingTemplate.content.firstElementChild.cloneNode(true);
      row.dataset.area = c.area;
      row.querySelector("legend").textContent = c.label;
      row.querySelector(".errors").dataset.field = c.area;
      var note = row.querySelector(".f-note");
      note.name = c.area + "_note";
      note.placeholder = T.notePlaceholder;
      var answers = row.querySelector(".answers");
      c.answers.forEach(function (a) {
        var lab = document.createElement("label");
        lab.className = "answer a-" + a[0];
        var input = document.createElement("input");
        input.type = "radio";
        input.name = c.area;
        input.value = a[0];
        input.checked = a[0] === "ok";
        input.addEventListener("change", urgentChanged);
        lab.append(input, document.createTextNode(" " + a[1]));
        answers.appendChild(lab);
      });
      box.appendChild(row);
    });
  }
  function urgent() {
    return (subject.checklist || []).some(function (c) {
      var checked = visitForm.querySelector("input[name='" + c.area + "']:checked");
      return checked && checked.value === "urgent";
    });
  }
  function urgentChanged() { $("v-appeal").hidden = !urgent(); }
  function defaultKind() {
    var due = subject.next_due;
    if (due && due.kind === "necessary") return "necessary";
    return subject.colour === "red" ? "key" : "regular";
  }
  $("start-visit").addEventListener("click", function () {
    triggerForm.hidden = true;
    visitForm.reset();
    api.clearErrors(visitForm);
    fill($("v-kind"), data.kinds);
    $("v-kind").value = defaultKind();
    fill($("v-mode"), data.modes);
    $("v-mode").value = "home";
    fill($("v-colour"), data.colours, T.noColour);
    fill($("v-appeal-category"), data.categories.map(function (c) { return [c.code, c.name]; }),
      T.chooseCategory);
    var now = new Date();
    $("v-start").value = localValue(new Date(now.getTime() - 30 * 60000));
    $("v-end").value = localValue(now);
    findingRows(subject.checklist || []);
    urgentChanged();
    visitForm.hidden = false;
    status.textContent = "";
    locate();
    visitForm.scrollIntoView();
  });
  function visitBody() {
    var f = visitForm.elements, body = new FormData();
    body.append("kind", f.kind.value);
    body.append("mode", f.mode.value);
    body.append("started_at", new Date(f.started_at.value).toISOString());
    body.append("ended_at", new Date(f.ended_at.value).toISOString());
    if (position) {
      body.append("lon", position.lon);
      body.append("lat", position.lat);
      body.append("accuracy_m", position.accuracy);
    }
    (subject.checklist || []).forEach(function (c) {
      var checked = visitForm.querySelector("input[name='" + c.area + "']:checked");
      body.append(c.area, checked ? checked.value : "");
      if (f[c.area + "_note"].value) body.append(c.area + "_note", f[c.area + "_note"].value);
    });
    if (f.suggested_colour.value) body.append("suggested_colour", f.suggested_colour.value);
    if (urgent()) {
      body.append("appeal_category", f.appeal_category.value);
      body.append("appeal_text", f.appeal_text.value);
    }
    if (f.note.value) body.append("note", f.note.value);
    var photo = $("v-photo").files[0];
    if (photo) body.append("photos", photo);
    return body;
  }
  function visitSaved(v) {
    var parts = [T.saved];
    if (v.distance_m !== null && v.distance_m !== undefined) {
      parts.push(T.distance.replace("%s", Math.round(v.distance_m)) + (v.far ? " — " + T.far : ""));
    }
    if (!v.counts) parts.push(T.notCounted);
    if (v.appeal) parts.push(T.appeal.replace("%s", v.appeal));
    status.textContent = parts.join(" · ");
    status.dataset.visit = v.id;
    status.dataset.far = v.far ? "1" : "0";
    status.dataset.distance = v.distance_m === null ? "" : v.distance_m;
    status.dataset.appeal = v.appeal || "";
    status.classList.toggle("far", !!v.far);
  }
  visitForm.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var button = $("v-submit"), id = subject.id;
    button.disabled = true;
    api.post("/api/v1/care/subjects/" + id + "/actions/record_visit/", visitBody()).then(function (v) {
      button.disabled = false;
      visitForm.hidden = true;
      var saved = v;
      // The card shows the plan as it is now; the answer's figures stay on it.
      openSubject(id).then(function () { visitSaved(saved); });
      loadDues();
    }, function (err) {
      button.disabled = false;
      api.showErrors(visitForm, err, { fallback: T.failed, offline: T.offline });
    });
  });

  // ---- something happened: a 必要访 within 24 hours ---------------------------------------------
  $("start-trigger").addEventListener("click", function () {
    visitForm.hidden = true;
    triggerForm.reset();
    api.clearErrors(triggerForm);
    fill($("t-trigger"), data.triggers.filter(function (t) { return t[0] !== "urgent_finding"; }));
    triggerForm.hidden = !triggerForm.hidden;
  });
  triggerForm.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var id = subject.id, f = triggerForm.elements;
    api.post("/api/v1/care/subjects/" + id + "/actions/trigger/",
      { trigger: f.trigger.value, note: f.note.value }).then(function (due) {
      triggerForm.hidden = true;
      openSubject(id).then(function () { status.textContent = T.triggered.replace("%s", when(due.due_at)); });
      loadDues();
    }, function (err) { api.showErrors(triggerForm, err, { fallback: T.failed, offline: T.offline }); });
  });

  loadDues();
})();
