/* The nvr map page: sign in with a token, then draw what that token may see.
 *
 * The token lives in sessionStorage (gone when the tab closes) and travels only in the Authorization
 * header: vector tiles and the live event stream are read with fetch, not <img> or EventSource, so the
 * token never appears in a URL, a server log or the browser history. Nothing from the API is written
 * as HTML: every text goes in with textContent, and tooltips and popups are given DOM nodes, never
 * strings (Leaflet writes a string tooltip with innerHTML). Leaflet 1.9.4 is vendored under static/leaflet. */
(function () {
  "use strict";

  const TOKEN_KEY = "nvr.token";
  const UK_CENTRE = [54.6, -3.4];
  const STATUS_COLOURS = { called: "#e69f00", accepted: "#1a9850" };
  const STATUS_LABELS = { called: "Called, no answer yet", accepted: "Accepted" };
  // Colour by people per km², so a colour means the same at every zoom (squares are 1, 5 or 25 km).
  const DENSITY_SCALE = [
    [50, "#253494", "50 or more"],
    [10, "#2c7fb8", "10–50"],
    [2, "#41b6c4", "2–10"],
    [0.5, "#7fcdbb", "0.5–2"],
    [0, "#c7e9b4", "under 0.5"],
  ];
  const RETRY_MS = 3000;

  const body = document.body;
  const $ = (id) => document.getElementById(id);
  const stats = { area: 0, incidents: 0, rendezvous: 0, callouts: 0, accepted: 0, capacity: 0, gaps: 0, events: 0 };
  const state = {
    token: sessionStorage.getItem(TOKEN_KEY),
    me: null,
    area: null,
    skill: "*",
    stream: null,
    incidents: new Map(),
    callouts: new Map(),
    people: new Map(),
    boxes: new Map(),
  };

  const map = L.map("map", { zoomSnap: 0.5 }).setView(UK_CENTRE, 6);
  if (body.dataset.basemapUrl) {
    L.tileLayer(body.dataset.basemapUrl, { attribution: body.dataset.basemapAttribution, maxZoom: 19 }).addTo(map);
  } else {
    body.classList.add("no-basemap");
  }

  // Panes fix the drawing order however often a layer is redrawn: gaps, then incidents, then people.
  for (const [pane, zIndex] of [["gaps", 402], ["incidents", 404], ["callouts", 640]]) {
    map.createPane(pane).style.zIndex = String(zIndex);
  }

  const areaLayer = L.geoJSON(null, {
    style: () =>
      state.area
        ? { color: "#3b3b98", weight: 2, fill: false, dashArray: "6 4" }
        : { color: "#5b6470", weight: 1, fill: false },
    interactive: false,
  });
  const incidentLayer = L.layerGroup();
  const calloutLayer = L.layerGroup();
  const capacityGroup = L.layerGroup();
  const gapLayer = L.geoJSON(null, {
    pane: "gaps",
    style: { color: "#c0392b", weight: 1, fillColor: "#e74c3c", fillOpacity: 0.35 },
    onEachFeature: (feature, layer) => layer.bindTooltip(() => el("span", null, gapText(feature.properties))),
  });
  let capacityTiles = null;
  let layersControl = null;
  const legend = L.control({ position: "bottomright" });
  legend.onAdd = () => L.DomUtil.create("div", "legend");

  window.nvrMap = { map, stats, state };

  function setStatus(text) {
    $("status").textContent = text;
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  async function api(path, options = {}) {
    const headers = Object.assign({ Authorization: "Bearer " + state.token }, options.headers || {});
    const response = await fetch(path, Object.assign({}, options, { headers }));
    if (response.status === 401) {
      signOut("That token was not accepted; sign in again.");
      throw new Error("unauthorized");
    }
    return response;
  }

  async function getJson(path) {
    const response = await api(path);
    if (!response.ok) throw new Error(path.split("?")[0] + ": HTTP " + response.status);
    return response.json();
  }

  function query(extra) {
    const params = new URLSearchParams(extra || {});
    if (state.area) params.set("area", state.area);
    const text = params.toString();
    return text ? "?" + text : "";
  }

  /* Signing in and out */

  nvrSession.listen(TOKEN_KEY, (token) => {
    state.token = token;
    start();
  }, signOut);

  function signOut(message) {
    stopStream();
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = null;
    state.me = null;
    clearData();
    if (layersControl) {
      layersControl.remove();
      layersControl = null;
    }
    legend.remove();
    $("controls").hidden = true;
    $("incidents-panel").hidden = true;
    nvrSession.showSignedOut();
    setStatus(message || "");
  }

  async function start() {
    setStatus("Signing in…");
    const me = await nvrSession.whoAmI(getJson, (message) => state.token && signOut(message));
    if (!me) return;
    state.me = me;
    $("controls").hidden = false;
    $("incidents-panel").hidden = false;
    fillSkills(me.skills);
    await fillAreas(me);
    buildControls();
    await load();
  }

  function fillSkills(skills) {
    const select = $("skill");
    select.replaceChildren(new Option("Anyone", "*"));
    for (const skill of skills) select.add(new Option(skill.name, skill.code));
    select.value = state.skill;
  }

  async function fillAreas(me) {
    const select = $("area");
    if (me.area) {
      state.boxes.set(me.area.code, me.area.bbox);
      select.replaceChildren(new Option(me.area.name, me.area.code));
      select.disabled = true;
      state.area = me.area.code;
      return;
    }
    const areas = await getJson("/api/v1/areas");
    select.replaceChildren(new Option("All of the UK", ""));
    for (const area of areas.items) {
      state.boxes.set(area.code, area.bbox);
      select.add(new Option(area.name, area.code));
    }
    select.disabled = false;
    select.value = state.area || "";
  }

  function buildControls() {
    if (layersControl) layersControl.remove();
    const overlays = { "Area outline": areaLayer, Incidents: incidentLayer };
    if (!isViewer()) overlays["Call-ups by status"] = calloutLayer;
    overlays["Capacity (volunteers per km²)"] = capacityGroup;
    overlays["Coverage gaps"] = gapLayer;
    for (const layer of Object.values(overlays)) layer.addTo(map);
    layersControl = L.control.layers(null, overlays, { collapsed: false, position: "topright" }).addTo(map);
    legend.addTo(map);
    drawLegend();
  }

  const isViewer = () => state.me && state.me.role === "lrf_viewer";

  $("area").addEventListener("change", () => {
    state.area = $("area").value || null;
    load();
  });
  $("skill").addEventListener("change", () => {
    state.skill = $("skill").value;
    showCapacity();
    loadGaps();
  });
  $("gap-n").addEventListener("change", () => loadGaps());
  $("gap-km").addEventListener("change", () => loadGaps());

  /* Loading the layers */

  function clearData() {
    areaLayer.clearLayers();
    incidentLayer.clearLayers();
    calloutLayer.clearLayers();
    capacityGroup.clearLayers();
    gapLayer.clearLayers();
    capacityTiles = null;
    state.incidents.clear();
    state.callouts.clear();
    state.people.clear();
    $("incident-list").replaceChildren();
    Object.keys(stats).forEach((key) => (stats[key] = 0));
  }

  async function load() {
    body.dataset.state = "loading";
    stopStream();
    clearData();
    setStatus("Loading…");
    try {
      await loadArea();
      await loadIncidents();
      showCapacity();
      await loadGaps();
      startStream();
      body.dataset.state = "ready";
      setStatus("");
    } catch (error) {
      if (state.token) {
        body.dataset.state = "error";
        setStatus("Could not load the map: " + error.message);
      }
    }
  }

  async function loadArea() {
    const outlines = await getJson("/api/v1/map/areas" + query());
    areaLayer.addData(outlines);
    stats.area = outlines.features.length;
    if (state.area && stats.area) map.fitBounds(areaLayer.getBounds(), { padding: [20, 20] });
    else map.setView(UK_CENTRE, 6);
  }

  async function loadIncidents() {
    const collection = await getJson("/api/v1/map/incidents" + query());
    const rendezvous = new Map();
    for (const feature of collection.features) {
      if (feature.properties.layer === "rendezvous") rendezvous.set(feature.properties.incident_id, feature);
    }
    for (const feature of collection.features) {
      if (feature.properties.layer === "incident") showIncident(feature, rendezvous.get(feature.properties.incident_id));
    }
    if (!isViewer()) {
      await Promise.all([...state.incidents.keys()].map((id) => loadCallouts(id)));
    }
    drawLegend();
  }

  /* Draw an incident, or redraw it when it changed. The live stream's first poll re-sends every
     incident the page has just loaded: an unchanged one is left alone, so a tooltip or popup a person
     has open stays open, and a changed one reopens the rendezvous tooltip that was open. */
  function showIncident(feature, rendezvous) {
    const id = feature.properties.incident_id;
    const known = state.incidents.get(id);
    const point = rendezvous || (known && known.rendezvous);
    const drawn = JSON.stringify([feature, point || null]);
    if (known && known.drawn === drawn) return;
    const tooltipWasOpen = Boolean(known && known.marker && known.marker.isTooltipOpen());
    if (known) incidentLayer.removeLayer(known.layer);
    if (feature.properties.status !== "open") {
      state.incidents.delete(id);
      countIncidents();
      return;
    }
    const group = L.featureGroup();
    L.geoJSON(feature, {
      pane: "incidents",
      style: { color: "#8e44ad", weight: 2, fillOpacity: 0.05 },
      pointToLayer: (f, latlng) =>
        L.circle(latlng, {
          pane: "incidents",
          radius: Math.max(f.properties.radius_km, 0.5) * 1000,
          color: "#8e44ad",
          weight: 2,
          fillOpacity: 0.05,
        }),
    }).addTo(group);
    let marker = null;
    if (point) {
      L.geoJSON(point, {
        pointToLayer: (f, latlng) =>
          (marker = L.circleMarker(latlng, {
            pane: "incidents",
            radius: 7,
            color: "#222",
            weight: 3,
            fillColor: "#fff",
            fillOpacity: 1,
          }).bindTooltip(() => el("span", "rendezvous-text", "Rendezvous: " + (f.properties.text || "")))),
      }).addTo(group);
    }
    group.bindPopup(() => incidentCard(feature));
    group.addTo(incidentLayer);
    if (marker && tooltipWasOpen) marker.openTooltip();
    state.incidents.set(id, { feature, layer: group, rendezvous: point, marker, drawn });
    countIncidents();
  }

  function countIncidents() {
    stats.incidents = state.incidents.size;
    stats.rendezvous = [...state.incidents.values()].filter((i) => i.rendezvous).length;
    renderIncidentList();
  }

  function incidentCard(feature) {
    const p = feature.properties;
    const card = el("div", "incident-card");
    const title = el("strong", null, p.title);
    card.append(title);
    if (p.exercise) card.append(" ", el("span", "badge", "EXERCISE"));
    card.append(el("div", "meta", p.kind + " · " + p.place));
    const table = el("table", "needs");
    const head = table.insertRow();
    for (const label of ["Skill", "Need", "Accepted", "Waiting", "Declined"]) head.append(el("th", null, label));
    for (const need of p.needs) {
      const row = table.insertRow();
      row.dataset.skill = need.skill;
      row.append(el("td", null, need.skill.replace(/_/g, " ")), el("td", null, need.count));
      row.append(el("td", "accepted", need.accepted), el("td", "pending", need.pending), el("td", "declined", need.declined));
    }
    card.append(table);
    return card;
  }

  function renderIncidentList() {
    const list = $("incident-list");
    list.replaceChildren();
    if (state.incidents.size === 0) {
      list.append(el("li", "empty", "No open incidents in this area."));
      return;
    }
    for (const { feature, layer } of state.incidents.values()) {
      const item = el("li");
      item.dataset.incident = feature.properties.incident_id;
      const link = el("button", "link", feature.properties.title);
      link.type = "button";
      link.addEventListener("click", () => {
        map.fitBounds(layer.getBounds(), { maxZoom: 12, padding: [30, 30] });
        layer.openPopup();
      });
      item.append(link, incidentCard(feature).querySelector("table"));
      list.append(item);
    }
  }

  async function loadCallouts(incidentId) {
    const collection = await getJson("/api/v1/map/incidents/" + incidentId + "/callouts");
    updateCallouts(collection.features);
  }

  function updateCallouts(features) {
    for (const feature of features) {
      const p = feature.properties;
      const marker = state.callouts.get(p.callout_id);
      if (!feature.geometry || !STATUS_COLOURS[p.status]) {
        if (marker) {
          calloutLayer.removeLayer(marker);
          state.callouts.delete(p.callout_id);
        }
        continue;
      }
      const style = { pane: "callouts", color: "#333", weight: 1, radius: 6, fillColor: STATUS_COLOURS[p.status], fillOpacity: 0.95 };
      if (marker) {
        marker.setStyle(style);
        marker.feature = feature;
        marker.getElement() && (marker.getElement().dataset.status = p.status);
      } else {
        const [lon, lat] = feature.geometry.coordinates;
        const created = L.circleMarker([lat, lon], style);
        created.feature = feature;
        created.bindPopup(() => calloutCard(created.feature));
        created.addTo(calloutLayer);
        created.getElement() && (created.getElement().dataset.status = p.status);
        state.callouts.set(p.callout_id, created);
      }
    }
    stats.callouts = state.callouts.size;
    stats.accepted = [...state.callouts.values()].filter((m) => m.feature.properties.status === "accepted").length;
    drawLegend();
  }

  function calloutCard(feature) {
    const p = feature.properties;
    const card = el("div", "callout-card");
    card.append(el("strong", null, STATUS_LABELS[p.status] || p.status));
    card.append(el("div", "meta", p.skill.replace(/_/g, " ") + " · wave " + p.wave + " · " + p.distance_km.toFixed(1) + " km"));
    const who = el("div", "who");
    const reveal = el("button", "link", "Show name and phone");
    reveal.type = "button";
    reveal.addEventListener("click", async () => {
      reveal.disabled = true;
      try {
        const person = await personOf(p.incident_id, p.callout_id);
        who.replaceChildren(el("div", null, person.name), el("div", null, person.phone || "no phone"));
      } catch (error) {
        who.textContent = "Not available: " + error.message;
      }
    });
    who.append(reveal);
    card.append(who);
    return card;
  }

  /* Names and phones come from the coordinators' incident API, only when asked for, never in map data. */
  async function personOf(incidentId, calloutId) {
    if (!state.people.has(incidentId)) {
      state.people.set(incidentId, await getJson("/api/v1/incidents/" + incidentId + "/callouts"));
    }
    const found = state.people.get(incidentId).find((c) => c.id === calloutId);
    if (!found) throw new Error("call-up not found");
    return found;
  }

  /* Capacity: vector tiles painted on canvas */

  const CapacityTiles = L.GridLayer.extend({
    initialize(options) {
      L.GridLayer.prototype.initialize.call(this, options);
      this.counts = new Map();
      this.on("tileunload", (event) => {
        const key = this._tileCoordsToKey(event.coords);
        stats.capacity -= this.counts.get(key) || 0;
        this.counts.delete(key);
      });
    },

    createTile(coords, done) {
      const tile = L.DomUtil.create("canvas", "capacity-tile");
      const size = this.getTileSize();
      tile.width = size.x;
      tile.height = size.y;
      const path = "/tiles/capacity/" + coords.z + "/" + coords.x + "/" + coords.y + ".mvt" + query({ skill: this.options.skill });
      api(path)
        .then((response) => {
          if (!response.ok) throw new Error("tile HTTP " + response.status);
          const asOf = response.headers.get("Last-Modified");
          if (asOf) $("capacity-note").textContent = "Capacity counted " + new Date(asOf).toLocaleString("en-GB") + ".";
          return response.arrayBuffer();
        })
        .then((buffer) => {
          const layer = NvrMvt.decode(buffer).capacity;
          const drawn = layer ? paint(tile, layer) : 0;
          const key = this._tileCoordsToKey(coords);
          this.counts.set(key, drawn);
          stats.capacity += drawn;
          done(null, tile);
        })
        .catch((error) => done(error, tile));
      return tile;
    },
  });

  function paint(canvas, layer) {
    const context = canvas.getContext("2d");
    const scale = canvas.width / layer.extent;
    context.lineWidth = 0.5;
    context.strokeStyle = "rgba(255,255,255,0.7)";
    for (const feature of layer.features) {
      context.beginPath();
      for (const ring of feature.rings) {
        ring.forEach(([x, y], i) => (i === 0 ? context.moveTo(x * scale, y * scale) : context.lineTo(x * scale, y * scale)));
        context.closePath();
      }
      const { volunteers, cell_km: km } = feature.properties;
      context.fillStyle = densityColour(volunteers / (km * km));
      context.globalAlpha = 0.75;
      context.fill("evenodd");
      context.globalAlpha = 1;
      context.stroke();
    }
    return layer.features.length;
  }

  function densityColour(perKm2) {
    for (const [floor, colour] of DENSITY_SCALE) if (perKm2 >= floor) return colour;
    return "transparent";
  }

  function showCapacity() {
    capacityGroup.clearLayers();
    stats.capacity = 0;
    const options = { skill: state.skill, opacity: 0.85, zIndex: 5 };
    // Only tiles that touch the area are asked for: the API answers 404 for the others.
    const box = state.area ? state.boxes.get(state.area) : null;
    if (box) options.bounds = L.latLngBounds([box[1], box[0]], [box[3], box[2]]);
    capacityTiles = new CapacityTiles(options);
    capacityGroup.addLayer(capacityTiles);
  }

  /* Coverage gaps */

  async function loadGaps() {
    gapLayer.clearLayers();
    stats.gaps = 0;
    if (!state.area) {
      $("gap-controls").disabled = true;
      return;
    }
    $("gap-controls").disabled = false;
    const params = { min_volunteers: $("gap-n").value || "5", within_km: $("gap-km").value || "10" };
    if (state.skill !== "*") params.skill = state.skill;
    const collection = await getJson("/api/v1/map/gaps" + query(params));
    gapLayer.addData(collection);
    stats.gaps = collection.features.length;
    drawLegend();
  }

  function gapText(p) {
    const who = p.skill === "*" ? "people" : p.skill.replace(/_/g, " ") + " volunteers";
    return "Fewer than " + p.min_volunteers + " " + who + " within " + p.within_km + " km";
  }

  /* Legend */

  function drawLegend() {
    const box = legend.getContainer();
    if (!box) return;
    box.replaceChildren();
    if (!isViewer()) {
      box.append(el("h3", null, "Call-ups"));
      for (const [status, colour] of Object.entries(STATUS_COLOURS)) {
        const count = [...state.callouts.values()].filter((m) => m.feature.properties.status === status).length;
        box.append(swatchRow(colour, STATUS_LABELS[status] + " (" + count + ")", "dot"));
      }
    }
    box.append(el("h3", null, "Volunteers per km²"));
    for (const [, colour, label] of [...DENSITY_SCALE].reverse()) box.append(swatchRow(colour, label));
    box.append(el("div", "note", "Counted in 1, 5 or 25 km grid squares by zoom; squares with fewer than 5 people are not shown, nor any that would reveal fewer than 5 beside them."));
    box.append(swatchRow("#e74c3c", "Coverage gap"));
  }

  function swatchRow(colour, label, shape) {
    const row = el("div", "legend-row");
    const swatch = el("span", "swatch" + (shape ? " " + shape : ""));
    swatch.style.backgroundColor = colour;
    row.append(swatch, el("span", null, label));
    return row;
  }

  /* Live updates: Server-Sent Events read with fetch, so the token stays in a header */

  function stopStream() {
    if (state.stream) state.stream.abort();
    state.stream = null;
  }

  async function startStream() {
    stopStream();
    const controller = new AbortController();
    state.stream = controller;
    try {
      const response = await api("/api/v1/map/live" + query(), {
        signal: controller.signal,
        headers: { Accept: "text/event-stream" },
      });
      if (!response.ok) throw new Error("HTTP " + response.status);
      setStatus("Live updates on.");
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer = (buffer + value).replace(/\r\n?/g, "\n");
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          handleEvent(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch (error) {
      if (controller.signal.aborted) return;
      setStatus("Live updates interrupted; reconnecting…");
    }
    if (state.stream === controller && state.token) setTimeout(() => state.stream === controller && startStream(), RETRY_MS);
  }

  function handleEvent(block) {
    let name = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") name = value;
      else if (field === "data") data.push(value);
    }
    if (data.length === 0) return;
    const payload = JSON.parse(data.join("\n"));
    stats.events += 1;
    if (name === "incident") {
      const incident = payload.features.find((f) => f.properties.layer === "incident");
      const rendezvous = payload.features.find((f) => f.properties.layer === "rendezvous");
      const id = incident.properties.incident_id;
      const known = state.incidents.has(id);
      showIncident(incident, rendezvous);
      if (!known && !isViewer() && incident.properties.status === "open") loadCallouts(id);
    } else if (name === "callouts") {
      updateCallouts(payload.features);
    } else if (name === "revoked") {
      signOut(payload.detail);
    }
  }

  if (state.token) {
    start();
  } else {
    body.dataset.state = "signed-out";
  }
})();
