// Progressive enhancement only: every form works without this file.
document.addEventListener("click", function (e) {
  var b = e.target.closest && e.target.closest("[data-locate]");
  if (!b || !navigator.geolocation) return;
  e.preventDefault();
  navigator.geolocation.getCurrentPosition(function (pos) {
    document.getElementById("lat").value = pos.coords.latitude.toFixed(6);
    document.getElementById("lon").value = pos.coords.longitude.toFixed(6);
  });
});
