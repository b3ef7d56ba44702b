"""Rule sets as JSON Decision Models evaluated by GoRules ZEN.

A rule set is a JDM graph: an input node (the indicators), decision tables and expression
nodes, an output node. Conventions that ChainLens adds, checked by `compile_rule_set`:

- every decision table writes its fired rows to its own ``outputPath``, each row giving
  ``rule`` (an id), ``outcome`` (``decline``, ``refer`` or ``note``) and ``reason``: a
  sentence whose ``{indicator}`` placeholders are filled in from the indicators (with the
  Python format specs ``.2f`` and the like, and ``money``, ``count``, ``join``), or an
  expression giving a list of finished sentences;
- expressions may name catalogue indicators (`decisions.indicators.CATALOGUE`) and what an
  earlier node of the rule set computed, nothing else;
- only input, output, decision-table and expression nodes (no JavaScript function nodes).

The verdict follows from the fired rows as in `finance.policy.evaluate`: any decline
declines (amount 0), else any refer refers, else approve; the reasons are the declines,
then the refers, then the notes, then the terms' own sentences (limit, reduction, rate).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import re
import string
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zen

from decisions.errors import RuleSetInvalid
from decisions.indicators import (
    ADMISSION_BY_NAME,
    BY_NAME,
    POSTLOAN_BY_NAME,
    TERMS_NOTES,
    Indicator,
)
from finance.policy import Outcome, Verdict

RULESETS = Path(__file__).resolve().parent / "rulesets"
SHIPPED_APPROVAL = RULESETS / "approval.json"
SHIPPED_VERSION = "shipped"

# Approval rows: decline, refer, a note, or a condition the approval carries (the financing's
# conditions, e.g. the core confirms the receivables in writing before disbursement).
OUTCOMES = ("decline", "refer", "note", "condition")
NODE_TYPES = frozenset({"inputNode", "outputNode", "decisionTableNode", "expressionNode"})
ROW_OUTPUTS = ("rule", "outcome", "reason")
# ``unique`` (no case may match two rows) is ChainLens's: checked at draft, run as ``first``.
HIT_POLICIES = ("collect", "first", "unique")
_KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})
_STRINGS = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`(?:[^`\\]|\\.)*`")
_NAMES = re.compile(r"(?<![\w.$#])([A-Za-z_]\w*)\b(?!\s*\()")
_ENGINE = zen.ZenEngine()
KEY = "rules"  # the key a compiled rule set's engine holds its model under


def _first_line(error: BaseException) -> str:
    """ZEN's messages carry a Rust backtrace after the first paragraph; keep the message."""
    text = str(error).split("\n\nStack backtrace", 1)[0].strip()
    try:
        parsed = json.loads(text)
    except ValueError:
        return text.replace("\n\nCaused by:\n", ": ").replace("\n", " ")
    if isinstance(parsed, dict) and "source" in parsed:
        return f"{parsed.get('type', 'error')}: {parsed['source']}"
    return text


class _Template(string.Formatter):
    """`str.format` limited to plain names (no attribute or index access), with three
    extra specs: ``money`` (minor units as 1,234.56), ``count`` (a list's length) and
    ``join`` (a list joined with commas)."""

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> Any:
        if not field_name.isidentifier():
            raise KeyError(field_name)
        return kwargs[field_name], field_name

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec == "money":
            return f"{value / 100:,.2f}"
        if format_spec == "count":
            return str(len(value))
        if format_spec == "join":
            return ", ".join(str(v) for v in value)
        return str(format(value, format_spec))


_TEMPLATE = _Template()


def render(template: str, values: Mapping[str, Any]) -> str:
    return _TEMPLATE.vformat(template, (), dict(values))


@dataclass(frozen=True)
class Stage:
    """What a rule set of one stage may read and what its rows may say."""

    name: str
    catalogue: Mapping[str, Indicator]
    outcomes: tuple[str, ...]


