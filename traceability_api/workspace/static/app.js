// Progressive enhancement only: every form works without this file.
(function () {
  function $(id) { return document.getElementById(id); }

  // the phone's location into the latitude / longitude fields
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("[data-locate]");
    if (!b || !navigator.geolocation) return;
    e.preventDefault();
    navigator.geolocation.getCurrentPosition(function (pos) {
      $("lat").value = pos.coords.latitude.toFixed(6);
      $("lon").value = pos.coords.longitude.toFixed(6);
    });
  });

  // the map (Leaflet, served by us) is loaded only when asked for: pages stay light
  function load(tag, attrs, done) {
    var el = document.createElement(tag);
    for (var k in attrs) el[k] = attrs[k];
    el.onload = done;
    document.head.appendChild(el);
  }

  function drawMap(box) {
    var L = window.L, points = [], shape = null;
    var map = L.map(box, { attributionControl: !!box.dataset.tiles });
    if (box.dataset.tiles) L.tileLayer(box.dataset.tiles, { maxZoom: 19, attribution: box.dataset.attribution || "" }).addTo(map);
    var known = L.geoJSON(JSON.parse(box.dataset.places || "[]"), {
      pointToLayer: function (f, ll) { return L.circleMarker(ll, { radius: 8 }); }
    }).addTo(map);
    if (known.getLayers().length) map.fitBounds(known.getBounds().pad(0.3), { maxZoom: 16 });
    else map.setView([10.03, 105.78], 11);  // Cần Thơ
    function update() {
      if (shape) map.removeLayer(shape);
      var geo = $("geo");
      if (points.length === 1) {
        shape = L.circleMarker(points[0], { radius: 8, color: "#a4161a" }).addTo(map);
        $("lat").value = points[0].lat.toFixed(6);
        $("lon").value = points[0].lng.toFixed(6);
        geo.value = "";
      } else if (points.length >= 3) {
        shape = L.polygon(points, { color: "#a4161a" }).addTo(map);
        var ring = points.map(function (p) { return [+p.lng.toFixed(6), +p.lat.toFixed(6)]; });
        ring.push(ring[0]);
        geo.value = JSON.stringify({ type: "Polygon", coordinates: [ring] });
      } else if (points.length === 2) {
        shape = L.polyline(points, { color: "#a4161a" }).addTo(map);
      }
    }
    map.on("click", function (e) { points.push(e.latlng); update(); });
    $("map-clear").addEventListener("click", function () { points = []; $("geo").value = ""; update(); });
  }

  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("[data-map]");
    if (!b) return;
    e.preventDefault();
    var box = $("map");
    box.hidden = false;
    $("map-tools").hidden = false;
    b.hidden = true;
    load("link", { rel: "stylesheet", href: b.dataset.css }, function () {});
    load("script", { src: b.dataset.js }, function () { drawMap(box); });
  });
})();
