// The rule editor (rules.html): risk staff open a rule set — what is in force, or any stored
// version — in GoRules' JDM editor, edit its decision tables, validate the result with the
// API (validateRuleSet: the same checks as a draft, nothing stored), simulate it (approval
// rule sets on past decisions, simulateRuleSet; post-loan rule sets over the current
// portfolio, simulatePostloanRules), compare it with the version in force row by row, and
// save it as a new draft (draftRuleSet). Saving runs validation first and stops on any
// problem; leaving or opening another rule set with unsaved edits asks first. Another
// officer publishes a draft from the list of versions, now or from a later time
// (publishRuleSet: maker-checker, the API refuses the author), and retires a published one
// (retireRuleSet). Credit officers (and admins) edit, publish and retire; analysts read,
// validate, compare and simulate.
// Written with React.createElement so that the build needs no JSX plugin.

import { createElement as h, Fragment, useCallback, useEffect, useRef, useState } from "react";
import { createRoot } from "react-dom/client";
import { DecisionGraph, JdmConfigProvider } from "@gorules/jdm-editor";
import "@gorules/jdm-editor/dist/style.css";
import "./style.css";
import "./rules.css";

import { ApiError, gql, login, logout, me, token } from "./api.js";

export const IN_FORCE = `query RuleSetsInForce {
  ruleSetsInForce { name stage label content version { id version } }
}`;

export const VERSIONS = `query RuleSetVersions($name: String!) {
  ruleSets(name: $name) { id name version status content note author createdAt publisher effectiveAt }
}`;

export const VALIDATE = `query ValidateRuleSet($name: String!, $content: JSON!) {
  validateRuleSet(name: $name, content: $content) { ok problems tables rules }
}`;

export const SIMULATE = `query SimulateRuleSet($content: JSON!) {
  simulateRuleSet(content: $content, limit: 1000) {
    ruleSet applications skipped amountChanged verdicts { key count }
    flipped { applicationId enterpriseId recordedVerdict verdict reasons rules }
  }
}`;

export const SIMULATE_POSTLOAN = `query SimulatePostloanRules($content: JSON!) {
  simulatePostloanRules(content: $content) {
    ruleSet asOf financings ruleHits { key count } warnings { financingId rule reason }
  }
}`;

export const PUBLISH = `mutation PublishRuleSet($id: ID!, $effectiveAt: DateTime) {
  publishRuleSet(id: $id, effectiveAt: $effectiveAt) { id name version status effectiveAt }
}`;

export const RETIRE = `mutation RetireRuleSet($id: ID!, $note: String!) {
  retireRuleSet(id: $id, note: $note) { id name version status }
}`;

export const DRAFT = `mutation DraftRuleSet($name: String!, $content: JSON!, $note: String!) {
  draftRuleSet(name: $name, content: $content, note: $note) { id name version status }
}`;

const EDITORS = ["credit_officer", "admin"];

// What the page holds, for the browser tests (tests/web/test_rules.py).
export const rules = { user: null, open: null, graph: null, check: null, simulation: null, saved: null, dirty: false, diff: null };
window.__rules = rules;

function message(err) {
  if (err instanceof ApiError) {
    if (err.code === "FORBIDDEN") return `Not allowed for your role: ${err.message}`;
    return err.message;
  }
  return `Something went wrong: ${err.message || err}`;
}

// The JSON Decision Model as the API stores it: the editor's nodes and edges without what
// the editor adds for itself (selection, sizes, diff marks), under the opened model's
// other keys (contentType).
function model(graph, opened) {
  const node = ({ id, type, name, position, content }) => ({ id, type, name, position, content });
  const edge = ({ id, sourceId, targetId, sourceHandle, type }) => ({ id, sourceId, targetId, type: type || "edge", ...(sourceHandle ? { sourceHandle } : {}) });
  const { nodes: _n, edges: _e, ...rest } = opened || {};
  return { ...rest, nodes: (graph?.nodes || []).map(node), edges: (graph?.edges || []).map(edge) };
}