APPROVAL_STAGE = Stage("approval", BY_NAME, OUTCOMES)
# Post-loan early warning: an ``alert`` row raises an alert on the financing, a ``note`` row
# is counted in the metrics only.
POSTLOAN_STAGE = Stage("postloan", POSTLOAN_BY_NAME, ("alert", "note"))
# Disbursement: the approval catalogue read again when the money goes out; a ``decline``
# row stops the disbursement.
DISBURSEMENT_STAGE = Stage("disbursement", BY_NAME, ("decline", "note"))
# Admission (准入): the enterprise alone, before a credit line is granted to it; a ``decline``
# row refuses the grant, a ``refer`` row sends it to a second admin (a proposal).
ADMISSION_STAGE = Stage("admission", ADMISSION_BY_NAME, ("decline", "refer", "note"))
STAGES = {
    s.name: s for s in (APPROVAL_STAGE, POSTLOAN_STAGE, DISBURSEMENT_STAGE, ADMISSION_STAGE)
}


def stage_of(name: str) -> Stage:
    """A rule set named after a stage reads that stage's catalogue; any other name is an
    approval rule set."""
    return STAGES.get(name, APPROVAL_STAGE)


def sample_indicators(catalogue: Mapping[str, Indicator] = BY_NAME) -> dict[str, Any]:
    """A value of the declared type for every indicator: what validation evaluates on."""
    by_type: dict[str, Any] = {
        "number": 0.5, "integer": 1, "boolean": True, "string": "x", "string[]": ["x"],
    }  # fmt: skip
    return {i.name: by_type[i.type] for i in catalogue.values()}


@dataclass(frozen=True)
class Hit:
    rule: str
    outcome: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Evaluation:
    outcome: Outcome
    hits: tuple[Hit, ...]


@dataclass(frozen=True)
class CompiledRuleSet:
    """A validated rule set, ready to evaluate. ``version`` names it in every decision.

    It is evaluated through its own `zen.ZenEngine` whose static loader holds the model:
    the engine loads and prepares the decision once and reuses it, where
    `zen.ZenDecision.evaluate` costs several times more per call (measured in
    docs/decisions.md)."""

    name: str
    version: str
    content: str
    tables: tuple[str, ...]  # outputPath of each decision table, in the file's node order
    rules: tuple[str, ...]  # every row's rule id
    engine: Any  # zen.ZenEngine holding the model under `KEY`

    @property
    def label(self) -> str:
        return f"rules:{self.name}@{self.version}"

    def fire(self, indicators: Mapping[str, Any]) -> tuple[Hit, ...]:
        """The rows that fire on these indicators, in the tables' order, with their reasons
        filled in (any stage)."""
        return self._hits(indicators, self._run(indicators))

    def _run(self, indicators: Mapping[str, Any]) -> Mapping[str, Any]:
        context = {k: v for k, v in indicators.items() if k != TERMS_NOTES}
        try:
            result: Mapping[str, Any] = self.engine.evaluate(KEY, context)["result"]
        except RuntimeError as e:
            raise RuleSetInvalid([f"the engine failed: {_first_line(e)}"]) from e
        return result

    def evaluate(self, indicators: Mapping[str, Any]) -> Evaluation:
        """The engine's verdict on one application's indicators (approval stage)."""
        return self._evaluation(indicators, self._run(indicators))

    def evaluate_many(self, many: list[Mapping[str, Any]]) -> list[Evaluation]:
        """`evaluate` on many applications' indicators in one call to the engine (its
        batch evaluation): for simulations and replays."""
        if not many:
            return []
        requests = [
            {"key": KEY, "context": {k: v for k, v in ind.items() if k != TERMS_NOTES}}
            for ind in many
        ]
        got = self.engine.evaluate_batch(requests)
        out: list[Evaluation] = []
        for ind, answer in zip(many, got, strict=True):
            if not answer.get("success"):
                why = _first_line(RuntimeError(str(answer.get("error"))))
                raise RuleSetInvalid([f"the engine failed: {why}"])
            out.append(self._evaluation(ind, answer["data"]["result"]))
        return out

    def _hits(self, indicators: Mapping[str, Any], result: Mapping[str, Any]) -> tuple[Hit, ...]:
        hits: list[Hit] = []
        for path in self.tables:
            fired = result.get(path) or []
            # A 'first' (or 'unique') table gives its one row, not a list.
            for row in [fired] if isinstance(fired, dict) else fired:
                reason = row.get("reason")
                if isinstance(reason, list):
                    said = tuple(str(r) for r in reason)
                else:
                    said = (render(str(reason), indicators),) if reason else ()
                hits.append(Hit(str(row.get("rule")), str(row.get("outcome")), said))
        return tuple(hits)

    def _evaluation(self, indicators: Mapping[str, Any], result: Mapping[str, Any]) -> Evaluation:
        hits = self._hits(indicators, result)
        declines = [r for h in hits if h.outcome == "decline" for r in h.reasons]
        refers = [r for h in hits if h.outcome == "refer" for r in h.reasons]
        notes = [r for h in hits if h.outcome == "note" for r in h.reasons]
        conditions = [r for h in hits if h.outcome == "condition" for r in h.reasons]
        closing = notes + list(indicators.get(TERMS_NOTES) or [])
        amount, rate = int(indicators["limit_minor"]), int(indicators["rate_bps"])
        tenor = int(indicators["tenor_days"])
        if declines:
            verdict, amount, reasons = Verdict.DECLINE, 0, declines + refers + closing
        elif refers:
            verdict, reasons = Verdict.REFER, refers + closing
        else:
            verdict, reasons = Verdict.APPROVE, closing
        outcome = Outcome(verdict, amount, rate, tenor, reasons, self.label, dict(indicators),
                          conditions=[] if verdict is Verdict.DECLINE else conditions)  # fmt: skip
        return Evaluation(outcome, tuple(hits))


