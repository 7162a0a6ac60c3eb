// Offline records (progressive enhancement: without this file every form still posts).
// With no network, a diary entry, a harvest or a receipt is kept in IndexedDB (idb-keyval) with an
// idempotency key made on the phone; when the network returns each is sent once with that key
// (a lost answer re-sent gets the first answer back, never a second record). The server's refusal
// of a record is shown in words, in the page's language.
(function () {
  "use strict";
  if (!window.idbKeyval) return;
  var kv = window.idbKeyval;
  var pending = kv.createStore("agritrace-offline", "pending");
  var refusedStore = kv.createStore("agritrace-refused", "refused");
  var vi = (document.documentElement.lang || "vi") === "vi";
  var T = vi ? {
    waiting: function (n) { return "Chưa gửi: " + n + " bản ghi (sẽ tự gửi khi có mạng)"; },
    offline: "Đang mất mạng: bản ghi được lưu trên máy.",
    kept: "Đã lưu trên máy. Sẽ gửi khi có mạng.",
    signin: "Hãy đăng nhập lại để gửi các bản ghi đang chờ.",
    refused: "Máy chủ không nhận bản ghi",
    diary: "nhật ký", harvest: "thu hoạch", receipt: "nhận hàng", ok: "Đã hiểu", unknown: "dữ liệu không hợp lệ"
  } : {
    waiting: function (n) { return "Not sent yet: " + n + " record(s) (sent when the network returns)"; },
    offline: "Offline: records are kept on this phone.",
    kept: "Kept on this phone. It will be sent when the network returns.",
    signin: "Sign in again to send the waiting records.",
    refused: "The server refused the record",
    diary: "diary", harvest: "harvest", receipt: "receipt", ok: "Dismiss", unknown: "invalid data"
  };

  function kindOf(form) {
    var a = form.getAttribute("action") || "";
    if (a === "/app/diary") return "diary";
    if (a === "/app/harvest") return "harvest";
    if (/^\/app\/receive\/\d+$/.test(a)) return "receipt";
    return null;
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }

  function contentOf(form) {  // what a post of this form says, but for its tokens
    var parts = [];
    new FormData(form).forEach(function (v, n) {
      if (n === "csrf" || n === "idempotency_key") return;
      parts.push(n + "=" + (v instanceof File ? v.name + ":" + v.size + ":" + v.lastModified : v));
    });
    return parts.join("&");
  }

  function box(id, role) {
    var el = document.getElementById(id);
    if (el) return el;
    var main = document.getElementById("main");
    if (!main) return null;
    el = document.createElement("div");
    el.id = id;
    el.setAttribute("role", role);
    main.insertBefore(el, main.firstChild);
    return el;
  }

  function show() {
    Promise.all([kv.keys(pending), kv.entries(refusedStore)]).then(function (r) {
      var n = r[0].length, status = box("offline-status", "status");
      if (status) {
        var lines = [];
        if (!navigator.onLine) lines.push(T.offline);
        if (n) lines.push(T.waiting(n));
        status.textContent = lines.join(" ");
        status.className = lines.length ? "ok" : "";
        status.dataset.pending = String(n);
      }
      var list = box("offline-refused", "alert");
      if (!list) return;
      list.textContent = "";
      r[1].forEach(function (e) {
        var p = document.createElement("p");
        p.className = "alert";
        p.textContent = T.refused + " (" + T[e[1].kind] + ", " + new Date(e[1].at).toLocaleString(vi ? "vi-VN" : "en-GB") +
          "): " + e[1].message + " ";
        var b = document.createElement("button");
        b.type = "button";
        b.textContent = T.ok;
        b.addEventListener("click", function () { kv.del(e[0], refusedStore).then(show); });
        p.appendChild(b);
        list.appendChild(p);
      });
    });
  }

  document.addEventListener("submit", function (e) {
    var form = e.target, kind = kindOf(form);
    if (!kind) return;
    if (navigator.onLine) {  // online: the key still makes a double tap one record
      // ... but only while the form says the same: Back after a save brings the page back from
      // htmx's history with its key (and the selects reset), and that key on another record was
      // refused as "already used for a different request"
      var said = contentOf(form), k = form.querySelector("input[name=idempotency_key]");
      if (!k) {
        k = document.createElement("input");
        k.type = "hidden"; k.name = "idempotency_key";
        form.appendChild(k);
      }
      if (!k.value || k.getAttribute("data-for") !== said) {
        k.value = newKey();
        k.setAttribute("data-for", said);
      }
      return;
    }
    e.preventDefault();
    e.stopImmediatePropagation();  // before htmx: nothing to send now
    var fields = [], key = newKey();
    new FormData(form).forEach(function (v, n) {
      if (n === "csrf" || n === "idempotency_key") return;
      if (v instanceof File && !v.size) return;
      fields.push([n, n === "idem" ? key : v]);  // the page's own per-form key: one per record, not per copy
    });
    var rec = { kind: kind, action: form.getAttribute("action"), key: key, at: Date.now(), fields: fields };
    kv.set(rec.at + "-" + rec.key, rec, pending).then(function () {
      if (kind !== "receipt") form.reset();
      var s = box("offline-kept", "status");
      if (s) { s.textContent = T.kept; s.className = "ok"; }
      show();
    });
  }, true);

  function messageOf(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var parts = [];
    doc.querySelectorAll("main [role=alert], main .err").forEach(function (el) {
      var t = el.textContent.trim(), field = el.id && el.id.slice(-4) === "-err" ? el.id.slice(0, -4) : "";
      var label = field && doc.querySelector("label[for='" + field + "']");
      if (label) t = label.textContent.trim() + ": " + t;
      if (t && parts.indexOf(t) < 0) parts.push(t);
    });
    return parts.join(" · ") || T.unknown;
  }

  var flushing = false;
  function flush() {
    if (flushing || !navigator.onLine) return;
    var csrf = document.querySelector("input[name=csrf]");
    if (!csrf) return;
    flushing = true;
    kv.entries(pending).then(function (all) {
      all.sort(function (a, b) { return a[0] < b[0] ? -1 : 1; });
      var chain = Promise.resolve(true);
      all.forEach(function (entry) {
        chain = chain.then(function (go) { return go && send(entry[0], entry[1], csrf.value); });
      });
      return chain;
    }).catch(function () {}).then(function () { flushing = false; show(); });
  }

  function send(id, rec, csrf) {
    var fd = new FormData();
    rec.fields.forEach(function (f) { fd.append(f[0], f[1]); });
    fd.append("csrf", csrf);
    return fetch(rec.action, {
      method: "POST", body: fd, credentials: "same-origin", headers: { "Idempotency-Key": rec.key }
    }).then(function (r) {
      if (r.redirected && new URL(r.url).pathname === "/app/login") {
        var s = box("offline-kept", "status");
        if (s) s.textContent = T.signin;
        return false;
      }
      if (r.ok) return kv.del(id, pending).then(function () { return true; });
      if (r.status === 403 || r.status === 409 || r.status === 429 || r.status >= 500) return false;  // later
      return r.text().then(function (html) {
        rec.message = messageOf(html);
        return kv.set(id, rec, refusedStore).then(function () { return kv.del(id, pending); });
      }).then(function () { return true; });
    }, function () { return false; });  // the network went again: keep it
  }

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/app/sw.js", { scope: "/app" }).catch(function () {});
  }
  document.addEventListener("submit", function (e) {
    if ((e.target.getAttribute("action") || "") === "/app/logout" && window.caches) {
      caches.keys().then(function (ks) { ks.forEach(function (k) { if (k.indexOf("agt-app-") === 0) caches.delete(k); }); });
    }
  });
  window.addEventListener("online", function () { show(); flush(); });
  window.addEventListener("offline", show);
  document.addEventListener("htmx:load", show);
  setInterval(flush, 30000);
  show();
  flush();
})();
