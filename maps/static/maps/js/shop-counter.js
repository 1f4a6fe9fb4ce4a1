/* The operator's counter page (/m/shop/): a pickup code typed or scanned, looked up
 * (GET /api/v1/shop/counter/<code>/) and handed over (POST …/collect/); a redemption at the
 * counter for a volunteer's card (POST /api/v1/shop/counter/redeem/); a restock
 * (POST /api/v1/shop/items/<id>/restock/); the shop's recent redemptions.
 *
 * Stable hooks for tests: #found[data-state] (none, found, collected, failed) and
 * [data-redemption]; #recent[data-loaded]; #shop options carry the shop ids. */
(function () {
  "use strict";
  var data = GeoGrid.readJson("counter-data");
  var T = data.strings;
  var api = GeoGrid.api;
  var $ = function (id) { return document.getElementById(id); };
  var page = $("counter-page");
  if (!page) return;
  var found = $("found");
  var current = null;  // the pickup code looked up

  function failure(err) {
    return err.detail || err.messages()[0] || (err.status ? T.failed : T.offline);
  }
  function fill(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (_m, k) { return values[k]; });
  }
  function shopId() { return $("shop").value; }
  function key() { return "counter-" + Date.now() + "-" + Math.floor(Math.random() * 1e9); }

  function loadItems() {
    if (!shopId()) return Promise.resolve();
    return api.get("/api/v1/shop/shops/" + shopId() + "/items/").then(function (items) {
      document.querySelectorAll("select.items").forEach(function (select) {
        select.textContent = "";
        items.filter(function (i) { return i.active; }).forEach(function (i) {
          select.add(new Option(i.name + " · " + i.price_points + " · " + i.stock, i.id));
        });
      });
    });
  }
  function loadRecent() {
    var list = $("recent");
    if (!shopId()) return Promise.resolve();
    return api.get("/api/v1/shop/redemptions/?page_size=20&shop=" + shopId()).then(function (rows) {
      list.textContent = "";
      rows.forEach(function (r) {
        var li = document.createElement("li");
        li.className = "points-entry";
        li.dataset.status = r.status;
        li.textContent = r.display_name + " · " + r.item_name + " × " + r.quantity + " · " +
          (data.statuses[r.status] || r.status);
        list.appendChild(li);
      });
      if (!rows.length) list.textContent = T.none;
    }).then(function () { list.dataset.loaded = String(Number(list.dataset.loaded) + 1); });
  }

  api.get("/api/v1/shop/shops/").then(function (shops) {
    var mine = shops.filter(function (s) { return s.operator; });
    if (!mine.length) { $("not-operator").hidden = false; $("not-operator").textContent = T.notOperator; }
    mine.forEach(function (s) { $("shop").add(new Option(s.name, s.id)); });
    loadItems();
    loadRecent();
  });
  $("shop").addEventListener("change", function () { loadItems(); loadRecent(); });

  function lookup(code) {
    current = null;
    $("collect").hidden = true;
    api.get("/api/v1/shop/counter/" + encodeURIComponent(code) + "/").then(function (r) {
      current = code;
      found.dataset.state = "found";
      found.dataset.redemption = r.id;
      found.textContent = fill(T.found, { name: r.display_name, item: r.item_name,
                                          qty: r.quantity, points: r.points });
      $("collect").hidden = false;
    }, function (err) { found.dataset.state = "failed"; found.textContent = failure(err); });
  }
  $("code-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var code = $("code").value.replace(/[\s-]/g, "").toUpperCase();
    if (code) lookup(code);
  });
  $("collect").addEventListener("click", function () {
    if (!current) return;
    $("collect").hidden = true;
    api.post("/api/v1/shop/counter/" + encodeURIComponent(current) + "/collect/", {})
      .then(function () {
        found.dataset.state = "collected";
        found.textContent = T.collected;
        $("code").value = "";
        current = null;
        loadRecent();
      }, function (err) { found.dataset.state = "failed"; found.textContent = failure(err); });
  });

  // Scanning: the browser's own detector where there is one (no library, no CDN).
  $("scan").addEventListener("click", function () {
    var video = $("scanner");
    if (!("BarcodeDetector" in window) || !navigator.mediaDevices) {
      found.textContent = T.noScanner;
      return;
    }
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
      video.srcObject = stream;
      video.hidden = false;
      video.play();
      function stop() { stream.getTracks().forEach(function (t) { t.stop(); }); video.hidden = true; }
      function tick() {
        detector.detect(video).then(function (codes) {
          if (codes.length) { stop(); $("code").value = codes[0].rawValue; lookup(codes[0].rawValue); }
          else if (!video.hidden) requestAnimationFrame(tick);
        }, stop);
      }
      tick();
    }, function () { found.textContent = T.noScanner; });
  });

  $("redeem-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var f = ev.target;
    api.post("/api/v1/shop/counter/redeem/", { card: f.card.value.trim(),
      item: Number(f.item.value), quantity: Number(f.quantity.value), key: key() })
      .then(function (r) {
        api.clearErrors(f);
        $("redeemed").textContent = T.redeemed + " " + r.display_name + " · " + r.item_name;
        f.card.value = "";
        loadItems();
        loadRecent();
      }, function (err) { api.showErrors(f, err, { fallback: T.failed, offline: T.offline }); });
  });
  $("restock-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var f = ev.target;
    api.post("/api/v1/shop/items/" + f.item.value + "/restock/", {
      quantity: Number(f.quantity.value), donor_name: f.donor_name.value })
      .then(function (m) {
        api.clearErrors(f);
        $("restocked").textContent = T.restocked.replace("%s", m.stock_after);
        loadItems();
      }, function (err) { api.showErrors(f, err, { fallback: T.failed, offline: T.offline }); });
  });
})();
