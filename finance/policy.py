"""The credit policy: limits, prices and verdicts from what the graph says about a firm.

Version `POLICY_VERSION`; every decision stores it with its inputs and reasons. Changing a
threshold below means a new version (and a line in docs/finance.md).

Verdicts:
- DECLINE when a product rule fails, the firm is not active, fraud score >= 0.80 or default
  score >= 0.70, or there is no room left on the line the product draws on.
- REFER (to a credit officer, maker-checker) when the firm sits in a guarantee circle, fraud
  score >= 0.50, default score >= 0.40, tier >= 4, the group's exposure exceeds
  GROUP_EXPOSURE_REFER_MINOR, or the amount exceeds AUTO_APPROVE_MAX_MINOR.
- APPROVE otherwise.

Limit (what can be granted for one financing), the smallest of: the amount asked; the
product's maximum; the collateral's value times the advance rate (for secured products);
a share of the trade on the path to the core (35% of the weakest link for tier 1, five
points less per tier further down, floor 10%), scaled by (1 - default score); and what is
left of the line the product draws on (the core's supply-chain line, or its sub-limit for the
borrower's tier, for products on the core's line; the firm's own line otherwise).
Rate: product base + spread + spread per tier beyond the first + spread x default score,
plus 100 bps inside a guarantee circle.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from neo4j import Driver

from finance import ledger
from finance.accounts import limit_id
from finance.daycount import bps_of
from finance.errors import NotFound
from finance.products import Collateral, Product
from graph.model import DEFAULT_FUNDER
from graph.queries import finance as q

POLICY_VERSION = "scf-policy/2026.12.1"

NEUTRAL_SCORE = 0.2  # used until the risk-scoring package writes fraud/default scores
FRAUD_DECLINE = 0.8
DEFAULT_DECLINE = 0.7
FRAUD_REFER = 0.5
DEFAULT_REFER = 0.4
TIER_REFER = 4
AUTO_APPROVE_MAX_MINOR = 500_000_000  # 5,000,000.00 in minor units
GROUP_EXPOSURE_REFER_MINOR = 2_000_000_000
CIRCLE_SPREAD_BPS = 100


class Verdict(StrEnum):
    APPROVE = "approve"
    REFER = "refer"
    DECLINE = "decline"


@dataclass(frozen=True)
class EnterpriseFacts:
    """What the policy and product rules may read; `as_dict()` is what a rule's `fact` names."""

    enterprise_id: str
    name: str
    status: str
    is_core: bool
    fraud_score: float
    default_score: float
    scores_are_neutral: bool
    tier: int | None  # hops on SUPPLIES to the nearest core; None when not on a chain
    core_id: str | None  # that core; of two as near, the lower id
    buyer_id: str | None
    path_trade_minor: int  # the weakest link's 12-month trade on the path to the core
    months_trading: int  # with the next buyer on that path
    buys_from_core: bool
    seller_core_id: str | None
    guarantee_circle: list[str]
    receivables_minor: int
    receivables_from_core_minor: int
    open_orders_minor: int
    warehouse_receipts_value_minor: int
    movable_assets_value_minor: int
    monitored_assets: int
    vouchers_held_minor: int
    group_size: int
    group_exposure_minor: int
    core_line_id: str | None = None
    core_line_available_minor: int = 0
    own_line_id: str | None = None
    own_line_available_minor: int = 0

    @property
    def in_guarantee_circle(self) -> bool:
        return bool(self.guarantee_circle)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["in_guarantee_circle"] = self.in_guarantee_circle
        return d


def _months(since: Any, today: date) -> int:
    if since is None:
        return 0
    d: date = since.to_native() if hasattr(since, "to_native") else since
    return max(0, (today.year - d.year) * 12 + today.month - d.month)


def _available(driver: Driver, database: str, line_id: str | None, currency: str) -> int:
    if line_id is None:
        return 0
    acc = ledger.get_accounts(driver, database, [limit_id(line_id, currency)])
    a = acc.get(limit_id(line_id, currency))
    return 0 if a is None else a.available_credit


