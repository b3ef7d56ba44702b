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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

from neo4j import Driver, ManagedTransaction

from chainlens.versioning import (
    PAST_TOLERANCE,  # noqa: F401  (the clock skew allowed)
    checker_problem,
    content_hash,
    effective_problem,
)
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
from decisions.indicators import POINT_IN_TIME_NONE, indicators_from, point_in_time
from finance.errors import FinanceError
from finance.policy import EnterpriseFacts, Evaluator, Outcome, Verdict
from finance.products import Product, recorded
from graph.model import DEFAULT_FUNDER, RuleSetStatus
from graph.queries import decisions as q
from graph.values import native

APPROVAL = "approval"


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
    challenger_share: float | None = None  # while (or since) it ran as challenger



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
        "content_hash": content_hash(content), "note": note,
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
    problem = effective_problem(at, now)
    if problem is not None:
        raise InvalidState(problem)

    def work(tx: ManagedTransaction) -> dict[str, Any]:
        row = q.lock(tx, id)
        if row is None:
            raise NotFound(f"no rule set {id!r}")
        if row["status"] not in (RuleSetStatus.DRAFT, RuleSetStatus.CHALLENGER):
            raise InvalidState(f"rule set {id} is {row['status']}, not a draft")
        refused = checker_problem(row["author"], publisher, f"rule set {id}")
        if refused is not None:
            raise Forbidden(refused)
        # Checked again: the engine in this process must accept what it will run.
        compile_rule_set(row["content"], row["name"], str(row["version"]))
        props: dict[str, Any] = {
            "status": RuleSetStatus.PUBLISHED.value, "publisher": publisher,
            "published_at": now, "effective_at": at,
        }  # fmt: skip
        if row["status"] == RuleSetStatus.CHALLENGER:  # its challenge ends: it is champion
            props |= {"challenger_stopped_by": publisher, "challenger_stopped_at": now}
        return q.update(tx, id, props)

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


def evaluator_of(
    rule_set: CompiledRuleSet, record: bool = True, challenger: Challenger | None = None,
    application_id: str | None = None, point: Callable[[str], Mapping[str, Any]] | None = None,
) -> Evaluator:  # fmt: skip
    """An evaluator for `finance.lifecycle.submit_application` (and product matching) that
    decides with ``rule_set``; with ``record``, its hits count in the metrics and the rows
    that fired are recorded on the decision. With a ``challenger`` running, application
    ``application_id`` is assigned an arm (`arm`); on the challenger's arm the challenger
    runs on the same indicators and its verdict, reasons and rules are recorded beside the
    champion's, which decides. ``point`` reads an enterprise's point-in-time indicators
    (`decisions.indicators.point_in_time`), once per enterprise; without it they are
    `POINT_IN_TIME_NONE`."""
    seen: dict[str, Mapping[str, Any]] = {}

    def decide(
        product: Product, facts: EnterpriseFacts, requested_minor: int, value_minor: int
    ) -> Outcome:
        at_time = None
        if point is not None:
            at_time = seen.get(facts.enterprise_id)
            if at_time is None:
                at_time = seen[facts.enterprise_id] = point(facts.enterprise_id)
        indicators = indicators_from(product, facts, requested_minor, value_minor, at_time)
        got = rule_set.evaluate(indicators)
        if not record:
            return got.outcome
        monitoring.record(rule_set.label, got)
        extra: dict[str, Any] = {"rules": [h.rule for h in got.hits]}
        if challenger is not None and application_id is not None:
            side = arm(application_id, challenger.share)
            extra |= {"arm": side, "challenger_version": challenger.rule_set.label}
            if side == CHALLENGER_ARM:
                other = challenger.rule_set.evaluate(indicators)
                monitoring.record(challenger.rule_set.label, other)
                extra |= {
                    "challenger_verdict": other.outcome.verdict.value,
                    "challenger_reasons": list(other.outcome.reasons),
                    "challenger_rules": [h.rule for h in other.hits],
                    "challenger_amount_minor": other.outcome.amount_minor,
                }  # fmt: skip
        return replace(got.outcome, record=extra)

    return decide


def evaluator(
    driver: Driver, database: str, name: str = APPROVAL, record: bool = True,
    application_id: str | None = None, collateral_ids: Sequence[str] = (),
    funder: str = DEFAULT_FUNDER, document_ids: Sequence[str] = (),
) -> Evaluator:  # fmt: skip
    """The evaluator of the version in force now; given the application's id, with the
    challenger of ``name`` running beside it on its share of applications. The
    point-in-time indicators are read at the decision for the collateral offered and the
    documents attached (``document_ids``)."""
    running = challenger(driver, database, name) if application_id is not None else None
    at = _now()

    def point(enterprise_id: str) -> Mapping[str, Any]:
        return point_in_time(
            driver, database, enterprise_id, collateral_ids, funder, at, document_ids
        )

    return evaluator_of(in_force(driver, database, name), record, running, application_id, point)


