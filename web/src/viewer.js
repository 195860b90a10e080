// shieldlab's scene viewer: plays a run's CZML (threats, interceptors, intercepts, radars and
// their coverage, batteries, assets, sectors) on an offline globe, lists the threats with
// their outcomes, and flies the camera to a threat when its row is clicked.
// The scene comes from ?scene=URL, by default data/scene.czml (what `shieldlab view DIR` serves).
"use strict";

const state = { ready: false, error: null, threats: [], entities: [], selected: null, flying: false, viewer: null };
window.shieldlab = state;

const COLOURS = {
  intercepted: "#2ecc71", leaked: "#e67e22", "leaked on an asset": "#c0392b", "airborne": "#f1c40f",
  // the air picture: aircraft and cruise missiles by their fate
  "shot down": "#2ecc71", "reached its target": "#e74c3c", "came down": "#95a5a6", "left the scene": "#f1c40f",
  // the shelling: each round by whether a weapon-locating radar located its origin
  located: "#e74c3c", "not located": "#95a5a6",
};
const AIR_FATES = ["shot down", "reached its target", "came down", "left the scene"];
const ROUND_FATES = ["located", "not located"];
// the key: colour, words, and the packet kind (and outcome: a threat's, or an intercept's kill or miss)
// that must be in the scene for the line to show
const KEY = [
  ["#2ecc71", "threat intercepted", "threat", "intercepted"], ["#e67e22", "threat leaked", "threat", "leaked"],
  ["#c0392b", "leaked on a defended asset", "threat", "leaked on an asset"],
  ["#f1c40f", "threat still in the air", "threat", "airborne"],
  ["#5dade2", "interceptor", "interceptor"], ["#ffffff", "kill (intercept point)", "intercept", "kill"],
  ["#95a5a6", "miss", "intercept", "miss"], ["#9b59b6", "radar and its coverage (range against its reference target)", "radar"],
  ["#ec7063", "early-warning satellite", "satellite"], ["#3498db", "battery", "battery"],
  ["#f1c40f", "defended asset", "asset"],
  ["#2ecc71", "shot down", "threat", "shot down"], ["#e74c3c", "reached its target", "threat", "reached its target"],
  ["#95a5a6", "came down on the way", "threat", "came down"],
  ["#f1c40f", "left the scene", "threat", "left the scene"],
  ["#5dade2", "fighter's course to its shot", "fighter"], ["#5dade2", "fighter patrol station or alert base", "fighter-base"],
  ["#ffffff", "policed airspace", "airspace"],
  ["#2ecc71", "where a flier was shot down", "kill"],
  ["#e67e22", "impact (in the threat's colour)", "impact"],
  ["#ecf0f1", "C2 node and its sector", "c2-node"],
  ["#e74c3c", "round located (its origin estimated)", "threat", "located"],
  ["#95a5a6", "round not located", "threat", "not located"],
  ["#e74c3c", "estimated origin and its 95 % ellipse", "estimate"],
  ["#1e1e1e", "weapon (where it truly fired from)", "weapon"],
  ["#ffffff", "the shelled country's border (its side shaded)", "territory"],
];

function plural(n, word) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function el(tag, attrs = {}, text = "") {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text) e.textContent = text;
  return e;
}

function prop(entity, name) {
  const p = entity.properties && entity.properties[name];
  return p ? p.getValue(Cesium.JulianDate.now()) : undefined;
}

// when a threat's or flier's flight ended: UTC (its availability's end), and seconds after the
// scenario's epoch as the tables give them (an incident weeks on is millions of seconds)
function endsAt(entity) {
  const t = `t = ${Math.round(prop(entity, "end_time_s")).toLocaleString("en-US")} s`;
  const span = entity.availability && entity.availability.get(0);
  if (!span) return `${t} after the scenario's epoch`;
  const utc = Cesium.JulianDate.toIso8601(span.stop, 0).replace("T", " ").replace("Z", " UTC");
  return `${utc} (${t})`;
}

