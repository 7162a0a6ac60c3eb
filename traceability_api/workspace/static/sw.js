// AgriTrace workspace service worker (scope /app/). Pages: network first, the last copy kept for
// offline use; static files (content-hashed URLs): cache first. Records made offline are kept by
// offline.js in IndexedDB and sent by the page when the network returns (not by this worker).
var CACHE = "agt-app-__VERSION__";
var ASSETS = __ASSETS__;
var PAGES = __PAGES__;

self.addEventListener("install", function (e) {
  e.waitUntil(caches.open(CACHE).then(function (c) {
    return c.addAll(ASSETS).then(function () {
      return Promise.all(PAGES.map(function (p) {
        return fetch(p, { credentials: "same-origin" }).then(function (r) {
          if (r.ok && !r.redirected) return c.put(p, r);
        }).catch(function () {});
      }));
    });
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf("agt-app-") === 0 && k !== CACHE; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (e) {
  var req = e.request;
  var url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== self.location.origin || url.pathname.indexOf("/app") !== 0) return;
  if (url.pathname.indexOf("/app/static/") === 0) {
    e.respondWith(caches.match(req).then(function (hit) { return hit || fetch(req); }));
    return;
  }
  if (req.mode !== "navigate" && !req.headers.get("HX-Request")) return;
  var key = url.pathname;
  e.respondWith(fetch(req).then(function (r) {
    if (r.ok && !r.redirected && PAGES.indexOf(key) >= 0 && !req.headers.get("HX-Request")) {
      var copy = r.clone();
      caches.open(CACHE).then(function (c) { c.put(key, copy); });
    }
    return r;
  }).catch(function () {
    return caches.match(key).then(function (hit) {
      return hit || caches.match("/app") || new Response("offline", { status: 503 });
    });
  }));
});