def _names(expression: str) -> set[str]:
    return set(_NAMES.findall(_STRINGS.sub("''", expression))) - _KEYWORDS


def _check_expression(
    where: str, text: str, known: set[str], problems: list[str], unary: bool = False
) -> None:
    if not text.strip():
        return
    try:
        (zen.compile_unary_expression if unary else zen.compile_expression)(text)
    except RuntimeError as e:
        problems.append(f"{where}: {text!r} does not compile ({_first_line(e)})")
        return
    unknown = sorted(_names(text) - known)
    if unknown:
        problems.append(f"{where}: unknown indicator {', '.join(unknown)} in {text!r}")


def _check_template(where: str, text: str, problems: list[str], stage: Stage) -> None:
    """A reason given as a string literal: its placeholders must be indicators and its
    format specs must apply to the sample values."""
    if not (len(text) >= 2 and text[0] == text[-1] and text[0] in "'\""):
        return
    body = text[1:-1]
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(body) if f is not None]
    except ValueError as e:
        problems.append(f"{where}: reason {body!r} is not a valid template ({e})")
        return
    unknown = sorted(f for f in fields if f not in stage.catalogue)
    if unknown:
        problems.append(f"{where}: reason names unknown indicator {', '.join(unknown)}")
        return
    try:
        render(body, sample_indicators(stage.catalogue))
    except (ValueError, TypeError, KeyError) as e:
        problems.append(f"{where}: reason {body!r} cannot be filled in ({e})")


def _literal(text: str) -> str | None:
    t = text.strip()
    if len(t) >= 2 and t[0] == t[-1] and t[0] in "'\"":
        return t[1:-1]
    return None


