// The workbench's pages beside the explorer: a credit officer's review queue (approve with
// changed terms, or reject), the portfolio dashboard (tables, ECharts charts, XLSX / CSV
// export), a relationship manager's prospects (firms around a core, the products that match
// and why, an application started from a match) and the alerts inbox (newest first, new
// alerts pushed by the alertRaised subscription, acknowledge). Pages are chosen by the hash:
// "#/review", "#/portfolio", "#/prospects", "#/alerts"; anything else is the explorer. Every request shows progress and every failure
// is shown in words.

import { createClient } from "graphql-ws";

import { ApiError, gql, token } from "./api.js";
import { showCard } from "./card.js";
import {
  ACKNOWLEDGE, ALERT_RAISED, ALERTS, CORES, ENTERPRISE_NAMES, FINANCING_ALERTS, FINANCING_COLLATERAL, FINANCING_LTV,
  FINANCING_PAGE, PORTFOLIO, PRODUCT_MATCHES, PROSPECTS, REVIEW, REVIEW_EVIDENCE, REVIEW_QUEUE, STATEMENT,
  SUBMIT_APPLICATION, UNWATCH, WATCH, WATCH_LIST,
} from "./queries.js";

const $ = (sel) => document.querySelector(sel);
const esc = (v) => String(v ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

export const workbench = { page: "explorer", queue: [], report: null, charts: null, alerts: [], live: false, pushed: [] };
window.__workbench = workbench; // read by the browser tests (tests/web)

// ---- money: integer minor units (fen) shown exactly, "1,234,567.89" -------------------------
export function fen(minor) {
  if (minor === null || minor === undefined) return "—";
  const n = BigInt(minor);
  const sign = n < 0n ? "-" : "";
  const abs = n < 0n ? -n : n;
  const whole = (abs / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${sign}${whole}.${(abs % 100n).toString().padStart(2, "0")}`;
}

// "1,234.5" -> 123450 (fen), exactly; null for something that is not an amount.
export function toFen(text) {
  const t = String(text).replace(/[,\s]/g, "");
  const m = t.match(/^(\d+)(?:\.(\d{1,2}))?$/);
  if (!m) return null;
  return Number(BigInt(m[1]) * 100n + BigInt((m[2] || "").padEnd(2, "0")));
}

function message(err) {
  if (err instanceof ApiError) {
    if (err.code === "FORBIDDEN") return `Not allowed for your role: ${err.message}`;
    return err.message;
  }
  return `Something went wrong: ${err.message || err}`;
}

// Progress shown only for what takes longer than half a second.
async function withProgress(el, text, work) {
  const timer = setTimeout(() => { el.textContent = text; }, 500);
  try {
    return await work();
  } finally {
    clearTimeout(timer);
    if (el.textContent === text) el.textContent = "";
  }
}

// ---- routing ------------------------------------------------------------------------------
export function route() {
  const hash = location.hash;
  const page = ["review", "portfolio", "prospects", "alerts", "financing", "watchlist"].find((p) => hash.startsWith(`#/${p}`)) || "explorer";
  workbench.page = page;
  const onWorkbench = page !== "explorer";
  $("#workbench").hidden = !onWorkbench;
  for (const sel of [".controls", "#graph", "#card"]) {
    const el = $(sel);
    if (onWorkbench) el.setAttribute("inert", "");
    else el.removeAttribute("inert");
  }
  $("#review-page").hidden = page !== "review";
  $("#portfolio-page").hidden = page !== "portfolio";
  $("#alerts-page").hidden = page !== "alerts";
  $("#prospects-page").hidden = page !== "prospects";
  $("#financing-page").hidden = page !== "financing";
  $("#watchlist-page").hidden = page !== "watchlist";
  for (const a of document.querySelectorAll(".pages a")) {
    if (a.dataset.page === page) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (page === "review") loadQueue();
  if (page === "alerts") loadAlerts();
  if (page === "prospects") loadCores();
  if (page === "watchlist") loadWatchList();
  if (page === "financing") loadFinancing(decodeURIComponent(hash.slice("#/financing/".length)));
  if (page === "portfolio") {
    if (!$("#pf-as-of").value) $("#pf-as-of").value = new Date().toISOString().slice(0, 10);
    loadReport();
  }
  return page;
}

// ---- review queue -------------------------------------------------------------------------
let reviewing = null;

async function loadQueue() {
  $("#review-error").textContent = "";
  try {
    const data = await withProgress($("#review-status"), "Loading the queue…", () => gql(REVIEW_QUEUE));
    const apps = data.reviewQueue.edges.map((e) => e.node);
    const names = await enterpriseNames([...new Set(apps.map((a) => a.enterpriseId))]);
    workbench.queue = apps;
    $("#review-status").textContent = `${data.reviewQueue.totalCount} waiting for review`;
    $("#review-rows").innerHTML = apps.length
      ? apps.map((a) => `<tr data-id="${esc(a.id)}">
          <td>${esc(a.id)}</td><td>${esc(names[a.enterpriseId] || a.enterpriseId)}</td><td>${esc(a.productId)}</td>
          <td class="num" data-minor="${a.amount}">${fen(a.amount)}</td>
          <td class="num" data-minor="${a.decidedAmount}">${fen(a.decidedAmount)}</td>
          <td class="num">${a.rateBps}</td><td>${esc(a.maker)}</td>
          <td><ul class="reasons">${a.reasons.map((r) => `<li>${esc(r)}</li>`).join("")}</ul></td>
          <td><button type="button" class="review-open" data-id="${esc(a.id)}">Review ${esc(a.id)}</button></td></tr>`).join("")
      : '<tr><td colspan="9" class="muted">Nothing waits for your review.</td></tr>';
  } catch (err) {
    $("#review-error").textContent = message(err);
  }
}

async function enterpriseNames(ids) {
  if (!ids.length) return {};
  const vars = Object.fromEntries(ids.map((id, i) => [`i${i}`, id]));
  try {
    const data = await gql(ENTERPRISE_NAMES(ids.length), vars, { allowPartial: true });
    return Object.fromEntries(ids.map((id, i) => [id, data[`e${i}`]?.name || id]));
  } catch {
    return {}; // names are a nicety: the ids stand in
  }
}

function openReview(id) {
  const app = workbench.queue.find((a) => a.id === id);
  if (!app) return;
  reviewing = app;
  for (const tr of document.querySelectorAll("#review-rows tr")) tr.classList.toggle("selected", tr.dataset.id === id);
  $("#review-form-title").textContent = `Review ${app.id}: ${fen(app.amount)} ${app.currency} asked`;
  $("#review-amount").value = fen(app.decidedAmount);
  $("#review-rate").value = app.rateBps;
  $("#review-tenor").value = "";
  $("#review-conditions").value = "";
  $("#review-note").value = "";
  $("#review-result").textContent = "";
  $("#review-form").hidden = false;
  showBorrower(app);
  $("#review-amount").focus();
}

// Beside the form: what the application offers as collateral, and the borrower's card (the
// explorer's: firmographics, scores with their explanations, exposure, circle, controller).
function showBorrower(app) {
  $("#review-borrower").hidden = false;
  showEvidence(app);
  showCard($("#review-card"), app.enterpriseId, { nameId: "review-card-name" }).catch((err) => {
    $("#review-card").textContent = message(err);
  });
}

// The collateral offered, valued, with its sensors' live state; the documents attached, each
// with what its verification found.
async function showEvidence(app) {
  $("#review-collateral").innerHTML = '<li class="muted">Loading the collateral…</li>';
  $("#review-documents").innerHTML = "";
  try {
    const data = await gql(REVIEW_EVIDENCE, { id: app.id });
    if (reviewing?.id !== app.id) return; // another application was opened meanwhile
    $("#review-collateral").innerHTML = collateralItems(data.applicationCollateral);
    const docs = data.application.documents;
    $("#review-documents").innerHTML = docs.length ? docs.map((d) => `<li data-id="${esc(d.id)}">
        ${esc(d.kind)} ${esc(d.id)}: <strong class="outcome">${esc(d.outcome)}</strong>
        ${d.reasons.length ? `<ul class="reasons">${d.reasons.map((r) => `<li>${esc(r)}</li>`).join("")}</ul>` : ""}</li>`).join("")
      : '<li class="muted">No documents attached.</li>';
  } catch (err) {
    $("#review-collateral").innerHTML = `<li class="error">Collateral and documents: ${esc(message(err))}</li>`;
  }
}

async function decide(approve) {
  const app = reviewing;
  if (!app) return;
  $("#review-error").textContent = "";
  const vars = { id: app.id, approve, note: $("#review-note").value.trim() };
  if (approve) {
    const amount = toFen($("#review-amount").value);
    if (amount === null || amount <= 0) {
      $("#review-error").textContent = "The amount must be a positive number of yuan, with at most two decimals.";
      $("#review-amount").focus();
      return;
    }
    const rate = $("#review-rate").value.trim();
    const tenor = $("#review-tenor").value.trim();
    if (rate && !/^\d+$/.test(rate)) {
      $("#review-error").textContent = "The rate is a whole number of basis points.";
      return;
    }
    if (tenor && !/^\d+$/.test(tenor)) {
      $("#review-error").textContent = "The tenor is a whole number of days.";
      return;
    }
    vars.amount = amount;
    if (rate) vars.rateBps = Number(rate);
    if (tenor) vars.tenorDays = Number(tenor);
    vars.conditions = $("#review-conditions").value.split("\n").map((c) => c.trim()).filter(Boolean);
  }
  try {
    const data = await withProgress($("#review-status"), approve ? "Approving…" : "Rejecting…",
      () => gql(REVIEW, vars));
    const a = data.reviewApplication;
    $("#review-form").hidden = true;
    $("#review-borrower").hidden = true;
    reviewing = null;
    $("#review-result").textContent = a.status === "approved"
      ? `Approved ${a.id}: ${fen(a.decidedAmount)} ${a.currency} at ${a.rateBps} bps` +
        `${a.conditions.length ? `, conditions: ${a.conditions.join("; ")}` : ""}; financing ${a.financingId}.`
      : `Rejected ${a.id}.`;
    await loadQueue();
    $("#review-refresh").focus();
  } catch (err) {
    $("#review-error").textContent = message(err);
  }
}

$("#review-rows").addEventListener("click", (e) => {
  const button = e.target.closest("button.review-open");
  if (button) openReview(button.dataset.id);
});
$("#review-form").addEventListener("submit", (e) => {
  e.preventDefault();
  decide(true);
});
$("#review-reject").addEventListener("click", () => decide(false));
$("#review-cancel").addEventListener("click", () => {
  $("#review-form").hidden = true;
  $("#review-borrower").hidden = true;
  reviewing = null;
});
$("#review-refresh").addEventListener("click", () => loadQueue());

// ---- portfolio ----------------------------------------------------------------------------
function filters() {
  const v = (sel) => $(sel).value.trim() || null;
  const due = $("#pf-due").value.trim();
  return {
    asOf: v("#pf-as-of"), lender: v("#pf-lender"), coreId: v("#pf-core"), productId: v("#pf-product"),
    dueWithinDays: due === "" ? 30 : Number(due), funderId: v("#pf-funder"), fromOn: v("#pf-from"), toOn: v("#pf-to"),
  };
}

function bucketTable(el, head, buckets) {
  el.innerHTML = `<thead><tr><th scope="col">${esc(head)}</th><th scope="col" class="num">Count</th>
      <th scope="col" class="num">Outstanding (CNY)</th><th scope="col" class="num">Share</th></tr></thead>
    <tbody>${buckets.map((b) => `<tr data-key="${esc(b.key)}"><td>${esc(b.label)}</td>
      <td class="num count">${b.count}</td><td class="num amount" data-minor="${b.outstanding}">${fen(b.outstanding)}</td>
      <td class="num">${(b.shareBps / 100).toFixed(2)}%</td></tr>`).join("")}</tbody>`;
}

function amountTable(el, head, buckets) {
  el.innerHTML = `<thead><tr><th scope="col">${esc(head)}</th><th scope="col" class="num">Count</th>
      <th scope="col" class="num">Amount (CNY)</th><th scope="col" class="num">Share</th></tr></thead>
    <tbody>${buckets.map((b) => `<tr data-key="${esc(b.key)}"><td>${esc(b.label)}</td>
      <td class="num count">${b.count}</td><td class="num amount" data-minor="${b.amount}">${fen(b.amount)}</td>
      <td class="num">${(b.shareBps / 100).toFixed(2)}%</td></tr>`).join("")}</tbody>`;
}

function chainTable(el, chains) {
  const pct = (bps) => (bps === null || bps === undefined ? "—" : `${(bps / 100).toFixed(2)}%`);
  el.innerHTML = `<thead><tr><th scope="col">Core</th><th scope="col" class="num">Limit (CNY)</th>
      <th scope="col" class="num">Outstanding (CNY)</th><th scope="col" class="num">Overdue (CNY)</th>
      <th scope="col" class="num">Financings</th><th scope="col" class="num">Borrowers</th>
      <th scope="col" class="num">Utilisation</th><th scope="col" class="num">Share</th></tr></thead>
    <tbody>${chains.length ? chains.map((c) => `<tr data-key="${esc(c.coreId)}"><td>${esc(c.coreName || c.coreId)}</td>
      <td class="num limit" data-minor="${c.limit}">${fen(c.limit)}</td>
      <td class="num amount" data-minor="${c.outstanding}">${fen(c.outstanding)}</td>
      <td class="num overdue" data-minor="${c.overdue}">${fen(c.overdue)}</td>
      <td class="num count">${c.count}</td><td class="num">${c.borrowers}</td>
      <td class="num">${pct(c.utilisationBps)}</td><td class="num">${pct(c.shareBps)}</td></tr>`).join("")
      : '<tr><td colspan="8" class="muted">No core has a supply-chain line or a financing on its chain.</td></tr>'}</tbody>`;
}

// What the outstanding book brings back: the arrears, each month of maturity, and later.
function forecastTable(el, buckets) {
  el.innerHTML = `<thead><tr><th scope="col">Due</th><th scope="col" class="num">Financings</th>
      <th scope="col" class="num">Principal (CNY)</th><th scope="col" class="num">Interest (CNY)</th>
      <th scope="col" class="num">of which projected</th><th scope="col" class="num">Total (CNY)</th></tr></thead>
    <tbody>${buckets.map((b) => `<tr data-key="${esc(b.key)}"><td>${esc(b.label)}</td>
      <td class="num count">${b.count}</td><td class="num principal" data-minor="${b.principal}">${fen(b.principal)}</td>
      <td class="num interest" data-minor="${b.interest}">${fen(b.interest)}</td>
      <td class="num" data-minor="${b.projectedInterest}">${fen(b.projectedInterest)}</td>
      <td class="num amount" data-minor="${b.amount}">${fen(b.amount)}</td></tr>`).join("")}</tbody>`;
}

function financingTable(el, rows) {
  el.innerHTML = `<thead><tr><th scope="col">Financing</th><th scope="col">Borrower</th><th scope="col">Lender</th>
      <th scope="col">Product</th><th scope="col">Maturity</th><th scope="col" class="num">Outstanding (CNY)</th>
      <th scope="col">Class</th></tr></thead>
    <tbody>${rows.length ? rows.map((f) => `<tr data-key="${esc(f.id)}"><td><a href="#/financing/${encodeURIComponent(f.id)}">${esc(f.id)}</a></td>
      <td>${esc(f.borrowerName || f.borrowerId)}</td><td>${esc(f.lender)}</td><td>${esc(f.product)}</td>
      <td>${esc(f.maturityOn || "—")}</td><td class="num amount" data-minor="${f.outstanding}">${fen(f.outstanding)}</td>
      <td>${esc(f.riskClass)}</td></tr>`).join("")
      : '<tr><td colspan="7" class="muted">Nothing matures in this window.</td></tr>'}</tbody>`;
}

async function loadReport() {
  $("#portfolio-error").textContent = "";
  const started = performance.now();
  try {
    const data = await withProgress($("#portfolio-status"), "Loading the report…", () => gql(PORTFOLIO, filters()));
    const r = data.portfolioReport;
    workbench.report = r;
    $("#portfolio-body").hidden = false;
    $("#pf-summary").textContent = `As of ${r.asOf}: ${r.count} outstanding financings, ` +
      `${fen(r.outstanding)} CNY outstanding; overdue ${r.overdue.count} (${fen(r.overdue.outstanding)} CNY, ` +
      `${(r.overdue.ratioBps / 100).toFixed(2)}%).`;
    const rec = r.reconciliation;
    const recEl = $("#pf-reconciliation");
    recEl.className = rec.reconciled ? "ok-text" : "bad-text";
    recEl.textContent = rec.reconciled
      ? `Reconciled with the ledger to the fen: ${rec.originatedCount} originated financings, ` +
        `${fen(rec.bookOutstanding)} CNY outstanding = ${fen(rec.ledgerPrincipal)} CNY principal in the ledger.`
      : `Does not reconcile with the ledger: a difference of ${fen(rec.difference)} CNY` +
        `${rec.differingIds.length ? ` (${rec.differingIds.join(", ")})` : ""}.`;
    bucketTable($("#pf-classes"), "Class", r.classes);
    bucketTable($("#pf-products"), "Product", r.byProduct);
    bucketTable($("#pf-cores"), "Core", r.byCore);
    financingTable($("#pf-due-list"), r.due);
    bucketTable($("#pf-overdue"), "Days past due", r.overdue.buckets);
    const fl = r.flows;
    $("#pf-flows").textContent = `From ${fl.fromOn} to ${fl.toOn}: disbursed ${fen(fl.disbursed.amount)} CNY ` +
      `(${fen(fl.ledgerDisbursed)} from the ledger, ${fen(fl.bookDisbursed)} loaded from lenders' books) to ` +
      `${fl.disbursed.financings} financings; recovered ${fen(fl.principal)} CNY principal and ${fen(fl.interest)} CNY interest` +
      (fl.differingIds.length ? `; disbursements differing from their financings: ${fl.differingIds.join(", ")}.` : ".");
    amountTable($("#pf-disbursements"), "Month", fl.disbursed.byMonth);
    amountTable($("#pf-recoveries"), "Month", fl.recovered.byMonth);
    bucketTable($("#pf-purposes"), "Purpose", r.byPurpose);
    chainTable($("#pf-chains"), r.chains);
    forecastTable($("#pf-forecast"), r.forecast);
    const unpriced = r.forecast.reduce((n, b) => n + b.unpriced, 0);
    $("#pf-forecast-note").textContent = "Each financing is repaid in one payment at maturity: its principal and the interest due, " +
      "plus the interest projected to accrue to maturity at its rate and day count." +
      (unpriced ? ` ${unpriced} financing(s) loaded from a lender's book carry no rate here: only their interest due is counted.` : "");
    $("#portfolio-status").textContent = `Loaded in ${(performance.now() - started).toFixed(0)} ms`;
    await drawCharts(r);
  } catch (err) {
    $("#portfolio-error").textContent = message(err);
  }
}

async function drawCharts(r) {
  const { drawPortfolio } = await import("./charts.js"); // ECharts loads with the first report
  workbench.charts = drawPortfolio(r, {
    classes: $("#chart-classes"), products: $("#chart-products"), cores: $("#chart-cores"), overdue: $("#chart-overdue"),
    disbursements: $("#chart-disbursements"), recoveries: $("#chart-recoveries"), purposes: $("#chart-purposes"),
    chains: $("#chart-chains"), forecast: $("#chart-forecast"),
  });
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== "") q.set(k, v);
  return q.toString();
}

async function download(path, fallbackName) {
  $("#portfolio-error").textContent = "";
  try {
    await withProgress($("#portfolio-status"), "Preparing the file…", async () => {
      const response = await fetch(`${path}?${query(filters())}`, { headers: { authorization: `Bearer ${token()}` } });
      if (!response.ok) {
        const body = await response.json().catch(() => ({}));
        const detail = Array.isArray(body.detail) ? body.detail.map((d) => d.msg).join("; ") : body.detail;
        throw new ApiError(detail || `the export failed (${response.status})`, { status: response.status });
      }
      const name = (response.headers.get("content-disposition") || "").match(/filename="([^"]+)"/)?.[1] || fallbackName;
      const url = URL.createObjectURL(await response.blob());
      const a = document.createElement("a");
      a.href = url;
      a.download = name;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    });
  } catch (err) {
    $("#portfolio-error").textContent = message(err);
  }
}

$("#portfolio-filters").addEventListener("submit", (e) => {
  e.preventDefault();
  loadReport();
});
$("#pf-export-xlsx").addEventListener("click", () => download("api/v1/reports/portfolio.xlsx", "portfolio.xlsx"));
$("#pf-export-csv").addEventListener("click", () => download("api/v1/reports/portfolio/financings.csv", "portfolio-financings.csv"));
$("#pf-export-pdf").addEventListener("click", () => download("api/v1/reports/portfolio.pdf", "portfolio.pdf"));
$("#portfolio-body").addEventListener("click", (e) => {
  const button = e.target.closest("button.pf-csv");
  if (button) download(`api/v1/reports/portfolio/${button.dataset.table}.csv`, `portfolio-${button.dataset.table}.csv`);
});

window.addEventListener("hashchange", () => { if (token()) route(); });

// ---- alerts inbox -------------------------------------------------------------------------
let alertsClient = null;

function alertRow(a) {
  const concerns = [...a.financingIds.map((f) => `financing ${f}`), ...a.enterpriseIds.map((e) => `enterprise ${e}`),
    ...(a.assetId ? [`asset ${a.assetId}`] : [])].join(", ");
  const ack = a.status === "open"
    ? `<button type="button" class="alert-ack" data-id="${esc(a.id)}">Acknowledge ${esc(a.id)}</button>`
    : esc(a.acknowledgedBy ? `by ${a.acknowledgedBy}` : "");
  return `<tr data-id="${esc(a.id)}" data-kind="${esc(a.kind)}" class="severity-${esc(a.severity)}">
    <td>${esc(new Date(a.raisedAt).toLocaleString())}</td><td>${esc(a.severity)}</td><td>${esc(a.kind)}</td>
    <td>${esc(concerns)}</td><td>${esc(a.message)}</td><td class="alert-status">${esc(a.status)}</td><td>${ack}</td></tr>`;
}

function drawAlerts() {
  const open = workbench.alerts.filter((a) => a.status === "open").length;
  $("#alerts-status").textContent = `${open} open of ${workbench.alerts.length} shown`;
  $("#alert-rows").innerHTML = workbench.alerts.length
    ? workbench.alerts.map(alertRow).join("")
    : '<tr><td colspan="7" class="muted">No alerts.</td></tr>';
}

async function loadAlerts() {
  $("#alerts-error").textContent = "";
  listen();
  try {
    const data = await withProgress($("#alerts-status"), "Loading alerts…", () => gql(ALERTS));
    const pushedMeanwhile = workbench.alerts.filter((a) => !data.alerts.edges.some((e) => e.node.id === a.id));
    workbench.alerts = [...pushedMeanwhile, ...data.alerts.edges.map((e) => e.node)];
    drawAlerts();
  } catch (err) {
    $("#alerts-error").textContent = message(err);
  }
}

// New alerts arrive over the alertRaised subscription (graphql-transport-ws; the token in
// connection_init), for as long as the session lasts; the client reconnects by itself.
function listen() {
  if (alertsClient) return;
  const url = new URL("graphql", location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  alertsClient = createClient({
    url: url.href,
    connectionParams: () => ({ Authorization: `Bearer ${token()}` }),
    retryAttempts: Infinity,
    shouldRetry: () => Boolean(token()),
    on: {
      connected: () => { workbench.live = true; $("#alerts-live").textContent = "Live: new alerts appear here as they are raised."; },
      closed: () => { workbench.live = false; $("#alerts-live").textContent = "Not connected to live alerts; retrying…"; },
    },
  });
  alertsClient.subscribe({ query: ALERT_RAISED }, {
    next: ({ data, errors }) => {
      if (errors?.length) { $("#alerts-error").textContent = errors[0].message; return; }
      const a = data.alertRaised;
      workbench.pushed.push({ id: a.id, at: performance.now(), wall: Date.now() });
      workbench.alerts = [a, ...workbench.alerts.filter((x) => x.id !== a.id)];
      if (workbench.page === "alerts") drawAlerts();
    },
    error: (err) => { $("#alerts-error").textContent = `Live alerts stopped: ${err.message || err.reason || "connection refused"}`; },
    complete: () => {},
  });
}

export function stopAlerts() {
  if (alertsClient) alertsClient.dispose();
  alertsClient = null;
  workbench.live = false;
}

$("#alert-rows").addEventListener("click", async (e) => {
  const button = e.target.closest("button.alert-ack");
  if (!button) return;
  button.disabled = true;
  $("#alerts-error").textContent = "";
  try {
    const { acknowledgeAlert: a } = await gql(ACKNOWLEDGE, { id: button.dataset.id });
    workbench.alerts = workbench.alerts.map((x) => (x.id === a.id ? a : x));
    drawAlerts();
  } catch (err) {
    button.disabled = false;
    $("#alerts-error").textContent = message(err);
  }
});

// ---- prospects: firms around a core, their product matches, an application ----------------
const prospecting = { prospects: [], matches: [], firm: null, match: null };
workbench.prospecting = prospecting;

async function loadCores() {
  if ($("#pr-core").options.length) return;
  $("#prospects-error").textContent = "";
  try {
    const data = await withProgress($("#prospects-status"), "Loading the core enterprises…", () => gql(CORES));
    const cores = data.enterpriseList.edges.map((e) => e.node);
    $("#pr-core").innerHTML = cores.map((c) => `<option value="${esc(c.id)}">${esc(c.name || c.id)}</option>`).join("");
    $("#prospects-status").textContent = `${cores.length} core enterprises`;
  } catch (err) {
    $("#prospects-error").textContent = message(err);
  }
}

async function findProspects() {
  $("#prospects-error").textContent = "";
  $("#pr-matches").hidden = true;
  $("#pr-apply-form").hidden = true;
  try {
    const vars = { core: $("#pr-core").value, direction: $("#pr-direction").value };
    const data = await withProgress($("#prospects-status"), "Finding prospects…", () => gql(PROSPECTS, vars));
    prospecting.prospects = data.prospects;
    const score = (v) => (v === null || v === undefined ? "—" : Number(v).toFixed(2));
    $("#prospects-status").textContent = `${data.prospects.length} prospects`;
    $("#pr-rows").innerHTML = data.prospects.length
      ? data.prospects.map((p) => `<tr data-id="${esc(p.id)}"><td>${esc(p.name || p.id)}</td><td>${p.tier}</td>
          <td class="num" data-minor="${p.volume12m}">${fen(p.volume12m)}</td><td class="num">${p.invoices12m}</td>
          <td class="num">${p.monthsOfHistory}</td><td>${score(p.fraudScore)} / ${score(p.defaultScore)}</td><td>${esc(p.reason)}</td>
          <td><button type="button" class="pr-products" data-id="${esc(p.id)}">Products for ${esc(p.name || p.id)}</button>
            <button type="button" class="pr-watch" data-id="${esc(p.id)}">Watch ${esc(p.name || p.id)}</button></td></tr>`).join("")
      : '<tr><td colspan="8" class="muted">No prospects around this core with these settings.</td></tr>';
  } catch (err) {
    $("#prospects-error").textContent = message(err);
  }
}

async function showMatches(id) {
  const firm = prospecting.prospects.find((p) => p.id === id);
  if (!firm) return;
  prospecting.firm = firm;
  $("#prospects-error").textContent = "";
  $("#pr-apply-form").hidden = true;
  for (const tr of document.querySelectorAll("#pr-rows tr")) tr.classList.toggle("selected", tr.dataset.id === id);
  try {
    const data = await withProgress($("#prospects-status"), "Matching products…", () => gql(PRODUCT_MATCHES, { id }));
    prospecting.matches = data.productMatches;
    $("#pr-matches-title").textContent = `Products for ${firm.name || firm.id}`;
    $("#pr-match-rows").innerHTML = data.productMatches.length
      ? data.productMatches.map((m) => `<tr data-product="${esc(m.productId)}"><td>${esc(m.productName)}</td><td>${esc(m.verdict)}</td>
          <td class="num" data-minor="${m.amount}">${fen(m.amount)}</td><td class="num">${m.rateBps}</td><td class="num">${m.tenorDays}</td>
          <td>${m.collateralIds.length} item(s)</td><td><ul class="reasons">${m.reasons.map((r) => `<li>${esc(r)}</li>`).join("")}</ul></td>
          <td><button type="button" class="pr-start" data-product="${esc(m.productId)}">Start an application for ${esc(m.productName)}</button></td></tr>`).join("")
      : '<tr><td colspan="8" class="muted">No product fits this firm now.</td></tr>';
    $("#pr-matches").hidden = false;
  } catch (err) {
    $("#prospects-error").textContent = message(err);
  }
}

function startApplication(productId) {
  const match = prospecting.matches.find((m) => m.productId === productId);
  if (!match) return;
  prospecting.match = match;
  $("#pr-apply-title").textContent = `${match.productName} for ${prospecting.firm.name || prospecting.firm.id}`;
  $("#pr-amount").value = fen(match.amount);
  $("#pr-collateral").innerHTML = match.collateralIds.length
    ? match.collateralIds.map((c) => `<label><input type="checkbox" name="pr-collateral" value="${esc(c)}" checked /> ${esc(c)}</label>`).join("")
    : '<p class="muted">This product needs no collateral.</p>';
  $("#pr-apply-error").textContent = "";
  $("#pr-result").textContent = "";
  $("#pr-apply-form").hidden = false;
  $("#pr-amount").focus();
}

async function submitApplication() {
  const match = prospecting.match;
  const amount = toFen($("#pr-amount").value);
  if (amount === null || amount <= 0) {
    $("#pr-apply-error").textContent = "The amount must be a positive number of yuan, with at most two decimals.";
    $("#pr-amount").focus();
    return;
  }
  const collateralIds = [...document.querySelectorAll("input[name='pr-collateral']:checked")].map((i) => i.value);
  const input = { id: `APP-${crypto.randomUUID()}`, enterpriseId: prospecting.firm.id, productId: match.productId,
    amount, currency: match.currency, collateralIds };
  $("#pr-submit").disabled = true;
  $("#pr-apply-error").textContent = "";
  try {
    const { submitApplication: app } = await withProgress($("#pr-result"), "Submitting…", () => gql(SUBMIT_APPLICATION, { input }));
    prospecting.application = app;
    $("#pr-result").textContent = `Application ${app.id}: ${app.status}, ${fen(app.decidedAmount)} ${match.currency} at ${app.rateBps} bps. ${app.reasons.join("; ")}`;
    $("#pr-apply-form").hidden = true;
  } catch (err) {
    $("#pr-apply-error").textContent = message(err);
  } finally {
    $("#pr-submit").disabled = false;
  }
}

$("#prospects-form").addEventListener("submit", (e) => { e.preventDefault(); findProspects(); });
$("#pr-rows").addEventListener("click", async (e) => {
  const button = e.target.closest("button.pr-products");
  if (button) showMatches(button.dataset.id);
  const watch = e.target.closest("button.pr-watch");
  if (!watch) return;
  watch.disabled = true;
  try {
    await gql(WATCH, { id: watch.dataset.id });
    watch.textContent = "Watched";
  } catch (err) {
    watch.disabled = false;
    $("#prospects-error").textContent = message(err);
  }
});
$("#pr-match-rows").addEventListener("click", (e) => {
  const button = e.target.closest("button.pr-start");
  if (button) startApplication(button.dataset.product);
});
$("#pr-apply-form").addEventListener("submit", (e) => { e.preventDefault(); submitApplication(); });

// ---- a financing: terms, class, loan-to-value, alerts, follow-ups, ledger postings ---------
async function loadFinancing(id) {
  $("#financing-error").textContent = "";
  $("#financing-title").textContent = `Financing ${id}`;
  try {
    const { financing: f } = await withProgress($("#financing-status"), "Loading the financing…",
      () => gql(FINANCING_PAGE, { id }));
    workbench.financing = f;
    const rows = [["Status", f.status], ["Origin", `${f.origin} (${f.lender}, book of ${f.funderId})`],
      ["Borrower", f.borrowerId], ["Product", f.productId || f.productKind || "—"],
      ["Amount", `${fen(f.amount)} ${f.currency}`], ["Rate", `${f.rateBps} bps, ${f.dayCount || "—"}`],
      ["Term", `${f.startOn || "—"} to ${f.maturityOn || "—"} (${f.tenorDays ?? "—"} days)`],
      ["Outstanding", `${fen(f.outstanding)} ${f.currency}`], ["Interest due", `${fen(f.interestDue)} (accrued through ${f.accruedThrough || "—"})`],
      ["Days past due", String(f.daysPastDue)], ["Risk class", f.riskClass], ["Provision", fen(f.provision)],
      ["Conditions", f.conditions.join("; ") || "—"]];
    $("#fin-terms").innerHTML = rows.map(([k, v]) => `<tr><th scope="row">${esc(k)}</th><td data-field="${esc(k)}">${esc(v)}</td></tr>`).join("");
    $("#fin-follow-ups").innerHTML = f.followUps.length
      ? f.followUps.map((u) => `<li>${esc(u.on)} ${esc(u.kind)}: ${esc(u.note)} (${esc(u.outcome)}, ${esc(u.recordedBy)})</li>`).join("")
      : '<li class="muted">No follow-ups.</li>';
    const [, , lines] = await Promise.all([financingLtv(id), financingAlerts(id), financingPostings(f),
      financingCollateral(id)]);
    drawSchedule(f, lines);
    $("#financing-status").textContent = "";
  } catch (err) {
    $("#financing-error").textContent = message(err);
  }
}

async function financingLtv(id) {
  try {
    const { loanToValue: l } = await gql(FINANCING_LTV, { id });
    $("#fin-ltv").textContent = `Loan-to-value ${l.ltvBps === null ? "—" : (l.ltvBps / 100).toFixed(2) + " %"} ` +
      `(exposure ${fen(l.exposure)}, collateral ${fen(l.collateralValue)}; limit ${l.maxLtvBps === null ? "—" : (l.maxLtvBps / 100).toFixed(2) + " %"})`;
  } catch (err) {
    $("#fin-ltv").textContent = `Loan-to-value: ${message(err)}`;
  }
}

async function financingAlerts(id) {
  const { alertList: a } = await gql(FINANCING_ALERTS, { id });
  $("#fin-alerts").innerHTML = a.edges.length
    ? a.edges.map(({ node: n }) => `<li data-id="${esc(n.id)}">${esc(new Date(n.raisedAt).toLocaleString())} ${esc(n.severity)} ${esc(n.kind)}: ${esc(n.message)} (${esc(n.status)})</li>`).join("")
    : '<li class="muted">No alerts.</li>';
}

// The schedule of a bullet financing: what was paid out, what was repaid (from the ledger's
// postings, by value date) and what falls due at maturity: the outstanding principal and the
// interest due, plus the interest still to accrue on it to maturity (projected at the
// financing's rate and day count; the end of day accrues the exact figure).
export function scheduleRows(f, lines) {
  const rows = [];
  const paidOut = lines.filter((l) => l.code === "disbursement" || l.code === "voucher_discount");
  rows.push({ on: f.startOn, what: f.startOn ? "Paid out" : "To be paid out", principal: paidOut.length ? paidOut.reduce((s, l) => s + BigInt(l.debit), 0n) : BigInt(f.amount),
    interest: 0n, state: f.startOn ? "paid" : "not yet paid out" });
  const repaid = new Map();
  for (const l of lines) {
    const kind = l.code === "principal_repayment" || l.code === "voucher_clear" ? "principal" : l.code === "interest_repayment" ? "interest" : null;
    if (!kind) continue;
    const day = l.valueAt.slice(0, 10);
    const r = repaid.get(day) || { principal: 0n, interest: 0n };
    r[kind] += BigInt(l.credit);
    repaid.set(day, r);
  }
  for (const [day, r] of [...repaid].sort()) rows.push({ on: day, what: "Repaid", ...r, state: "received" });
  const outstanding = BigInt(f.outstanding);
  if (f.maturityOn && (outstanding > 0n || BigInt(f.interestDue) > 0n)) {
    const from = f.accruedThrough || f.startOn;
    const days = from ? Math.max(0, Math.round((Date.parse(f.maturityOn) - Date.parse(from)) / 86_400_000)) : 0;
    const basis = f.dayCount === "ACT/360" ? 360n : 365n;
    const toAccrue = (outstanding * BigInt(f.rateBps) * BigInt(days)) / (10_000n * basis);
    rows.push({ on: f.maturityOn, what: "Due at maturity", principal: outstanding, interest: BigInt(f.interestDue) + toAccrue,
      state: f.daysPastDue > 0 ? `overdue ${f.daysPastDue} days` : "due", projected: toAccrue });
  }
  return rows;
}

function drawSchedule(f, lines) {
  const rows = scheduleRows(f, lines);
  $("#fin-schedule tbody").innerHTML = rows.map((r) => `<tr data-what="${esc(r.what)}"><td>${esc(r.on || "—")}</td><td>${esc(r.what)}</td>
    <td class="num" data-minor="${r.principal}">${fen(r.principal)}</td><td class="num" data-minor="${r.interest}">${fen(r.interest)}</td>
    <td class="num" data-minor="${r.principal + r.interest}">${fen(r.principal + r.interest)}</td><td>${esc(r.state)}</td></tr>`).join("");
  const due = rows.find((r) => r.projected !== undefined);
  $("#fin-schedule-note").textContent = due
    ? `Repaid in one payment at maturity; the interest due then includes ${fen(due.projected)} ${f.currency} still to accrue at ${f.rateBps} bps (${f.dayCount || "ACT/365F"}), projected.`
    : "Nothing falls due: the financing is repaid or not yet paid out.";
}

// Each piece of collateral with its value; an asset with sensors shows their live state.
function collateralItems(items, { financingId = null } = {}) {
  if (!items.length) return '<li class="muted">No collateral.</li>';
  return items.map((c) => {
    const s = c.state;
    const live = !s ? '<span class="muted">no sensors</span>' : [
      `${s.status ? `${esc(s.status)}, ` : ""}as of ${esc(s.stateAt ? new Date(s.stateAt).toLocaleString() : "—")}`,
      s.measuredQuantity !== null ? `measured ${esc(s.measuredQuantity)} of ${esc(s.pledgedQuantity ?? "—")} ${esc(s.unit || "")}` : "",
      s.headCount !== null ? `${esc(s.headCount)} head in sight` : "",
      s.temperature !== null ? `${esc(s.temperature)} °C` : "", s.humidity !== null ? `${esc(s.humidity)} % humidity` : "",
      s.insideGeofence === false ? "outside its geofence" : "",
      s.silentSensors.length ? `silent: ${s.silentSensors.map(esc).join(", ")}` : `${s.sensors.length} sensors reporting`,
    ].filter(Boolean).join("; ");
    // Pledged elsewhere: the approval would refuse it, so the reviewer is told here.
    const elsewhere = c.backs.filter((f) => f !== financingId);
    const taken = elsewhere.length
      ? ` <span class="warning backs">already backs ${elsewhere.map((f) => `<a href="#/financing/${esc(f)}">${esc(f)}</a>`).join(", ")}</span>` : "";
    return `<li data-id="${esc(c.id)}" data-minor="${c.value}">${esc(c.label)} ${esc(c.id)}: ${fen(c.value)} — <span class="live-state">${live}</span>${taken}</li>`;
  }).join("");
}

async function financingCollateral(id) {
  try {
    const { financingCollateral: items } = await gql(FINANCING_COLLATERAL, { id });
    $("#fin-collateral").innerHTML = collateralItems(items, { financingId: id });
  } catch (err) {
    $("#fin-collateral").innerHTML = `<li class="error">Collateral: ${esc(message(err))}</li>`;
  }
}

async function financingPostings(f) {
  if (!f.ledgerAccounts.length) {
    $("#fin-postings").innerHTML = '<tr><td colspan="6" class="muted">Loaded from a lender\'s book: no ledger here.</td></tr>';
    return [];
  }
  const statements = await Promise.all(f.ledgerAccounts.map((account) => gql(STATEMENT, { id: account })));
  const lines = statements.flatMap((s, k) => s.accountStatement.map((l) => ({ ...l, account: f.ledgerAccounts[k] })));
  lines.sort((a, b) => a.valueAt.localeCompare(b.valueAt));
  $("#fin-postings").innerHTML = lines.length
    ? lines.map((l) => `<tr data-transfer="${esc(l.transferId)}"><td>${esc(new Date(l.valueAt).toLocaleDateString())}</td><td>${esc(l.account)}</td>
        <td>${esc(l.code)}</td><td class="num" data-minor="${l.debit}">${fen(l.debit)}</td><td class="num" data-minor="${l.credit}">${fen(l.credit)}</td>
        <td class="num" data-minor="${l.balance}">${fen(l.balance)}</td></tr>`).join("")
    : '<tr><td colspan="6" class="muted">No postings yet.</td></tr>';
  return lines;
}

// ---- the watch list: the firms the user follows, with their open alerts -------------------
function drawWatchList(firms) {
  const score = (v) => (v === null || v === undefined ? "—" : Number(v).toFixed(2));
  $("#watchlist-status").textContent = `${firms.length} firms watched`;
  $("#watch-rows").innerHTML = firms.length
    ? firms.map((f) => `<tr data-id="${esc(f.id)}"><td><a href="#e=${encodeURIComponent(f.id)}">${esc(f.name || f.id)}</a></td>
        <td>${esc(f.since ? new Date(f.since).toLocaleDateString() : "—")}</td><td>${score(f.fraudScore)} / ${score(f.defaultScore)}</td>
        <td class="num open-alerts">${f.openAlerts}</td>
        <td>${f.latestAlerts.map((a) => `${esc(a.severity)} ${esc(a.kind)}`).join("; ") || "—"}</td>
        <td><button type="button" class="unwatch" data-id="${esc(f.id)}">Stop watching ${esc(f.name || f.id)}</button></td></tr>`).join("")
    : '<tr><td colspan="6" class="muted">You watch no firm yet: "Watch" on the prospects page adds one.</td></tr>';
}

async function loadWatchList() {
  $("#watchlist-error").textContent = "";
  try {
    const data = await withProgress($("#watchlist-status"), "Loading your watch list…", () => gql(WATCH_LIST));
    drawWatchList(data.watchList);
  } catch (err) {
    $("#watchlist-error").textContent = message(err);
  }
}

$("#watch-rows").addEventListener("click", async (e) => {
  const button = e.target.closest("button.unwatch");
  if (!button) return;
  button.disabled = true;
  try {
    const { unwatchEnterprise } = await gql(UNWATCH, { id: button.dataset.id });
    drawWatchList(unwatchEnterprise);
  } catch (err) {
    button.disabled = false;
    $("#watchlist-error").textContent = message(err);
  }
});
