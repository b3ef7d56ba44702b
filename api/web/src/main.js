// The explorer's entry point: login, search, the graph view and its actions.

import { ApiError, gql, login, logout, me, token } from "./api.js";
import { showCard } from "./card.js";
import { CIRCLES, EXPLORE, PATH, RINGS, SEARCH, TIERS, WHAT_IF } from "./queries.js";
import { View, scoreColour } from "./view.js";
import { route, stopAlerts } from "./workbench.js";

const $ = (sel) => document.querySelector(sel);
const MAX_NODES = 15000;

const state = { view: null, focal: null, selected: null, user: null, generation: 0 };
window.__explorer = state; // read by the browser tests (tests/web)

function status(text, { error = false } = {}) {
  const el = $("#status");
  el.textContent = text;
  el.style.color = error ? "var(--bad)" : "";
}

function fail(err) {
  status(err instanceof ApiError ? err.message : `error: ${err.message || err}`, { error: true });
  console.error(err);
}

function layers() {
  return [...document.querySelectorAll('input[name="layer"]:checked')].map((i) => i.value);
}

function selectedNodeIsEnterprise() {
  const g = state.view?.graph;
  return !!(state.selected && g?.hasNode(state.selected) && g.getNodeAttribute(state.selected, "kind") === "Enterprise");
}

function refreshButtons() {
  const ok = selectedNodeIsEnterprise();
  for (const id of ["#expand-up", "#expand-down", "#what-if"]) $(id).disabled = !ok;
  $("#path-to-core").disabled = !ok || !coreInView();
}

function coreInView() {
  const g = state.view.graph;
  if (state.focal && g.hasNode(state.focal) && g.getNodeAttribute(state.focal, "isCore")) return state.focal;
  return g.findNode((_, a) => a.isCore) || null;
}

function legend() {
  const mode = state.view.colourBy;
  const el = $("#legend");
  if (mode === "kind") {
    el.innerHTML = [["#f2b134", "core enterprise"], ["#4c8dd6", "enterprise"], ["#a77bd8", "person"],
      ["#2bb3a3", "financing / credit line"], ["#ff4d6d", "highlighted"]]
      .map(([c, t]) => `<span><i style="background:${c}"></i>${t}</span>`).join("");
  } else {
    el.innerHTML = [0, 0.25, 0.5, 0.75, 1].map((s) => `<span><i style="background:${scoreColour(s)}"></i>${(s * 100).toFixed(0)}%</span>`).join("")
      + `<span><i style="background:${scoreColour(null)}"></i>not scored</span>`;
  }
}

// ---- login ---------------------------------------------------------------------------------
async function showApp() {
  try {
    state.user = await me();
  } catch {
    return showLogin();
  }
  $("#login").hidden = true;
  $("#app").hidden = false;
  $("#who").textContent = `${state.user.username} (${state.user.roles.join(", ")})`;
  if (!state.view) {
    state.view = new View($("#graph"), { onSelect: (node) => select(node) });
    legend();
  }
  if (route() !== "explorer") return; // a workbench page (src/workbench.js)
  const match = location.hash.match(/e=([^&]+)/);
  if (match) open(decodeURIComponent(match[1]), { path: pathInHash() });
  else $("#search").focus();
}

function showLogin() {
  $("#app").hidden = true;
  $("#login").hidden = false;
  $("#username").focus();
}

$("#login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("#login-error").textContent = "";
  try {
    await login($("#username").value.trim(), $("#password").value);
    $("#password").value = "";
    await showApp();
  } catch (err) {
    $("#login-error").textContent = err.message;
  }
});

$("#logout").addEventListener("click", () => {
  logout();
  stopAlerts();
  location.hash = "";
  showLogin();
});
window.addEventListener("chainlens:logged-out", () => { stopAlerts(); showLogin(); });

// ---- search --------------------------------------------------------------------------------
let searchTimer = null;
async function search(text) {
  const list = $("#results");
  if (!text.trim()) {
    list.innerHTML = "";
    return;
  }
  try {
    const data = await gql(SEARCH, { text });
    const edges = data.searchEnterprises.edges;
    list.innerHTML = edges.length
      ? edges.map(({ node }) => `<li tabindex="0" data-id="${node.id}">${node.isCore ? "★ " : ""}${escapeHtml(node.name)}
          <span class="muted">${escapeHtml(node.uscc || "")}</span></li>`).join("")
      : '<li class="muted">No enterprise found</li>';
  } catch (err) {
    fail(err);
  }
}

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

