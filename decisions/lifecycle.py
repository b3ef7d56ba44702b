"""The life cycle of a rule set: draft, simulate, publish (by someone other than its author,
with an effective time), retire; and the evaluator that decides applications with the
version in force.

Until a version of a name is published, the version shipped in the package
(`decisions/rulesets/<name>.json`, recorded as ``rules:<name>@shipped``) is in force. Every
decision records the version that made it in its ``policy_version`` and the indicator values
it read in its ``inputs``.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from neo4j import Driver, ManagedTransaction

from decisions import monitoring
from decisions.engine import (
    APPROVAL_STAGE,
    RULESETS,
    SHIPPED_VERSION,
    CompiledRuleSet,
    cached,
    compile_rule_set,
    shipped,
    stage_of,
)
from decisions.errors import Forbidden, InvalidState, NotFound, RuleSetInvalid
from decisions.indicators import indicators_from
from finance.errors import FinanceError
from finance.policy import EnterpriseFacts, Evaluator, Outcome
from finance.products import Product, get_product
from graph.model import RuleSetStatus
from graph.queries import decisions as q
from graph.values import native

APPROVAL = "approval"
# A published version takes effect no earlier than now (less this much clock skew):
# decisions already made stay those of the version that made them.
PAST_TOLERANCE = timedelta(seconds=5)


@dataclass(frozen=True)
class RuleSetVersion:
    id: str
    name: str
    version: int
    status: str
    content: str
    content_hash: str
    note: str
    author: str
    created_at: datetime
    publisher: str | None
    published_at: datetime | None
    effective_at: datetime | None
    retired_by: str | None
    retired_at: datetime | None



def _version(row: dict[str, Any]) -> RuleSetVersion:
    names = {f.name for f in fields(RuleSetVersion)}
    return RuleSetVersion(**{k: native(row.get(k)) for k in names})


def _now() -> datetime:
    return datetime.now(UTC)


def _run_write(driver: Driver, database: str, work: Any) -> Any:
    with driver.session(database=database) as s:
        return s.execute_write(work)


def draft(
    driver: Driver, database: str, name: str, content: str, author: str, note: str = ""
) -> RuleSetVersion:
    """Store a new version of rule set ``name`` as a draft, once the engine accepts it;
    a refused rule set raises `RuleSetInvalid` and nothing is stored."""
    if not name.isidentifier():
        raise InvalidState(f"a rule set name is letters, digits and _, got {name!r}")
    compile_rule_set(content, name, "draft")
    props = {
        "status": RuleSetStatus.DRAFT.value, "content": content, "author": author,
        "content_hash": hashlib.sha256(content.encode()).hexdigest(), "note": note,
        "created_at": _now(),
    }  # fmt: skip
    row = _run_write(driver, database, lambda tx: q.create_draft(tx, name, props))
    return _version(row)


def get(driver: Driver, database: str, id: str) -> RuleSetVersion:
    row = q.get(driver, database, id)
    if row is None:
        raise NotFound(f"no rule set {id!r}")
    return _version(row)


def list_versions(driver: Driver, database: str, name: str | None = None) -> list[RuleSetVersion]:
    return [_version(r) for r in q.list_rule_sets(driver, database, name)]


def publish(
    driver: Driver, database: str, id: str, publisher: str, effective_at: datetime | None = None
) -> RuleSetVersion:
    """Publish a draft: never by its author (maker-checker), in force from ``effective_at``
    (now when not given; never in the past)."""
    now = _now()
    at = effective_at or now
    if at.tzinfo is None:
        raise InvalidState("the effective time needs a time zone")
    if at < now - PAST_TOLERANCE:
        raise InvalidState(f"the effective time {at.isoformat()} is in the past")

    def work(tx: ManagedTransaction) -> dict[str, Any]:
        row = q.lock(tx, id)
        if row is None:
            raise NotFound(f"no rule set {id!r}")
        if row["status"] != RuleSetStatus.DRAFT:
            raise InvalidState(f"rule set {id} is {row['status']}, not a draft")
        if row["author"] == publisher:
            raise Forbidden(f"{publisher} drafted rule set {id} and cannot publish it")
        # Checked again: the engine in this process must accept what it will run.
        compile_rule_set(row["content"], row["name"], str(row["version"]))
        return q.update(tx, id, {
            "status": RuleSetStatus.PUBLISHED.value, "publisher": publisher,
            "published_at": now, "effective_at": at,
        })  # fmt: skip

    return _version(_run_write(driver, database, work))


def retire(driver: Driver, database: str, id: str, by: str, note: str = "") -> RuleSetVersion:
    """Take a published version out of force now; the previous one in force takes over
    (the shipped one when none is)."""
    now = _now()

    def work(tx: ManagedTransaction) -> dict[str, Any]:
        row = q.lock(tx, id)
        if row is None:
            raise NotFound(f"no rule set {id!r}")
        if row["status"] != RuleSetStatus.PUBLISHED:
            raise InvalidState(f"rule set {id} is {row['status']}, not published")
        return q.update(tx, id, {
            "status": RuleSetStatus.RETIRED.value, "retired_by": by, "retired_at": now,
            "retire_note": note,
        })  # fmt: skip

    return _version(_run_write(driver, database, work))


def in_force(
    driver: Driver, database: str, name: str = APPROVAL, at: datetime | None = None
) -> CompiledRuleSet:
    """The version of ``name`` in force at ``at`` (now), compiled once per process."""
    row = q.in_force(driver, database, name, at or _now())
    if row is None:
        return shipped(name)
    return cached(str(row["content"]), name, str(row["version"]))


def evaluator_of(rule_set: CompiledRuleSet, record: bool = True) -> Evaluator:
    """An evaluator for `finance.lifecycle.submit_application` (and product matching) that
    decides with ``rule_set``; with ``record``, its hits count in the metrics."""

    def decide(
        product: Product, facts: EnterpriseFacts, requested_minor: int, value_minor: int
    ) -> Outcome:
        got = rule_set.evaluate(indicators_from(product, facts, requested_minor, value_minor))
        if record:
            monitoring.record(rule_set.label, got)
        return got.outcome

    return decide


def evaluator(
    driver: Driver, database: str, name: str = APPROVAL, record: bool = True
) -> Evaluator:
    """The evaluator of the version in force now."""
    return evaluator_of(in_force(driver, database, name), record)


# --------------------------------------------------------------------------------------
# Simulation
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SimulatedDecision:
    application_id: str
    enterprise_id: str
    product_id: str
    decided_by: str  # the recorded decision's policy_version
    recorded_verdict: str
    recorded_amount_minor: int
    verdict: str
    amount_minor: int
    reasons: list[str]
    rules: list[str]


@dataclass(frozen=True)
class Simulation:
    rule_set: str
    applications: int  # decisions replayed
    skipped: int  # recorded without the inputs a replay needs
    flipped: list[SimulatedDecision]  # verdict differs from the recorded one
    amount_changed: int  # same verdict, another amount
    verdicts: dict[str, int]  # the draft's verdicts
    rule_hits: dict[str, int]


_FACT_FIELDS = {f.name for f in fields(EnterpriseFacts)}


def _indicators_of(row: dict[str, Any]) -> dict[str, Any] | None:
    """The indicators a recorded decision read: stored as they were when a rule set decided;
    rebuilt from the facts, the product and the amounts when the Python policy decided."""
    try:
        inputs = json.loads(row["inputs"] or "null")
    except ValueError:
        return None
    if not isinstance(inputs, dict):
        return None
    if "limit_minor" in inputs:
        return inputs
    if "requested_minor" not in inputs or "collateral_value_minor" not in inputs:
        return None
    try:
        product = get_product(str(row["product_id"]))
        facts = EnterpriseFacts(**{k: v for k, v in inputs.items() if k in _FACT_FIELDS})
    except (FinanceError, TypeError):
        return None
    return indicators_from(
        product, facts, int(inputs["requested_minor"]), int(inputs["collateral_value_minor"])
    )


def simulate(
    driver: Driver, database: str, id: str | None = None, content: str | None = None,
    limit: int = 1000, since: datetime | None = None,
) -> Simulation:  # fmt: skip
    """Run a rule set (a stored version, or content not yet drafted) on the inputs of the
    latest ``limit`` automatic decisions and report what it would change."""
    if (id is None) == (content is None):
        raise InvalidState("simulate a stored rule set (id) or a content, one of the two")
    if id is not None:
        v = get(driver, database, id)
        rs = cached(v.content, v.name, str(v.version))
    else:
        rs = compile_rule_set(str(content), "candidate", "unsaved")
    if stage_of(rs.name) is not APPROVAL_STAGE:
        raise InvalidState(
            f"{rs.label} is a {rs.name} rule set: simulation replays approval decisions "
            "(post-loan rule sets run over the portfolio: decisions.postloan.simulate)"
        )
    flipped: list[SimulatedDecision] = []
    verdicts: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    replayed = skipped = changed = 0
    for row in q.automatic_decisions(driver, database, limit, since):
        ind = _indicators_of(row)
        if ind is None:
            skipped += 1
            continue
        got = rs.evaluate(ind)
        replayed += 1
        o = got.outcome
        verdicts[o.verdict.value] += 1
        hits.update(h.rule for h in got.hits)
        if o.verdict.value != row["verdict"]:
            flipped.append(SimulatedDecision(
                str(row["application_id"]), str(row["enterprise_id"]), str(row["product_id"]),
                str(row["policy_version"]), str(row["verdict"]), int(row["amount_minor"] or 0),
                o.verdict.value, o.amount_minor, list(o.reasons), [h.rule for h in got.hits],
            ))  # fmt: skip
        elif o.amount_minor != int(row["amount_minor"] or 0):
            changed += 1
    return Simulation(rs.label, replayed, skipped, flipped, changed, dict(verdicts), dict(hits))


# --------------------------------------------------------------------------------------
# The rule editor (api/web/rules.html): check before saving, and what is in force
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """What `draft` would say of a content, with nothing stored: no problems, or all."""

    problems: list[str]
    tables: int
    rules: int


def check(name: str, content: str) -> Check:
    """Compile ``content`` as rule set ``name`` would be compiled at draft (the stage's
    catalogue, its outcomes, the hit policies, the engine) and list every problem."""
    if not name.isidentifier():
        return Check([f"a rule set name is letters, digits and _, got {name!r}"], 0, 0)
    try:
        compiled = compile_rule_set(content, name, "candidate")
    except RuleSetInvalid as e:
        return Check(list(e.problems), 0, 0)
    return Check([], len(compiled.tables), len(compiled.rules))


@dataclass(frozen=True)
class InForce:
    """A rule set name and the content deciding now: a published version, or the one
    shipped in the package (``version`` None) until one is."""

    name: str
    label: str | None  # None: drafted only, nothing of this name decides yet
    content: str | None
    version: RuleSetVersion | None


def shipped_names() -> list[str]:
    return sorted(p.stem for p in RULESETS.glob("*.json"))


def all_in_force(driver: Driver, database: str) -> list[InForce]:
    """Every rule set name (shipped or drafted) with what is in force for it now."""
    now = _now()
    names = set(shipped_names()) | {v.name for v in list_versions(driver, database)}
    out: list[InForce] = []
    for name in sorted(names):
        row = q.in_force(driver, database, name, now)
        if row is not None:
            v = _version(row)
            out.append(InForce(name, f"rules:{name}@{v.version}", v.content, v))
        elif (RULESETS / f"{name}.json").is_file():
            content = (RULESETS / f"{name}.json").read_text(encoding="utf-8")
            out.append(InForce(name, f"rules:{name}@{SHIPPED_VERSION}", content, None))
        else:
            out.append(InForce(name, None, None, None))
    return out
