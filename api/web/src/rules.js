// The rule editor (rules.html): risk staff open a rule set — what is in force, or any stored
// version — in GoRules' JDM editor, edit its decision tables, validate the result with the
// API (validateRuleSet: the same checks as a draft, nothing stored), simulate it on past
// decisions (simulateRuleSet, approval rule sets) and save it as a new draft (draftRuleSet).
// Saving runs validation first and stops on any problem. Another officer publishes a draft
// from the list of versions (publishRuleSet: maker-checker, the API refuses the author).
// Credit officers (and admins) edit and publish; analysts read, validate and simulate.
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

export const PUBLISH = `mutation PublishRuleSet($id: ID!) {
  publishRuleSet(id: $id) { id name version status effectiveAt }
}`;

export const DRAFT = `mutation DraftRuleSet($name: String!, $content: JSON!, $note: String!) {
  draftRuleSet(name: $name, content: $content, note: $note) { id name version status }
}`;

const EDITORS = ["credit_officer", "admin"];

// What the page holds, for the browser tests (tests/web/test_rules.py).
export const rules = { user: null, open: null, graph: null, check: null, simulation: null, saved: null };
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

function Versions({ name, versions, onOpen, user, canEdit, onPublish }) {
  if (!versions.length) return h("p", { className: "muted", id: "rules-versions" }, `No stored versions of ${name} yet: the shipped one is in force.`);
  return h("table", { className: "grid", id: "rules-versions" },
    h("caption", { className: "muted" }, `Stored versions of ${name}, newest first.`),
    h("thead", null, h("tr", null, ["Version", "Status", "Author", "Note", ""].map((t, i) => h("th", { key: i, scope: "col" }, t)))),
    h("tbody", null, versions.map((v) => h("tr", { key: v.id, "data-version": v.version },
      h("td", null, v.version), h("td", null, v.status), h("td", null, v.author), h("td", null, v.note),
      h("td", null,
        h("button", { type: "button", className: "open-version", onClick: () => onOpen(name, `rules:${name}@${v.version} (${v.status})`, v.content) }, "Open"),
        v.status === "draft" && canEdit
          ? (v.author === user.username
            ? h("span", { className: "muted awaiting" }, " awaiting another officer")
            : h("button", { type: "button", className: "publish-version", onClick: () => onPublish(v) }, "Publish"))
          : null)))));
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

function Editor({ open, canEdit, onSaved }) {
  const graph = useRef(open.graph); // the latest content the editor reported
  const [check, setCheck] = useState(null);
  const [sim, setSim] = useState(null);
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState("");
  const [result, setResult] = useState("");
  const [error, setError] = useState("");

  const change = useCallback((g) => {
    graph.current = g;
    rules.graph = g;
    setCheck(null);
    setSim(null);
    setResult("");
  }, []);

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
      const got = (await gql(SIMULATE, { content: model(graph.current, open.graph) })).simulateRuleSet;
      setSim(got);
      rules.simulation = got;
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
      open.stage === "approval"
        ? h("button", { type: "button", id: "rules-simulate", onClick: simulate, disabled: !!busy, title: "Run on the inputs of past automatic decisions" }, "Simulate")
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
    h(Simulation, { sim }),
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
    let graph;
    try {
      graph = JSON.parse(content);
    } catch {
      setError(`${label} is not valid JSON`);
      return;
    }
    const stage = items.find((r) => r.name === name)?.stage || "approval";
    const next = { name, label, stage, graph, key: `${name}:${label}:${Date.now()}` };
    rules.open = next;
    rules.graph = graph;
    setError("");
    setPublished("");
    setOpen(next);
    loadVersions(name);
  };

  const publish = async (v) => {
    setError("");
    setPublished("");
    try {
      const p = (await gql(PUBLISH, { id: v.id })).publishRuleSet;
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
        open ? h(Versions, { name: open.name, versions, onOpen: openContent, user, canEdit, onPublish: publish }) : null),
      h("section", { className: "rules-main" },
        open
          ? h(Editor, { key: open.key, open, canEdit, onSaved: () => { loadVersions(open.name); loadList(); } })
          : h("p", { className: "muted", id: "rules-hint" }, "Open a rule set to see and edit its decision tables."))));
}

createRoot(document.getElementById("rules-root")).render(h(App));