// What changed between two models, decision table by table and row by row (rows matched by
// their _id): the lines a reviewer reads before saving or publishing.
export function diffModels(base, next) {
  const tables = (m) => new Map((m?.nodes || []).filter((n) => n.type === "decisionTableNode").map((n) => [n.name, n]));
  const fields = (row) => Object.keys(row).filter((k) => k !== "_id");
  const before = tables(base);
  const after = tables(next);
  const out = [];
  for (const [name, node] of after) {
    const old = before.get(name);
    if (!old) { out.push(`${name}: table added`); continue; }
    if ((old.content?.hitPolicy || "") !== (node.content?.hitPolicy || "")) {
      out.push(`${name}: hit policy ${old.content?.hitPolicy} → ${node.content?.hitPolicy}`);
    }
    const oldRows = new Map((old.content?.rules || []).map((r) => [r._id, r]));
    const newRows = new Map((node.content?.rules || []).map((r) => [r._id, r]));
    for (const [id, row] of newRows) {
      const was = oldRows.get(id);
      if (!was) { out.push(`${name}: row ${id} added`); continue; }
      for (const f of new Set([...fields(was), ...fields(row)])) {
        if ((was[f] ?? "") !== (row[f] ?? "")) out.push(`${name}: row ${id} ${f} ${JSON.stringify(was[f] ?? "")} → ${JSON.stringify(row[f] ?? "")}`);
      }
    }
    for (const id of oldRows.keys()) if (!newRows.has(id)) out.push(`${name}: row ${id} removed`);
  }
  for (const name of before.keys()) if (!after.has(name)) out.push(`${name}: table removed`);
  return out;
}

function Login({ onDone }) {
  const [error, setError] = useState("");
  const submit = async (e) => {
    e.preventDefault();
    const form = new FormData(e.target);
    try {
      await login(form.get("username"), form.get("password"));
      onDone();
    } catch (err) {
      setError(message(err));
    }
  };
  return h("section", { className: "login" },
    h("form", { id: "rules-login", onSubmit: submit },
      h("h1", null, "ChainLens"),
      h("p", { className: "muted" }, "Rule editor"),
      h("label", null, "Username ", h("input", { id: "username", name: "username", autoComplete: "username", required: true })),
      h("label", null, "Password ", h("input", { id: "password", name: "password", type: "password", autoComplete: "current-password", required: true })),
      h("button", { type: "submit", id: "login-button" }, "Log in"),
      h("p", { id: "login-error", className: "error", role: "alert" }, error)));
}

function RuleSetList({ items, open, onOpen }) {
  return h("table", { className: "grid", id: "rules-list" },
    h("caption", { className: "muted" }, "Rule sets and what decides under each now."),
    h("thead", null, h("tr", null,
      h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Stage"), h("th", { scope: "col" }, "In force"),
      h("th", { scope: "col" }, h("span", { className: "sr-only" }, "Action")))),
    h("tbody", null, items.map((r) => h("tr", { key: r.name, "data-name": r.name, className: open?.name === r.name ? "current" : "" },
      h("td", null, r.name), h("td", null, r.stage), h("td", null, r.label || "nothing published"),
      h("td", null, h("button", { type: "button", id: `open-${r.name}`, disabled: !r.content, onClick: () => onOpen(r.name, r.label, r.content) }, "Open"))))));
}

function Publish({ v, onPublish }) {
  const [from, setFrom] = useState(""); // empty: now
  return h(Fragment, null,
    h("label", null, h("span", { className: "sr-only" }, `Version ${v.version} in force from`),
      h("input", { type: "datetime-local", className: "effective-at", value: from, onChange: (e) => setFrom(e.target.value), title: "In force from (empty: now)" })),
    h("button", { type: "button", className: "publish-version", onClick: () => onPublish(v, from ? new Date(from).toISOString() : null) }, "Publish"));
}

function Versions({ name, versions, onOpen, user, canEdit, onPublish, onRetire }) {
  if (!versions.length) return h("p", { className: "muted", id: "rules-versions" }, `No stored versions of ${name} yet: the shipped one is in force.`);
  const action = (v) => {
    if (!canEdit) return null;
    if (v.status === "draft") {
      return v.author === user.username
        ? h("span", { className: "muted awaiting" }, " awaiting another officer")
        : h(Publish, { v, onPublish });
    }
    if (v.status === "published") return h("button", { type: "button", className: "retire-version", onClick: () => onRetire(v) }, "Retire");
    return null;
  };
  return h("table", { className: "grid", id: "rules-versions" },
    h("caption", { className: "muted" }, `Stored versions of ${name}, newest first.`),
    h("thead", null, h("tr", null, ["Version", "Status", "Author", "Note", "In force from", ""].map((t, i) => h("th", { key: i, scope: "col" }, t)))),
    h("tbody", null, versions.map((v) => h("tr", { key: v.id, "data-version": v.version },
      h("td", null, v.version), h("td", { className: "status" }, v.status), h("td", null, v.author), h("td", null, v.note),
      h("td", { className: "effective" }, v.effectiveAt ? new Date(v.effectiveAt).toISOString().slice(0, 16).replace("T", " ") + " UTC" : ""),
      h("td", null,
        h("button", { type: "button", className: "open-version", onClick: () => onOpen(name, `rules:${name}@${v.version} (${v.status})`, v.content) }, "Open"),
        action(v))))));
}