function showDetails(entity) {
  const d = document.getElementById("details");
  const outcome = prop(entity, "outcome");
  const by = prop(entity, "battery") || prop(entity, "by");  // a battery's salvo or a fighter's shot
  d.replaceChildren();
  const table = el("table");
  const air = AIR_FATES.includes(outcome);
  for (const [k, v] of [[air ? "flier" : "threat", entity.name], [air ? "type" : "missile", prop(entity, "missile")],
                        ["outcome", outcome],
                        ["by", by || "—"],
                        ["ends at", endsAt(entity)]]) {
    const tr = el("tr");
    tr.append(el("th", {}, k), el("td", {}, String(v)));
    table.append(tr);
  }
  d.append(table);
  d.hidden = false;
  d.dataset.outcome = outcome;
}

// how far from a threat the camera looks at it [m]: an aircraft's incursion spans a few kilometres;
// a missile's flight from a hundred kilometres (a Scud's) to a few thousand (an IRBM's): 1.2 times
// the farthest it gets from where it starts, between 250 and 1,600 km
function viewRange(entity, span) {
  if (AIR_FATES.includes(prop(entity, "outcome"))) return 3.0e5;
  if (!span) return 1.6e6;
  // sampled inside the span: its ends can fall a hair outside the first and last samples
  const total = Cesium.JulianDate.secondsDifference(span.stop, span.start);
  const at = (f) => entity.position.getValue(Cesium.JulianDate.addSeconds(span.start, f * total, new Cesium.JulianDate()));
  const start = at(0.001);
  let far = 0.0;
  for (let i = 1; i <= 20; i++) {
    const p = at(Math.min(i / 20, 0.999));
    if (start && p) far = Math.max(far, Cesium.Cartesian3.distance(start, p));
  }
  return far > 0.0 ? Math.min(Math.max(1.2 * far, 2.5e5), 1.6e6) : 1.6e6;
}

// an air scene's clock spans the flights that start within 6 hours of the first (incidents
// weeks apart are reached by a click in the list): the same span about a flier's start
const EPISODE_S = 6 * 3600;

// playback speed: about a minute of viewing for the span, in round steps (1, 2, 5 x 10^k), as
// the scene's own clock (shieldlab.io.scene.multiplier)
function multiplier(seconds) {
  const want = Math.max(seconds / 60.0, 1.0);
  let best = 1.0;
  for (let k = 0; k < 5; k++) {
    for (const m of [1.0, 2.0, 5.0]) {
      const s = m * 10 ** k;
      if (Math.abs(Math.log(s / want)) < Math.abs(Math.log(best / want))) best = s;
    }
  }
  return best;
}

// move the clock's range to the episode of the listed fliers that start within EPISODE_S of
// `span`'s start, from the first one's start to 30 s after the last one's end: a time outside
// the range alone is looped back into it by a playing clock at its next tick
function clockToEpisode(viewer, span) {
  const J = Cesium.JulianDate;
  let start = span.start, stop = span.stop;
  for (const e of state.entities) {
    const s = e.availability && e.availability.get(0);
    if (!s || Math.abs(J.secondsDifference(s.start, span.start)) > EPISODE_S) continue;
    if (J.lessThan(s.start, start)) start = s.start;
    if (J.greaterThan(s.stop, stop)) stop = s.stop;
  }
  stop = J.addSeconds(stop, 30.0, new J());
  viewer.clock.startTime = start.clone();
  viewer.clock.stopTime = stop;
  viewer.clock.multiplier = multiplier(J.secondsDifference(stop, start));
  if (viewer.timeline) viewer.timeline.zoomTo(start, stop);
}

// names whose boxes on the screen would overlap are shown as the first one's with a count of
// the others ("sejjil-athens#1 +2"); which kinds' names come first
const NAME_FIRST = ["threat", "battery", "radar", "satellite", "asset"];
const measure = document.createElement("canvas").getContext("2d");

// (set only where it changes: each change redraws the scene)
function setLabel(entity, time, show, text) {
  const label = entity.label;
  if (label.show === undefined || label.show.getValue(time) !== show) label.show = show;
  if (label.text === undefined || label.text.getValue(time) !== text) label.text = text;
}