# --------------------------------------------------------------------------------------
# Champion/challenger: a draft run beside the version in force on a share of live traffic
# --------------------------------------------------------------------------------------

CHAMPION_ARM, CHALLENGER_ARM = "champion", "challenger"


@dataclass(frozen=True)
class Challenger:
    version: RuleSetVersion
    rule_set: CompiledRuleSet
    share: float


def arm(application_id: str, share: float) -> str:
    """The arm of an application: the first 8 bytes of the SHA-256 of its id, read as a
    fraction of 2**64, below ``share`` is the challenger's. It depends on the id alone, so
    a replay assigns the same arm, and an application in a 20% share is in a 50% one too."""
    h = int.from_bytes(hashlib.sha256(application_id.encode()).digest()[:8], "big")
    return CHALLENGER_ARM if h / 2**64 < share else CHAMPION_ARM


def challenger(driver: Driver, database: str, name: str = APPROVAL) -> Challenger | None:
    """The challenger of ``name`` running now, compiled once per process."""
    row = q.challenger_of(driver, database, name)
    if row is None:
        return None
    v = _version(row)
    return Challenger(
        v, cached(v.content, v.name, str(v.version)), float(row["challenger_share"])
    )


def start_challenger(
    driver: Driver, database: str, id: str, by: str, share: float
) -> RuleSetVersion:
    """Run draft ``id`` as the challenger of its name on ``share`` (0 < share <= 1) of live
    applications: never by its author (maker-checker, as publishing); one challenger per
    name at a time. The version in force still decides every application."""
    if not 0 < share <= 1:
        raise InvalidState(f"the challenger's share is a fraction in (0, 1], got {share}")
    now = _now()

    def work(tx: ManagedTransaction) -> dict[str, Any]:
        row = q.lock(tx, id)
        if row is None:
            raise NotFound(f"no rule set {id!r}")
        if row["status"] != RuleSetStatus.DRAFT:
            raise InvalidState(f"rule set {id} is {row['status']}, not a draft")
        if stage_of(row["name"]) is not APPROVAL_STAGE:
            raise InvalidState(
                f"rule set {id} is a {row['name']} rule set: a challenger decides applications "
                "beside the approval rules"
            )
        refused = checker_problem(row["author"], by, f"rule set {id}", "start it as challenger")
        if refused is not None:
            raise Forbidden(refused)
        running = q.challenger_of_tx(tx, row["name"])
        if running is not None:
            raise InvalidState(
                f"rule set {running['id']} is already the challenger of {row['name']}: "
                "stop it first"
            )
        compile_rule_set(row["content"], row["name"], str(row["version"]))
        return q.update(tx, id, {
            "status": RuleSetStatus.CHALLENGER.value, "challenger_share": float(share),
            "challenger_by": by, "challenger_at": now,
        })  # fmt: skip

    return _version(_run_write(driver, database, work))


def stop_challenger(driver: Driver, database: str, name: str, by: str) -> RuleSetVersion:
    """Stop the challenger of ``name``: it is a draft again (to publish, or challenge
    later); the decisions keep what it recorded."""
    now = _now()

    def work(tx: ManagedTransaction) -> dict[str, Any]:
        running = q.challenger_of_tx(tx, name)
        if running is None:
            raise NotFound(f"no challenger of {name!r} is running")
        q.lock(tx, running["id"])
        return q.update(tx, running["id"], {
            "status": RuleSetStatus.DRAFT.value, "challenger_stopped_by": by,
            "challenger_stopped_at": now,
        })  # fmt: skip

    return _version(_run_write(driver, database, work))


@dataclass(frozen=True)
class ArmCount:
    arm: str
    rule_set: str  # the version whose verdict is counted
    verdict: str
    count: int


@dataclass(frozen=True)
class Difference:
    application_id: str
    enterprise_id: str
    product_id: str
    decided_at: datetime
    champion: str
    verdict: str
    amount_minor: int
    reasons: list[str]
    rules: list[str]
    challenger: str
    challenger_verdict: str
    challenger_amount_minor: int
    challenger_reasons: list[str]
    challenger_rules: list[str]


@dataclass(frozen=True)
class Comparison:
    challenger: str  # its label, rules:<name>@<version>
    share: float | None
    running: bool
    decisions: int  # recorded while it ran, both arms
    counts: list[ArmCount]  # per arm: the champion's verdicts, and on its arm the challenger's
    differences: list[Difference]  # its arm's decisions where the two verdicts differ


