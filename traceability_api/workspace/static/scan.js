// Barcode scanning for the diary's input (progressive enhancement: without this file, or without a
// camera, the product field is a plain text field).  The camera is decoded by @zxing/library,
// loaded only when the scan button is tapped; a photo of the barcode is decoded by the server.
// Both end at POST /app/scan, which reads GS1 syntax and names a known product.
(function () {
  document.documentElement.classList.add("js");
  var reader = null, loading = false;
  var vi = document.documentElement.lang !== "en";
  var SAY = vi
    ? { cam: "Không mở được máy ảnh: hãy chụp ảnh mã vạch.", look: "Đưa mã vạch vào khung hình…", stop: "Dừng quét",
        nogtin: "Mã không chứa GTIN: ", fail: "Không đọc được mã vạch.", exp: "HSD", lot: "lô", wait: "Đang đọc ảnh…" }
    : { cam: "The camera cannot be opened: take a photo of the barcode.", look: "Point the camera at the barcode…",
        stop: "Stop scanning", nogtin: "The code carries no GTIN: ", fail: "No barcode could be read.", exp: "expiry",
        lot: "lot", wait: "Reading the photo…" };

  function box(el) { return el.closest("[data-scan]"); }
  function say(b, text) { b.querySelector("[data-scan-status]").textContent = text; }
  function field(b, name) { return b.closest("form").querySelector("[name=" + name + "]"); }

  function fill(b, r) {
    if (!r.gtin) { say(b, SAY.nogtin + (r.text || "")); return; }
    field(b, "product").value = r.name ? r.name.slice(0, 180) + " (" + r.gtin + ")" : r.gtin;  // max 200
    var lot = field(b, "supplier_lot");
    if (r.lot && lot) lot.value = r.lot;
    var note = field(b, "note"), exp = SAY.exp + " " + r.expiry;
    if (r.expiry && note && note.value.indexOf(exp) < 0) note.value = (note.value ? note.value + "\n" : "") + exp;
    say(b, [r.name || "GTIN " + r.gtin, r.lot ? SAY.lot + " " + r.lot : "", r.expiry ? exp : ""].filter(Boolean).join(" · "));
  }

  function send(b, body, offlineCode) {
    body.append("csrf", b.closest("form").querySelector("[name=csrf]").value);
    return fetch("/app/scan", { method: "POST", body: body, credentials: "same-origin" }).then(function (res) {
      return res.json().then(function (r) {
        if (res.ok) fill(b, r); else say(b, r.error || SAY.fail);
      }, function () { say(b, SAY.fail); });
    }, function () {  // offline: the GTIN of a plain code, a GS1 element string or a Digital Link
      var d = offlineCode || "", m = /^(\d{8}|\d{12,14})$/.exec(d) || /^(?:\][A-Za-z]\d)?\(?01\)?(\d{14})/.exec(d) ||
        /^https?:\/\/[^?#]*\/01\/(\d{14})/.exec(d);
      if (m) fill(b, { gtin: ("00000000000000" + m[1]).slice(-14) });
      else say(b, SAY.fail);
    });
  }

  function stop(b) {
    if (reader) reader.reset();
    var v = b.querySelector("[data-scan-video]"), btn = b.querySelector("[data-scan-camera]");
    v.hidden = true;
    btn.textContent = btn.dataset.label;
    b.dataset.running = "";
  }

  function start(b) {
    var Z = window.ZXing, v = b.querySelector("[data-scan-video]"), btn = b.querySelector("[data-scan-camera]");
    var hints = new Map(), F = Z.BarcodeFormat;
    hints.set(Z.DecodeHintType.POSSIBLE_FORMATS, [F.EAN_13, F.EAN_8, F.UPC_A, F.ITF, F.CODE_128, F.DATA_MATRIX, F.QR_CODE]);
    reader = reader || new Z.BrowserMultiFormatReader(hints);
    v.hidden = false;
    btn.dataset.label = btn.dataset.label || btn.textContent;
    btn.textContent = SAY.stop;
    b.dataset.running = "1";
    say(b, SAY.look);
    reader.decodeFromConstraints({ video: { facingMode: { ideal: "environment" } } }, v, function (result) {
      if (!result || !b.dataset.running) return;
      stop(b);
      var text = result.getText(), body = new FormData();
      body.append("code", text);
      send(b, body, text);
    }).catch(function () { stop(b); say(b, SAY.cam); });
  }

  document.addEventListener("click", function (e) {
    var btn = e.target.closest && e.target.closest("[data-scan-camera]");
    if (!btn) return;
    e.preventDefault();
    var b = box(btn);
    if (b.dataset.running) { stop(b); return; }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { say(b, SAY.cam); return; }
    if (window.ZXing) { start(b); return; }
    if (loading) return;
    loading = true;
    var s = document.createElement("script");
    s.src = btn.dataset.js;
    s.onload = function () { loading = false; start(b); };
    s.onerror = function () { loading = false; say(b, SAY.cam); };
    document.head.appendChild(s);
  });

  document.addEventListener("change", function (e) {
    var input = e.target.closest && e.target.closest("[data-scan-photo]");
    if (!input || !input.files || !input.files[0]) return;
    var b = box(input), body = new FormData();
    body.append("photo", input.files[0]);
    say(b, SAY.wait);
    send(b, body, "").then(function () { input.value = ""; });
  });
})();