// the box a name takes on the screen [pixels]: after its marker by its pixel offset, the text
// drawn on its baseline in its font, with room for a count (" +99")
function nameBox(e, w, time) {
  const off = (e.label.pixelOffset && e.label.pixelOffset.getValue(time)) || { x: 0, y: 0 };
  const font = (e.label.font && e.label.font.getValue(time)) || "13px sans-serif";
  measure.font = font;
  const width = measure.measureText(`${e.name} +99`).width;
  const size = parseFloat((font.match(/(\d+(?:\.\d+)?)px/) || [0, 13])[1]);
  const x0 = w.x + off.x - 3, y1 = w.y + off.y + 0.35 * size + 3;
  return { x0, x1: x0 + width + 6, y0: y1 - 1.35 * size - 6, y1 };
}

const overlap = (a, b) => a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;

function declutter(viewer, entities) {
  const time = viewer.clock.currentTime;
  const occluder = new Cesium.EllipsoidalOccluder(Cesium.Ellipsoid.WGS84, viewer.camera.positionWC);
  const shown = [];
  const chosen = viewer.selectedEntity;  // the selected one's name first
  const order = chosen && entities.includes(chosen) ? [chosen, ...entities.filter((x) => x !== chosen)] : entities;
  for (const e of order) {
    const q = e.isAvailable(time) && e.position && e.position.getValue(time);
    const p = q && (viewer.scene.mode !== Cesium.SceneMode.SCENE3D || occluder.isPointVisible(q)) && q;
    const w = p && Cesium.SceneTransforms.worldToWindowCoordinates(viewer.scene, p);
    const box = w && nameBox(e, w, time);
    const near = box && shown.find((s) => overlap(s.box, box));
    if (near) near.others += 1;
    else if (box) shown.push({ e, box, others: 0 });
    if (!box || near) setLabel(e, time, false, e.name);
  }
  for (const s of shown) setLabel(s.e, time, true, s.others ? `${s.e.name} +${s.others}` : s.e.name);
  state.names = shown.map((s) => ({ text: s.e.name + (s.others ? ` +${s.others}` : ""), box: s.box,
                                    kind: prop(s.e, "kind"), others: s.others }));
}

async function select(viewer, entity, row) {
  for (const li of document.querySelectorAll("#threats li")) li.classList.remove("selected");
  row.classList.add("selected");
  state.selected = entity.name;
  // fly to the threat in mid-flight: move the clock there when it is not in the air now
  const span = entity.availability && entity.availability.get(0);
  if (span && !entity.isAvailable(viewer.clock.currentTime)) {
    const mid = Cesium.JulianDate.addSeconds(span.start,
      0.4 * Cesium.JulianDate.secondsDifference(span.stop, span.start), new Cesium.JulianDate());
    const clock = viewer.clock;
    if (Cesium.JulianDate.lessThan(mid, clock.startTime) || Cesium.JulianDate.greaterThan(mid, clock.stopTime)) {
      clockToEpisode(viewer, span);
    }
    clock.currentTime = mid;
  }
  viewer.selectedEntity = entity;
  showDetails(entity);
  state.flying = true;
  const range = viewRange(entity, span);
  state.range = range;
  await viewer.flyTo(entity, { duration: 1.2, offset: new Cesium.HeadingPitchRange(0.0, -0.5, range) });
  state.flying = false;
}

// the places the opening view must hold: each flight's start and end, each fixed site
function openingPoints(viewer, entities) {
  const out = [];
  for (const e of entities) {
    if (!e.position) continue;
    const a = e.availability;
    const times = a && a.length ? [a.start, a.stop] : [viewer.clock.currentTime];
    for (const t of times) {
      const p = e.position.getValue(t);
      if (p) out.push(p);
    }
  }
  return out;
}

// the margins [px] the opening view keeps its points from the canvas's edges: room on the right
// for a name (written right of its point), at the bottom for the clock and the timeline
const FRAME_MARGINS = { left: 60, right: 170, top: 60, bottom: 110 };

// whether every point projects inside the canvas, ``m`` pixels from its edges (at most a
// fifth of the canvas each way: a small canvas could otherwise never hold them)
function inside(viewer, points, m = FRAME_MARGINS) {
  const c = viewer.scene.canvas;
  const w = c.clientWidth, h = c.clientHeight;
  const left = Math.min(m.left, 0.2 * w), right = Math.min(m.right, 0.2 * w);
  const top = Math.min(m.top, 0.2 * h), bottom = Math.min(m.bottom, 0.2 * h);
  return points.every((p) => {
    const q = Cesium.SceneTransforms.worldToWindowCoordinates(viewer.scene, p);
    return q && q.x >= left && q.x <= w - right && q.y >= top && q.y <= h - bottom;
  });
}