def read_facts(
    driver: Driver,
    database: str,
    enterprise_id: str,
    currency: str = "CNY",
    today: date | None = None,
    funder: str = DEFAULT_FUNDER,
) -> EnterpriseFacts:
    """Read the graph facts about an enterprise that the policy and products use; the
    credit lines are ``funder``'s (each funder decides on its own lines)."""
    row = q.enterprise_facts(driver, database, enterprise_id)
    if row is None:
        raise NotFound(f"enterprise {enterprise_id} does not exist")
    e = row["enterprise"]
    today = today or datetime.now(UTC).date()
    neutral = e.get("fraud_score") is None or e.get("default_score") is None
    core_id = row["core_id"] if row["tier"] else None
    if e.get("is_core"):
        core_id = enterprise_id
    anchor = core_id or row["seller_core_id"]
    core_line = tier_line = None
    if anchor:
        with driver.session(database=database) as s:
            core_line = s.execute_read(
                lambda tx: q.line_of(tx, anchor, "supply_chain", currency, funder=funder)
            )
            if row["tier"] and core_id:
                # The core's sub-limit for this supplier's tier, when it set one.
                tier_line = s.execute_read(
                    lambda tx: q.line_of(tx, anchor, "tier", currency, None, row["tier"], funder)
                )
    core_available = _available(driver, database, core_line, currency)
    if tier_line is not None:
        core_available = min(core_available, _available(driver, database, tier_line, currency))
    with driver.session(database=database) as s:
        own_line = s.execute_read(
            lambda tx: q.line_of(tx, enterprise_id, "enterprise", currency, funder=funder)
        )
    amounts = row["path_amounts"] or []
    return EnterpriseFacts(
        enterprise_id=enterprise_id,
        name=e.get("name") or enterprise_id,
        status=e.get("status") or "active",
        is_core=bool(e.get("is_core")),
        fraud_score=float(e["fraud_score"]) if e.get("fraud_score") is not None else NEUTRAL_SCORE,
        default_score=(
            float(e["default_score"]) if e.get("default_score") is not None else NEUTRAL_SCORE
        ),
        scores_are_neutral=neutral,
        tier=row["tier"] or (0 if e.get("is_core") else None),
        core_id=core_id,
        buyer_id=row["buyer_id"],
        path_trade_minor=min(amounts) if amounts else 0,
        months_trading=_months(row["first_on"], today),
        buys_from_core=row["seller_core_id"] is not None,
        seller_core_id=row["seller_core_id"],
        guarantee_circle=sorted(row["circle"]),
        receivables_minor=row["receivables"],
        receivables_from_core_minor=row["receivables_core"],
        open_orders_minor=row["open_orders"],
        warehouse_receipts_value_minor=row["receipts"],
        movable_assets_value_minor=row["movables"],
        monitored_assets=row["monitored"],
        vouchers_held_minor=row["vouchers"],
        group_size=row["group_size"],
        group_exposure_minor=row["group_exposure"],
        core_line_id=core_line,
        core_line_available_minor=core_available,
        own_line_id=own_line,
        own_line_available_minor=_available(driver, database, own_line, currency),
    )


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    amount_minor: int  # granted (0 when declined)
    rate_bps: int
    tenor_days: int
    reasons: list[str] = field(default_factory=list)
    policy_version: str = POLICY_VERSION  # or the rule set's version that decided
    inputs: Mapping[str, Any] | None = None  # what a rule set read, stored with the decision
    # further properties of the decision, written as given (declared in graph/model.py):
    # the rules that fired, a challenger's verdict recorded beside this one
    record: Mapping[str, Any] | None = None
    # conditions the approval carries (a rule set's ``condition`` rows): the financing's
    conditions: list[str] = field(default_factory=list)


def _money(minor: int) -> str:
    return f"{minor / 100:,.2f}"


def trade_share_bps(tier: int) -> int:
    """Share of the weakest link's annual trade that may be financed at a tier."""
    return max(1000, 3500 - 500 * (max(tier, 1) - 1))


def price(product: Product, facts: EnterpriseFacts) -> int:
    p = product.pricing
    tier_steps = max((facts.tier or 1) - 1, 0)
    rate = (
        p.base_rate_bps
        + p.spread_bps
        + p.spread_per_tier_bps * tier_steps
        + round(p.spread_per_default_bps * facts.default_score)
    )
    return rate + (CIRCLE_SPREAD_BPS if facts.in_guarantee_circle else 0)


@dataclass(frozen=True)
class Terms:
    """What the product and the firm's figures allow, before any verdict: the limit (the
    smallest cap, possibly 0 or less) with the cap that set it, the rate and the sentences
    that explain them."""

    amount_minor: int
    limit_reason: str  # the binding cap, e.g. "product maximum 50,000,000.00"
    rate_bps: int
    tenor_days: int
    notes: list[str]  # limit, reduction and rate sentences, in that order


