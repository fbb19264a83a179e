// The join page without JavaScript is a plain form with a town; this adds a map to drop a pin instead.
// It needs nothing from the server: the pin fills the hidden lat and lon fields the form already has.
(function () {
  "use strict";
  var pin = document.getElementById("pin");
  if (!pin || typeof L === "undefined") return;
  var lat = document.getElementById("lat");
  var lon = document.getElementById("lon");
  var town = document.getElementById("town");
  var status = document.getElementById("pin-status");
  var clear = document.getElementById("clear-pin");
  pin.hidden = false;

  var map = L.map("map", { zoomControl: true }).setView([54.5, -3.0], 5);
  var url = document.body.dataset.basemapUrl;
  if (url) {
    L.tileLayer(url, { attribution: document.body.dataset.basemapAttribution, maxZoom: 18 }).addTo(map);
  } else {
    document.body.classList.add("no-basemap");
  }
  var marker = null;

  function show(latlng) {
    if (marker) marker.setLatLng(latlng); else marker = L.marker(latlng).addTo(map);
    lat.value = latlng.lat.toFixed(5);
    lon.value = latlng.lng.toFixed(5);
    town.value = "";
    town.disabled = true;
    status.textContent = "Pin placed. We use it instead of a town.";
    clear.hidden = false;
  }

  map.on("click", function (e) { show(e.latlng); });
  clear.addEventListener("click", function () {
    if (marker) { map.removeLayer(marker); marker = null; }
    lat.value = ""; lon.value = "";
    town.disabled = false;
    status.textContent = "";
    clear.hidden = true;
  });
  if (lat.value && lon.value) {
    var kept = L.latLng(parseFloat(lat.value), parseFloat(lon.value));
    show(kept);
    map.setView(kept, 11);
  }
})();