function Problems({ check }) {
  if (!check) return h("div", { id: "rules-check", role: "status" });
  if (check.ok) {
    return h("div", { id: "rules-check", role: "status", className: "ok" },
      `Valid: ${check.tables} decision table${check.tables === 1 ? "" : "s"}, ${check.rules} rule${check.rules === 1 ? "" : "s"}.`);
  }
  return h("div", { id: "rules-check", role: "alert", className: "error" },
    h("p", null, `Refused: ${check.problems.length} problem${check.problems.length === 1 ? "" : "s"}.`),
    h("ul", { id: "rules-problems" }, check.problems.map((p, i) => h("li", { key: i }, p))));
}

// The JDM editor reports an edit after two 100 ms debounces (the table's, then the graph's):
// what Validate and Save send is read once they have passed.
const SETTLE_MS = 300;
const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

function Simulation({ sim }) {
  if (!sim) return h("div", { id: "rules-simulation" });
  const verdicts = sim.verdicts.map((v) => `${v.count} ${v.key}`).join(", ") || "none";
  return h("div", { id: "rules-simulation" },
    h("p", { id: "rules-simulation-summary" },
      `On the latest ${sim.applications} automatic decision${sim.applications === 1 ? "" : "s"} (${sim.skipped} skipped): `
      + `${sim.flipped.length} would change verdict, ${sim.amountChanged} only amount; verdicts ${verdicts}.`),
    sim.flipped.length
      ? h("table", { className: "grid", id: "rules-flipped" },
        h("thead", null, h("tr", null, ["Application", "Recorded", "Would be", "Rules", "Reasons"].map((t) => h("th", { key: t, scope: "col" }, t)))),
        h("tbody", null, sim.flipped.map((f) => h("tr", { key: f.applicationId, "data-id": f.applicationId },
          h("td", null, f.applicationId), h("td", null, f.recordedVerdict), h("td", null, f.verdict),
          h("td", null, f.rules.join(", ")), h("td", null, f.reasons.join("; "))))))
      : null);
}

function Warnings({ sim }) {
  if (!sim) return h("div", { id: "rules-warnings-box" });
  const hits = sim.ruleHits.map((r) => `${r.key} ${r.count}`).join(", ") || "none";
  return h("div", { id: "rules-warnings-box" },
    h("p", { id: "rules-warnings-summary" },
      `On ${sim.financings} financing${sim.financings === 1 ? "" : "s"} with money out as of ${sim.asOf}: `
      + `${sim.warnings.length} early warning${sim.warnings.length === 1 ? "" : "s"} would be raised; rows fired: ${hits}.`),
    sim.warnings.length
      ? h("table", { className: "grid", id: "rules-warnings" },
        h("thead", null, h("tr", null, ["Financing", "Rule", "Reason"].map((t) => h("th", { key: t, scope: "col" }, t)))),
        h("tbody", null, sim.warnings.map((w) => h("tr", { key: `${w.financingId}:${w.rule}`, "data-id": w.financingId },
          h("td", null, w.financingId), h("td", null, w.rule), h("td", null, w.reason)))))
      : null);
}

function Diff({ lines }) {
  if (!lines) return h("div", { id: "rules-diff-box" });
  return h("div", { id: "rules-diff-box" },
    h("p", { id: "rules-diff-summary" }, lines.length ? `${lines.length} change${lines.length === 1 ? "" : "s"} against the version in force:` : "No change against the version in force."),
    lines.length ? h("ul", { id: "rules-diff" }, lines.map((l, i) => h("li", { key: i }, l))) : null);
}

