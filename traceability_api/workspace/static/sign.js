// Signing in the browser (progressive enhancement: without this file, forms post unsigned and an
// organisation's custodial key, if any, signs at capture).  A member's secp256k1 key is made on
// this device and kept in IndexedDB (idb-keyval) encrypted under a passphrase: PBKDF2-SHA256
// (600,000 iterations, 16-byte salt) -> AES-256-GCM, with WebCrypto.  The private key never leaves
// the device.  A signed form first posts to <action>/prepare: the server answers the event's CBV 2.0
// hash ID and EIP-712 domain; the phone computes the EIP-712 digest itself, in the domain (organisation,
// chain, contract) pinned when the key was made, and refuses a server digest that differs; the key
// signs it (@noble/curves, loaded only here, low s, RFC 6979) and the form is posted with sig and
// signer, which capture verifies.
// Words come from the page (data-msg-* attributes, from the workspace's catalogue).
(function () {
  "use strict";
  if (!window.idbKeyval || !window.crypto || !crypto.subtle) return;
  var kv = window.idbKeyval;
  var store = kv.createStore("agritrace-signing", "keys");
  var ITERATIONS = 600000;
  var noble = null, loading = null;

  function msg(box, name) { return box.getAttribute("data-msg-" + name) || name; }
  function say(box, text, bad) {
    var s = box.querySelector("[data-sign-status]");
    if (s) { s.textContent = text; s.className = bad ? "err" : "hint"; }
  }
  function hex(bytes) {
    return Array.prototype.map.call(bytes, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }
  function unhex(h) {
    h = h.replace(/^0x/, "");
    var out = new Uint8Array(h.length / 2);
    for (var i = 0; i < out.length; i++) out[i] = parseInt(h.substr(i * 2, 2), 16);
    return out;
  }
  function b64(bytes) { return btoa(String.fromCharCode.apply(null, bytes)); }
  function unb64(s) { return Uint8Array.from(atob(s), function (c) { return c.charCodeAt(0); }); }

  function lib(box) {  // the vendored @noble/curves bundle, on the pages that sign only
    if (noble) return Promise.resolve(noble);
    if (!loading) {
      loading = new Promise(function (ok, fail) {
        var el = document.createElement("script");
        el.src = box.getAttribute("data-js");
        el.onload = function () { noble = window.nobleSign; ok(noble); };
        el.onerror = fail;
        document.head.appendChild(el);
      });
    }
    return loading;
  }

  function addressOf(n, priv) {  // EIP-55 checksummed address of the key
    var pub = n.secp256k1.getPublicKey(priv, false);
    var raw = hex(n.keccak_256(pub.slice(1)).slice(-20));
    var check = hex(n.keccak_256(new TextEncoder().encode(raw)));
    var out = "0x";
    for (var i = 0; i < 40; i++) out += parseInt(check[i], 16) >= 8 ? raw[i].toUpperCase() : raw[i];
    return out;
  }

  function aesKey(pass, salt, iterations) {
    return crypto.subtle.importKey("raw", new TextEncoder().encode(pass), "PBKDF2", false, ["deriveKey"])
      .then(function (base) {
        return crypto.subtle.deriveKey({ name: "PBKDF2", hash: "SHA-256", salt: salt, iterations: iterations },
          base, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
      });
  }

  function idOf(box) { return "key:" + box.getAttribute("data-sign-id"); }
  function stored(box) { return kv.get(idOf(box), store); }

  function generate(box, pass) {
    return lib(box).then(function (n) {
      var priv = n.secp256k1.utils.randomPrivateKey();
      var salt = crypto.getRandomValues(new Uint8Array(16)), iv = crypto.getRandomValues(new Uint8Array(12));
      var address = addressOf(n, priv);
      return aesKey(pass, salt, ITERATIONS).then(function (k) {
        return crypto.subtle.encrypt({ name: "AES-GCM", iv: iv, additionalData: new TextEncoder().encode(address) }, k, priv);
      }).then(function (ct) {
        priv.fill(0);
        var rec = { v: 1, address: address, kdf: "PBKDF2-SHA256", iterations: ITERATIONS, salt: b64(salt), iv: b64(iv),
                    ct: b64(new Uint8Array(ct)), created: new Date().toISOString(),
                    domain: JSON.parse(box.getAttribute("data-domain") || "null") };  // pinned: see digestOf
        return kv.set(idOf(box), rec, store).then(function () { return rec; });
      });
    });
  }

  function unlock(box, rec, pass) {  // the private key, or a rejection for a wrong passphrase
    return aesKey(pass, unb64(rec.salt), rec.iterations).then(function (k) {
      return crypto.subtle.decrypt({ name: "AES-GCM", iv: unb64(rec.iv), additionalData: new TextEncoder().encode(rec.address) },
        k, unb64(rec.ct));
    }).then(function (raw) { return new Uint8Array(raw); });
  }

  function sign(n, priv, digest) {  // r || s || v (27/28), as consensus/signatures.py reads it
    var s = n.secp256k1.sign(digest, priv, { lowS: true });
    return "0x" + hex(s.toCompactRawBytes()) + (27 + s.recovery).toString(16);
  }

  // The EIP-712 digest of AgriTraceEvent(string hashId) in the pinned domain, computed here (the
  // rules of consensus/signatures.py): the key signs an AgriTrace event of its organisation, never
  // 32 bytes chosen by the server.
  var HASH_ID = /^ni:\/\/\/sha-256;[0-9a-f]{64}\?ver=CBV2\.0$/;
  function concat(parts) {
    var out = new Uint8Array(parts.reduce(function (n, p) { return n + p.length; }, 0)), at = 0;
    parts.forEach(function (p) { out.set(p, at); at += p.length; });
    return out;
  }
  function digestOf(n, domain, hashId) {
    var k = function (b) { return n.keccak_256(b); }, utf8 = function (t) { return new TextEncoder().encode(t); };
    var chain = unhex(("0".repeat(64) + BigInt(domain.chainId).toString(16)).slice(-64));
    var contract = concat([new Uint8Array(12), unhex(domain.contract)]);
    var sep = k(concat([k(utf8("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract,bytes32 salt)")),
      k(utf8("AgriTrace")), k(utf8("1")), chain, contract, k(utf8(domain.org))]));
    var struct = k(concat([k(utf8("AgriTraceEvent(string hashId)")), k(utf8(hashId))]));
    return k(concat([new Uint8Array([0x19, 0x01]), sep, struct]));
  }
  function sameDomain(a, b) {
    return String(a.chainId) === String(b.chainId) && a.contract.toLowerCase() === b.contract.toLowerCase() && a.org === b.org;
  }

  // ---- the keys page: make a key, show its address and whether it is registered ----
  function showKey(box) {
    stored(box).then(function (rec) {
      var out = box.querySelector("[data-sign-address]"), make = box.querySelector("[data-sign-make]");
      var reg = JSON.parse(box.getAttribute("data-registered") || "[]");
      box.querySelector("[data-sign-forget]").hidden = !rec;
      if (!rec) { out.textContent = msg(box, "none"); make.hidden = false; say(box, ""); return; }
      make.hidden = true;
      out.textContent = rec.address;
      say(box, reg.indexOf(rec.address.toLowerCase()) >= 0 ? msg(box, "registered") : msg(box, "unregistered"));
    });
  }

  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("[data-sign-create]");
    if (!button) return;
    var box = button.closest("[data-sign-keys]");
    var p1 = box.querySelector("[data-sign-new]"), p2 = box.querySelector("[data-sign-again]");
    if (p1.value.length < 8) { say(box, msg(box, "short"), true); return; }
    if (p1.value !== p2.value) { say(box, msg(box, "mismatch"), true); return; }
    say(box, msg(box, "working"));
    button.disabled = true;
    generate(box, p1.value).then(function () { p1.value = p2.value = ""; showKey(box); },
      function () { say(box, msg(box, "failed"), true); }).then(function () { button.disabled = false; });
  });

  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("[data-sign-forget]");
    if (!button) return;
    var box = button.closest("[data-sign-keys]");
    if (window.confirm(msg(box, "forget"))) kv.del(idOf(box), store).then(function () { showKey(box); });
  });

  // ---- signed forms: prepare, sign on the device, post with sig and signer ----
  document.addEventListener("submit", function (e) {
    var form = e.target, box = form.querySelector && form.querySelector("[data-sign]");
    if (!box || box.hidden || form.dataset.signed === "1" || form.dataset.unsigned === "1") return;
    e.preventDefault();
    e.stopImmediatePropagation();  // before htmx: the form is posted again once signed
    var pass = box.querySelector("input[type=password]").value;
    if (!pass) { say(box, msg(box, "pass"), true); return; }
    var rec, n;
    say(box, msg(box, "working"));
    stored(box).then(function (r) {
      rec = r;
      return lib(box);
    }).then(function (x) {
      n = x;
      return unlock(box, rec, pass).catch(function () { throw new Error("wrong"); });
    }).then(function (priv) {
      var fd = new FormData(form);
      fd.delete("idempotency_key");
      fd.set("signer", rec.address);
      return fetch(box.getAttribute("data-prepare"), { method: "POST", body: fd, credentials: "same-origin" })
        .then(function (res) {
          return res.json().then(function (body) { return { status: res.status, body: body }; });
        }).then(function (r) {
          if (r.status === 422) { form.dataset.unsigned = "1"; return "post"; }  // the page shows what is wrong
          if (r.status !== 200) { form.dataset.unsigned = "1"; say(box, r.body.message || msg(box, "failed"), true); return null; }
          var domain = { chainId: r.body.chainId, contract: r.body.contract, org: r.body.org };
          if (rec.domain && !sameDomain(rec.domain, domain)) throw new Error("domain");
          var digest = HASH_ID.test(r.body.hashId) && digestOf(n, domain, r.body.hashId);
          if (!digest || "0x" + hex(digest) !== r.body.digest) throw new Error("digest");
          if (!rec.domain) { rec.domain = domain; kv.set(idOf(box), rec, store); }  // a key made before the registry: pin now
          form.querySelector("[name=sig]").value = sign(n, priv, digest);
          form.querySelector("[name=signer]").value = r.body.signer;
          form.querySelector("[name=signed_time]").value = r.body.eventTime || "";
          form.dataset.signed = "1";
          return "post";
        }).finally(function () { priv.fill(0); });
    }).then(function (go) {
      if (go === "post") form.requestSubmit();
    }, function (err) {
      var why = err && err.message;
      say(box, msg(box, why === "wrong" || why === "domain" || why === "digest" ? why : "failed"), true);
    });
  }, true);

  // the consensus rules as pure functions, for the vectors test (tests/test_workspace_signing_browser.py)
  window.agritraceSigning = { digestOf: digestOf, sign: sign, addressOf: addressOf, hex: hex, unhex: unhex };

  function init() {
    document.querySelectorAll("[data-sign-keys]").forEach(showKey);
    document.querySelectorAll("[data-sign]").forEach(function (box) {
      stored(box).then(function (rec) {
        if (!rec) return;
        box.hidden = false;  // this device holds a key: ask for its passphrase when saving
        var who = box.querySelector("[data-sign-address]");
        if (who) who.textContent = rec.address;
        lib(box);
      });
    });
  }
  document.addEventListener("htmx:load", function (e) { if (e.target === document.body || e.target.id === "main") init(); });
  init();
})();
