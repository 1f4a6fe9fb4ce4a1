/* Phone report page: pin the problem, see whose grid it is, submit, get a tracking number. */
(function () {
  "use strict";
  var config = GeoGrid.readJson("map-config");
  var T = GeoGrid.readJson("strings");
  var map = GeoGrid.createMap("map", config, { zoomControl: true });
  GeoGrid.maps = { report: map };  // for the browser tests and the console
  var marker = L.marker(config.center, { draggable: true, autoPan: true }).addTo(map);
  var where = document.getElementById("where");
  var form = document.getElementById("report");
  var pinned = false;
  var seq = 0;
  var api = GeoGrid.api;
  // Opened from a QR placard (/q/<token>): start at the placard, submit through it.
  var placard = GeoGrid.readJson("placard");

  function describe(result) {
    if (!result.grid) return T.unlocated;
    var names = result.grid.path.slice(1).map(function (g) { return g.name; }).join(" › ");
    var leader = (result.staff || []).filter(function (s) { return s.post === "grid_leader"; })[0];
    var text = T.inGrid + " " + names;
    if (result.method === "nearest") text += " (" + T.nearest + ")";
    if (result.method === "ancestor") text += " (" + T.ancestor + ")";
    if (leader) text += " · " + T.leader + " " + leader.name + (leader.phone ? " " + leader.phone : "");
    return text;
  }

  function locate(latlng) {
    pinned = true;
    var mine = ++seq;
    where.textContent = T.locating;
    var url = "/api/v1/locate?crs=wgs84&lon=" + latlng.lng.toFixed(7) + "&lat=" + latlng.lat.toFixed(7);
    api.get(url).then(function (result) {
      if (mine !== seq) return;  // a newer pin position won
      where.textContent = describe(result);
      where.dataset.grid = result.grid ? result.grid.code : "";
    }, function (err) {
      if (mine !== seq) return;
      where.textContent = err.messages()[0] || err.detail || (err.status ? T.failed : T.offline);
      where.dataset.grid = "";
    });
  }

  function place(latlng) { marker.setLatLng(latlng); locate(latlng); }

  // Micro-grid outlines around the pin: useful on any base map, essential without one.
  var outlines = L.geoJSON(null, {
    style: { color: "#1f4e79", weight: 1, fillOpacity: 0, dashArray: "3 3" },
    interactive: false
  }).addTo(map);
  function drawOutlines() {
    if (map.getZoom() < 14) { outlines.clearLayers(); return; }
    api.get("/api/v1/grids/?level=5&page_size=300&bbox=" + map.getBounds().toBBoxString())
      .then(function (fc) { outlines.clearLayers(); outlines.addData(fc); },
        function () { /* outlines are a help, not a requirement */ });
  }
  map.on("moveend", drawOutlines);
  drawOutlines();

  if (placard) {
    var here = L.latLng(placard.lat, placard.lon);
    map.setView(here, Math.max(map.getZoom(), 17));
    place(here);
  }

  map.on("click", function (e) { place(e.latlng); });
  marker.on("dragend", function () { locate(marker.getLatLng()); });

  document.getElementById("locate-me").addEventListener("click", function () {
    if (!navigator.geolocation) { where.textContent = T.noGeolocation; return; }
    where.textContent = T.locating;
    navigator.geolocation.getCurrentPosition(function (pos) {
      // Browser geolocation is WGS 84, like our storage.
      var ll = L.latLng(pos.coords.latitude, pos.coords.longitude);
      map.setView(ll, Math.max(map.getZoom(), 16));
      place(ll);
    }, function (err) { where.textContent = T.noGeolocation + " (" + err.message + ")"; },
    { enableHighAccuracy: true, timeout: 10000 });
  });

  // Field messages next to their fields; the rest (and `detail`) above the submit button.
  function showErrors(error) {
    api.showErrors(form, error, { fallback: T.failed, offline: T.offline });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (!pinned) { showErrors({ fields: { lon: [T.pinFirst] } }); return; }
    var data = new FormData(form);
    var ll = marker.getLatLng();
    data.set("lon", ll.lng.toFixed(7));
    data.set("lat", ll.lat.toFixed(7));
    data.set("crs", "wgs84");
    if (!data.get("category")) data.delete("category");
    if (data.getAll("photos").every(function (f) { return !f.size; })) data.delete("photos");
    var button = document.getElementById("submit");
    button.disabled = true;
    if (placard) { data.delete("channel"); data.delete("crs"); }
    api.post(placard ? placard.submit : "/api/v1/appeals/", data).then(function (created) {
      button.disabled = false;
      api.clearErrors(form);
      form.hidden = true;
      document.getElementById("done").hidden = false;
      document.getElementById("tracking").textContent = created.tracking;
      document.getElementById("assigned").textContent = describe(created.assignment);
      // The token travels in the fragment: never sent to the server or kept in its logs.
      document.getElementById("follow-link").href =
        "/m/follow/" + encodeURIComponent(created.tracking) + "/#token=" + encodeURIComponent(created.token);
      // The share link (QR code, chat) carries the unguessable public id, never the number.
      document.getElementById("share-link").href = created.share_url;
    }, function (err) { button.disabled = false; showErrors(err); });
  });
})();