function Editor({ open, canEdit, onSaved, onDirty }) {
  const graph = useRef(open.graph); // the latest content the editor reported
  const pristine = useRef(JSON.stringify(model(open.graph, open.graph)));
  const [check, setCheck] = useState(null);
  const [sim, setSim] = useState(null);
  const [warnings, setWarnings] = useState(null);
  const [diff, setDiff] = useState(null);
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState("");
  const [result, setResult] = useState("");
  const [error, setError] = useState("");

  const change = useCallback((g) => {
    graph.current = g;
    rules.graph = g;
    setCheck(null);
    setSim(null);
    setWarnings(null);
    setDiff(null);
    setResult("");
    onDirty(JSON.stringify(model(g, open.graph)) !== pristine.current);
  }, [open, onDirty]);

  const compare = async () => {
    await settle();
    const lines = diffModels(open.base, model(graph.current, open.graph));
    rules.diff = lines;
    setDiff(lines);
  };

  const validate = async () => {
    setBusy("Validating…");
    setError("");
    setResult("");
    try {
      await settle();
      const got = (await gql(VALIDATE, { name: open.name, content: model(graph.current, open.graph) })).validateRuleSet;
      setCheck(got);
      rules.check = got;
      return got;
    } catch (err) {
      setError(message(err));
      return null;
    } finally {
      setBusy("");
    }
  };

  const simulate = async () => {
    setBusy("Simulating…");
    setError("");
    setSim(null);
    try {
      await settle();
      const content = model(graph.current, open.graph);
      if (open.stage === "postloan") {
        const got = (await gql(SIMULATE_POSTLOAN, { content })).simulatePostloanRules;
        setWarnings(got);
        rules.simulation = got;
      } else {
        const got = (await gql(SIMULATE, { content })).simulateRuleSet;
        setSim(got);
        rules.simulation = got;
      }
    } catch (err) {
      setError(message(err));
    } finally {
      setBusy("");
    }
  };

  const save = async () => {
    const got = await validate();
    if (!got || !got.ok) return; // validation before save: nothing is sent
    setBusy("Saving…");
    try {
      const v = (await gql(DRAFT, { name: open.name, content: model(graph.current, open.graph), note })).draftRuleSet;
      rules.saved = v;
      setResult(`Saved as draft: ${v.name} version ${v.version} (${v.id}). A second officer publishes it.`);
      pristine.current = JSON.stringify(model(graph.current, open.graph));
      onDirty(false);
      onSaved(v);
    } catch (err) {
      setError(message(err));
    } finally {
      setBusy("");
    }
  };

  return h(Fragment, null,
    h("div", { className: "rules-actions" },
      h("strong", { id: "rules-open" }, `${open.name} — ${open.label}`),
      h("button", { type: "button", id: "rules-validate", onClick: validate, disabled: !!busy }, "Validate"),
      open.stage === "approval" || open.stage === "postloan"
        ? h("button", { type: "button", id: "rules-simulate", onClick: simulate, disabled: !!busy, title: open.stage === "postloan" ? "Run over the financings with money out now" : "Run on the inputs of past automatic decisions" }, "Simulate")
        : null,
      open.base
        ? h("button", { type: "button", id: "rules-compare", onClick: compare, disabled: !!busy, title: "List the rows that differ from the version in force" }, "Compare with in force")
        : null,
      canEdit
        ? h(Fragment, null,
          h("label", null, "Note ", h("input", { id: "rules-note", value: note, onChange: (e) => setNote(e.target.value), autoComplete: "off" })),
          h("button", { type: "button", id: "rules-save", onClick: save, disabled: !!busy }, "Save as draft"))
        : h("span", { id: "rules-readonly", className: "muted" }, "Read only: your role can view and validate rule sets, not save them."),
      h("span", { className: "muted", role: "status", "aria-live": "polite" }, busy)),
    h(Problems, { check }),
    h("p", { id: "rules-error", className: "error", role: "alert" }, error),
    h("p", { id: "rules-result", role: "status", "aria-live": "polite" }, result),
    h(Diff, { lines: diff }),
    h(Simulation, { sim }),
    h(Warnings, { sim: warnings }),
    h("div", { className: "rules-editor", id: "rules-editor" },
      h(JdmConfigProvider, null,
        h(DecisionGraph, { defaultValue: open.graph, onChange: change, disabled: !canEdit }))));
}

