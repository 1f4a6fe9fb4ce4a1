/* The volunteer's phone page (/m/points/): balance and history (GET /api/v1/volunteering/me/,
 * …/me/entries/), the shops and items (GET /api/v1/shop/shops/, …/items/), reserving
 * (POST /api/v1/shop/redemptions/ with an idempotency key per tap), the pickup codes with their
 * QR code (/m/points/qr/<code>.svg) and cancelling, the counter card (GET /api/v1/shop/card/);
 * the application for a user who is no volunteer yet.
 *
 * Stable hooks for tests: #balance[data-balance]; #codes[data-loaded] and
 * li.points-redemption[data-code][data-id]; li.points-item[data-item]; #shops[data-loaded]. */
(function () {
  "use strict";
  var data = GeoGrid.readJson("points-data");
  var T = data.strings;
  var api = GeoGrid.api;
  var $ = function (id) { return document.getElementById(id); };
  var page = $("points-page");
  if (!page) return;

  function failure(err) {
    return err.detail || err.messages()[0] || (err.status ? T.failed : T.offline);
  }
  function when(iso) {
    return new Date(iso).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
  }
  function bump(el) { el.dataset.loaded = String(Number(el.dataset.loaded || 0) + 1); }
  function key() {
    var a = new Uint8Array(12);
    (window.crypto || window.msCrypto).getRandomValues(a);
    return "m-" + Array.prototype.map.call(a, function (b) {
      return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // ---- not a volunteer yet: apply ---------------------------------------------------------------
  if (page.dataset.volunteer !== "1") {
    var select = $("apply-community");
    data.communities.forEach(function (c) { select.add(new Option(c.name, c.code)); });
    api.get("/api/v1/volunteering/me/").then(function (me) {
      if (me.application && me.application.status === "pending") {
        $("application-status").textContent = T.applied;
        $("apply-form").hidden = true;
      }
    });
    $("apply-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var f = ev.target;
      api.post("/api/v1/volunteering/applications/", {
        community: f.community.value, display_name: f.display_name.value, note: f.note.value
      }).then(function () {
        $("application-status").textContent = T.applied;
        f.hidden = true;
      }, function (err) { api.showErrors(f, err, { fallback: T.failed, offline: T.offline }); });
    });
    return;
  }

  // ---- balance and history --------------------------------------------------------------------
  function loadMe() {
    return api.get("/api/v1/volunteering/me/").then(function (me) {
      var v = me.volunteer;
      $("balance").textContent = T.balance + " " + v.balance;
      $("balance").dataset.balance = String(v.balance);
      $("display-name").textContent = v.display_name;
    });
  }
  function loadEntries() {
    var list = $("entries");
    return api.get("/api/v1/volunteering/me/entries/?page_size=50").then(function (page) {
      list.textContent = "";
      page.results.forEach(function (e) {
        var li = document.createElement("li");
        li.className = "points-entry";
        li.dataset.kind = e.kind;
        li.textContent = when(e.at) + " · " + (data.kinds[e.kind] || e.kind) + " " +
          (e.amount > 0 ? "+" : "") + e.amount + " → " + e.balance_after +
          (e.note ? " · " + e.note : "");
        list.appendChild(li);
      });
      if (!page.results.length) list.textContent = T.none;
    }).then(function () { bump(list); });
  }

  // ---- pickup codes -----------------------------------------------------------------------------
  function loadCodes() {
    var list = $("codes");
    return api.get("/api/v1/shop/redemptions/?status=reserved").then(function (rows) {
      list.textContent = "";
      rows.forEach(function (r) {
        var li = $("code-card").content.firstElementChild.cloneNode(true);
        li.dataset.code = r.pickup_code;
        li.dataset.id = r.id;
        li.querySelector(".r-item").textContent = r.item_name + " · " + r.shop_name;
        li.querySelector(".r-qty").textContent = "× " + r.quantity + " (" + r.points + ")";
        li.querySelector(".r-code").textContent = r.pickup_code.slice(0, 4) + " " +
          r.pickup_code.slice(4);
        li.querySelector(".r-qr").src = "/m/points/qr/" + r.pickup_code + ".svg";
        li.querySelector(".r-until").textContent = T.until.replace("%s", when(r.expires_at));
        li.querySelector(".r-cancel").addEventListener("click", function () {
          api.post("/api/v1/shop/redemptions/" + r.id + "/cancel/", {}).then(function () {
            $("shop-status").textContent = T.cancelled;
            refresh();
          }, function (err) { $("shop-status").textContent = failure(err); });
        });
        list.appendChild(li);
      });
      if (!rows.length) list.textContent = T.none;
    }).then(function () { bump(list); });
  }

  // ---- shops and items --------------------------------------------------------------------------
  function itemRow(item) {
    var li = $("item-row").content.firstElementChild.cloneNode(true);
    li.dataset.item = item.id;
    li.querySelector(".i-name").textContent = item.name;
    li.querySelector(".i-price").textContent = T.price.replace("%s", item.price_points);
    li.querySelector(".i-stock").textContent = T.stock.replace("%s", item.stock);
    var button = li.querySelector(".i-reserve");
    button.disabled = item.stock < 1;
    button.addEventListener("click", function () {
      button.disabled = true;
      api.post("/api/v1/shop/redemptions/", { item: item.id, quantity: 1, key: key() })
        .then(function (r) {
          $("shop-status").textContent = T.reserved.replace("%s", r.pickup_code);
          refresh();
        }, function (err) {
          $("shop-status").textContent = failure(err);
          button.disabled = false;
        });
    });
    return li;
  }
  function loadShops() {
    var box = $("shops");
    return api.get("/api/v1/shop/shops/").then(function (shops) {
      return Promise.all(shops.filter(function (s) { return s.active; }).map(function (s) {
        return api.get("/api/v1/shop/shops/" + s.id + "/items/").then(function (items) {
          return { shop: s, items: items };
        });
      }));
    }).then(function (rows) {
      box.textContent = "";
      rows.forEach(function (row) {
        var card = document.createElement("div");
        card.className = "card points-shop";
        card.dataset.shop = row.shop.id;
        var h = document.createElement("h3");
        h.textContent = row.shop.name;
        var note = document.createElement("p");
        note.className = "muted";
        note.textContent = row.shop.opening_note;
        var ul = document.createElement("ul");
        row.items.forEach(function (i) { ul.appendChild(itemRow(i)); });
        card.appendChild(h);
        card.appendChild(note);
        card.appendChild(ul);
        box.appendChild(card);
      });
      if (!rows.length) box.textContent = T.none;
    }, function (err) { box.textContent = failure(err) || T.loadFailed; })
      .then(function () { bump(box); });
  }

  $("show-card").addEventListener("click", function () {
    api.get("/api/v1/shop/card/").then(function (c) {
      $("card").hidden = false;
      $("card").textContent = c.code + " — " + T.card.replace("%s", when(c.valid_until));
    }, function (err) { $("card").hidden = false; $("card").textContent = failure(err); });
  });

  function refresh() { loadMe(); loadEntries(); loadCodes(); loadShops(); }
  refresh();
})();