def compile_rule_set(content: str | Mapping[str, Any], name: str, version: str) -> CompiledRuleSet:
    """Validate a rule set and hand it to the engine; `RuleSetInvalid` lists every problem
    (bad JSON, a node type or table shape ChainLens does not accept, an expression that
    does not compile, an unknown indicator, a reason that cannot be filled in, an outcome
    other than decline/refer/note, an evaluation the engine refuses)."""
    if isinstance(content, str):
        try:
            doc = json.loads(content)
        except json.JSONDecodeError as e:
            raise RuleSetInvalid(
                [f"not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}"]
            ) from e
        text = content
    else:
        doc, text = dict(content), json.dumps(content, sort_keys=True)
    if not isinstance(doc, dict) or not isinstance(doc.get("nodes"), list):
        raise RuleSetInvalid(["a JSON Decision Model needs a list of 'nodes' (and 'edges')"])
    problems: list[str] = []
    stage = stage_of(name)
    known = set(stage.catalogue)
    tables: list[str] = []
    rules: list[str] = []
    kinds = [n.get("type") for n in doc["nodes"] if isinstance(n, dict)]
    for needed in ("inputNode", "outputNode"):
        if kinds.count(needed) != 1:
            problems.append(f"a rule set needs exactly one {needed}, found {kinds.count(needed)}")
    for node in doc["nodes"]:
        if not isinstance(node, dict):
            problems.append("every node must be a JSON object")
            continue
        kind, label = node.get("type"), node.get("name") or node.get("id")
        if kind not in NODE_TYPES:
            problems.append(
                f"node {label!r}: type {kind!r} is not accepted "
                f"(only {', '.join(sorted(NODE_TYPES))})"
            )
            continue
        content_ = node.get("content") or {}
        if kind == "expressionNode":
            for ex in content_.get("expressions") or []:
                _check_expression(f"node {label!r}, {ex.get('key')}", str(ex.get("value", "")),
                                  known, problems)  # fmt: skip
                known.add(str(ex.get("key")).split(".")[0])
        elif kind == "decisionTableNode":
            _check_table(str(label), content_, known, problems, tables, rules, stage)
    if not tables and not problems:
        problems.append("a rule set needs at least one decision table")
    if len(set(rules)) != len(rules):
        dup = sorted({r for r in rules if rules.count(r) > 1})
        problems.append(f"rule ids must be unique: {', '.join(dup)} repeated")
    if problems:
        raise RuleSetInvalid(problems)
    try:
        model = _for_engine(doc)
        _ENGINE.create_decision(json.dumps(model)).validate()
        engine = zen.ZenEngine({"loader": {"type": "static", "content": {KEY: model}}})
    except RuntimeError as e:
        raise RuleSetInvalid([f"the engine refuses the model: {_first_line(e)}"]) from e
    compiled = CompiledRuleSet(name, version, text, tuple(tables), tuple(rules), engine)
    trial = {**sample_indicators(stage.catalogue), TERMS_NOTES: []}
    # An engine error on well-typed input surfaces here.
    if stage is APPROVAL_STAGE:
        compiled.evaluate(trial)
    else:
        compiled.fire(trial)
    return compiled