// the scene's listed things by picture: ballistic threats, fliers (aircraft and cruise missiles),
// shelled rounds, told apart by their outcomes
function byPicture(threats) {
  const air = threats.filter((t) => AIR_FATES.includes(t.outcome));
  const rounds = threats.filter((t) => ROUND_FATES.includes(t.outcome));
  const ballistic = threats.filter((t) => !AIR_FATES.includes(t.outcome) && !ROUND_FATES.includes(t.outcome));
  return { ballistic, air, rounds };
}

// the list's title for what the scene holds: ballistic threats, fliers (aircraft and cruise
// missiles) and shelled rounds, alone or together
function listTitle(threats) {
  const { ballistic, air, rounds } = byPicture(threats);
  if (threats.length && air.length === threats.length) return "Aircraft and cruise missiles";
  if (threats.length && rounds.length === threats.length) return "Rounds";
  const kinds = [ballistic.length ? "threats" : null, air.length ? "fliers" : null, rounds.length ? "rounds" : null]
    .filter((k) => k);
  const words = kinds.length > 1 ? `${kinds.slice(0, -1).join(", ")} and ${kinds[kinds.length - 1]}` : "threats";
  return words[0].toUpperCase() + words.slice(1);
}

// the header's line: each kind of thing in the scene with how it fared, then the sites; a
// part for each picture the scene holds (a flier that reached its target is no ballistic
// "leaked", a shelled round no threat)
function status(threats, n, entities) {
  const { ballistic, air, rounds } = byPicture(threats);
  const parts = [];
  if (ballistic.length || !threats.length) {
    parts.push(`${plural(ballistic.length, "threat")}, ${ballistic.filter((t) => t.outcome.startsWith("leaked")).length} leaked`);
  }
  if (air.length) {
    const reached = air.filter((t) => t.outcome === "reached its target").length;
    parts.push(`${plural(air.length, "flier")}, ${air.filter((t) => t.outcome === "shot down").length} shot down` +
               (reached ? `, ${reached} reached ${reached === 1 ? "its" : "their"} target` : ""));
  }
  if (rounds.length) parts.push(`${plural(rounds.length, "round")}, ${rounds.filter((t) => t.outcome === "located").length} located`);
  if (n("interceptor") || n("battery")) parts.push(plural(n("interceptor"), "salvo"));
  parts.push(plural(n("radar"), "radar"));
  if (n("battery")) parts.push(`${n("battery")} ${n("battery") === 1 ? "battery" : "batteries"}`);
  const bases = entities.filter((e) => prop(e, "kind") === "fighter-base");
  const patrols = bases.filter((e) => prop(e, "system") === "patrol").length;
  if (patrols) parts.push(plural(patrols, "patrol station"));
  if (bases.length - patrols) parts.push(plural(bases.length - patrols, "alert base"));
  if (n("weapon")) parts.push(plural(n("weapon"), "weapon"));
  return parts.join(" · ");
}

