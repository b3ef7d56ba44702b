// The enterprise card: firmographics and scores, then optional sections (exposure, guarantee
// circle, controller, related parties, score explanations, alerts, live financings), each
// fetched on its own so one missing field does not blank the card.

import { gql } from "./api.js";
import { CARD, CARD_SECTIONS } from "./queries.js";

const esc = (v) => String(v ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

// Money arrives in minor units (fen); shown in yuan with thousands separators.
export function money(minor, currency = "CNY") {
  if (minor === null || minor === undefined) return "—";
  const yuan = Number(minor) / 100;
  return `${yuan.toLocaleString("zh-CN", { maximumFractionDigits: 2 })} ${currency}`;
}

function score(value) {
  if (value === null || value === undefined) return '<span class="muted">not scored</span>';
  const cls = value >= 0.5 ? "score-high" : "score-low";
  return `<span class="${cls}">${(value * 100).toFixed(1)}%</span>`;
}

function rows(pairs) {
  return `<table>${pairs.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${v}</td></tr>`).join("")}</table>`;
}

const SECTION_TITLES = {
  scores: "Score explanation",
  exposure: "Group exposure",
  circle: "Guarantee circle",
  controller: "Actual controller",
  related: "Related parties",
  alerts: "Alerts",
  financings: "Live financings",
};

function renderSection(name, data) {
  switch (name) {
    case "exposure": {
      const e = data.groupExposure;
      return rows([["Scope", esc(e.scope)], ["Financings", esc(e.financings)], ["Financed", money(e.financed)],
        ["Guarantees given", money(e.guaranteesGiven)], ["Vouchers issued", money(e.vouchersIssued)],
        ["Vouchers held", money(e.vouchersHeld)], ["Total", `<b>${money(e.total)}</b>`]]);
    }
    case "circle": {
      const c = data.guaranteeCircle;
      if (!c) return '<p class="muted">Not in a guarantee circle.</p>';
      return `<p data-circle="${esc(c.id)}">Circle <b>${esc(c.id)}</b>: ${esc(c.size)} firms, ${money(c.totalAmount)} guaranteed.</p>
        <button type="button" class="show-circle" data-members="${esc(c.members.join(","))}">Highlight circle</button>`;
    }
    case "controller": {
      const c = data.actualController;
      if (!c.controller) return `<p class="muted">No controller (${esc(c.stopped)}).</p>`;
      const x = c.controller;
      return `<p>${esc(x.holderName)} (${esc(x.holderKind)}), ${esc(x.pct)}% — ${esc(x.basis)}</p>`;
    }
    case "related": {
      const r = data.relatedParties;
      if (!r.edges.length) return '<p class="muted">None found.</p>';
      return `<ul>${r.edges.map(({ node }) => `<li><a href="#e=${encodeURIComponent(node.id)}">${esc(node.name)}</a>:
        ${node.links.map((l) => esc(l.explanation)).join("; ")}</li>`).join("")}</ul>`;
    }
    case "scores": {
      const s = data.riskScore;
      const paths = s.explanation?.paths || [];
      // Counterparties whose default alone would wipe this firm out: the default score's why.
      const hits = s.explanation?.contagion || [];
      return `<p class="muted">model ${esc(s.modelVersion)}</p>` + (paths.length
        ? `<ol>${paths.map((p) => `<li><a class="explanation-path" href="#e=${encodeURIComponent(p.ids[0])}&path=${p.ids.map(encodeURIComponent).join(",")}"
            title="Show this path on the graph">${p.names.map(esc).join(" → ")}</a> <span class="muted">(${Number(p.weight).toFixed(2)})</span></li>`).join("")}</ol>`
        : '<p class="muted">No explanation paths.</p>') + (hits.length
        ? `<p>Contagion sources:</p><ul>${hits.map((h) => `<li><a href="#e=${encodeURIComponent(h.id)}">${esc(h.name)}</a>
            <span class="muted">loss ${Number(h.exposureOverEquity).toFixed(2)}× equity, own PD ${(100 * h.standalonePd).toFixed(1)}%</span></li>`).join("")}</ul>`
        : "");
    }
    case "alerts": {
      const edges = data.alerts.edges;
      if (!edges.length) return '<p class="muted">No alerts.</p>';
      return `<ul>${edges.map(({ node }) => `<li><span class="pill">${esc(node.severity)}</span> ${esc(node.kind)}: ${esc(node.message)}</li>`).join("")}</ul>`;
    }
    case "financings": {
      const edges = data.financings.edges;
      if (!edges.length) return '<p class="muted">No live financing.</p>';
      // Each financing links to its own page (terms, schedule, ledger postings, collateral).
      const more = data.financings.totalCount > edges.length ? `<p class="muted">${esc(edges.length)} of ${esc(data.financings.totalCount)} shown.</p>` : "";
      return `<table>${edges.map(({ node }) => `<tr data-financing="${esc(node.id)}"><td><a href="#/financing/${encodeURIComponent(node.id)}">${esc(node.id)}</a></td>
        <td>${esc(node.productKind)} ${money(node.outstanding)} of ${money(node.amount)} from ${esc(node.lender)} <span class="pill">${esc(node.status)}</span></td></tr>`).join("")}</table>${more}`;
    }
    default:
      return "";
  }
}

// `nameId`: the id of the card's heading (the explorer's card is "card-name"; another card on
// the same page needs its own). Without `onHighlight` the circle has no highlight button.
export async function showCard(element, id, { onHighlight, nameId = "card-name" } = {}) {
  element.hidden = false;
  element.innerHTML = '<p class="muted">Loading…</p>';
  const { enterprise: e } = await gql(CARD, { id });
  element.dataset.enterprise = e.id;
  element.innerHTML = `
    <h2 id="${nameId}">${esc(e.name)}</h2>
    <div class="muted">${esc(e.nameEn)}</div>
    ${e.isCore ? '<span class="pill">core enterprise</span>' : ""}
    <h3>Firmographics</h3>
    ${rows([["USCC", `${esc(e.uscc || "—")} ${e.usccValid === false ? '<span class="score-high">invalid</span>' : ""}`],
      ["Legal form", esc(e.legalForm || "—")], ["Region", esc(e.regionCode || "—")],
      ["Industry", esc(e.industryCode || "—")], ["Registered capital", money(e.registeredCapital, e.currency || "CNY")],
      ["Founded", esc(e.foundedOn || "—")], ["Status", esc(e.status || "—")]])}
    <h3>Scores</h3>
    ${rows([["Fraud", score(e.fraudScore)], ["Default", score(e.defaultScore)]])}
    ${Object.keys(CARD_SECTIONS).map((name) => `<section data-section="${name}"><h3>${SECTION_TITLES[name]}</h3><div class="body muted">Loading…</div></section>`).join("")}
  `;
  await Promise.all(Object.entries(CARD_SECTIONS).map(async ([name, query]) => {
    const body = element.querySelector(`[data-section="${name}"] .body`);
    try {
      const data = await gql(query, { id });
      body.classList.remove("muted");
      body.innerHTML = renderSection(name, data);
    } catch (err) {
      // A field that does not exist yet, or that the role may not read.
      body.textContent = err.code === "FORBIDDEN" ? "Not available to your role." : "Not available.";
      body.title = err.message;
    }
  }));
  for (const button of element.querySelectorAll(".show-circle")) {
    if (onHighlight) button.addEventListener("click", () => onHighlight(button.dataset.members.split(",")));
    else button.remove();
  }
  return e;
}
