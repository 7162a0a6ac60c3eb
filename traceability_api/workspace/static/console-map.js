// The console map: places from /app/console/map.geojson drawn with Leaflet (served by us), coloured
// by main product or by status, with commune labels so that it is readable without a base map.
(function () {
  "use strict";
  var PALETTE = ["#1b5e20", "#1565c0", "#e65100", "#6a1b9a", "#00838f", "#ad1457", "#5d4037", "#827717", "#283593", "#37474f"];
  var STATUS = { recall: "#b71c1c", alert: "#ef6c00", active: "#2e7d32", idle: "#757575" };

  function start() {
    var box = document.getElementById("console-map");
    if (!box || box.dataset.ready || typeof L === "undefined") return;
    box.dataset.ready = "1";
    box.hidden = false;
    var names = JSON.parse(box.dataset.statusNames || "{}");
    var map = L.map(box, { attributionControl: !!box.dataset.tiles });
    if (box.dataset.tiles) L.tileLayer(box.dataset.tiles, { maxZoom: 19, attribution: box.dataset.attribution || "" }).addTo(map);
    else box.classList.add("plain");
    fetch(box.dataset.src, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (fc) { draw(map, box, fc, names); })
      .catch(function () { box.hidden = true; });
  }

  // Leaflet puts a string into innerHTML: names come from organisations, so give it elements
  function text(lines) {
    var div = document.createElement("div");
    lines.forEach(function (s) { var d = document.createElement("div"); d.textContent = s; div.appendChild(d); });
    return div;
  }

  function colours(fc) {
    var byProduct = {};
    (fc.products || []).forEach(function (p, i) { byProduct[p] = PALETTE[i % PALETTE.length]; });
    return byProduct;
  }

  function draw(map, box, fc, names) {
    var byProduct = colours(fc);
    var mode = "product";
    function colour(f) {
      var p = f.properties;
      return mode === "status" ? STATUS[p.status] : (byProduct[p.product] || STATUS.idle);
    }
    function style(f) { var c = colour(f); return { color: c, fillColor: c, weight: 2, fillOpacity: 0.45 }; }
    var layer = L.geoJSON(fc, {
      style: style,
      pointToLayer: function (f, ll) { return L.circleMarker(ll, { radius: 9 }); },
      onEachFeature: function (f, l) {
        var p = f.properties;
        var lines = [p.name, p.code, p.org, (p.products || []).join(", "), names[p.status] + (p.lotsActive ? " · " + p.lotsActive + " " + box.dataset.lots : "")];
        l.bindPopup(text(lines.filter(Boolean)));
      }
    }).addTo(map);
    labels(map, fc);
    if (layer.getLayers().length) map.fitBounds(layer.getBounds().pad(0.2), { maxZoom: 15 });
    else map.setView([10.45, 105.64], 10);  // Đồng Tháp
    legend(fc, byProduct, names, function () { return mode; });
    var radios = document.getElementById("map-colour");
    radios.hidden = false;
    radios.addEventListener("change", function (e) {
      mode = e.target.value;
      layer.setStyle(style);
      legend(fc, byProduct, names, function () { return mode; });
    });
  }

  // one label per commune, at the middle of its places: the map reads without a tile server
  function labels(map, fc) {
    var groups = {};
    fc.features.forEach(function (f) {
      var c = f.properties.commune;
      if (!c) return;
      var b = L.geoJSON(f).getBounds();
      (groups[c] = groups[c] || L.latLngBounds([])).extend(b);
    });
    Object.keys(groups).forEach(function (c) {
      L.tooltip({ permanent: true, direction: "top", className: "commune-label", offset: [0, -10] })
        .setLatLng(groups[c].getCenter()).setContent(text([c])).addTo(map);
    });
  }

  function legend(fc, byProduct, names, mode) {
    var ul = document.getElementById("map-legend");
    ul.textContent = "";
    var items = mode() === "status" ? Object.keys(STATUS).map(function (k) { return [names[k], STATUS[k]]; })
      : Object.keys(byProduct).map(function (k) { return [k, byProduct[k]]; });
    items.forEach(function (it) {
      var li = document.createElement("li");
      var sw = document.createElementNS("http://www.w3.org/2000/svg", "svg");
      sw.setAttribute("width", "14"); sw.setAttribute("height", "14"); sw.setAttribute("aria-hidden", "true");
      var r = document.createElementNS("http://www.w3.org/2000/svg", "rect");
      r.setAttribute("width", "14"); r.setAttribute("height", "14"); r.setAttribute("fill", it[1]);
      sw.appendChild(r); li.appendChild(sw); li.appendChild(document.createTextNode(" " + it[0]));
      ul.appendChild(li);
    });
    ul.hidden = false;
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
  document.addEventListener("htmx:afterSettle", start);
})();