def terms(
    product: Product, facts: EnterpriseFacts, requested_minor: int, collateral_value_minor: int
) -> Terms:
    """The limit and the price of one financing (see the module docstring)."""
    caps: list[tuple[int, str]] = [
        (requested_minor, f"asked for {_money(requested_minor)}"),
        (product.max_amount_minor, f"product maximum {_money(product.max_amount_minor)}"),
    ]
    if product.collateral != Collateral.NONE:
        adv = bps_of(collateral_value_minor, product.advance_rate_bps)
        caps.append(
            (
                adv,
                f"{product.advance_rate_bps / 100:.0f}% of collateral worth "
                f"{_money(collateral_value_minor)}",
            )
        )
    if facts.tier:
        share = trade_share_bps(facts.tier)
        trade_cap = bps_of(facts.path_trade_minor, share)
        trade_cap = round(trade_cap * (1 - facts.default_score))
        caps.append(
            (
                trade_cap,
                f"tier-{facts.tier}: {share / 100:.0f}% of the weakest link's "
                f"12-month trade {_money(facts.path_trade_minor)}, less "
                f"{facts.default_score:.0%} for default risk",
            )
        )
    if product.line == "core":
        caps.append(
            (
                facts.core_line_available_minor,
                f"core line {facts.core_line_id or '(none)'} has "
                f"{_money(facts.core_line_available_minor)} left",
            )
        )
    else:
        caps.append(
            (
                facts.own_line_available_minor,
                f"own line {facts.own_line_id} has {_money(facts.own_line_available_minor)} left"
                if facts.own_line_id
                else f"{facts.name} has no credit line of its own",
            )
        )
    amount, why = min(caps, key=lambda c: c[0])
    notes = [f"limit {_money(max(amount, 0))} set by {why}"]
    if requested_minor > amount > 0:
        notes.append(f"reduced from the {_money(requested_minor)} asked")
    rate = price(product, facts)
    notes.append(
        f"rate {rate / 100:.2f}%: base {product.pricing.base_rate_bps / 100:.2f}% plus risk "
        f"spread for tier {facts.tier if facts.tier is not None else '-'} and default score "
        f"{facts.default_score:.2f}"
        + (" plus guarantee-circle surcharge" if facts.in_guarantee_circle else "")
    )
    return Terms(amount, why, rate, product.tenor_days, notes)


def product_rule_failures(product: Product, facts: EnterpriseFacts) -> list[str]:
    """The product's eligibility rules that the firm fails, as the sentences a decline gives."""
    return [
        f"{facts.name} {rule.reason} (product rule on {rule.fact})"
        for rule in product.failed_rules(facts.as_dict())
    ]


# What decides an application: this module's `evaluate`, or a rule set's (package
# `decisions`), given to `submit_application` and `match_for_facts` by their caller.
Evaluator = Callable[[Product, EnterpriseFacts, int, int], "Outcome"]


def evaluate(
    product: Product, facts: EnterpriseFacts, requested_minor: int, collateral_value_minor: int
) -> Outcome:
    """Apply the policy; reasons are sentences a credit officer reads."""
    reasons: list[str] = []
    declines: list[str] = list(product_rule_failures(product, facts))
    refers: list[str] = []
    if facts.status != "active":
        declines.append(f"{facts.name} is {facts.status}, not active")
    if facts.fraud_score >= FRAUD_DECLINE:
        declines.append(f"fraud score {facts.fraud_score:.2f} is at or above {FRAUD_DECLINE:.2f}")
    elif facts.fraud_score >= FRAUD_REFER:
        refers.append(f"fraud score {facts.fraud_score:.2f} is at or above {FRAUD_REFER:.2f}")
    if facts.default_score >= DEFAULT_DECLINE:
        declines.append(
            f"default score {facts.default_score:.2f} is at or above {DEFAULT_DECLINE:.2f}"
        )
    elif facts.default_score >= DEFAULT_REFER:
        refers.append(f"default score {facts.default_score:.2f} is at or above {DEFAULT_REFER:.2f}")
    if facts.scores_are_neutral:
        reasons.append(f"no risk scores yet: neutral {NEUTRAL_SCORE:.2f} used")
    if facts.in_guarantee_circle:
        refers.append(
            f"member of a guarantee circle with {len(facts.guarantee_circle)} firms "
            f"({', '.join(facts.guarantee_circle)})"
        )
    if facts.tier is not None and facts.tier >= TIER_REFER:
        refers.append(f"tier-{facts.tier} supplier: tier {TIER_REFER} and beyond go to a person")
    if facts.group_exposure_minor > GROUP_EXPOSURE_REFER_MINOR:
        refers.append(
            f"group of {facts.group_size} firms already owes {_money(facts.group_exposure_minor)}"
        )
    t = terms(product, facts, requested_minor, collateral_value_minor)
    amount, rate = t.amount_minor, t.rate_bps
    reasons.extend(t.notes)
    if amount <= 0 and not declines:
        declines.append(f"nothing can be granted: {t.limit_reason}")
    if declines:
        return Outcome(Verdict.DECLINE, 0, rate, t.tenor_days, declines + refers + reasons)
    if amount > AUTO_APPROVE_MAX_MINOR:
        refers.append(
            f"amount {_money(amount)} exceeds the automatic approval limit "
            f"{_money(AUTO_APPROVE_MAX_MINOR)}"
        )
    if refers:
        return Outcome(Verdict.REFER, amount, rate, t.tenor_days, refers + reasons)
    return Outcome(Verdict.APPROVE, amount, rate, t.tenor_days, reasons)