def _for_engine(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The model ZEN runs: a ``unique`` table (checked to have no overlapping rows) runs
    as ``first``, which gives the same row when at most one matches."""
    model: dict[str, Any] = json.loads(json.dumps(doc))
    for node in model["nodes"]:
        c = node.get("content")
        if isinstance(c, dict) and node.get("type") == "decisionTableNode" and (
            c.get("hitPolicy") == "unique"
        ):
            c["hitPolicy"] = "first"
    return model


def _check_table(
    label: str, content: Mapping[str, Any], known: set[str], problems: list[str],
    tables: list[str], rules: list[str], stage: Stage,
) -> None:  # fmt: skip
    where = f"table {label!r}"
    before = len(problems)
    if content.get("hitPolicy") not in HIT_POLICIES:
        problems.append(f"{where}: hitPolicy must be one of {', '.join(HIT_POLICIES)}")
    path = content.get("outputPath")
    if not path:
        problems.append(f"{where}: needs an outputPath (where its fired rows go)")
    elif path in tables:
        problems.append(f"{where}: outputPath {path!r} is used by another table")
    else:
        tables.append(str(path))
    inputs = content.get("inputs") or []
    outputs = content.get("outputs") or []
    out_fields = {o.get("id"): o.get("field") for o in outputs}
    missing = sorted(set(ROW_OUTPUTS) - set(out_fields.values()))
    if missing:
        problems.append(f"{where}: outputs {', '.join(missing)} are missing")
    for col in inputs:
        field = col.get("field")
        if field:
            _check_expression(f"{where}, column {col.get('name')!r}", str(field), known, problems)
    sample = {**sample_indicators(stage.catalogue),
              **{k: None for k in known - set(stage.catalogue)}}  # fmt: skip
    for i, row in enumerate(content.get("rules") or [], start=1):
        rid = _literal(str(row.get(_col(out_fields, "rule"), ""))) or f"row {i}"
        rules.append(rid)
        at = f"{where}, rule {rid}"
        for col in inputs:
            cell = str(row.get(col.get("id"), "") or "")
            _check_expression(at, cell, known, problems, unary=bool(col.get("field")))
            if cell.strip() and not col.get("field") and not _names(cell) - set(stage.catalogue):
                _check_boolean(at, cell, sample, problems)
            field = col.get("field")
            if cell.strip() and field and not _names(f"{field} {cell}") - set(stage.catalogue):
                _check_unary(at, str(col.get("name")), str(field), cell, sample, problems)
        for oid, field in out_fields.items():
            cell = str(row.get(oid, "") or "")
            _check_expression(f"{at}, {field}", cell, known, problems)
            if field == "outcome" and _literal(cell) not in stage.outcomes:
                problems.append(f"{at}: outcome must be one of {', '.join(stage.outcomes)}, "
                                f"got {cell!r}")  # fmt: skip
            if field == "reason":
                _check_template(at, cell, problems, stage)
    if content.get("hitPolicy") == "unique" and len(problems) == before:  # its cells compile
        _check_overlaps(where, content, stage, out_fields, problems)
    known.add(str(path))


_NUMBERS = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?")


def _literals(text: str) -> tuple[list[str], list[float]]:
    """The text and number literals of an expression."""
    strings = [m[1:-1] for m in _STRINGS.findall(text)]
    numbers = [float(n) for n in _NUMBERS.findall(_STRINGS.sub("''", text))]
    return strings, numbers


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    return "list" if isinstance(value, list) else "null"


def _check_unary(
    where: str, column: str, field: str, cell: str, sample: Mapping[str, Any],
    problems: list[str],
) -> None:  # fmt: skip
    """A cell of a column over an indicator (``fraud_score`` with ``>= 0.8``) must test
    values of that indicator's type: a number is not compared with text, text not with a
    number, a yes/no not with either."""
    try:
        value = zen.evaluate_expression(field, dict(sample))
    except RuntimeError:
        return  # the column's own expression is reported by its check
    kind = _kind(value)
    strings, numbers = _literals(cell)
    wrong = (
        (kind == "number" and strings and "text")
        or (kind == "text" and numbers and not strings and "a number")
        or (kind == "boolean" and (strings or numbers) and ("text" if strings else "a number"))
    )
    if wrong:
        problems.append(f"{where}: column {column!r} ({field}) is {kind} but {cell!r} "
                        f"compares it with {wrong}")  # fmt: skip
        return
    try:
        got = zen.evaluate_unary_expression(cell, {**sample, "$": value})
    except RuntimeError as e:
        problems.append(f"{where}: {cell!r} fails on column {column!r} ({field}, {kind}) "
                        f"({_first_line(e)})")  # fmt: skip
        return
    if not isinstance(got, bool):
        problems.append(f"{where}: cell {cell!r} gives {type(got).__name__}, not true/false")


_PROBES = 5_000  # the most cases an overlap check evaluates per table


def _candidates(ind: Indicator, strings: list[str], numbers: list[float]) -> list[Any]:
    """Values of an indicator on and around every literal of the table: where two rows'
    conditions can meet."""
    if ind.type == "boolean":
        out: list[Any] = [True, False]
    elif ind.type == "string":
        out = [*sorted(set(strings)), "x"]
    elif ind.type == "string[]":
        out = [[], ["x"], ["x", "y", "z"]]
    else:
        step = 1 if ind.type == "integer" else 0.001
        vals = {0.0, *numbers}
        grid = {v + d for v in vals for d in (-step, 0, step)}
        out = sorted(int(v) if ind.type == "integer" else v for v in grid)
    return [*out, None] if ind.nullable else out


def _check_overlaps(
    where: str, content: Mapping[str, Any], stage: Stage, out_fields: Mapping[Any, Any],
    problems: list[str],
) -> None:  # fmt: skip
    """Hit policy ``unique``: no case may match two rows. Every row's conditions are
    evaluated on cases built from the indicators the table reads, on and around each
    literal it names; two rows that both match one case are refused with that case."""
    inputs = content.get("inputs") or []
    rows = content.get("rules") or []
    texts = [str(c.get("field") or "") for c in inputs] + [
        str(r.get(c.get("id"), "") or "") for r in rows for c in inputs
    ]
    names = sorted(set().union(*(_names(t) for t in texts)) & set(stage.catalogue))
    strings: list[str] = []
    numbers: list[float] = []
    for t in texts:
        s_, n_ = _literals(t)
        strings += s_
        numbers += n_
    values = [_candidates(stage.catalogue[n], strings, numbers) for n in names]
    total = 1
    for v in values:
        total *= len(v)
    rng = random.Random(0)
    cases = (
        itertools.product(*values) if total <= _PROBES
        else (tuple(rng.choice(v) for v in values) for _ in range(_PROBES))
    )  # fmt: skip
    base = sample_indicators(stage.catalogue)
    compiled = [
        [
            (
                zen.compile_unary_expression(cell) if c.get("field") else
                zen.compile_expression(cell),
                zen.compile_expression(str(c["field"])) if c.get("field") else None,
            )
            for c in inputs if (cell := str(r.get(c.get("id"), "") or "")).strip()
        ]
        for r in rows
    ]  # fmt: skip
    rid = _col(out_fields, "rule")
    ids = [_literal(str(r.get(rid, ""))) or f"row {i}" for i, r in enumerate(rows, start=1)]
    seen: set[tuple[int, int]] = set()
    for case in cases:
        ctx = {**base, **dict(zip(names, case, strict=True))}
        matched = [i for i, cells in enumerate(compiled) if _matches(cells, ctx)]
        for a, b in itertools.combinations(matched, 2):
            if (a, b) in seen:
                continue
            seen.add((a, b))
            shown = ", ".join(f"{n}={json.dumps(ctx[n])}" for n in names)
            problems.append(f"{where}: rules {ids[a]} and {ids[b]} overlap (both match when "
                            f"{shown}); hit policy 'unique' allows one")  # fmt: skip


def _matches(cells: list[tuple[Any, Any]], ctx: Mapping[str, Any]) -> bool:
    try:
        for cond, field in cells:
            got = cond.evaluate({**ctx, "$": field.evaluate(ctx)} if field else ctx)
            if got is not True:
                return False
    except RuntimeError:
        return False
    return True


def _col(out_fields: Mapping[Any, Any], field: str) -> Any:
    return next((k for k, v in out_fields.items() if v == field), None)


def _check_boolean(where: str, cell: str, sample: Mapping[str, Any], problems: list[str]) -> None:
    """A condition over indicators must give true or false on values of their types."""
    try:
        got = zen.evaluate_expression(cell, dict(sample))
    except RuntimeError as e:
        problems.append(f"{where}: {cell!r} fails on indicators of their declared types "
                        f"({_first_line(e)})")  # fmt: skip
        return
    if not isinstance(got, bool):
        problems.append(f"{where}: condition {cell!r} gives {type(got).__name__}, not true/false")


_CACHE: dict[str, CompiledRuleSet] = {}
_LOCK = threading.Lock()


def cached(content: str, name: str, version: str) -> CompiledRuleSet:
    """`compile_rule_set`, once per (name, version, content)."""
    key = hashlib.sha256(f"{name}\0{version}\0{content}".encode()).hexdigest()
    with _LOCK:
        got = _CACHE.get(key)
    if got is None:
        got = compile_rule_set(content, name, version)
        with _LOCK:
            _CACHE[key] = got
    return got


def shipped(name: str = "approval") -> CompiledRuleSet:
    """The rule set shipped in the package: today's policy, used until one is published."""
    return cached((RULESETS / f"{name}.json").read_text(encoding="utf-8"), name, SHIPPED_VERSION)