function App() {
  const [user, setUser] = useState(undefined);
  const [items, setItems] = useState([]);
  const [open, setOpen] = useState(null);
  const [versions, setVersions] = useState([]);
  const [error, setError] = useState("");
  const [published, setPublished] = useState("");
  const [dirty, setDirty] = useState(false);
  const markDirty = useCallback((d) => { rules.dirty = d; setDirty(d); }, []);

  // Unsaved edits: the browser asks before the page is left.
  useEffect(() => {
    if (!dirty) return undefined;
    const ask = (e) => { e.preventDefault(); e.returnValue = ""; };
    window.addEventListener("beforeunload", ask);
    return () => window.removeEventListener("beforeunload", ask);
  }, [dirty]);

  const loadUser = useCallback(async () => {
    if (!token()) return setUser(null);
    try {
      const u = await me();
      rules.user = u;
      setUser(u);
    } catch {
      setUser(null);
    }
  }, []);

  const loadList = useCallback(async () => {
    try {
      setItems((await gql(IN_FORCE)).ruleSetsInForce);
    } catch (err) {
      setError(message(err));
    }
  }, []);

  const loadVersions = useCallback(async (name) => {
    try {
      setVersions((await gql(VERSIONS, { name })).ruleSets);
    } catch (err) {
      setError(message(err));
    }
  }, []);

  useEffect(() => { loadUser(); }, [loadUser]);
  useEffect(() => { if (user) loadList(); }, [user, loadList]);
  useEffect(() => {
    const out = () => setUser(null);
    window.addEventListener("chainlens:logged-out", out);
    return () => window.removeEventListener("chainlens:logged-out", out);
  }, []);

  const openContent = (name, label, content) => {
    if (dirty && !window.confirm(`Discard the unsaved edits of ${open?.name}?`)) return;
    let graph;
    try {
      graph = JSON.parse(content);
    } catch {
      setError(`${label} is not valid JSON`);
      return;
    }
    const inForce = items.find((r) => r.name === name);
    const stage = inForce?.stage || "approval";
    let base = null;
    try { base = inForce?.content ? JSON.parse(inForce.content) : null; } catch { base = null; }
    const next = { name, label, stage, graph, base, key: `${name}:${label}:${Date.now()}` };
    markDirty(false);
    rules.open = next;
    rules.graph = graph;
    setError("");
    setPublished("");
    setOpen(next);
    loadVersions(name);
  };

  const retire = async (v) => {
    setError("");
    setPublished("");
    try {
      const r = (await gql(RETIRE, { id: v.id, note: `retired in the rule editor by ${user.username}` })).retireRuleSet;
      setPublished(`Retired ${r.name} version ${r.version}.`);
      loadVersions(r.name);
      loadList();
    } catch (err) {
      setError(message(err));
    }
  };

  const publish = async (v, effectiveAt) => {
    setError("");
    setPublished("");
    try {
      const p = (await gql(PUBLISH, { id: v.id, effectiveAt })).publishRuleSet;
      setPublished(`Published ${p.name} version ${p.version}, in force from ${new Date(p.effectiveAt).toLocaleString()}.`);
      loadVersions(p.name);
      loadList();
    } catch (err) {
      setError(message(err));
    }
  };

  if (user === undefined) return h("p", { className: "muted" }, "Loading…");
  if (user === null) return h(Login, { onDone: loadUser });
  const canEdit = user.roles.some((r) => EDITORS.includes(r));
  return h("main", { className: "rules-app" },
    h("header", { className: "bar" },
      h("strong", { className: "brand" }, "ChainLens"),
      h("nav", { className: "pages", "aria-label": "Pages" },
        h("a", { href: "./" }, "Explorer"),
        h("a", { href: "./#/review" }, "Review queue"),
        h("a", { href: "./#/portfolio" }, "Portfolio"),
        h("a", { href: "./rules.html", "aria-current": "page" }, "Rules")),
      h("span", { className: "status" }),
      h("span", { id: "who", className: "muted" }, `${user.username} (${user.roles.join(", ")})${canEdit ? "" : " — read only"}`),
      h("button", { type: "button", id: "logout", onClick: () => { logout(); setUser(null); } }, "Log out")),
    h("div", { className: "rules-body" },
      h("aside", { className: "rules-side" },
        h("h1", null, "Rule sets"),
        h("p", { id: "rules-list-error", className: "error", role: "alert" }, error),
        h("p", { id: "rules-published", role: "status", "aria-live": "polite" }, published),
        h(RuleSetList, { items, open, onOpen: openContent }),
        open ? h(Versions, { name: open.name, versions, onOpen: openContent, user, canEdit, onPublish: publish, onRetire: retire }) : null),
      h("section", { className: "rules-main" },
        open
          ? h(Editor, { key: open.key, open, canEdit, onDirty: markDirty, onSaved: () => { loadVersions(open.name); loadList(); } })
          : h("p", { className: "muted", id: "rules-hint" }, "Open a rule set to see and edit its decision tables."))));
}

createRoot(document.getElementById("rules-root")).render(h(App));