def compare(driver: Driver, database: str, id: str, limit: int = 200) -> Comparison:
    """What the decisions recorded of challenger ``id``: counts by outcome per arm and the
    decisions where its verdict differs from the champion's."""
    v = get(driver, database, id)
    label = f"rules:{v.name}@{v.version}"
    row = q.get(driver, database, id) or {}
    counts: Counter[tuple[str, str, str]] = Counter()
    total = 0
    for r in q.challenge_counts(driver, database, label):
        n = int(r["n"])
        total += n
        counts[(str(r["arm"]), str(r["champion"]), str(r["verdict"]))] += n
        if r["challenger_verdict"] is not None:
            counts[(str(r["arm"]), label, str(r["challenger_verdict"]))] += n
    diffs = [
        Difference(
            str(r["application_id"]), str(r["enterprise_id"]), str(r["product_id"]),
            native(r["decided_at"]), str(r["champion"]), str(r["verdict"]),
            int(r["amount_minor"] or 0), list(r["reasons"] or []), list(r["rules"] or []),
            str(r["challenger"]), str(r["challenger_verdict"]),
            int(r["challenger_amount_minor"] or 0), list(r["challenger_reasons"] or []),
            list(r["challenger_rules"] or []),
        )
        for r in q.challenge_differences(driver, database, label, limit)
    ]
    share = row.get("challenger_share")
    return Comparison(
        label, None if share is None else float(share),
        v.status == RuleSetStatus.CHALLENGER, total,
        [ArmCount(a, rs, verdict, n) for (a, rs, verdict), n in sorted(counts.items())],
        diffs,
    )  # fmt: skip


# --------------------------------------------------------------------------------------
# Rates over time, from the stored decisions
# --------------------------------------------------------------------------------------

BUCKETS = ("day", "week")


@dataclass(frozen=True)
class RuleRate:
    rule: str
    hits: int
    rate: float  # hits / decisions that recorded their rules


@dataclass(frozen=True)
class RateBucket:
    start: date  # the bucket's first day (a Monday for weeks)
    decisions: int
    approved: int
    referred: int
    declined: int
    with_rules: int  # decisions that recorded the rows that fired (the hit rates' base)
    rules: list[RuleRate]

    def rate(self, n: int) -> float:
        return n / self.decisions if self.decisions else 0.0


def rates(
    driver: Driver, database: str, name: str, start: datetime, end: datetime,
    bucket: str = "day",
) -> list[RateBucket]:  # fmt: skip
    """Per day or week in [start, end): the automatic decisions made by a version of rule
    set ``name``, their verdicts, and how often each rule fired."""
    if bucket not in BUCKETS:
        raise InvalidState(f"bucket must be one of {', '.join(BUCKETS)}")
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidState("the window's times need a time zone")
    if end <= start:
        raise InvalidState("the window ends before it starts")
    verdicts, hits = q.decision_rates(driver, database, name, start, end, bucket)
    per: dict[date, Counter[str]] = {}
    for r in verdicts:
        c = per.setdefault(native(r["bucket"]), Counter())
        c[str(r["verdict"])] += int(r["n"])
        c["_decisions"] += int(r["n"])
        c["_with_rules"] += int(r["with_rules"])
    fired: dict[date, dict[str, int]] = {}
    for r in hits:
        fired.setdefault(native(r["bucket"]), {})[str(r["rule"])] = int(r["hits"])
    out: list[RateBucket] = []
    for day in sorted(per):
        c = per[day]
        base = c["_with_rules"]
        out.append(RateBucket(
            day, c["_decisions"], c[Verdict.APPROVE.value], c[Verdict.REFER.value],
            c[Verdict.DECLINE.value], base,
            [RuleRate(rule, n, n / base if base else 0.0)
             for rule, n in sorted(fired.get(day, {}).items())],
        ))  # fmt: skip
    return out


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


def _indicators_of(
    row: dict[str, Any], product_of: Callable[[str, str | None], Product]
) -> dict[str, Any] | None:
    """The indicators a recorded decision read: stored as they were when a rule set decided;
    rebuilt from the facts, the product version it recorded (``product_of``) and the amounts
    when the Python policy decided."""
    try:
        inputs = json.loads(row["inputs"] or "null")
    except ValueError:
        return None
    if not isinstance(inputs, dict):
        return None
    if "limit_minor" in inputs:
        # Recorded before the point-in-time indicators existed: none of them was read.
        return {**POINT_IN_TIME_NONE, "loan_to_value": None, **inputs}
    if "requested_minor" not in inputs or "collateral_value_minor" not in inputs:
        return None
    try:
        product = product_of(str(row["product_id"]), row.get("product_version"))
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
        ind = _indicators_of(row, partial(recorded, driver, database))
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
