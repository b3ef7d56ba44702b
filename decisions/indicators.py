"""The indicator catalogue: every fact an approval rule set may read, declared once.

Each indicator has a name (what a rule's expression writes), a type, a unit, its source
(where the value comes from: the named query), its freshness (as of when the value holds)
and a sentence for the reader. The values are computed from the credit policy's own input
gathering (`finance.policy.read_facts`, whose Cypher lives in `graph.queries.finance`), the
product (`finance.products`), the terms the product allows (`finance.policy.terms`) and the
point-in-time reads of `point_in_time` (`graph.queries.decisions.POINT_IN_TIME`: open
alerts, days past due, registry conflicts, documents, the scores' model version; the
four-flow check of the invoices offered), at the moment of the decision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from typing import Any, Literal

from neo4j import Driver

from finance.lifecycle.states import lender_of
from finance.matching import collateral_available
from finance.policy import (
    NEUTRAL_SCORE,
    EnterpriseFacts,
    product_rule_failures,
    read_facts,
    terms,
)
from finance.products import Product, in_force
from graph.analytics.trade import four_flow_invoices
from graph.model import DEFAULT_FUNDER
from graph.queries import decisions as q

IndicatorType = Literal["number", "integer", "boolean", "string", "string[]"]

_FACTS = "graph.queries.finance.enterprise_facts via finance.policy.read_facts"
_LINES = "credit line (graph.queries.finance.line_of) and its limit account in the ledger"
_PRODUCT = "finance/products/<id>.yaml"
_TERMS = "finance.policy.terms (product caps, trade share, line room, pricing)"
_APP = "the application"
_PIT = "graph.queries.decisions.POINT_IN_TIME"
_FLOW = "graph.queries.analytics.FOUR_FLOW_INVOICE (graph.analytics.trade.four_flow_invoices)"
CNY = "minor units of the currency"
# Freshness: as of when a value holds.
AT_DECISION = "read from the graph at the decision"
AS_OF_AT = "point in time: what existed at the decision's time (by the records' times)"
AS_SCORED_AT = ("point in time: the latest scoring run by the decision's time (the scores' "
                "history); as last written for enterprises scored before it was kept")
AS_OF_EOD = ("point in time: as the end-of-day jobs set it by the decision's day (a "
             "financing loaded from a book: as loaded)")
NOW_ONLY = "as the graph holds it at the decision (the records carry no history)"


@dataclass(frozen=True)
class Indicator:
    name: str
    type: IndicatorType
    unit: str | None
    source: str
    description: str
    nullable: bool = False
    freshness: str = AT_DECISION


CATALOGUE: tuple[Indicator, ...] = (
    # The enterprise, from the graph.
    Indicator("enterprise_id", "string", None, _FACTS, "the applicant enterprise's id"),
    Indicator("name", "string", None, _FACTS, "its registered name"),
    Indicator("status", "string", None, _FACTS, "registration status (active, revoked, ...)"),
    Indicator("is_core", "boolean", None, _FACTS, "whether it is a core enterprise"),
    Indicator("fraud_score", "number", "score 0..1", _FACTS,
              "fraud score written by risk scoring; 0.2 (neutral) when not scored",
              freshness=AS_SCORED_AT),
    Indicator("default_score", "number", "score 0..1", _FACTS,
              "default score written by risk scoring; 0.2 (neutral) when not scored",
              freshness=AS_SCORED_AT),
    Indicator("scores_are_neutral", "boolean", None, _FACTS,
              "true when either score is missing and the neutral 0.2 is used",
              freshness=AS_SCORED_AT),
    Indicator("tier", "integer", "hops", _FACTS,
              "hops on SUPPLIES to the nearest core (0 for a core, null off any chain)",
              nullable=True),
    Indicator("core_id", "string", None, _FACTS, "the core at the end of its chain",
              nullable=True),
    Indicator("buyer_id", "string", None, _FACTS, "the next buyer on the path to the core",
              nullable=True),
    Indicator("path_trade_minor", "integer", CNY, _FACTS,
              "12-month trade of the weakest link on the path to the core"),
    Indicator("months_trading", "integer", "months", _FACTS,
              "months since its first trade with the next buyer on that path"),
    Indicator("buys_from_core", "boolean", None, _FACTS, "whether it buys from a core"),
    Indicator("seller_core_id", "string", None, _FACTS, "the core it buys from",
              nullable=True),
    Indicator("guarantee_circle", "string[]", None, _FACTS,
              "the firms of the guarantee circle it belongs to (empty when none)"),
    Indicator("in_guarantee_circle", "boolean", None, _FACTS,
              "whether it sits in a guarantee circle"),
    Indicator("receivables_minor", "integer", CNY, _FACTS, "its open receivables"),
    Indicator("receivables_from_core_minor", "integer", CNY, _FACTS,
              "its open receivables owed by a core enterprise"),
    Indicator("open_orders_minor", "integer", CNY, _FACTS,
              "signed, unfulfilled sales contracts"),
    Indicator("warehouse_receipts_value_minor", "integer", CNY, _FACTS,
              "value of its unpledged warehouse receipts"),
    Indicator("movable_assets_value_minor", "integer", CNY, _FACTS,
              "value of its unpledged movable assets"),
    Indicator("monitored_assets", "integer", "count", _FACTS,
              "its assets monitored by a sensor"),
    Indicator("vouchers_held_minor", "integer", CNY, _FACTS,
              "face value of the live e-credit vouchers it holds"),
    Indicator("group_size", "integer", "count", _FACTS,
              "firms in its ownership group"),
    Indicator("group_exposure_minor", "integer", CNY, _FACTS,
              "what its group already owes on outstanding financings"),
    Indicator("core_line_id", "string", None, _LINES,
              "the core's supply-chain line its products draw on", nullable=True),
    Indicator("core_line_available_minor", "integer", CNY, _LINES,
              "room left on that line (and on the core's sub-limit for its tier)"),
    Indicator("own_line_id", "string", None, _LINES, "its own credit line", nullable=True),
    Indicator("own_line_available_minor", "integer", CNY, _LINES,
              "room left on its own line"),
    # The application and its product.
    Indicator("product_id", "string", None, _PRODUCT, "the product applied for"),
    Indicator("product_kind", "string", None, _PRODUCT, "the product's kind"),
    Indicator("product_collateral", "string", None, _PRODUCT,
              "the collateral the product takes (none, invoice, ...)"),
    Indicator("product_line", "string", None, _PRODUCT,
              "whose line the product draws on (own or core)"),
    Indicator("product_rule_failures", "string[]", None, _PRODUCT,
              "the product's eligibility rules the firm fails, as decline sentences"),
    Indicator("requested_minor", "integer", CNY, _APP, "the amount asked"),
    Indicator("collateral_value_minor", "integer", CNY, _APP,
              "value of the collateral offered (for a match: what the firm could pledge)"),
    # The terms the product allows.
    Indicator("limit_minor", "integer", CNY, _TERMS,
              "what can be granted: the smallest cap (0 or less when nothing can)"),
    Indicator("limit_reason", "string", None, _TERMS, "the cap that set the limit"),
    Indicator("rate_bps", "integer", "bps", _TERMS, "the price"),
    Indicator("tenor_days", "integer", "days", _PRODUCT, "the product's tenor"),
    # Point in time (issue 26): collateral, alerts, repayment, registry, documents, model.
    Indicator("loan_to_value", "number", "ratio", _APP,
              "the amount asked over the collateral value (null when there is no collateral "
              "value)", nullable=True),
    Indicator("score_model_version", "string", None, _PIT,
              "the model version that wrote the fraud and default scores (null when not "
              "scored)", nullable=True, freshness=AS_SCORED_AT),
    Indicator("open_alerts", "integer", "count", _PIT,
              "alerts about the enterprise open at the decision's time (raised by then, not "
              "acknowledged or cleared by then)", freshness=AS_OF_AT),
    Indicator("open_critical_alerts", "integer", "count", _PIT,
              "of those, the ones of severity critical", freshness=AS_OF_AT),
    Indicator("max_dpd", "integer", "days", _PIT,
              "the most days past due among its financings with money out",
              freshness=AS_OF_EOD),
    Indicator("overdue_financings", "integer", "count", _PIT,
              "its financings that are overdue", freshness=AS_OF_EOD),
    Indicator("registry_conflicts", "integer", "count", _PIT,
              "live registrations of another secured party on the collateral offered, on "
              "the decision's date", freshness=AS_OF_AT),
    Indicator("registry_conflict_ids", "string[]", None, _PIT,
              "those registrations' numbers", freshness=AS_OF_AT),
    Indicator("documents", "integer", "count", _PIT,
              "documents checked against the graph that prove the enterprise or an invoice "
              "offered, uploaded by the decision's time", freshness=AS_OF_AT),
    Indicator("documents_verified", "integer", "count", _PIT,
              "of those, the ones verified (every checked field equal to the graph's)",
              freshness=AS_OF_AT),
    Indicator("documents_failed", "integer", "count", _PIT,
              "of those, the ones found mismatched or forged", freshness=AS_OF_AT),
    Indicator("document_failures", "string[]", None, _PIT,
              "the documents attached to the application that were found mismatched or "
              "forged, each named with its first reason (at most 5)", freshness=AS_OF_AT),
    Indicator("documents_cited", "string[]", None, _PIT,
              "the documents attached to the application that were verified, named (at most "
              "5)", freshness=AS_OF_AT),
    Indicator("four_flow_score", "number", "score 0..1", _FLOW,
              "the mean four-flow score (share of contract, goods, invoice and payment flows "
              "present and consistent) of the invoices offered; null when none is",
              nullable=True, freshness=NOW_ONLY),
    Indicator("four_flow_invoices", "integer", "count", _FLOW,
              "the invoices offered that the four-flow score covers", freshness=NOW_ONLY),
)  # fmt: skip

BY_NAME: dict[str, Indicator] = {i.name: i for i in CATALOGUE}
assert len(BY_NAME) == len(CATALOGUE), "an indicator is declared twice"

# The post-loan early-warning stage: what a rule about a financing with money out may read
# (`decisions.postloan.indicators`, at the end of the day).
_PL_FIN = "the financing (graph.queries.decisions.postloan_financings)"
_PL_CORE = "the borrower's core and its standing (graph.queries.decisions.standing)"
_PL_EXTRA = "graph.queries.decisions.POSTLOAN_EXTRA"
POSTLOAN_CATALOGUE: tuple[Indicator, ...] = (
    Indicator("financing_id", "string", None, _PL_FIN, "the financing"),
    Indicator("product_kind", "string", None, _PL_FIN, "its product's kind"),
    Indicator("dpd", "integer", "days", _PL_FIN, "days past due"),
    Indicator("outstanding_minor", "integer", CNY, _PL_FIN, "principal outstanding"),
    Indicator("risk_class", "string", None, _PL_FIN, "five-tier class (normal ... loss)"),
    Indicator("days_to_maturity", "integer", "days", _PL_FIN,
              "days from the run's date to maturity (negative once past)"),
    Indicator("borrower_id", "string", None, _PL_FIN, "the borrower"),
    Indicator("name", "string", None, _FACTS, "the borrower's registered name"),
    Indicator("status", "string", None, _FACTS, "the borrower's registration status"),
    Indicator("fraud_score", "number", "score 0..1", _FACTS, "the borrower's fraud score"),
    Indicator("default_score", "number", "score 0..1", _FACTS, "the borrower's default score"),
    Indicator("tier", "integer", "hops", _FACTS, "the borrower's hops to its core",
              nullable=True),
    Indicator("in_guarantee_circle", "boolean", None, _FACTS,
              "whether the borrower sits in a guarantee circle"),
    Indicator("group_exposure_minor", "integer", CNY, _FACTS,
              "what the borrower's group owes on outstanding financings"),
    Indicator("core_id", "string", None, _PL_CORE, "the core at the end of its chain",
              nullable=True),
    Indicator("core_status", "string", None, _PL_CORE,
              "the core's registration status (active when off any chain)"),
    Indicator("core_overdue_financings", "integer", "count", _PL_CORE,
              "the core's own financings that are overdue (it is defaulting)"),
    Indicator("open_alerts", "integer", "count", _PL_EXTRA,
              "alerts open about the financing or its borrower (early warnings excepted)"),
    Indicator("open_critical_alerts", "integer", "count", _PL_EXTRA,
              "of those, the ones of severity critical"),
    Indicator("registry_conflicts", "integer", "count", _PL_EXTRA,
              "live registrations of a secured party other than its lender on its collateral"),
    Indicator("registry_conflict_ids", "string[]", None, _PL_EXTRA,
              "those registrations' numbers"),
)  # fmt: skip
POSTLOAN_BY_NAME: dict[str, Indicator] = {i.name: i for i in POSTLOAN_CATALOGUE}
assert len(POSTLOAN_BY_NAME) == len(POSTLOAN_CATALOGUE), "an indicator is declared twice"

# The admission stage (准入): whether an enterprise may be a borrower at all, read before a
# credit line is granted to it — the enterprise's own facts and point-in-time indicators,
# without a product, an amount or collateral (`decisions.admission.indicators`).
ADMISSION_NAMES: tuple[str, ...] = (
    "enterprise_id", "name", "status", "is_core", "fraud_score", "default_score",
    "scores_are_neutral", "tier", "core_id", "path_trade_minor", "months_trading",
    "guarantee_circle", "in_guarantee_circle", "receivables_minor",
    "receivables_from_core_minor", "group_size", "group_exposure_minor",
    "score_model_version", "open_alerts", "open_critical_alerts", "max_dpd",
    "overdue_financings", "documents", "documents_verified", "documents_failed",
    "document_failures", "documents_cited",
)  # fmt: skip
ADMISSION_BY_NAME: dict[str, Indicator] = {n: BY_NAME[n] for n in ADMISSION_NAMES}

# Sentences that explain the terms (limit, reduction, rate): not indicators, but the
# decision's closing reasons; the rule set's reasons come before them.
TERMS_NOTES = "_terms_notes"
_FACT_NAMES = tuple(f.name for f in fields(EnterpriseFacts))


# The point-in-time indicators when nothing was read (a replay of facts alone, a decision
# recorded before they existed): no alert, nothing overdue, no conflict, no document.
POINT_IN_TIME_NONE: Mapping[str, Any] = {
    "score_model_version": None, "open_alerts": 0, "open_critical_alerts": 0, "max_dpd": 0,
    "overdue_financings": 0, "registry_conflicts": 0, "registry_conflict_ids": [],
    "documents": 0, "documents_verified": 0, "documents_failed": 0,
    "document_failures": [], "documents_cited": [],
    "four_flow_score": None, "four_flow_invoices": 0,
}  # fmt: skip
DOCUMENTS_NAMED = 5  # the most documents a decision's reasons name, failed and verified each


def _document_name(d: Mapping[str, Any]) -> str:
    what = f"invoice {d['invoice_id']}" if d.get("invoice_id") else (
        f"{d.get('kind') or 'document'} of {d['enterprise_id']}" if d.get("enterprise_id")
        else d.get("kind") or "document")  # fmt: skip
    return f"{'attached ' if d.get('attached') else ''}document {d['id']} ({what})"


def document_sentences(
    failed: Sequence[Mapping[str, Any]], verified: Sequence[Mapping[str, Any]]
) -> dict[str, list[str]]:
    """The failed and verified documents attached to the application, named for the
    decision's reasons (by id); a failed one with its first reason. The documents that
    only prove the firm or an invoice offered are counted (`documents_failed`, ...), not
    named: the rule set decides what their counts mean."""

    def order(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        attached = sorted((d for d in rows if d.get("attached")), key=lambda d: str(d["id"]))
        return attached[:DOCUMENTS_NAMED]

    return {
        "document_failures": [
            f"{_document_name(d)} failed verification: "
            + (str((d.get("reasons") or [d.get("outcome")])[0]))
            for d in order(failed)
        ],
        "documents_cited": [
            f"{_document_name(d)} verified against the graph" for d in order(verified)
        ],
    }


def point_in_time(
    driver: Driver,
    database: str,
    enterprise_id: str,
    collateral_ids: Sequence[str] = (),
    funder: str = DEFAULT_FUNDER,
    at: datetime | None = None,
    document_ids: Sequence[str] = (),
) -> dict[str, Any]:
    """The indicators `read_facts` does not read, as they stood at ``at`` (now): open
    alerts, days past due, registry conflicts on the collateral (registrations of a secured
    party other than ``funder``'s lender), documents (those proving the enterprise or an
    invoice offered, and ``document_ids``, the ones attached to the application), the
    scores' model version, and the four-flow score of the invoices among
    ``collateral_ids``."""
    at = at or datetime.now(UTC)
    ids = sorted(set(collateral_ids))
    row = q.point_in_time(
        driver, database, enterprise_id, ids, lender_of(funder), at, at.astimezone(UTC).date(),
        at.astimezone(UTC).isoformat(timespec="milliseconds"), sorted(set(document_ids)),
    )  # fmt: skip
    out = dict(POINT_IN_TIME_NONE)
    if row is not None:
        out.update({k: row[k] for k in out if k in row})
        out.update(document_sentences(row.get("failed_documents") or [],
                                      row.get("verified_documents") or []))  # fmt: skip
        out["registry_conflict_ids"] = sorted(row["registry_conflict_ids"])
        out["registry_conflicts"] = len(out["registry_conflict_ids"])
        out.update(_scores_then(row, at))
    flows = four_flow_invoices(driver, database, ids[:1000]) if ids else []
    if flows:
        out["four_flow_score"] = round(sum(f.score for f in flows) / len(flows), 4)
        out["four_flow_invoices"] = len(flows)
    return out


def _scores_then(row: Mapping[str, Any], at: datetime) -> dict[str, Any]:
    """The scores as they stood at ``at``: the latest run of the enterprise's history by
    then; none by then (scored only later) is the neutral score; an enterprise scored
    before the history was kept (no `Score` node) keeps its scores as last written."""
    then = row.get("scored_then")
    if then is not None:
        return {
            "fraud_score": float(then["fraud_score"]),
            "default_score": float(then["default_score"]),
            "scores_are_neutral": False,
            "score_model_version": then["model_version"],
        }
    scored_at = row.get("scored_at")
    later = scored_at is not None and scored_at.to_native() > at
    if row.get("has_history") or later:
        return {"fraud_score": NEUTRAL_SCORE, "default_score": NEUTRAL_SCORE,
                "scores_are_neutral": True, "score_model_version": None}  # fmt: skip
    return {}


def indicators_from(
    product: Product, facts: EnterpriseFacts, requested_minor: int, collateral_value_minor: int,
    point: Mapping[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Every catalogue indicator for one application, plus the terms' sentences under
    `TERMS_NOTES`; ``point`` is what `point_in_time` read (none read: `POINT_IN_TIME_NONE`)."""
    t = terms(product, facts, requested_minor, collateral_value_minor)
    # `facts.as_dict()` without its deep copy (a fifth of this function's time): the facts
    # are frozen and the one list is copied.
    values = {name: getattr(facts, name) for name in _FACT_NAMES}
    values["guarantee_circle"] = list(facts.guarantee_circle)
    values["in_guarantee_circle"] = facts.in_guarantee_circle
    values.update(
        product_id=product.id,
        product_kind=product.kind.value,
        product_collateral=product.collateral.value,
        product_line=product.line,
        product_rule_failures=product_rule_failures(product, facts),
        requested_minor=requested_minor,
        collateral_value_minor=collateral_value_minor,
        limit_minor=t.amount_minor,
        limit_reason=t.limit_reason,
        rate_bps=t.rate_bps,
        tenor_days=t.tenor_days,
        loan_to_value=(
            round(requested_minor / collateral_value_minor, 4)
            if collateral_value_minor > 0 else None
        ),
    )  # fmt: skip
    values.update(POINT_IN_TIME_NONE if point is None else point)
    values[TERMS_NOTES] = t.notes
    return values


def compute(
    driver: Driver,
    database: str,
    enterprise_id: str,
    product_id: str,
    amount_minor: int,
    collateral_value_minor: int | None = None,
    currency: str = "CNY",
    today: date | None = None,
    collateral_ids: Sequence[str] = (),
    funder: str = DEFAULT_FUNDER,
    at: datetime | None = None,
) -> dict[str, Any]:
    """The indicators of an enterprise applying for a product (offering ``collateral_ids``),
    read from the graph now (or as of ``at`` where the records have times). Without a
    collateral value, what the firm could pledge for the product is used (as product
    matching does)."""
    product = in_force(driver, database, product_id, at)
    facts = read_facts(driver, database, enterprise_id, currency, today, funder)
    value = (
        collateral_available(product, facts)
        if collateral_value_minor is None
        else collateral_value_minor
    )
    point = point_in_time(driver, database, enterprise_id, collateral_ids, funder, at)
    return indicators_from(product, facts, amount_minor, value, point)
