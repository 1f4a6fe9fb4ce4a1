/* Community staff run proposals (/m/proposals/, 协商议事): 嵩阳's three lists as tabs for the
 * chosen community — 需求 needs (open proposals, open key-class appeals), 认领 offers, 项目
 * projects —, a proposal form, and one proposal with its stage, what was decided, its meetings,
 * its timeline and exactly the buttons the API offers in the proposal's `actions`. Each button
 * opens a form built from the action's fields (PROPOSAL_ACTIONS' client data, labels from the
 * page); the answer of an action is the whole proposal, drawn again.
 *
 * Addresses: #needs, #offers, #projects (a tab), #new (the form), #proposal-<id> (one proposal),
 * so that the phone's back button goes back to the lists.
 *
 * Stable hooks for tests: #pr-lists[data-loaded] (incremented on every answer); li.pr-row
 * [data-proposal] [data-stage]; #pr-detail[data-proposal][data-stage][data-version]; buttons
 * .pr-actions button[data-action]; #pr-action-form[data-action]; .pr-status[data-code] (the
 * API's error code, or "ok"). */
(function () {
  "use strict";
  var data = GeoGrid.readJson("proposals-data");
  var lists = document.getElementById("pr-lists");
  if (!data || !lists) return;
  var T = data.strings, L = data.fieldLabels;
  var api = GeoGrid.api;
  var API = "/api/v1/deliberation/";
  var registry = {};
  (data.actions || []).forEach(function (a) { registry[a.name] = a; });
  var picker = document.getElementById("pr-community");
  var newSection = document.getElementById("pr-new");
  var newForm = document.getElementById("pr-new-form");
  var detail = document.getElementById("pr-detail");
  var form = document.getElementById("pr-action-form");
  var community = data.communities[0];
  var offers = [];        // the open offers of the community (the projects may take them)
  var current = null;     // the proposal shown

  // ---- small helpers -------------------------------------------------------------------------
  function fmt(text, value) { return text.replace("%s", value); }
  function when(iso) {
    return iso ? new Date(iso).toLocaleString([], { dateStyle: "short", timeStyle: "short" }) : "—";
  }
  function day(iso) { return iso ? new Date(iso + (iso.length === 10 ? "T00:00" : "")).toLocaleDateString() : "—"; }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function bump() { lists.dataset.loaded = String(Number(lists.dataset.loaded || 0) + 1); }
  function say(text, code) {
    var s = detail.querySelector(".pr-status");
    s.textContent = text;
    s.dataset.code = code || "ok";
  }
  function failure(err) {
    if (err.status === 409) return err.detail || T.conflict;
    return err.detail || err.messages()[0] || (err.status ? T.failed : T.offline);
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function localInput(d) {  // a datetime-local value, to the second
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" +
      pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  }

  // ---- communities, tabs, addresses ----------------------------------------------------------
  if (data.communities.length > 1) {
    data.communities.forEach(function (c) {
      var o = el("option", "", c.name + " (" + c.code + ")");
      o.value = c.code;
      picker.appendChild(o);
    });
    picker.closest("label").hidden = false;
    picker.addEventListener("change", function () {
      community = data.communities.filter(function (c) { return c.code === picker.value; })[0];
      fillGrids();
      loadLists();
    });
  }
  Object.keys(data.sizes).forEach(function (k) {
    var o = el("option", "", data.sizes[k]);
    o.value = k;
    newForm.elements.size.appendChild(o);
  });
  function fillGrids() {
    var select = newForm.elements.grid;
    select.textContent = "";
    community.grids.forEach(function (g) {
      var o = el("option", "", g.name + " (" + g.code + ")");
      o.value = g.code;
      select.appendChild(o);
    });
  }
  fillGrids();

  var tabs = lists.querySelectorAll("[role=tab]");
  function showTab(name) {
    tabs.forEach(function (t) {
      var on = t.dataset.tab === name;
      t.setAttribute("aria-selected", on ? "true" : "false");
      document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
    });
  }
  tabs.forEach(function (t) {
    t.addEventListener("click", function () { location.hash = t.dataset.tab; });
  });
  document.getElementById("pr-new-button").addEventListener("click", function () {
    location.hash = "new";
  });
  document.querySelectorAll(".pr-back").forEach(function (b) {
    b.addEventListener("click", function () { location.hash = "needs"; });
  });

  function route() {
    var hash = location.hash.replace(/^#/, "");
    var m = /^proposal-(\d+)$/.exec(hash);
    lists.hidden = !!m || hash === "new";
    newSection.hidden = hash !== "new";
    detail.hidden = !m;
    if (m) {
      if (!current || String(current.id) !== m[1]) openProposal(m[1]);
    } else {
      current = null;
      if (hash !== "new") showTab(["offers", "projects"].indexOf(hash) >= 0 ? hash : "needs");
      else newForm.elements.title.focus();
    }
    window.scrollTo(0, 0);
  }
  window.addEventListener("hashchange", route);

  // ---- the three lists -----------------------------------------------------------------------
  function empty(ul, text) { ul.appendChild(el("li", "muted pr-empty", text)); }
  function proposalRow(p) {
    var li = el("li", "pr-row");
    li.dataset.proposal = p.id;
    li.dataset.stage = p.stage;
    var a = el("a", "pr-open");
    a.href = "#proposal-" + p.id;
    a.appendChild(el("strong", "", p.title));
    a.appendChild(el("span", "pr-badge s-" + p.stage, p.stage_label));
    var meta = [p.size_label, p.grid.name, fmt(T.proposedAt, when(p.proposed_at))];
    if (p.stage === "proposed") meta.push(p.assess_overdue ? T.assessOverdue : fmt(T.assessDue, when(p.assess_due_at)));
    a.appendChild(el("span", "muted pr-row-meta" + (p.assess_overdue && p.stage === "proposed" ? " overdue" : ""), meta.join(" · ")));
    li.appendChild(a);
    return li;
  }
  function keyRow(k) {
    var li = el("li", "pr-row pr-key");
    li.dataset.appeal = k.tracking;
    var state = k.on_time === true ? T.onTime : k.on_time === false ? T.late
      : k.limit_at ? T.pending : T.untimed;
    li.appendChild(el("strong", "", k.tracking + " · " + k.category));
    var meta = [state];
    if (k.limit_at) meta.push(fmt(T.limit, when(k.limit_at)));
    if (k.first_meeting_at) meta.push(fmt(T.firstMeeting, when(k.first_meeting_at)));
    li.appendChild(el("span", "muted pr-row-meta" + (k.on_time === false ? " overdue" : ""), meta.join(" · ")));
    k.proposals.forEach(function (id) {
      var a = el("a", "pr-link", fmt(T.linkedTo, id));
      a.href = "#proposal-" + id;
      li.appendChild(a);
    });
    return li;
  }
  function offerRow(o) {
    var li = el("li", "pr-row");
    li.dataset.offer = o.id;
    li.appendChild(el("strong", "", o.resource));
    li.appendChild(el("span", "muted pr-row-meta",
      [o.kind_label, o.offered_by, when(o.offered_at)].filter(Boolean).join(" · ")));
    if (o.description) li.appendChild(el("span", "pr-row-meta", o.description));
    return li;
  }
  function projectRow(pr) {
    var li = el("li", "pr-row");
    li.dataset.proposal = pr.proposal;
    li.dataset.stage = pr.stage;
    var a = el("a", "pr-open");
    a.href = "#proposal-" + pr.proposal;
    a.appendChild(el("strong", "", pr.title));
    a.appendChild(el("span", "pr-badge p-" + pr.status, pr.status_label));
    var meta = [fmt(T.owner, pr.owner), fmt(T.due, day(pr.due_on)), pr.grid.name];
    if (pr.overdue) meta.push(T.overdue);
    a.appendChild(el("span", "muted pr-row-meta" + (pr.overdue ? " overdue" : ""), meta.join(" · ")));
    li.appendChild(a);
    return li;
  }
  function fill(id, rows, draw, none) {
    var ul = document.getElementById(id);
    ul.textContent = "";
    rows.forEach(function (r) { ul.appendChild(draw(r)); });
    if (!rows.length) empty(ul, none);
  }

  function loadLists() {
    var q = "?grid=" + encodeURIComponent(community.code);
    var error = lists.querySelector(".pr-load-error");
    return Promise.all([api.get(API + "needs/" + q), api.get(API + "offers/" + q),
                        api.get(API + "projects/" + q)]).then(function (answers) {
      error.textContent = "";
      var needs = answers[0];
      fill("pr-open", needs.proposals.slice().reverse(), proposalRow, T.noProposals);
      fill("pr-key", needs.key_appeals, keyRow, T.noKeyAppeals);
      offers = answers[1].offers;
      fill("pr-offer-rows", offers, offerRow, T.noOffers);
      fill("pr-project-rows", answers[2].projects, projectRow, T.noProjects);
      bump();
    }, function (err) {
      error.textContent = err.detail || (err.status ? T.loadFailed : T.offline);
      bump();
    });
  }

  // ---- proposing -----------------------------------------------------------------------------
  newForm.addEventListener("submit", function (ev) {
    ev.preventDefault();
    api.clearErrors(newForm);
    var f = newForm.elements;
    if (!f.title.value.trim()) {
      newForm.querySelector('.errors[data-field="title"]').textContent = T.required;
      return;
    }
    var button = newForm.querySelector("button[type=submit]");
    button.disabled = true;
    api.post(API + "proposals/", { title: f.title.value.trim(), description: f.description.value.trim(),
                                   size: f.size.value, grid: f.grid.value }).then(function (p) {
      button.disabled = false;
      newForm.reset();
      show(p);
      say(T.proposed, "ok");
      location.hash = "proposal-" + p.id;
      loadLists();
    }, function (err) {
      button.disabled = false;
      api.showErrors(newForm, err, { fallback: T.failed, offline: T.offline });
    });
  });

  // ---- one proposal --------------------------------------------------------------------------
  function openProposal(id, keep) {
    if (!keep) say("", "ok");
    form.hidden = true;
    return api.get(API + "proposals/" + id + "/").then(show, function (err) {
      detail.querySelector(".pr-title").textContent = "";
      say(err.detail || (err.status ? T.proposalFailed : T.offline), err.code);
    });
  }

  function fact(dl, term, text, cls) {
    if (!text) return;
    dl.appendChild(el("dt", "", term));
    var dd = el("dd", cls || "", text);
    dl.appendChild(dd);
    return dd;
  }

  function attendance(m) {
    var parts = [];
    Object.keys(m.attendance).forEach(function (k) {
      if (m.attendance[k]) parts.push((L[k] || k) + " " + m.attendance[k]);
    });
    return fmt(T.attended, m.total) + (parts.length ? " (" + parts.join(", ") + ")" : "");
  }

  function show(p) {
    current = p;
    detail.dataset.proposal = p.id;
    detail.dataset.stage = p.stage;
    detail.dataset.version = p.version;
    detail.querySelector(".pr-title").textContent = p.title;
    var stage = detail.querySelector(".pr-stage");
    stage.textContent = p.stage_label;
    stage.className = "pr-stage pr-badge s-" + p.stage;
    detail.querySelector(".pr-size").textContent = p.size_label;
    var path = detail.querySelector(".pr-path");
    path.textContent = "";
    var reached = data.path.indexOf(p.stage);
    data.path.forEach(function (s, i) {
      var li = el("li", i < reached ? "done" : i === reached ? "now" : "", data.stages[s].replace(/^.*\((.*)\)$/, "$1"));
      li.dataset.stage = s;
      path.appendChild(li);
    });
    path.hidden = reached < 0;
    var meta = [p.grid.name, fmt(T.proposedAt, when(p.proposed_at)), data.roles[p.proposed_role] || p.proposed_role];
    if (p.appeals && p.appeals.length) meta.push(fmt(T.linkedAppeals, p.appeals.join(", ")));
    detail.querySelector(".pr-meta").textContent = meta.filter(Boolean).join(" · ");
    detail.querySelector(".pr-description").textContent = p.description || "";

    var dl = detail.querySelector(".pr-facts");
    dl.textContent = "";
    if (p.assessment) {
      fact(dl, T.assessment, fmt(p.assessment.outcome === "accept" ? T.accepted : T.rejected, p.assessment.reason) +
        (p.assess_overdue ? " " + T.lateAssessment : "") + " · " + when(p.assessment.at), "pr-assessment");
    } else if (p.stage === "proposed") {
      fact(dl, T.assessment, p.assess_overdue ? T.assessOverdue : fmt(T.assessDue, when(p.assess_due_at)),
           p.assess_overdue ? "overdue" : "");
    }
    if (p.meeting_list && (p.meeting_list.length || ["assessed", "deliberating"].indexOf(p.stage) >= 0)) {
      dl.appendChild(el("dt", "", T.meetings));
      var dd = el("dd", "pr-meetings");
      var ul = el("ul");
      p.meeting_list.forEach(function (m) {
        var li = el("li", "pr-meeting");
        li.dataset.meeting = m.id;
        li.appendChild(el("span", "", [when(m.held_at), m.venue_label, m.place].filter(Boolean).join(" · ")));
        li.appendChild(el("span", "muted", attendance(m)));
        if (m.minutes) li.appendChild(el("span", "pr-minutes", fmt(T.minutes, m.minutes)));
        ul.appendChild(li);
      });
      if (!p.meeting_list.length) ul.appendChild(el("li", "muted", T.noMeetings));
      dd.appendChild(ul);
      dl.appendChild(dd);
    }
    if (p.decision) {
      var d = p.decision, text = d.text;
      if (d.votes_for !== null) {
        text += " (" + T.votes.replace("%(for)s", d.votes_for).replace("%(against)s", d.votes_against)
          .replace("%(abstain)s", d.votes_abstain) + ")";
      }
      fact(dl, T.decision, text + " · " + fmt(T.publishedUntil, when(d.publish_until)), "pr-decision");
    }
    if (p.project) {
      var pr = p.project;
      fact(dl, T.project, [fmt(T.owner, pr.owner), fmt(T.due, day(pr.due_on)), pr.status_label,
                           pr.overdue ? T.overdue : ""].filter(Boolean).join(" · "), "pr-project");
    }
    if (p.evaluation) {
      fact(dl, T.evaluation, T.evaluated.replace("%(effect)s", data.effects[p.evaluation.effect] ||
           p.evaluation.effect).replace("%(text)s", p.evaluation.text), "pr-evaluation");
    }
    if (p.withdrawn) fact(dl, data.stages.withdrawn, fmt(T.withdrawn, p.withdrawn.reason), "pr-withdrawn");
    if (p.closed_at) fact(dl, data.stages.closed, fmt(T.closedAt, when(p.closed_at)), "pr-closed");

    drawActions(p);
    var tl = detail.querySelector(".pr-timeline");
    tl.textContent = "";
    (p.timeline || []).slice().reverse().forEach(function (e) {
      var li = el("li");
      li.dataset.kind = e.kind;
      var t = el("time", "", when(e.at));
      t.dateTime = e.at;
      li.appendChild(t);
      var what = e.kind === "propose" ? T.proposeEvent : registry[e.kind] ? registry[e.kind].label : e.kind;
      li.appendChild(el("strong", "", what));
      li.appendChild(document.createTextNode(" → " + (data.stages[e.to_stage] || e.to_stage) +
        (e.actor_role ? " · " + (data.roles[e.actor_role] || e.actor_role) : "")));
      if (e.note) li.appendChild(el("span", "pr-note", e.note));
      tl.appendChild(li);
    });
  }

  // ---- the actions the API offers ------------------------------------------------------------
  var PRIMARY = { assess: 1, hold_meeting: 1, decide: 1, start_project: 1, evaluate: 1, close: 1 };
  function drawActions(p) {
    var box = detail.querySelector(".pr-actions");
    box.textContent = "";
    var offered = p.actions || [];
    // Registry order: the next step first, then link_appeals and withdraw.
    (data.actions || []).forEach(function (a) {
      if (offered.indexOf(a.name) < 0) return;
      var b = el("button", "big" + (PRIMARY[a.name] ? " primary" : ""), a.label);
      b.type = "button";
      b.dataset.action = a.name;
      b.addEventListener("click", function () { openForm(a); });
      box.appendChild(b);
    });
    if (!offered.length) box.appendChild(el("p", "muted pr-none", T.noActions));
    else if (p.stage === "implementing") box.appendChild(el("p", "muted pr-hint", T.closeHint));
  }

  var TEXTAREA = { reason: 1, minutes: 1, text: 1, evaluation: 1, note: 1 };
  function input(action, f) {
    var label = el("label", "pr-field f-" + f.name);
    label.appendChild(document.createTextNode((L[f.name] || f.label)));
    var control;
    if (f.name === "offers") {
      if (!offers.length) return null;
      label = el("fieldset", "pr-field f-offers");
      label.appendChild(el("legend", "", T.offersTaken));
      offers.forEach(function (o) {
        var l = el("label", "check");
        var c = el("input");
        c.type = "checkbox"; c.name = "offers"; c.value = o.id;
        l.appendChild(c);
        l.appendChild(document.createTextNode(" " + o.resource + " · " + o.offered_by));
        label.appendChild(l);
      });
      return label;
    }
    if (f.type === "choice") {
      control = el("select");
      var labels = { outcome: data.assessments, venue: data.venues, effect: data.effects };
      f.choices.forEach(function (c) {
        var o = el("option", "", (labels[f.name] || {})[c[0]] || c[1]);
        o.value = c[0];
        control.appendChild(o);
      });
    } else if (TEXTAREA[f.name]) {
      control = el("textarea");
      control.rows = f.name === "minutes" ? 4 : 3;
    } else {
      control = el("input");
      if (f.type === "number") {
        control.type = "number"; control.min = "0"; control.inputMode = "numeric";
      } else if (f.name === "held_at") {
        control.type = "datetime-local"; control.step = "1";
        control.value = control.dataset.initial = localInput(new Date());
      } else if (f.name === "due_on") {
        control.type = "date";
      } else if (f.name === "appeals") {
        control.placeholder = T.appealsHint;
      }
    }
    if (f.max_length) control.maxLength = f.max_length;
    control.name = f.name;
    if (f.required) control.required = true;
    label.appendChild(control);
    var wrap = el("div", "pr-field-wrap");
    wrap.appendChild(label);
    var errors = el("p", "errors");
    errors.dataset.field = f.name;
    wrap.appendChild(errors);
    return wrap;
  }

  function openForm(action) {
    api.clearErrors(form);
    say("", "ok");
    form.dataset.action = action.name;
    form.querySelector(".pr-form-title").textContent = action.label;
    form.querySelector(".pr-send").textContent = action.name === "close" ? action.label : T.send;
    var box = form.querySelector(".pr-fields");
    box.textContent = "";
    if (action.name === "close") box.appendChild(el("p", "", T.confirmClose));
    var counts = null;
    action.fields.forEach(function (f) {
      var node = input(action, f);
      if (!node) return;
      // The attendance counts and the votes sit side by side.
      if (/^(residents|owners_committee|property_company|community|units|votes_)/.test(f.name)) {
        if (!counts) { counts = el("div", "pr-counts"); box.appendChild(counts); }
        counts.appendChild(node);
      } else {
        counts = null;
        box.appendChild(node);
      }
    });
    if (action.name === "decide") box.appendChild(el("p", "muted", T.votesHint));
    form.hidden = false;
    var first = form.querySelector("textarea, input:not([type=checkbox]), select");
    if (first) first.focus();
    form.scrollIntoView({ block: "nearest" });
  }

  function body(action) {
    var out = { version: current.version };
    var missing = false;
    action.fields.forEach(function (f) {
      if (f.name === "offers") {
        out.offers = Array.prototype.map.call(form.querySelectorAll("input[name=offers]:checked"),
                                              function (c) { return Number(c.value); });
        return;
      }
      var control = form.elements[f.name];
      if (!control) return;
      var value = (control.value || "").trim();
      if (!value) {
        if (f.required) {
          form.querySelector('.errors[data-field="' + f.name + '"]').textContent = T.required;
          missing = true;
        }
        if (f.type === "number" && /^votes_|^publish_days$/.test(f.name)) out[f.name] = null;
        return;
      }
      if (f.name === "held_at") {
        // Untouched: the moment of sending; else the local time the user chose, with its zone.
        out.held_at = (value === control.dataset.initial ? new Date() : new Date(value)).toISOString();
      } else if (f.name === "appeals") {
        out.appeals = value.split(/[\s,，、]+/).filter(Boolean);
      } else if (f.type === "number") {
        out[f.name] = Number(value);
      } else {
        out[f.name] = value;
      }
    });
    return missing ? null : out;
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    api.clearErrors(form);
    var action = registry[form.dataset.action];
    var sent = body(action);
    if (!sent || !current) return;
    var buttons = detail.querySelectorAll("button");
    buttons.forEach(function (b) { b.disabled = true; });
    api.post(API + "proposals/" + current.id + "/actions/" + action.name + "/", sent).then(function (p) {
      buttons.forEach(function (b) { b.disabled = false; });
      form.hidden = true;
      show(p);
      say(fmt(T.done, action.label), "ok");
      loadLists();
    }, function (err) {
      buttons.forEach(function (b) { b.disabled = false; });
      api.showErrors(form, err, { fallback: T.failed, offline: T.offline, labels: L });
      say(failure(err), err.code);
      if (err.status === 409) openProposal(current.id, true);
    });
  });
  form.querySelector(".pr-cancel").addEventListener("click", function () { form.hidden = true; });

  loadLists();
  route();
  GeoGrid.proposalsPage = { reload: loadLists, open: openProposal };
})();