$("#search").addEventListener("input", (e) => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => search(e.target.value), 200);
});
$("#search-form").addEventListener("submit", (e) => {
  e.preventDefault();
  clearTimeout(searchTimer);
  search($("#search").value);
});
$("#results").addEventListener("click", (e) => {
  const li = e.target.closest("li[data-id]");
  if (!li) return;
  $("#results").innerHTML = "";
  location.hash = `e=${encodeURIComponent(li.dataset.id)}`;
});
window.addEventListener("hashchange", () => {
  const match = location.hash.match(/e=([^&]+)/);
  if (match && token()) open(decodeURIComponent(match[1]), { path: pathInHash() });
});

// `#e=ID&path=A,B,C`: a score's explanation path (the card's link), highlighted once drawn.
function pathInHash() {
  const m = location.hash.match(/[#&]path=([^&]+)/);
  return m ? m[1].split(",").filter(Boolean).map(decodeURIComponent) : null;
}

// ---- graph ---------------------------------------------------------------------------------
async function open(id, { path = null } = {}) {
  const view = state.view;
  view.clear();
  state.focal = id;
  const generation = ++state.generation; // answers for an older view are dropped
  status("Loading…");
  // The card is asked for beside the graph, not after it: a deep link shows both sooner.
  const card = enterpriseCard(id).catch(fail);
  try {
    await load([id], Number($("#hops").value), { generation });
    if (generation !== state.generation) return;
    state.selected = id;
    state.view.select(id);
    refreshButtons();
    if (path) await showPath(path, generation);
    await card;
  } catch (err) {
    fail(err);
  }
}

// An explanation path on the graph: its firms brought into view (their neighbourhood, when
// the focal firm's did not reach them) and the path's links among them highlighted.
async function showPath(ids, generation) {
  const missing = ids.filter((x) => !state.view.graph.hasNode(x));
  if (missing.length) await load(missing, 1, { around: ids[0], generation });
  if (generation !== state.generation) return;
  const links = ids.slice(1).flatMap((b, k) => state.view.edgesAmong([ids[k], b])); // hop by hop
  const n = state.view.setHighlight(ids, links);
  const names = ids.map((x) => (state.view.graph.hasNode(x) ? state.view.graph.getNodeAttribute(x, "label") : x) || x);
  status(`explanation path: ${names.join(" → ")} (${n} of ${ids.length} in view)`);
}

function enterpriseCard(id) {
  return showCard($("#card"), id, {
    onHighlight: (members) => {
      const n = state.view.setHighlight(members, state.view.edgesAmong(members, ["GUARANTEES"]));
      status(`guarantee circle: ${n} of ${members.length} members in view`);
    },
  });
}

async function load(ids, hops, { around = null, generation = state.generation } = {}) {
  const started = performance.now();
  const data = await gql(EXPLORE, { ids, layers: layers(), hops, maxNodes: MAX_NODES });
  if (generation !== state.generation) return 0;
  const { nodes, edges, truncated } = data.explore;
  const added = state.view.merge(nodes, edges, { around });
  state.view.runLayout();
  status(`${state.view.graph.order} nodes, ${state.view.graph.size} links` +
    `${truncated ? " (truncated)" : ""} · +${added} in ${(performance.now() - started).toFixed(0)} ms`);
  refreshButtons();
  return added;
}

async function select(node) {
  state.selected = node;
  state.view.select(node);
  refreshButtons();
  const attrs = state.view.graph.hasNode(node) ? state.view.graph.getNodeAttributes(node) : null;
  if (attrs && attrs.kind !== "Enterprise") {
    $("#card").hidden = false;
    $("#card").innerHTML = `<h2>${escapeHtml(attrs.label)}</h2><p class="muted">${escapeHtml(attrs.kind)} ${escapeHtml(node)}</p>
      <button type="button" id="expand-node">Expand</button>`;
    $("#expand-node").addEventListener("click", () => load([node], 1, { around: node }).catch(fail));
    return;
  }
  try {
    await enterpriseCard(node);
  } catch (err) {
    fail(err);
  }
}

for (const input of document.querySelectorAll('input[name="colour"]')) {
  input.addEventListener("change", () => {
    state.view.setColourBy(input.value);
    legend();
  });
}
for (const input of document.querySelectorAll('input[name="layer"]')) {
  input.addEventListener("change", () => state.focal && open(state.focal));
}
$("#hops").addEventListener("change", () => state.focal && open(state.focal));

async function expandTiers(direction) {
  const id = state.selected;
  status(`Expanding tiers ${direction.toLowerCase()}…`);
  try {
    const data = await gql(TIERS, { id, direction });
    const t = data.tiers;
    const firms = t.firms.edges.map((e) => e.node);
    const nodes = firms.map((f) => ({ id: f.id, name: f.name || f.id, label: "Enterprise", tier: f.tier }));
    const edges = [];
    for (const f of firms) {
      for (const link of f.links) {
        // Upstream firms supply the tier below them; downstream firms buy from it.
        const [source, target] = direction === "UPSTREAM" ? [f.id, link.counterpartyId] : [link.counterpartyId, f.id];
        edges.push({ source, target, type: "SUPPLIES", amount: link.amount12m });
      }
    }
    const added = state.view.merge(nodes, edges, { around: id });
    state.view.runLayout();
    const tierIds = firms.map((f) => f.id);
    state.view.setHighlight([id, ...tierIds], state.view.edgesAmong([id, ...tierIds], ["SUPPLIES"]));
    const tiers = t.perTier.slice(0, 1 + t.perTier.findLastIndex((n) => n > 0));
    status(`${direction.toLowerCase()}: ${firms.length} firms in ${tiers.length} tiers (${tiers.join(" / ")}), +${added} new`);
  } catch (err) {
    fail(err);
  }
}
$("#expand-up").addEventListener("click", () => expandTiers("UPSTREAM"));
$("#expand-down").addEventListener("click", () => expandTiers("DOWNSTREAM"));

$("#path-to-core").addEventListener("click", async () => {
  const core = coreInView();
  try {
    const data = await gql(PATH, { from: state.selected, to: core });
    const p = data.shortestTradePath;
    if (!p) return status("no trade path to the core within 8 links", { error: true });
    const nodes = p.ids.map((id, i) => ({ id, name: p.names[i] || id, label: "Enterprise" }));
    const edges = p.hops.map((h) => ({ source: h.sellerId, target: h.buyerId, type: "SUPPLIES", amount: h.amount12m }));
    state.view.merge(nodes, edges, { around: core });
    state.view.setHighlight(p.ids, edges.map((e) => `${e.source}>${e.target}:SUPPLIES`));
    status(`path to core: ${p.names.join(" → ")} (${p.length} links)`);
  } catch (err) {
    fail(err);
  }
});

$("#circles").addEventListener("click", async () => {
  try {
    const data = await gql(CIRCLES);
    const circles = data.guaranteeCircles.edges.map((e) => e.node);
    const members = circles.flatMap((c) => c.members);
    const colours = new Map();
    circles.forEach((c, i) => c.members.forEach((m) => colours.set(m, `hsl(${(i * 67) % 360}, 80%, 60%)`)));
    const n = state.view.setHighlight(members, state.view.edgesAmong(members, ["GUARANTEES"]), colours);
    status(`${circles.length} guarantee circles; ${n} members in view`);
  } catch (err) {
    fail(err);
  }
});

$("#rings").addEventListener("click", async () => {
  try {
    const data = await gql(RINGS);
    const rings = data.circularTrade.edges.map((e) => e.node);
    const members = rings.flatMap((r) => r.members);
    const n = state.view.setHighlight(members, state.view.edgesAmong(members, ["SUPPLIES"]));
    status(`${rings.length} circular-trade rings; ${n} firms in view`);
  } catch (err) {
    fail(err);
  }
});

$("#what-if").addEventListener("click", async () => {
  const id = state.selected;
  status("Simulating the default…");
  try {
    const data = await gql(WHAT_IF, { ids: [id] });
    const r = data.whatIf;
    const colours = new Map(r.impacted.map((f) => [f.id, scoreColour(Math.min(1, 0.3 + f.lossFraction))]));
    const n = state.view.setHighlight(r.impacted.map((f) => f.id), [], colours);
    const card = $("#card");
    card.hidden = false;
    const list = r.impacted.filter((f) => f.id !== id).slice(0, 30);
    card.insertAdjacentHTML("afterbegin", `<section id="what-if-result"><h3>If it defaults</h3>
      <p>${r.impacted.length - 1} firms impacted (${n} in view); system loss ${(100 * r.systemLossFraction).toFixed(2)}%.</p>
      <ul class="impact">${list.map((f) => `<li>tier ${f.tier}: ${escapeHtml(f.name || f.id)} — ${(100 * f.lossFraction).toFixed(1)}%${f.defaulted ? " <b>defaults</b>" : ""}</li>`).join("")}</ul></section>`);
    status(`what-if: ${r.impacted.length - 1} firms impacted`);
  } catch (err) {
    fail(err);
  }
});

$("#clear").addEventListener("click", () => {
  state.view.setHighlight([]);
  status("");
});

if (token()) showApp();
else showLogin();