async function main() {
  const params = new URLSearchParams(location.search);
  const url = params.get("scene") || "data/scene.czml";
  const imagery = Cesium.TileMapServiceImageryProvider.fromUrl(Cesium.buildModuleUrl("Assets/Textures/NaturalEarthII"));
  const viewer = new Cesium.Viewer("globe", {
    baseLayer: Cesium.ImageryLayer.fromProviderAsync(imagery),
    terrainProvider: new Cesium.EllipsoidTerrainProvider(),
    baseLayerPicker: false, geocoder: false, navigationHelpButton: false, fullscreenButton: false,
    sceneModePicker: true, homeButton: true, infoBox: true, selectionIndicator: true,
    timeline: true, animation: true, shouldAnimate: params.get("play") !== "0",
    // draw only when something changed (the clock, the camera, an entity): a paused scene costs no CPU
    requestRenderMode: true,
    contextOptions: { webgl: { preserveDrawingBuffer: true } },  // screenshots and pixel checks
  });
  state.viewer = viewer;
  const ds = await Cesium.CzmlDataSource.load(url);
  await viewer.dataSources.add(ds);
  const threats = ds.entities.values.filter((e) => prop(e, "kind") === "threat");
  // names that fall near each other on the screen (a site's radar, battery and asset; a salvo
  // leaving its pad; flights crossing) are shown as the first one's with a count of the others,
  // not printed over each other: zoom in and they part. Worked out here at every frame where
  // the clock or the camera moved; Cesium's own clustering works its clusters out at camera
  // moves only, and with moving members printed their names all the same or gave a cluster
  // another marker's name. The first: a threat's before a battery's, a radar's, an asset's
  const named = ds.entities.values.filter((e) => e.label);
  const rank = (e) => { const i = NAME_FIRST.indexOf(prop(e, "kind")); return i < 0 ? NAME_FIRST.length : i; };
  named.sort((a, b) => rank(a) - rank(b));
  let seen = "";
  viewer.scene.preRender.addEventListener(() => {
    const c = viewer.camera.positionWC;
    const now = `${viewer.clock.currentTime.dayNumber} ${viewer.clock.currentTime.secondsOfDay} ${c.x} ${c.y} ${c.z}`;
    if (now !== seen) {
      seen = now;
      declutter(viewer, named);
    }
  });
  viewer.clockTrackedDataSource = ds;
  document.getElementById("title").textContent = ds.name || "shieldlab";
  document.title = `${ds.name || "shieldlab"} — shieldlab`;
  document.getElementById("list-title").textContent = listTitle(
    threats.map((e) => ({ outcome: prop(e, "outcome") })));
  const list = document.getElementById("threats");
  for (const entity of threats) {
    const outcome = prop(entity, "outcome");
    const li = el("li", { "data-threat": entity.name, "data-outcome": outcome });
    const chip = el("span", { class: "chip" }, outcome);
    chip.style.background = COLOURS[outcome] || "#ccc";
    li.append(el("span", {}, entity.name), chip);
    li.addEventListener("click", () => select(viewer, entity, li));
    list.append(li);
    state.threats.push({ name: entity.name, outcome });
    state.entities.push(entity);
  }
  const n = (k) => ds.entities.values.filter((e) => prop(e, "kind") === k).length;
  document.getElementById("status").textContent = status(state.threats, n, ds.entities.values);
  const legend = document.getElementById("legend");
  const outcomes = new Set(state.threats.map((t) => t.outcome));
  for (const e of ds.entities.values) {
    if (prop(e, "kind") === "intercept") outcomes.add(prop(e, "killed") ? "kill" : "miss");
  }
  for (const [colour, text, kind, outcome] of KEY) {
    if (n(kind) === 0 || (outcome && !outcomes.has(outcome))) continue;  // only what the scene holds
    const li = el("li");
    const sw = el("span", { class: "swatch" });
    sw.style.background = colour;
    li.append(sw, document.createTextNode(text));
    legend.append(li);
  }
  const links = document.getElementById("links");
  const report = await fetch("data/report.html", { method: "HEAD" }).catch(() => null);
  if (report && report.ok) links.append(el("a", { href: "data/report.html", target: "_blank" }, "the run's report"));
  // the opening view: what the raid is, not the radars' fans (an early-warning radar's reaches
  // into Africa: the raid had been a speck on a hemisphere)
  // nor the early-warning satellites (a geostationary one, 36,000 km up, made the raid a dot)
  const shown = ds.entities.values.filter((e) => !["coverage", "sector", "satellite", "territory"].includes(prop(e, "kind")));
  await viewer.zoomTo(shown);
  // zoomTo fits the entities' bounding sphere, which a wide canvas still cut at its edges
  // (epaa-phase-2: Tabriz on the right edge, its name cut to "sejjil-athe"): back off until
  // every flight's start and end and every site stand inside the canvas, with room for names
  const ends = openingPoints(viewer, shown);
  state.framed = () => inside(viewer, ends);  // (the check, for the tests)
  for (let i = 0; i < 12 && !inside(viewer, ends); i++) {
    viewer.camera.zoomOut(viewer.camera.positionCartographic.height * 0.2);
  }
  viewer.scene.requestRender();
  state.ready = true;
}

main().catch((err) => {
  state.error = String(err && err.stack ? err.stack : err);
  document.getElementById("status").textContent = `could not load the scene: ${err}`;
  console.error(err);
});
