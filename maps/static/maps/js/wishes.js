/* The micro-wish phone page (/m/wishes/): the wall (public titles only), claiming, my claims —
 * the wisher's contact while the claim is live, delivery with a photo, cancelling — and my own
 * wishes: posting one, confirming or disputing a delivery. Nothing personal is in the page: it
 * all comes from the wishes API, as this user may see it.
 *
 * Stable hooks for tests: #wall/#claims/#mine[data-loaded] (incremented on every answer);
 * li.wish-card[data-wish] with data-status; its .w-status gets data-code (the API's error code,
 * or "ok"); .w-contact[data-phone] once the contact is shown. */
(function () {
  "use strict";
  var data = GeoGrid.readJson("wishes-data");
  var T = data.strings;
  var api = GeoGrid.api;
  var $ = function (id) { return document.getElementById(id); };
  var wall = $("wall");
  if (!wall) return;
  var template = $("wish-card");

  function when(iso) {
    return iso ? new Date(iso).toLocaleDateString([], { dateStyle: "medium" }) : "—";
  }
  function failure(err) {
    if (err.status === 409 && err.code === "conflict") return err.detail || T.taken;
    return err.detail || err.messages()[0] || (err.status ? T.failed : T.offline);
  }
  function bump(list) { list.dataset.loaded = String(Number(list.dataset.loaded || 0) + 1); }
  function say(card, text, code) {
    var status = card.querySelector(".w-status");
    status.textContent = text;
    status.dataset.code = code || "ok";
  }
  function empty(list, text) {
    var li = document.createElement("li");
    li.className = "muted";
    li.textContent = text;
    list.appendChild(li);
  }
  function button(label, cls, onClick) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "big " + (cls || "");
    b.textContent = label;
    b.addEventListener("click", onClick);
    return b;
  }
  function act(wish, name, body) {
    return api.post("/api/v1/wishes/" + wish.id + "/actions/" + name + "/", body || {});
  }

  // A card of one wish as the API answered it (any level: the wall's fields at least).
  function card(wish) {
    var li = template.content.firstElementChild.cloneNode(true);
    li.dataset.wish = wish.id;
    li.dataset.status = wish.status || "published";
    li.querySelector(".w-cat").textContent = wish.category_label;
    li.querySelector(".w-title").textContent = wish.title || wish.public_title;
    var meta = [wish.community, T.yuan.replace("%s", wish.value_band)];
    if (wish.points_reward) meta.push(T.points.replace("%s", wish.points_reward));
    if (wish.claim && wish.claim.due_at && wish.claim.status === "active") {
      meta.push(T.due.replace("%s", when(wish.claim.due_at)));
    }
    if (wish.claim && wish.claim.claimant_name && wish.level !== "claimant") {
      meta.push(T.claimant.replace("%s", wish.claim.claimant_name));
    }
    li.querySelector(".w-meta").textContent = meta.join(" · ");
    li.querySelector(".w-text").textContent = wish.description || "";
    return li;
  }

  // ---- the wall ------------------------------------------------------------------------------
  var category = $("wall-category");
  data.categories.forEach(function (c) { category.add(new Option(c[1], c[0])); });
  category.addEventListener("change", loadWall);

  function claimFrom(li, wish) {
    api.post("/api/v1/wishes/" + wish.id + "/actions/claim/", {}).then(function () {
      say(li, T.claimed, "ok");
      li.dataset.status = "claimed";
      li.querySelector(".w-actions").textContent = "";
      loadClaims();
    }, function (err) { say(li, failure(err), err.code); });
  }

  function loadWall() {
    var url = "/api/v1/wishes/wall/?page_size=100" +
      (category.value ? "&category=" + encodeURIComponent(category.value) : "");
    return api.get(url).then(function (page) {
      wall.textContent = "";
      page.results.forEach(function (wish) {
        var li = card(wish);
        if (data.mayClaim) {
          li.querySelector(".w-actions").appendChild(button(T.claim, "primary claim", function () {
            claimFrom(li, wish);
          }));
        }
        wall.appendChild(li);
      });
      if (!page.results.length) empty(wall, T.empty);
      bump(wall);
    }, function (err) { wall.textContent = failure(err); bump(wall); });
  }

  // ---- my claims -----------------------------------------------------------------------------
  var claims = $("claims");
  var offers = $("offers");

  function showContact(li, wish) {
    api.get("/api/v1/wishes/" + wish.id + "/contact/").then(function (c) {
      var box = li.querySelector(".w-contact");
      box.textContent = "";
      var name = document.createElement("strong");
      name.textContent = c.name + " ";
      var tel = document.createElement("a");
      tel.href = "tel:" + c.phone;
      tel.textContent = c.phone;
      var where = document.createElement("div");
      where.textContent = c.address + " " + c.room;
      box.append(name, tel, where);
      box.dataset.phone = c.phone;
      box.hidden = false;
    }, function (err) { say(li, failure(err), err.code); });
  }

  function deliverForm(li, wish) {
    var form = li.querySelector(".w-deliver");
    form.hidden = false;
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      api.clearErrors(form);
      var body = new FormData();
      var file = form.querySelector("input[type=file]").files[0];
      if (file) body.append("photos", file);
      body.append("note", form.querySelector("input[name=note]").value);
      act(wish, "deliver", body).then(function () {
        say(li, T.saved, "ok");
        loadClaims();
      }, function (err) { api.showErrors(form, err, { fallback: T.failed, offline: T.offline }); });
    });
  }

  function claimCard(row) {
    var wish = row.wish;
    var li = card(wish);
    li.dataset.claim = row.claim.id;
    li.dataset.claimStatus = row.claim.status;
    var actions = li.querySelector(".w-actions");
    var statusLabel = data.statuses[row.claim.status] || row.claim.status;
    li.querySelector(".w-meta").textContent += " · " + statusLabel;
    var live = row.claim.status === "active" || row.claim.status === "delivered";
    if (live && wish.level === "claimant") {
      actions.appendChild(button(T.contact, "show-contact", function () { showContact(li, wish); }));
    }
    if (wish.actions.indexOf("deliver") >= 0) deliverForm(li, wish);
    if (wish.actions.indexOf("cancel") >= 0) {
      actions.appendChild(button(T.cancel, "cancel", function () {
        act(wish, "cancel").then(function () { loadClaims(); loadWall(); },
          function (err) { say(li, failure(err), err.code); });
      }));
    }
    return li;
  }

  function offerCard(wish) {
    var li = card(wish);
    li.querySelector(".w-meta").textContent += " · " + T.offered;
    var actions = li.querySelector(".w-actions");
    ["accept", "decline"].forEach(function (name) {
      if (wish.actions.indexOf(name) < 0) return;
      actions.appendChild(button(T[name], name === "accept" ? "primary" : "", function () {
        act(wish, name).then(function () { loadClaims(); loadWall(); },
          function (err) { say(li, failure(err), err.code); });
      }));
    });
    return li;
  }

  function loadClaims() {
    if (!claims) return Promise.resolve();
    return api.get("/api/v1/wishes/claims/").then(function (body) {
      claims.textContent = "";
      offers.textContent = "";
      $("claims-count").textContent = body.active + " / " + body.max_active;
      body.offers.forEach(function (w) { offers.appendChild(offerCard(w)); });
      body.claims.forEach(function (row) { claims.appendChild(claimCard(row)); });
      if (!body.claims.length) empty(claims, T.noClaims);
      bump(claims);
    }, function (err) { claims.textContent = failure(err); bump(claims); });
  }

  // ---- my wishes -----------------------------------------------------------------------------
  var mine = $("mine");
  var postForm = $("post-form");

  function mineCard(wish) {
    var li = card(wish);
    li.querySelector(".w-meta").textContent += " · " + wish.status;
    var actions = li.querySelector(".w-actions");
    if (wish.actions.indexOf("confirm") >= 0) {
      actions.appendChild(button(T.confirm, "primary confirm", function () {
        act(wish, "confirm").then(loadMine, function (err) { say(li, failure(err), err.code); });
      }));
    }
    if (wish.actions.indexOf("dispute") >= 0) {
      actions.appendChild(button(T.dispute, "dispute", function () {
        var note = window.prompt(T.disputeNote);
        if (!note) return;
        act(wish, "dispute", { note: note }).then(loadMine,
          function (err) { say(li, failure(err), err.code); });
      }));
    }
    if (wish.actions.indexOf("withdraw") >= 0) {
      actions.appendChild(button(data.actions.withdraw, "withdraw", function () {
        act(wish, "withdraw").then(loadMine, function (err) { say(li, failure(err), err.code); });
      }));
    }
    return li;
  }

  function loadMine() {
    if (!mine || !data.signedIn) return Promise.resolve();
    return api.get("/api/v1/wishes/mine/").then(function (page) {
      mine.textContent = "";
      page.results.forEach(function (w) { mine.appendChild(mineCard(w)); });
      if (!page.results.length) empty(mine, T.noWishes);
      bump(mine);
    }, function (err) { mine.textContent = failure(err); bump(mine); });
  }

  if (postForm) {
    var pick = $("p-category");
    data.categories.forEach(function (c) { pick.add(new Option(c[1], c[0])); });
    $("p-value").max = data.maxValue;
    postForm.addEventListener("submit", function (ev) {
      ev.preventDefault();
      api.clearErrors(postForm);
      var f = postForm.elements;
      var value = f.est_value.value === "" ? null : Number(f.est_value.value);
      api.post("/api/v1/wishes/", {
        category: f.category.value, title: f.title.value, public_title: f.public_title.value,
        description: f.description.value, est_value: value
      }).then(function () {
        postForm.reset();
        $("post-status").textContent = T.posted;
        loadMine();
      }, function (err) {
        api.showErrors(postForm, err, { fallback: T.failed, offline: T.offline });
      });
    });
  }

  // ---- tabs ----------------------------------------------------------------------------------
  document.querySelectorAll(".w-tabs button").forEach(function (tab) {
    tab.addEventListener("click", function () {
      document.querySelectorAll(".w-tabs button").forEach(function (t) {
        t.setAttribute("aria-selected", t === tab ? "true" : "false");
        $("tab-" + t.dataset.tab).hidden = t !== tab;
      });
    });
  });

  loadWall();
  if (data.mayClaim) loadClaims();
  loadMine();
})();
