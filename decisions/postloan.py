"""Post-loan early warning: the rule set ``postloan`` (same life cycle as approval; shipped
as `decisions/rulesets/postloan.json` until a version is published) evaluated on every
originated financing with money out, at the end of the day.

Each financing's indicators (`decisions.indicators.POSTLOAN_CATALOGUE`) are read from the
graph: the financing, its borrower's facts (`finance.policy.read_facts`: status, scores,
tier, circle, group exposure, the core at the end of its chain) and the core's standing
(status, its own overdue financings), the alerts open about the financing or its borrower
and the live registrations of another secured party on its collateral
(`graph.queries.decisions.POSTLOAN_EXTRA`). A row with outcome ``alert`` raises an alert of kind
``early_warning`` on the financing and its borrower, keyed by rule-set version, rule and
financing (running again raises nothing twice), whose message is the rule's reason and
whose ``evidence`` is JSON with the rule set, the rule and every indicator value. Alerts
reach the ``alerts`` list and the ``alertRaised`` subscription like the others. Every fired
row counts in ``chainlens_rule_hits_total``. `simulate` runs a candidate over the current
portfolio and lists the alerts it would raise, writing nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from neo4j import Driver

from decisions import lifecycle, monitoring
from decisions.engine import CompiledRuleSet, compile_rule_set
from decisions.errors import DecisionsError
from finance.policy import EnterpriseFacts, read_facts
from graph.queries import decisions as q
from graph.queries import postloan as pq
from graph.values import native

POSTLOAN = "postloan"
ALERT_KIND = "early_warning"


@dataclass(frozen=True)
class EarlyWarnings:
    rule_set: str  # the version that ran, e.g. rules:postloan@shipped
    financings: int  # evaluated
    hits: dict[str, int]  # rule -> financings it fired on
    raised: int  # new alerts


def indicators(
    driver: Driver, database: str, as_of: date, financing_ids: list[str] | None = None
) -> list[dict[str, Any]]:
    """The post-loan indicators of every originated financing with money out (of those among
    ``financing_ids``, when given), now."""
    rows = q.postloan_financings(driver, database, financing_ids)
    facts: dict[str, EnterpriseFacts] = {
        b: read_facts(driver, database, b, today=as_of)
        for b in sorted({str(r["borrower_id"]) for r in rows})
    }
    cores = sorted({
        f.core_id for f in facts.values() if f.core_id and f.core_id != f.enterprise_id
    })
    standing = q.standing(driver, database, cores)
    extra = q.postloan_extra(
        driver, database, [str(r["financing_id"]) for r in rows], as_of, ALERT_KIND
    )
    out: list[dict[str, Any]] = []
    for r in rows:
        f = facts[str(r["borrower_id"])]
        core = f.core_id if f.core_id != f.enterprise_id else None
        st = standing.get(core or "") or {}
        maturity = native(r["maturity_on"])
        out.append({
            "financing_id": r["financing_id"], "product_kind": r["product_kind"] or "",
            "dpd": int(r["dpd"]), "outstanding_minor": int(r["outstanding_minor"]),
            "risk_class": r["risk_class"],
            "days_to_maturity": (maturity - as_of).days if isinstance(maturity, date) else 0,
            "borrower_id": f.enterprise_id, "name": f.name, "status": f.status,
            "fraud_score": f.fraud_score, "default_score": f.default_score, "tier": f.tier,
            "in_guarantee_circle": f.in_guarantee_circle,
            "group_exposure_minor": f.group_exposure_minor, "core_id": core,
            "core_status": str(st.get("status") or "active"),
            "core_overdue_financings": int(st.get("overdue") or 0),
        })  # fmt: skip
        x = extra.get(str(r["financing_id"])) or {}
        conflicts = sorted(x.get("registry_conflict_ids") or [])
        out[-1].update({
            "open_alerts": int(x.get("open_alerts") or 0),
            "open_critical_alerts": int(x.get("open_critical_alerts") or 0),
            "registry_conflicts": len(conflicts), "registry_conflict_ids": conflicts,
        })  # fmt: skip
    return out


def early_warnings(
    driver: Driver, database: str, as_of: date, rule_set: CompiledRuleSet | None = None,
    financing_ids: list[str] | None = None,
) -> EarlyWarnings:  # fmt: skip
    """Evaluate the post-loan rule set in force (or ``rule_set``) on every financing with
    money out (those among ``financing_ids``, when given) and raise an alert for each
    ``alert`` row that fires."""
    rs = rule_set or lifecycle.in_force(driver, database, POSTLOAN)
    now = datetime.now(UTC)
    alerts: list[dict[str, Any]] = []
    counted: dict[str, int] = {}
    values = indicators(driver, database, as_of, financing_ids)
    for ind in values:
        hits = rs.fire(ind)
        monitoring.record_hits(rs.label, hits)
        for hit in hits:
            counted[hit.rule] = counted.get(hit.rule, 0) + 1
            if hit.outcome != "alert":
                continue
            fid = str(ind["financing_id"])
            alerts.append({
                "id": f"{ALERT_KIND}:{rs.label}:{hit.rule}:{fid}",
                "financing_id": fid,
                "props": {
                    "kind": ALERT_KIND, "severity": "high", "status": "open",
                    "scope": f"financing:{fid}", "financing_id": fid,
                    "message": f"{'; '.join(hit.reasons)} (rule {hit.rule} of {rs.label})",
                    "evidence": json.dumps(
                        {"rule_set": rs.label, "rule": hit.rule, "indicators": ind},
                        sort_keys=True,
                    ),
                    "raised_at": now, "created_at": now,
                },
            })  # fmt: skip
    raised = pq.merge_financing_alerts(driver, database, alerts)
    return EarlyWarnings(rs.label, len(values), counted, raised)


def end_of_day_rules(driver: Driver, database: str, as_of: date) -> int:
    """The hook `finance.postloan.end_of_day` runs after its own warnings: the number of
    early-warning alerts raised."""
    return early_warnings(driver, database, as_of).raised


def on_collateral_event(
    driver: Driver, database: str, collateral_ids: Sequence[str], as_of: date | None = None
) -> EarlyWarnings:
    """An event about collateral as it arrives — a sensor alert on an asset, a registration
    in the registry of security interests — runs the post-loan rule set in force at once on
    the financings it touches (those the collateral secures, and those of the enterprise
    that owns it), instead of waiting for the end of the day. Alerts are keyed as at the end
    of the day, so the end of the day raises none of them twice."""
    ids = q.financings_of_collateral(driver, database, sorted(set(collateral_ids)))
    day = as_of or datetime.now(UTC).date()
    if not ids:
        return EarlyWarnings(lifecycle.in_force(driver, database, POSTLOAN).label, 0, {}, 0)
    return early_warnings(driver, database, day, financing_ids=ids)


@dataclass(frozen=True)
class PortfolioSimulation:
    rule_set: str
    as_of: date
    financings: int  # evaluated
    alerts: list[tuple[str, str, str]]  # (financing, rule, reason) the rule set would raise
    hits: dict[str, int]  # rule -> financings it fires on


def simulate(
    driver: Driver, database: str, content: str, as_of: date | None = None
) -> PortfolioSimulation:
    """Run a post-loan rule set (not yet published) over the current portfolio and report
    the alerts it would raise; nothing is written, nothing counted."""
    return _simulate(driver, database, compile_rule_set(content, POSTLOAN, "unsaved"), as_of)


def simulate_version(
    driver: Driver, database: str, id: str | None, content: str | None,
    as_of: date | None = None,
) -> PortfolioSimulation:  # fmt: skip
    """`simulate` for a stored post-loan version (``id``) or unsaved ``content``."""
    if (id is None) == (content is None):
        raise DecisionsError("simulate takes a rule set version or content, not both")
    if id is None:
        return simulate(driver, database, str(content), as_of)
    v = lifecycle.get(driver, database, id)
    if v.name != POSTLOAN:
        raise DecisionsError(f"{v.id} is not a post-loan rule set (simulateRuleSet replays "
                           "approval decisions)")  # fmt: skip
    rs = compile_rule_set(v.content, POSTLOAN, str(v.version))
    return _simulate(driver, database, rs, as_of)


def _simulate(
    driver: Driver, database: str, rs: CompiledRuleSet, as_of: date | None
) -> PortfolioSimulation:
    day = as_of or datetime.now(UTC).date()
    alerts: list[tuple[str, str, str]] = []
    hits: dict[str, int] = {}
    values = indicators(driver, database, day)
    for ind in values:
        for hit in rs.fire(ind):
            hits[hit.rule] = hits.get(hit.rule, 0) + 1
            if hit.outcome == "alert":
                alerts.append((str(ind["financing_id"]), hit.rule, "; ".join(hit.reasons)))
    return PortfolioSimulation(rs.label, day, len(values), alerts, hits)
