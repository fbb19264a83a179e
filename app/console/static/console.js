/* The coordinator's console: declare an incident on the map, preview who could come, watch each need
 * fill, read the inbox, act, and read the timeline.
 *
 * As on /map: the token lives in sessionStorage (gone when the tab closes) and travels only in the
 * Authorization header; the live event stream is read with fetch, never EventSource, so a token never
 * appears in a URL. Nothing from the API is written as HTML: every text goes in with textContent.
 * Leaflet is the map's vendored copy; the drawing tools below use only Leaflet's own API. */
(function () {
  "use strict";

  const TOKEN_KEY = "nvr.token";
  const UK_CENTRE = [54.6, -3.4];
  const POLL_MS = 10000;
  const RETRY_MS = 3000;
  const OVERDUE_GRACE_S = 60;
  const HOME_COLOURS = { called: "#e69f00", accepted: "#1a9850" }; // as on /map
  const KIND_WORDS = { unreadable: "Could not read", ambiguous: "Ambiguous", late: "Late answer", checkin: "Check-in", welfare: "Welfare check" };

  const body = document.body;
  const $ = (id) => document.getElementById(id);
  const stats = { refreshes: 0, events: 0, previews: 0 };
  const state = {
    token: sessionStorage.getItem(TOKEN_KEY),
    me: null,
    skills: [],
    incidentId: null,
    incident: null,
    callouts: [],
    stream: null,
    poller: null,
    refreshTimer: null,
    mode: null, // circle | polygon | rendezvous | move-rendezvous
    centre: null,
    vertices: [],
    polygonClosed: false,
    rendezvousPoint: null,
    newRendezvousPoint: null,
    inbox: "unknown",
    countDrafts: {}, // need counts being typed, kept across refreshes
    replyDrafts: {}, // inbox replies being typed, by item
    pickDrafts: {}, // the call-up chosen for an inbox item
    attendanceDrafts: {}, // arrival and finish times being typed, by call-up and field
  };

  const map = L.map("map", { zoomSnap: 0.5, doubleClickZoom: false }).setView(UK_CENTRE, 6);
  if (body.dataset.basemapUrl) {
    L.tileLayer(body.dataset.basemapUrl, { attribution: body.dataset.basemapAttribution, maxZoom: 19 }).addTo(map);
  } else {
    body.classList.add("no-basemap");
  }
  const drawLayer = L.layerGroup().addTo(map);
  const incidentLayer = L.layerGroup().addTo(map);
  const outlineLayer = L.geoJSON(null, { style: { color: "#5b6470", weight: 1, fill: false }, interactive: false }).addTo(map);

  const legend = L.control({ position: "bottomleft" });
  legend.onAdd = () => {
    const box = L.DomUtil.create("div", "legend");
    for (const [status, label] of [["called", "Called, no answer yet"], ["accepted", "Accepted"]]) {
      const row = el("div", "legend-row");
      const swatch = el("span", "swatch");
      swatch.style.backgroundColor = HOME_COLOURS[status];
      row.append(swatch, el("span", null, label));
      box.append(row);
    }
    return box;
  };
  legend.addTo(map);

  window.nvrConsole = { map, stats, state };

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function button(label, onClick, className) {
    const b = el("button", className, label);
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }

  function setStatus(text) {
    $("status").textContent = text;
  }

  const words = (code) => String(code).replace(/_/g, " ");
  const skillName = (code) => (state.skills.find((s) => s.code === code) || { name: words(code) }).name;
  const plural = (n, one, many) => n + " " + (n === 1 ? one : many || one + "s");
  const time = (iso) => new Date(iso).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  const dateTime = (iso) => new Date(iso).toLocaleString("en-GB", { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });

  /* The API */

  async function api(path, options = {}) {
    const headers = Object.assign({ Authorization: "Bearer " + state.token }, options.headers || {});
    if (options.json !== undefined) {
      headers["Content-Type"] = "application/json";
      options = Object.assign({}, options, { body: JSON.stringify(options.json) });
    }
    const response = await fetch(path, Object.assign({}, options, { headers }));
    if (response.status === 401) {
      signOut("That token was not accepted; sign in again.");
      throw new Error("unauthorized");
    }
    return response;
  }

  class ApiError extends Error {
    constructor(status, detail) {
      super(detail);
      this.status = status;
    }
  }

  async function call(path, options) {
    const response = await api(path, options);
    if (!response.ok) {
      let detail = "HTTP " + response.status;
      try {
        const problem = await response.json();
        if (problem.detail) detail = typeof problem.detail === "string" ? problem.detail : JSON.stringify(problem.detail);
        if (problem.errors && problem.errors.length) detail += ": " + problem.errors.map((e) => e.message || e.msg || JSON.stringify(e)).join("; ");
      } catch (ignored) {
        /* not JSON: keep the status */
      }
      throw new ApiError(response.status, detail);
    }
    return response.status === 204 ? null : response.json();
  }

  /* Signing in and out */

  nvrSession.listen(TOKEN_KEY, (token) => {
    state.token = token;
    start();
  }, signOut);

  function signOut(message) {
    stopLive();
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = null;
    state.me = null;
    state.incidentId = null;
    incidentLayer.clearLayers();
    outlineLayer.clearLayers();
    $("panel").hidden = true;
    $("refused").hidden = true;
    nvrSession.showSignedOut();
    setStatus(message || "");
  }

  async function start() {
    setStatus("Signing in…");
    const me = await nvrSession.whoAmI(call, (message) => state.token && signOut(message));
    if (!me) return;
    state.me = me;
    if (me.role === "lrf_viewer") {
      body.dataset.state = "refused";
      $("refused").hidden = false;
      setStatus("This token is a forum viewer's: it cannot declare or run incidents.");
      return;
    }
    state.skills = me.skills;
    $("panel").hidden = false;
    loadOutlines();
    fillSkillSelect($("add-skill"));
    if ($("need-rows").tBodies[0].rows.length === 0) addNeedRow("first_aid", 1);
    const open = await loadIncidentList();
    if (open.length) await selectIncident(open[0].id);
    else showDeclare();
    body.dataset.state = "ready";
    setStatus("");
  }

  function fillSkillSelect(select, chosen) {
    select.replaceChildren();
    for (const skill of state.skills) select.add(new Option(skill.name, skill.code));
    if (chosen) select.value = chosen;
  }

  /* Resilience areas' outlines: with no basemap (offline) they are what the map shows of the country */
  async function loadOutlines() {
    try {
      outlineLayer.clearLayers();
      outlineLayer.addData(await call("/api/v1/map/areas"));
    } catch (ignored) {
      /* the console works without them */
    }
  }

  /* The list of open incidents */

  async function loadIncidentList() {
    const page = await call("/api/v1/incidents?status=open&limit=50");
    const list = $("incident-list");
    list.replaceChildren();
    for (const incident of page.items) {
      const item = el("li");
      item.dataset.incident = incident.id;
      if (incident.id === state.incidentId) item.classList.add("selected");
      const link = button(incident.title, () => selectIncident(incident.id), "link");
      item.append(link);
      // An organisation's ask is never to be mistaken for an emergency, here as in its texts.
      if (incident.emergency === false) item.append(" ", el("span", "badge ask", "Not an emergency"));
      item.append(el("span", "meta", " " + incident.place + (incident.exercise ? " · exercise" : "")));
      list.append(item);
    }
    if (!page.items.length) list.append(el("li", "note", "No open incidents."));
    return page.items;
  }

  $("new-incident").addEventListener("click", () => showDeclare());

  /* Declaring: the area */

  function showDeclare() {
    stopLive();
    state.incidentId = null;
    incidentLayer.clearLayers();
    $("incident").hidden = true;
    $("declare").hidden = false;
    for (const item of $("incident-list").children) item.classList.remove("selected");
    setMode(state.centre || state.polygonClosed ? null : "circle");
    redrawArea();
  }

  function setMode(mode) {
    state.mode = mode;
    for (const [id, m] of [["draw-circle", "circle"], ["draw-polygon", "polygon"], ["pick-rendezvous", "rendezvous"], ["pick-new-rendezvous", "move-rendezvous"]]) {
      $(id).classList.toggle("active", mode === m);
    }
    const hints = {
      circle: "Click the map where the incident is: that is the centre; the search radius sets the circle.",
      polygon: "Click the map to add corners; click the first corner (or “Finish”) to close the outline.",
      rendezvous: "Click the map where people should meet.",
      "move-rendezvous": "Click the map at the new rendezvous, then press Move.",
    };
    $("map-hint").textContent = hints[mode] || "";
    if (mode && window.scrollY > 0) window.scrollTo({ top: 0, behavior: "smooth" }); // the map is at the top
    $("map").classList.toggle("drawing", Boolean(mode));
  }

  $("draw-circle").addEventListener("click", () => {
    state.vertices = [];
    state.polygonClosed = false;
    setMode("circle");
    redrawArea();
  });
  $("draw-polygon").addEventListener("click", () => {
    state.centre = null;
    state.vertices = [];
    state.polygonClosed = false;
    setMode("polygon");
    redrawArea();
  });
  $("clear-area").addEventListener("click", () => {
    state.centre = null;
    state.vertices = [];
    state.polygonClosed = false;
    setMode("circle");
    redrawArea();
  });
  $("pick-rendezvous").addEventListener("click", () => setMode(state.mode === "rendezvous" ? null : "rendezvous"));
  $("radius").addEventListener("input", () => redrawArea());

  map.on("click", (event) => {
    const point = event.latlng;
    if (state.mode === "circle") {
      state.centre = point;
      setMode(null);
    } else if (state.mode === "polygon") {
      if (state.vertices.length >= 3 && map.latLngToContainerPoint(state.vertices[0]).distanceTo(event.containerPoint) < 12) {
        finishPolygon();
        return;
      }
      state.vertices.push(point);
    } else if (state.mode === "rendezvous") {
      state.rendezvousPoint = point;
      setMode(null);
    } else if (state.mode === "move-rendezvous") {
      state.newRendezvousPoint = point;
      setMode(null);
      drawIncident();
      return;
    } else {
      return;
    }
    redrawArea();
  });

  function finishPolygon() {
    if (state.vertices.length < 3) return;
    state.polygonClosed = true;
    setMode(null);
    redrawArea();
  }

  function radiusKm() {
    const value = parseFloat($("radius").value);
    return Number.isFinite(value) && value >= 0 ? value : 0;
  }

  function redrawArea() {
    drawLayer.clearLayers();
    const summary = $("area-summary");
    if (state.centre) {
      L.circle(state.centre, { radius: Math.max(radiusKm(), 0.1) * 1000, color: "#c0392b", weight: 2, fillOpacity: 0.08, interactive: false }).addTo(drawLayer);
      L.circleMarker(state.centre, { radius: 5, color: "#c0392b", fillOpacity: 1, interactive: false }).addTo(drawLayer);
      summary.textContent = "Circle: " + radiusKm() + " km around " + state.centre.lat.toFixed(4) + ", " + state.centre.lng.toFixed(4) + ".";
    } else if (state.vertices.length) {
      const style = { color: "#c0392b", weight: 2, fillOpacity: 0.08, interactive: false };
      if (state.polygonClosed) L.polygon(state.vertices, style).addTo(drawLayer);
      else L.polyline(state.vertices, style).addTo(drawLayer);
      state.vertices.forEach((v, i) => L.circleMarker(v, { radius: i === 0 ? 6 : 4, color: "#c0392b", fillOpacity: 1, interactive: false }).addTo(drawLayer));
      summary.replaceChildren(
        state.polygonClosed
          ? "Outline of " + state.vertices.length + " corners; people are searched " + radiusKm() + " km beyond it."
          : "Outline: " + plural(state.vertices.length, "corner") + " so far. "
      );
      if (!state.polygonClosed && state.vertices.length >= 3) summary.append(button("Finish outline", finishPolygon, "link"));
    } else {
      summary.textContent = "No area yet: draw one on the map or pick a town.";
    }
    if (state.rendezvousPoint) {
      L.circleMarker(state.rendezvousPoint, { radius: 7, color: "#222", weight: 3, fillColor: "#fff", fillOpacity: 1, interactive: false }).addTo(drawLayer);
    }
  }

  function areaGeoJson() {
    if (state.centre) return { type: "Point", coordinates: [state.centre.lng, state.centre.lat] };
    if (state.polygonClosed) {
      const ring = state.vertices.map((v) => [v.lng, v.lat]);
      ring.push(ring[0]);
      return { type: "Polygon", coordinates: [ring] };
    }
    return null;
  }

  function areaCentre() {
    if (state.centre) return state.centre;
    if (state.polygonClosed) return L.polygon(state.vertices).getBounds().getCenter();
    return null;
  }

  /* Declaring: the town picker */

  let townTimer = null;
  $("town").addEventListener("input", () => {
    clearTimeout(townTimer);
    const text = $("town").value.trim();
    if (!text) return;
    townTimer = setTimeout(async () => {
      try {
        const towns = await call("/api/v1/places?q=" + encodeURIComponent(text));
        $("town-list").replaceChildren(...towns.map((t) => new Option(t.name, t.name)));
        state.towns = towns;
      } catch (ignored) {
        /* the picker is a convenience: typing a full name and Go still works */
      }
    }, 200);
  });
  $("town").addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      goToTown();
    }
  });
  $("town-go").addEventListener("click", () => goToTown());

  async function goToTown() {
    const name = $("town").value.trim();
    if (!name) return;
    const typed = name.match(/^(-?\d{1,2}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)$/); // "54.89, -2.93"
    if (typed) {
      $("declare-error").textContent = "";
      placeCircle(L.latLng(parseFloat(typed[1]), parseFloat(typed[2])));
      return;
    }
    let towns;
    try {
      towns = await call("/api/v1/places?q=" + encodeURIComponent(name) + "&limit=20");
    } catch (error) {
      $("declare-error").textContent = error.message;
      return;
    }
    const town = towns.find((t) => t.name.toLowerCase() === name.toLowerCase()) || towns[0];
    if (!town) {
      $("declare-error").textContent = "No UK town of 15,000+ people is called " + name + ".";
      return;
    }
    $("declare-error").textContent = "";
    $("town").value = town.name;
    placeCircle(L.latLng(town.lat, town.lon));
  }

  function placeCircle(centre) {
    state.vertices = [];
    state.polygonClosed = false;
    state.centre = centre;
    setMode(null);
    redrawArea();
    map.fitBounds(centre.toBounds(Math.max(radiusKm(), 2) * 2600));
  }

  /* Declaring: needs, preview, declare */

  function addNeedRow(skill, count) {
    const row = $("need-rows").tBodies[0].insertRow();
    const select = el("select", "need-skill");
    select.setAttribute("aria-label", "skill");
    fillSkillSelect(select, skill);
    const number = el("input", "need-count");
    number.type = "number";
    number.min = "1";
    number.max = "5000";
    number.value = String(count || 1);
    number.setAttribute("aria-label", "people needed");
    row.insertCell().append(select);
    row.insertCell().append(number);
    row.insertCell().append(button("Remove", () => row.remove(), "link"));
    for (const input of [select, number]) input.addEventListener("change", () => $("preview").replaceChildren());
  }
  $("add-need-row").addEventListener("click", () => {
    const used = new Set([...document.querySelectorAll("#need-rows .need-skill")].map((s) => s.value));
    const free = state.skills.find((s) => !used.has(s.code));
    addNeedRow(free ? free.code : undefined, 1);
  });

  function declaration() {
    const area = areaGeoJson();
    if (!area) throw new Error("Draw the area on the map (a circle or an outline) or pick a town first.");
    const needs = [...$("need-rows").tBodies[0].rows].map((row) => ({
      skill: row.querySelector(".need-skill").value,
      count: parseInt(row.querySelector(".need-count").value, 10),
    }));
    if (!needs.length) throw new Error("Add at least one need.");
    const data = {
      title: $("title").value.trim() || "Untitled incident",
      kind: $("kind").value,
      area,
      radius_km: radiusKm(),
      max_radius_km: Math.max(parseFloat($("max-radius").value) || radiusKm(), radiusKm(), 1),
      needs,
      exercise: $("exercise").checked,
    };
    const minutes = parseInt($("wave-timeout").value, 10);
    if (minutes > 0) data.wave_timeout_s = minutes * 60;
    if ($("starts-at").value) data.starts_at = new Date($("starts-at").value).toISOString();
    const meet = $("rendezvous").value.trim();
    if (meet) {
      const at = state.rendezvousPoint || areaCentre();
      data.rendezvous = { point: { type: "Point", coordinates: [at.lng, at.lat] }, text: meet };
    }
    return data;
  }

  $("preview-button").addEventListener("click", () => preview());

  async function preview() {
    const box = $("preview");
    $("declare-error").textContent = "";
    let data;
    try {
      data = declaration();
    } catch (error) {
      $("declare-error").textContent = error.message;
      return;
    }
    box.replaceChildren(el("p", "note", "Counting who could come…"));
    try {
      const result = await call("/api/v1/incidents/preview", { method: "POST", json: data });
      const table = el("table", "preview");
      const head = table.createTHead().insertRow();
      for (const label of ["Need", "People", "Could come within " + result.radius_km + " km", "within " + result.max_radius_km + " km", "Left out: not yet verified"]) head.append(el("th", null, label));
      const rows = table.createTBody();
      for (const need of result.needs) {
        const row = rows.insertRow();
        row.dataset.skill = need.skill;
        const short = need.eligible_within_max_radius < need.count;
        row.classList.toggle("short", short);
        row.append(el("td", null, skillName(need.skill)), el("td", null, need.count));
        row.append(el("td", "eligible-radius", need.eligible_within_radius), el("td", "eligible-max", need.eligible_within_max_radius));
        // People within the radius whose credential for this skill an organisation has not verified yet.
        row.append(el("td", "unverified", need.unverified_within_radius));
      }
      box.replaceChildren(el("h3", null, "Preview (nothing sent yet)"), table);
      for (const need of result.needs) {
        if (need.eligible_within_max_radius < need.count) {
          box.append(el("p", "warning", "Not enough " + skillName(need.skill) + " volunteers even at " + result.max_radius_km + " km: " + need.eligible_within_max_radius + " for " + need.count + "."));
        }
      }
      stats.previews += 1;
    } catch (error) {
      box.replaceChildren();
      $("declare-error").textContent = "Preview failed: " + error.message;
    }
  }

  $("declare-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("declare-error").textContent = "";
    let data;
    try {
      data = declaration();
    } catch (error) {
      $("declare-error").textContent = error.message;
      return;
    }
    $("declare-button").disabled = true;
    try {
      const incident = await call("/api/v1/incidents", { method: "POST", json: data });
      state.centre = null;
      state.vertices = [];
      state.polygonClosed = false;
      state.rendezvousPoint = null;
      drawLayer.clearLayers();
      $("preview").replaceChildren();
      $("declare-form").reset();
      await loadIncidentList();
      await selectIncident(incident.id);
    } catch (error) {
      $("declare-error").textContent = "Not declared: " + error.message;
    } finally {
      $("declare-button").disabled = false;
    }
  });

  /* Watching one incident */

  async function selectIncident(id) {
    state.incidentId = id;
    state.newRendezvousPoint = null;
    state.countDrafts = {};
    delete $("new-radius").dataset.dirty;
    delete $("new-max-radius").dataset.dirty;
    setMode(null);
    drawLayer.clearLayers();
    $("declare").hidden = true;
    $("incident").hidden = false;
    for (const item of $("incident-list").children) item.classList.toggle("selected", Number(item.dataset.incident) === id);
    await refresh(true);
    startLive(id);
  }

  function scheduleRefresh() {
    clearTimeout(state.refreshTimer);
    state.refreshTimer = setTimeout(() => refresh(false), 250);
  }

  async function refresh(fit) {
    const id = state.incidentId;
    if (id === null || !state.token) return;
    try {
      const [incident, callouts, timeline, homes] = await Promise.all([
        call("/api/v1/incidents/" + id),
        call("/api/v1/incidents/" + id + "/callouts"),
        call("/api/v1/incidents/" + id + "/timeline"),
        call("/api/v1/map/incidents/" + id + "/callouts").catch(() => ({ features: [] })),
      ]);
      state.homes = homes.features;
      if (state.incidentId !== id) return;
      state.incident = incident;
      state.callouts = callouts;
      renderHead(incident);
      renderBoard(incident, callouts);
      renderConfirmed(incident, callouts);
      renderTimeline(timeline.events);
      drawIncident(fit);
      await loadInbox();
      stats.refreshes += 1;
      body.dataset.board = incident.status;
    } catch (error) {
      if (state.token) setStatus("Could not load incident " + id + ": " + error.message);
    }
  }

  function renderHead(incident) {
    const head = $("incident-head");
    const title = el("h2", null, incident.title);
    if (incident.exercise) title.append(" ", el("span", "badge", "EXERCISE"));
    if (incident.emergency === false) title.append(" ", el("span", "badge ask", "Not an emergency"));
    if (incident.status !== "open") title.append(" ", el("span", "badge closed", "CLOSED"));
    const asked = incident.organisation ? " · asked by " + incident.organisation : "";
    const meta = el("p", "meta", words(incident.kind) + asked + " · " + incident.place + " · ref " + incident.id + " · starts " + dateTime(incident.starts_at));
    const meet = el("p", "meta", incident.rendezvous ? "Rendezvous: " + incident.rendezvous.text : "No rendezvous set");
    head.replaceChildren(title, meta, meet);
    // A refresh must not undo what the coordinator is typing: only untouched fields follow the incident.
    for (const [id, value] of [["new-radius", incident.radius_km], ["new-max-radius", incident.max_radius_km]]) {
      if (!$(id).dataset.dirty) $(id).value = String(value);
    }
    for (const form of ["add-need-form", "radius-form", "rendezvous-form", "update-form", "close-form"]) {
      for (const control of $(form).elements) control.disabled = incident.status !== "open";
    }
  }

  function renderBoard(incident, callouts) {
    const board = $("board");
    board.replaceChildren();
    const now = Date.now();
    for (const need of incident.needs) {
      const card = el("div", "need-card");
      card.dataset.skill = need.skill;
      const toGo = Math.max(0, need.count - need.accepted);
      const heading = el("div", "need-head");
      heading.append(el("strong", null, skillName(need.skill)), el("span", "need-total", " · " + plural(need.count, "person", "people") + " needed"));
      const countBox = el("span", "count-edit");
      const input = el("input", "count-input");
      input.type = "number";
      input.min = "1";
      input.max = "5000";
      input.value = String(state.countDrafts[need.skill] || need.count);
      input.addEventListener("input", () => (state.countDrafts[need.skill] = input.value));
      input.setAttribute("aria-label", "people needed for " + skillName(need.skill));
      input.disabled = incident.status !== "open";
      const set = button("Change count", () => changeCount(need.skill, parseInt(input.value, 10)), "small");
      set.disabled = incident.status !== "open";
      countBox.append(input, set);
      heading.append(countBox);
      card.append(heading);
      const open = incident.status === "open";
      const told = open
        ? need.accepted + " filled, " + toGo + " to go, " + need.pending + " not answered yet"
        : "Closed with " + need.accepted + " of " + need.count + " confirmed";
      const summary = el("p", "need-summary", told);
      card.append(summary);
      const bar = el("div", "bar");
      const fill = el("div", "fill" + (need.filled ? " full" : ""));
      fill.style.width = Math.min(100, need.count ? (100 * need.accepted) / need.count : 0) + "%";
      bar.append(fill);
      bar.setAttribute("role", "img");
      bar.setAttribute("aria-label", need.accepted + " of " + need.count + " filled");
      card.append(bar);
      const dl = el("dl", "counts");
      for (const [label, value, cls] of [
        ["called", need.called, "called"],
        ["accepted", need.accepted, "accepted"],
        ["declined", need.declined, "declined"],
        ["awaiting", need.pending, "awaiting"],
        ["failed", need.failed, "failed"],
        ["stood down", need.stood_down, "stood-down"],
        ["waves", need.waves, "waves"],
        ["radius", need.search_radius_km + " km", "radius"],
      ]) {
        const item = el("div", "count " + cls);
        item.append(el("dt", null, label), el("dd", null, value));
        dl.append(item);
      }
      card.append(dl);
      // Call-ups ended before their text went out (filled or closed first) are in no other count.
      const cancelled = need.called - need.accepted - need.declined - need.pending - need.failed - need.stood_down;
      if (cancelled > 0) card.append(el("p", "note cancelled", plural(cancelled, "call-up") + " cancelled before the text went out."));
      if (need.filled && open) card.append(el("p", "ok", "Filled."));
      if (need.exhausted && !need.filled) {
        card.append(el("p", "warning exhausted", "Nobody else eligible within " + need.search_radius_km + " km: widen the radius or the maximum, or lower the count."));
      }
      // Left out of the search only because an organisation has not verified their credential yet.
      if (need.unverified) card.append(el("p", "note unverified", plural(need.unverified, "person", "people") + " within " + need.search_radius_km + " km left out: not yet verified."));
      const mine = callouts.filter((c) => c.skill === need.skill);
      const last = mine.reduce((latest, c) => Math.max(latest, Date.parse(c.called_at)), 0);
      // A wave is overdue when nobody new was called for longer than the wave timeout (and a margin)
      // although the need is short and the pool is not dry: the timers or workers are not running.
      if (incident.status === "open" && !need.filled && !need.exhausted && last && now - last > (incident.wave_timeout_s + OVERDUE_GRACE_S) * 1000) {
        card.append(el("p", "warning overdue", "The next wave is overdue: nobody new called since " + time(new Date(last).toISOString()) + ". Check the workers are running."));
      }
      board.append(card);
    }
  }

  function renderConfirmed(incident, callouts) {
    const tbody = $("confirmed").tBodies[0];
    tbody.replaceChildren();
    const confirmed = callouts.filter((c) => c.status === "accepted");
    if (!confirmed.length) {
      tbody.insertRow().insertCell().append(el("span", "note", "Nobody confirmed yet."));
      return;
    }
    for (const c of confirmed) {
      const row = tbody.insertRow();
      row.dataset.callout = c.id;
      row.insertCell().append(el("span", "name", c.name));
      row.insertCell().append(el("span", "meta", skillName(c.skill)));
      const distance = c.distance_km === null || c.distance_km === undefined ? "" : c.distance_km.toFixed(1) + " km";
      row.insertCell().append(el("span", "meta", distance));
      const eta = c.eta_minutes === null || c.eta_minutes === undefined ? "no ETA" : "ETA " + c.eta_minutes + " min";
      row.insertCell().append(el("span", "eta", c.checkin ? eta + " · " + words(c.checkin).toLowerCase() : eta));
      const release = button("Release", () => releasePerson(c), "small");
      release.disabled = incident.status !== "open";
      row.insertCell().append(release);
      const times = tbody.insertRow();
      times.className = "attendance-row";
      times.dataset.attendance = c.id;
      const cell = times.insertCell();
      cell.colSpan = 5;
      cell.append(attendanceControl(c));
    }
  }

  /* Arrival and finish times a coordinator enters (also after the close); hours follow. */
  const localInput = (iso) => {
    if (!iso) return "";
    const d = new Date(iso);
    return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  };

  function attendanceControl(c) {
    const box = el("span", "attendance");
    const inputs = {};
    for (const [field, label] of [["arrived_at", "arrived"], ["done_at", "done"]]) {
      const input = el("input", "attendance-" + field.replace("_at", ""));
      input.type = "datetime-local";
      input.setAttribute("aria-label", label + " at, " + c.name);
      input.value = state.attendanceDrafts[c.id + field] !== undefined ? state.attendanceDrafts[c.id + field] : localInput(c[field]);
      input.addEventListener("input", () => (state.attendanceDrafts[c.id + field] = input.value));
      inputs[field] = input;
      const pair = el("label", "attendance-field");
      pair.append(el("span", "meta", label + " "), input);
      box.append(pair);
    }
    box.append(
      button("Save times", () => {
        const json = {};
        for (const [field, input] of Object.entries(inputs)) {
          json[field] = input.value ? new Date(input.value).toISOString() : null;
          delete state.attendanceDrafts[c.id + field];
        }
        act("Times for " + c.name, here() + "/callouts/" + c.id + "/attendance", post(json));
      }, "small"),
      el("span", "hours meta", c.hours === null || c.hours === undefined ? "" : " " + c.hours + " h")
    );
    return box;
  }

  /* The record: the printable report and the attendance CSV, fetched with the token in the header and
   * handed to the browser as blob URLs, so the token is never in an address. */
  async function fetchRecord(path) {
    const response = await api(here() + path);
    if (!response.ok) throw new ApiError(response.status, "HTTP " + response.status);
    return URL.createObjectURL(await response.blob());
  }

  $("open-report").addEventListener("click", async () => {
    const tab = window.open("", "_blank"); // opened while the click counts, so no popup blocker stops it
    $("record-result").textContent = "Fetching the report…";
    try {
      const url = await fetchRecord("/report.html");
      if (tab) tab.location.href = url;
      else window.location.assign(url);
      $("record-result").textContent = "Report opened in a new tab.";
    } catch (error) {
      if (tab) tab.close();
      $("record-result").textContent = "Report failed: " + error.message;
    }
  });

  $("download-csv").addEventListener("click", async () => {
    try {
      const url = await fetchRecord("/attendance.csv");
      const link = el("a");
      link.href = url;
      link.download = "incident-" + state.incidentId + "-attendance.csv";
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      $("record-result").textContent = "Attendance CSV downloaded.";
    } catch (error) {
      $("record-result").textContent = "Attendance CSV failed: " + error.message;
    }
  });

  function drawIncident(fit) {
    incidentLayer.clearLayers();
    const incident = state.incident;
    if (!incident || state.incidentId === null) return;
    const shape = L.geoJSON(incident.area, {
      style: { color: "#8e44ad", weight: 2, fillOpacity: 0.06 },
      pointToLayer: (f, latlng) => L.circleMarker(latlng, { radius: 5, color: "#8e44ad", fillOpacity: 1 }),
    }).addTo(incidentLayer);
    const radii = [...new Set(incident.needs.map((n) => n.search_radius_km))];
    const centre = shape.getBounds().getCenter();
    for (const km of radii) L.circle(centre, { radius: Math.max(km, 0.1) * 1000, color: "#8e44ad", weight: 1, dashArray: "4 4", fill: false, interactive: false }).addTo(incidentLayer);
    if (incident.rendezvous) {
      const [lon, lat] = incident.rendezvous.point.coordinates;
      L.circleMarker([lat, lon], { radius: 7, color: "#222", weight: 3, fillColor: "#fff", fillOpacity: 1 })
        .bindTooltip(() => el("span", null, "Rendezvous: " + incident.rendezvous.text))
        .addTo(incidentLayer);
    }
    for (const home of state.homes || []) {
      const colour = HOME_COLOURS[home.properties.status];
      if (!home.geometry || !colour) continue;
      const [lon, lat] = home.geometry.coordinates;
      L.circleMarker([lat, lon], { radius: 5, color: "#333", weight: 1, fillColor: colour, fillOpacity: 0.95, interactive: false }).addTo(incidentLayer);
    }
    if (state.newRendezvousPoint) {
      L.circleMarker(state.newRendezvousPoint, { radius: 7, color: "#c0392b", weight: 3, fillColor: "#fff", fillOpacity: 1 }).addTo(incidentLayer);
    }
    if (fit) {
      const km = Math.max(...radii, 1);
      map.fitBounds(centre.toBounds(km * 2200), { maxZoom: 13 });
    }
  }

  /* Acting */

  async function act(label, path, options) {
    const result = $("act-result");
    result.textContent = label + "…";
    result.className = "note";
    try {
      const answer = await call(path, options);
      result.textContent = label + ": done.";
      await loadIncidentList();
      await refresh(false);
      return answer;
    } catch (error) {
      result.className = "error";
      if (error.status === 404 || error.status === 405) result.textContent = label + ": not available on this server yet.";
      else result.textContent = label + " failed: " + error.message;
      return null;
    }
  }

  const patch = (json) => ({ method: "PATCH", json });
  const post = (json) => ({ method: "POST", json });
  const here = () => "/api/v1/incidents/" + state.incidentId;

  function changeCount(skill, count) {
    if (!(count >= 1)) return;
    delete state.countDrafts[skill];
    act("Change " + skillName(skill) + " to " + count, here(), patch({ needs: [{ skill, count }] }));
  }

  $("add-need-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const skill = $("add-skill").value;
    const count = parseInt($("add-count").value, 10);
    act("Add a need for " + skillName(skill), here(), patch({ needs: [{ skill, count }] }));
  });

  for (const id of ["new-radius", "new-max-radius"]) $(id).addEventListener("input", () => ($(id).dataset.dirty = "1"));
  $("radius-form").addEventListener("submit", (event) => {
    event.preventDefault();
    delete $("new-radius").dataset.dirty;
    delete $("new-max-radius").dataset.dirty;
    const json = {};
    const radius = parseFloat($("new-radius").value);
    const max = parseFloat($("new-max-radius").value);
    if (Number.isFinite(radius)) json.radius_km = radius;
    if (Number.isFinite(max)) json.max_radius_km = max;
    act("Widen the search", here(), patch(json));
  });

  $("pick-new-rendezvous").addEventListener("click", () => setMode(state.mode === "move-rendezvous" ? null : "move-rendezvous"));
  $("rendezvous-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("new-rendezvous").value.trim();
    const at = state.newRendezvousPoint;
    if (!text || !at) {
      $("act-result").className = "error";
      $("act-result").textContent = "Give the new rendezvous a name and place it on the map.";
      return;
    }
    const done = await act("Move the rendezvous", here(), patch({ rendezvous: { point: { type: "Point", coordinates: [at.lng, at.lat] }, text } }));
    if (done) {
      state.newRendezvousPoint = null;
      $("new-rendezvous").value = "";
      drawIncident();
    }
  });

  $("update-text").addEventListener("input", () => {
    const text = $("update-text").value;
    $("update-segments").textContent = text ? plural(segments(text), "SMS segment") + " per person" : "";
  });
  $("update-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("update-text").value.trim();
    if (!text) return;
    const answer = await act("Send the update", here() + "/update", post({ text }));
    if (answer) {
      $("act-result").textContent = "Update sent to " + plural(answer.sent, "person", "people") + ".";
      $("update-text").value = "";
      $("update-segments").textContent = "";
    }
  });

  async function releasePerson(callout) {
    const reason = window.prompt("Release " + callout.name + "? They will be texted that they can stand down. Reason:", "no longer needed");
    if (reason === null) return;
    await act("Release " + callout.name, here() + "/callouts/" + callout.id + "/release", post({ reason: reason || "released by the coordinator" }));
  }

  $("close-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const reason = $("close-reason").value.trim();
    if (!reason) return;
    if (!window.confirm("Close this incident and text everyone called: “" + reason + "”?")) return;
    const done = await act("Close the incident", here() + "/close", post({ reason }));
    if (done) $("close-reason").value = "";
  });

  /* SMS segments, as the network counts them: GSM-7 160 (153 when split), otherwise UCS-2 70 (67). */
  const GSM = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  const GSM_EXT = "^{}\\[~]|€\f";
  function segments(text) {
    let septets = 0;
    let gsm = true;
    for (const ch of text) {
      if (GSM.includes(ch)) septets += 1;
      else if (GSM_EXT.includes(ch)) septets += 2;
      else gsm = false;
    }
    const units = gsm ? septets : [...text].reduce((n, ch) => n + (ch.codePointAt(0) > 0xffff ? 2 : 1), 0);
    const [single, multi] = gsm ? [160, 153] : [70, 67];
    return units <= single ? 1 : Math.ceil(units / multi);
  }

  /* Reading: the inbox */

  async function loadInbox() {
    const id = state.incidentId;
    const list = $("inbox-list");
    let page;
    try {
      // Everything open, then this incident's: a reply the system could not tie to one incident (the
      // sender has call-ups in several) belongs to each of them until a coordinator chooses.
      const all = await call("/api/v1/inbox?state=open&limit=200");
      const mine = all.items.filter((i) => i.incident_id === id || (i.incident_id === null && (i.open_callouts || []).some((c) => c.incident_id === id)));
      page = { items: mine, total: mine.length };
    } catch (error) {
      list.replaceChildren();
      $("inbox-count").hidden = true;
      state.inbox = error.status === 404 || error.status === 405 ? "unavailable" : "error";
      $("inbox-state").textContent = state.inbox === "unavailable" ? "Inbox unavailable on this server." : "Inbox could not be read: " + error.message;
      return;
    }
    state.inbox = "ok";
    $("inbox-count").hidden = page.total === 0;
    $("inbox-count").textContent = String(page.total);
    $("inbox-state").textContent = page.total ? "Replies the system did not act on by itself, newest first." : "Nothing waiting: every reply so far was understood.";
    list.replaceChildren(...page.items.map(inboxItem));
  }

  function inboxItem(item) {
    const li = el("li", "inbox-item");
    li.dataset.item = item.id;
    const head = el("div", "inbox-head");
    head.append(el("strong", null, KIND_WORDS[item.kind] || item.kind), el("span", "meta", " · " + (item.volunteer_name || "unknown sender") + " · " + time(item.created_at)));
    li.append(head);
    if (item.body !== null && item.body !== undefined) li.append(el("blockquote", "sms", item.body));
    if (item.note) li.append(el("p", "note", item.note));
    const choices = item.open_callouts || [];
    const row = el("div", "row");
    let pick = null;
    if (choices.length) {
      pick = el("select", "inbox-callout");
      pick.setAttribute("aria-label", "call-up");
      for (const c of choices) pick.add(new Option(c.incident_title + " · " + skillName(c.skill) + " (ref " + c.ref + ")", String(c.callout_id)));
      if (item.callout_id) pick.value = String(item.callout_id);
      if (state.pickDrafts[item.id]) pick.value = state.pickDrafts[item.id];
      pick.addEventListener("change", () => (state.pickDrafts[item.id] = pick.value));
      row.append(pick);
      row.append(button("Count as YES", () => resolve(item, { action: "accept", callout_id: Number(pick.value) }), "small"));
      row.append(button("Count as NO", () => resolve(item, { action: "decline", callout_id: Number(pick.value) }), "small"));
    }
    const reply = el("textarea", "inbox-reply");
    reply.rows = 1;
    reply.maxLength = 600;
    reply.placeholder = "Reply by text…";
    reply.setAttribute("aria-label", "reply");
    const count = el("span", "note");
    const showCount = () => (count.textContent = reply.value ? plural(segments(reply.value), "segment") : "");
    reply.value = state.replyDrafts[item.id] || "";
    showCount();
    reply.addEventListener("input", () => {
      state.replyDrafts[item.id] = reply.value;
      showCount();
    });
    row.append(button("Mark handled", () => resolve(item, { action: "handled" }), "small"));
    li.append(row);
    const replyRow = el("div", "row");
    replyRow.append(reply, count, button("Send reply", () => reply.value.trim() && resolve(item, { action: "reply", text: reply.value.trim() }), "small"));
    li.append(replyRow);
    return li;
  }

  async function resolve(item, json) {
    try {
      await call("/api/v1/inbox/" + item.id + "/resolve", post(json));
      delete state.replyDrafts[item.id];
      $("act-result").className = "note";
      $("act-result").textContent = "Inbox item resolved.";
    } catch (error) {
      $("act-result").className = "error";
      $("act-result").textContent = "Could not resolve: " + error.message;
    }
    await refresh(false);
  }

  /* The timeline */

  const ACTIONS = {
    "incident.declared": (d) => "Declared" + (d.exercise ? " (exercise)" : "") + (d.emergency === false ? " (not an emergency)" : "") + (d.needs ? ": " + d.needs.map((n) => n.count + " " + skillName(n.skill)).join(", ") : ""),
    "wave.called": (d) => "Wave " + d.wave + " for " + skillName(d.skill) + ": " + plural(d.volunteers, "person", "people") + " called",
    "callout.accepted": () => "Said YES",
    "callout.declined": () => "Said NO",
    "callout.withdrawn": () => "Withdrew after saying YES",
    "callout.late_yes": () => "Said YES after the need was filled",
    "callout.failed": () => "Could not be reached",
    "need.filled": (d) => skillName(d.skill) + " filled (" + d.count + ")",
    "need.count_changed": (d) => skillName(d.skill) + ": count changed from " + d.from + " to " + d.to,
    "need.radius_widened": (d) => skillName(d.skill) + ": search widened from " + d.from_km + " to " + d.to_km + " km",
    "need.pool_exhausted": (d) => skillName(d.skill) + ": nobody else eligible within " + d.radius_km + " km",
    "callouts.stood_down": (d) => plural(d.callouts, "person", "people") + " stood down (" + words(d.reason || "") + ")",
    "callouts.released": (d) => plural(d.callouts, "person", "people") + " released (" + (d.reason || "") + ")",
    "incident.closed": (d) => "Closed" + (d.reason ? ": " + d.reason : ""),
    "need.added": (d) => "Need added: " + d.count + " " + skillName(d.skill),
    "wave.reasked": (d) => "Asked again for " + skillName(d.skill) + ": " + plural(d.volunteers, "person", "people"),
    "incident.radius_widened": (d) => "Search radius changed from " + d.from_km + " to " + d.to_km + " km",
    "incident.max_radius_changed": (d) => "Maximum radius changed from " + d.from_km + " to " + d.to_km + " km",
    "incident.rendezvous_moved": () => "Rendezvous moved",
    "incident.update_sent": (d) => "Update texted to " + plural(d.sent, "person", "people"),
    "callout.released": (d) => "Released" + (d.reason ? " (" + d.reason + ")" : ""),
    "callout.attendance": () => "Arrival and finish times entered",
    "callout.checkin": (d) => "Check-in: " + (d.checkin === "ETA" ? "ETA" : words(d.checkin || "").toLowerCase()) + (d.minutes ? " " + d.minutes + " min" : ""),
    "sms.ambiguous": () => "Sent an unclear reply (kept in the inbox)",
    "sms.unrecognised": () => "Sent a reply the system could not read (kept in the inbox)",
    "inbox.resolved": (d) => "Inbox reply " + ({ accepted: "counted as YES", declined: "counted as NO", replied: "answered by text", handled: "marked handled" }[d.resolution] || words(d.resolution || "resolved")),
    "welfare.asked": (d) => "Welfare check asked of " + plural(d.callouts, "person", "people"),
    "welfare.ok": () => "Safe and home (welfare OK)",
    "welfare.unanswered": () => "Welfare check unanswered: needs a call",
    "message.undelivered": () => "A text was not delivered",
    "message.failed": () => "A text could not be sent",
  };

  function renderTimeline(events) {
    const list = $("timeline");
    list.replaceChildren();
    for (const event of events) {
      const item = el("li");
      item.dataset.action = event.action;
      const describe = ACTIONS[event.action];
      item.append(el("time", null, time(event.at)), " ", el("span", "what", describe ? describe(event.detail) : words(event.action.replace(".", ": "))), " ", el("span", "who", "— " + event.actor_name));
      list.append(item);
    }
    if (!events.length) list.append(el("li", "note", "Nothing yet."));
  }

  /* Live: the map's event stream for this incident, read with fetch; a poll keeps it true meanwhile */

  function stopLive() {
    if (state.stream) state.stream.abort();
    state.stream = null;
    clearInterval(state.poller);
    state.poller = null;
  }

  function startLive(id) {
    stopLive();
    state.poller = setInterval(() => state.incidentId === id && refresh(false), POLL_MS);
    stream(id);
  }

  async function stream(id) {
    const controller = new AbortController();
    state.stream = controller;
    try {
      const response = await api("/api/v1/map/live?incident=" + id, { signal: controller.signal, headers: { Accept: "text/event-stream" } });
      if (!response.ok) throw new Error("HTTP " + response.status);
      body.dataset.live = "on";
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer = (buffer + value).replace(/\r\n?/g, "\n");
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (/^event: (incident|callouts)$/m.test(block)) {
            stats.events += 1;
            scheduleRefresh();
          } else if (/^event: revoked$/m.test(block)) {
            signOut("The token was revoked; sign in again.");
          }
        }
      }
    } catch (error) {
      if (controller.signal.aborted) return;
    }
    body.dataset.live = "off";
    if (state.stream === controller && state.token) setTimeout(() => state.stream === controller && stream(id), RETRY_MS);
  }

  if (state.token) start();
  else body.dataset.state = "signed-out";
})();
