"""Filtered lists with their totals: applications, a checker's queue, financings, credit
lines, alerts and enterprises.

Each list is two named queries sharing one WHERE clause: a page (ordered, `SKIP $skip LIMIT
$limit`) and a count. Both run in one read transaction, so the total and the page agree.
Every filter is a parameter that is null when the caller gave none; status sets come from
`graph.model` as parameters, never typed inline. Cursors are offsets (`graph.enterprises`'
`encode_cursor` / `decode_cursor`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from neo4j import Driver, ManagedTransaction, RoutingControl

from graph.enterprises import _ENTERPRISE_FIELDS, Enterprise, _to_enterprise
from graph.funders import ALERT_IN_BOOK
from graph.model import (
    DEFAULT_FUNDER,
    AlertStatus,
    ApplicationStatus,
    CreditLineKind,
    CreditLineStatus,
    EnterpriseStatus,
    FinancingOrigin,
    FinancingStatus,
    Label,
    Rel,
    RiskClass,
    VoucherStatus,
)

Row = dict[str, Any]

_APP = Label.APPLICATION.value
_FIN = Label.FINANCING.value
_LINE = Label.CREDIT_LINE.value
_AL = Label.ALERT.value
_E = Label.ENTERPRISE.value
_ABOUT = Rel.ABOUT.value
_GRANTED_TO = Rel.GRANTED_TO.value
_PART_OF = Rel.PART_OF.value



@dataclass(frozen=True)
class Page:
    """One page of a list: its rows, where it starts, and how many match in all."""

    rows: list[Row]
    skip: int
    total: int


def _page(driver: Driver, database: str, page_q: str, count_q: str, **params: Any) -> Page:
    def work(tx: ManagedTransaction) -> Page:
        rows = [r.data() for r in tx.run(page_q, params)]
        total = tx.run(count_q, params).single(strict=True)["total"]
        return Page(rows, int(params["skip"]), int(total))

    with driver.session(database=database) as session:
        return session.execute_read(work)


# --------------------------------------------------------------------------------------
# Applications and the checker's queue
# --------------------------------------------------------------------------------------

_APPLICATIONS_WHERE = f"""
MATCH (a:{_APP})
WHERE ($statuses IS NULL OR a.status IN $statuses)
  AND ($maker IS NULL OR a.maker = $maker)
  AND ($enterprise_id IS NULL OR a.enterprise_id = $enterprise_id)
  AND ($funder IS NULL OR coalesce(a.funder_id, $default_funder) = $funder)
"""
APPLICATIONS = (
    _APPLICATIONS_WHERE
    + "RETURN a {.*} AS application ORDER BY a.created_at DESC, a.id SKIP $skip LIMIT $limit"
)
COUNT_APPLICATIONS = _APPLICATIONS_WHERE + "RETURN count(a) AS total"

# Referred applications another user made, oldest first: a checker never reviews their own.
_QUEUE_WHERE = f"""
MATCH (a:{_APP})
WHERE a.status = $referred AND coalesce(a.maker, '') <> $checker
  AND ($funder IS NULL OR coalesce(a.funder_id, $default_funder) = $funder)
"""
REVIEW_QUEUE = (
    _QUEUE_WHERE
    + "RETURN a {.*} AS application ORDER BY a.created_at, a.id SKIP $skip LIMIT $limit"
)
COUNT_REVIEW_QUEUE = _QUEUE_WHERE + "RETURN count(a) AS total"


def applications(
    driver: Driver, database: str, *, skip: int, limit: int, statuses: Sequence[str] | None,
    maker: str | None, enterprise_id: str | None, funder: str | None = None,
) -> Page:  # fmt: skip
    """Applications, newest first; ``maker`` is forced to the caller for the service role,
    ``funder`` to the caller's funder (None: every funder's)."""
    return _page(
        driver, database, APPLICATIONS, COUNT_APPLICATIONS, skip=skip, limit=limit,
        statuses=list(statuses) if statuses is not None else None, maker=maker,
        enterprise_id=enterprise_id, funder=funder, default_funder=DEFAULT_FUNDER,
    )  # fmt: skip


def review_queue(
    driver: Driver, database: str, *, skip: int, limit: int, checker: str,
    funder: str | None = None,
) -> Page:  # fmt: skip
    return _page(
        driver, database, REVIEW_QUEUE, COUNT_REVIEW_QUEUE, skip=skip, limit=limit,
        referred=ApplicationStatus.REFERRED.value, checker=checker, funder=funder,
        default_funder=DEFAULT_FUNDER,
    )  # fmt: skip


# --------------------------------------------------------------------------------------
# Financings
# --------------------------------------------------------------------------------------

# `$maker`: only financings whose application that user made (the service account's view).
_FINANCINGS_WHERE = f"""
MATCH (f:{_FIN})
WHERE ($statuses IS NULL OR f.status IN $statuses)
  AND ($borrower_id IS NULL OR f.borrower_id = $borrower_id)
  AND ($lender IS NULL OR f.lender = $lender)
  AND ($product_id IS NULL OR f.product_id = $product_id)
  AND ($product_kind IS NULL OR f.product_kind = $product_kind)
  AND ($origin IS NULL OR f.origin = $origin)
  AND ($maturing_before IS NULL OR f.maturity_on <= $maturing_before)
  AND ($risk_class IS NULL OR coalesce(f.risk_class, 'normal') = $risk_class)
  AND ($maker IS NULL OR EXISTS {{
        MATCH (a:{_APP} {{id: f.application_id}}) WHERE a.maker = $maker }})
  AND ($funder IS NULL OR coalesce(f.funder_id, $default_funder) = $funder)
"""
FINANCINGS = (
    _FINANCINGS_WHERE
    + "RETURN f {.*} AS financing ORDER BY f.maturity_on, f.id SKIP $skip LIMIT $limit"
)
COUNT_FINANCINGS = _FINANCINGS_WHERE + "RETURN count(f) AS total"


def financings(
    driver: Driver, database: str, *, skip: int, limit: int, statuses: Sequence[str] | None,
    borrower_id: str | None = None, lender: str | None = None, product_id: str | None = None,
    product_kind: str | None = None, origin: str | None = None, maturing_before: Any = None,
    risk_class: str | None = None, maker: str | None = None, funder: str | None = None,
) -> Page:  # fmt: skip
    """Financings of both origins, soonest maturity first; ``funder``'s only when given."""
    return _page(
        driver, database, FINANCINGS, COUNT_FINANCINGS, skip=skip, limit=limit,
        statuses=list(statuses) if statuses is not None else None, borrower_id=borrower_id,
        lender=lender, product_id=product_id, product_kind=product_kind, origin=origin,
        maturing_before=maturing_before, risk_class=risk_class, maker=maker, funder=funder,
        default_funder=DEFAULT_FUNDER,
    )  # fmt: skip


# --------------------------------------------------------------------------------------
# Credit lines
# --------------------------------------------------------------------------------------

_LINE_FIELDS = f"""
l {{.id, .kind, .tier, .status, .status_reason, .currency, .limit_minor, .expires_on,
    .product_id, .funder_id,
    enterprise_id: [(l)-[:{_GRANTED_TO}]->(e:{_E}) | e.id][0],
    parent_id: [(l)-[:{_PART_OF}]->(p:{_LINE}) | p.id][0]}} AS line
"""
# `$core_id`: the core's supply-chain lines and every line PART_OF them (its tiers, ...).
_LINES_WHERE = f"""
MATCH (l:{_LINE})
WHERE ($enterprise_id IS NULL OR EXISTS {{ (l)-[:{_GRANTED_TO}]->(:{_E} {{id: $enterprise_id}}) }})
  AND ($kind IS NULL OR l.kind = $kind)
  AND ($statuses IS NULL OR l.status IN $statuses)
  AND ($core_id IS NULL OR EXISTS {{
        MATCH (l)-[:{_PART_OF}*0..6]->(root:{_LINE} {{kind: $supply_chain}})
              -[:{_GRANTED_TO}]->(:{_E} {{id: $core_id}}) }})
  AND ($funder IS NULL OR coalesce(l.funder_id, $default_funder) = $funder)
"""
CREDIT_LINES = _LINES_WHERE + f"RETURN {_LINE_FIELDS} ORDER BY l.id SKIP $skip LIMIT $limit"
COUNT_CREDIT_LINES = _LINES_WHERE + "RETURN count(l) AS total"
CREDIT_LINES_BY_ID = f"""
UNWIND $ids AS id
MATCH (l:{_LINE} {{id: id}})
RETURN {_LINE_FIELDS}
"""


def credit_lines(
    driver: Driver, database: str, *, skip: int, limit: int, enterprise_id: str | None,
    core_id: str | None, kind: str | None, statuses: Sequence[str] | None,
    funder: str | None = None,
) -> Page:  # fmt: skip
    return _page(
        driver, database, CREDIT_LINES, COUNT_CREDIT_LINES, skip=skip, limit=limit,
        enterprise_id=enterprise_id, core_id=core_id, kind=kind,
        statuses=list(statuses) if statuses is not None else None,
        supply_chain="supply_chain", funder=funder, default_funder=DEFAULT_FUNDER,
    )  # fmt: skip


def credit_lines_by_id(driver: Driver, database: str, ids: Sequence[str]) -> dict[str, Row]:
    """Each known line's graph fields (grantee, parent, tier, ...), by id."""
    records, _, _ = driver.execute_query(
        CREDIT_LINES_BY_ID, ids=list(ids), database_=database, routing_=RoutingControl.READ
    )
    return {r["line"]["id"]: dict(r["line"]) for r in records}


# --------------------------------------------------------------------------------------
# Alerts
# --------------------------------------------------------------------------------------

_ALERTS_WHERE = f"""
MATCH (al:{_AL})
WHERE ($statuses IS NULL OR al.status IN $statuses)
  AND ($kind IS NULL OR al.kind = $kind)
  AND ($enterprise_id IS NULL OR EXISTS {{ (al)-[:{_ABOUT}]->(:{_E} {{id: $enterprise_id}}) }})
  AND ($financing_id IS NULL OR EXISTS {{ (al)-[:{_ABOUT}]->(:{_FIN} {{id: $financing_id}}) }})
  AND {ALERT_IN_BOOK}
"""
# Newest first; finance's margin calls carry created_at only.
ALERTS = (
    _ALERTS_WHERE
    + f"""
WITH al, coalesce(al.raised_at, al.created_at) AS at
ORDER BY at DESC, al.id SKIP $skip LIMIT $limit
RETURN al {{.*}} AS alert,
       [(al)-[:{_ABOUT}]->(e:{_E}) | e.id] AS enterprise_ids,
       [(al)-[:{_ABOUT}]->(f:{_FIN}) | f.id] AS financing_ids
ORDER BY at DESC, al.id
"""
)
COUNT_ALERTS = _ALERTS_WHERE + "RETURN count(al) AS total"


def alerts(
    driver: Driver, database: str, *, skip: int, limit: int, statuses: Sequence[str] | None,
    kind: str | None, enterprise_id: str | None, financing_id: str | None,
    funder: str | None = None,
) -> Page:  # fmt: skip
    """Alerts, newest first; with ``funder``, those of its book and the shared chain's."""
    return _page(
        driver, database, ALERTS, COUNT_ALERTS, skip=skip, limit=limit,
        statuses=list(statuses) if statuses is not None else None, kind=kind,
        enterprise_id=enterprise_id, financing_id=financing_id, funder=funder,
        default_funder=DEFAULT_FUNDER,
    )  # fmt: skip


# --------------------------------------------------------------------------------------
# Enterprises
# --------------------------------------------------------------------------------------

# Region and industry codes match as prefixes: "33" is Zhejiang, "330200" Ningbo.
_ENTERPRISES_WHERE = f"""
MATCH (e:{_E})
WHERE ($is_core IS NULL OR coalesce(e.is_core, false) = $is_core)
  AND ($region_code IS NULL OR e.region_code STARTS WITH $region_code)
  AND ($industry_code IS NULL OR e.industry_code STARTS WITH $industry_code)
  AND ($statuses IS NULL OR e.status IN $statuses)
  AND ($min_fraud IS NULL OR e.fraud_score >= $min_fraud)
  AND ($max_fraud IS NULL OR e.fraud_score <= $max_fraud)
  AND ($min_default IS NULL OR e.default_score >= $min_default)
  AND ($max_default IS NULL OR e.default_score <= $max_default)
"""
ENTERPRISES = (
    _ENTERPRISES_WHERE
    + f"RETURN e {{ {_ENTERPRISE_FIELDS} }} AS enterprise ORDER BY e.id SKIP $skip LIMIT $limit"
)
COUNT_ENTERPRISES = _ENTERPRISES_WHERE + "RETURN count(e) AS total"


def enterprises(
    driver: Driver, database: str, *, skip: int, limit: int, is_core: bool | None = None,
    region_code: str | None = None, industry_code: str | None = None,
    statuses: Sequence[str] | None = None, min_fraud: float | None = None,
    max_fraud: float | None = None, min_default: float | None = None,
    max_default: float | None = None,
) -> Page:  # fmt: skip
    """Enterprises by id; rows are `graph.enterprises.Enterprise` fields."""
    return _page(
        driver, database, ENTERPRISES, COUNT_ENTERPRISES, skip=skip, limit=limit,
        is_core=is_core, region_code=region_code, industry_code=industry_code,
        statuses=list(statuses) if statuses is not None else None, min_fraud=min_fraud,
        max_fraud=max_fraud, min_default=min_default, max_default=max_default,
    )  # fmt: skip


# --------------------------------------------------------------------------------------
# Vouchers
# --------------------------------------------------------------------------------------

_VOUCHERS_WHERE = f"""
MATCH (v:{Label.VOUCHER})
WHERE ($statuses IS NULL OR v.status IN $statuses)
  AND ($issuer_id IS NULL OR v.core_id = $issuer_id)
  AND ($holder_id IS NULL OR EXISTS {{ (v)-[:{Rel.HELD_BY}]->(:{_E} {{id: $holder_id}}) }})
  AND ($party IS NULL OR v.core_id = $party
       OR EXISTS {{ (v)-[:{Rel.HELD_BY}]->(:{_E} {{id: $party}}) }})
"""
VOUCHERS = _VOUCHERS_WHERE + f"""
WITH v ORDER BY v.due_on, v.id SKIP $skip LIMIT $limit
OPTIONAL MATCH (v)-[:{Rel.SPLIT_FROM}]->(p:{Label.VOUCHER})
OPTIONAL MATCH (v)-[:{Rel.HELD_BY}]->(h:{_E})
CALL (v) {{
  OPTIONAL MATCH (v)-[r:{Rel.HELD}]->(e:{_E})
  WITH r, e ORDER BY r.seq
  RETURN collect(e.id) AS holders
}}
RETURN v {{.*}} AS voucher, p.id AS parent_id, h.id AS holder_id, holders
ORDER BY v.due_on, v.id
"""
COUNT_VOUCHERS = _VOUCHERS_WHERE + "RETURN count(v) AS total"


def vouchers(
    driver: Driver, database: str, *, skip: int, limit: int, statuses: Sequence[str] | None,
    holder_id: str | None, issuer_id: str | None, party: str | None = None,
) -> Page:  # fmt: skip
    """E-credit vouchers by holder and issuing core, soonest due first; with ``party``
    only those it issued or holds (an enterprise's user's view)."""
    return _page(
        driver, database, VOUCHERS, COUNT_VOUCHERS, skip=skip, limit=limit,
        statuses=list(statuses) if statuses is not None else None, holder_id=holder_id,
        issuer_id=issuer_id, party=party,
    )  # fmt: skip


def enterprise_of(row: Row) -> Enterprise:
    return _to_enterprise(row["enterprise"])


# The status values each list accepts, for the API's argument checks.
STATUSES: dict[str, frozenset[str]] = {
    "application": frozenset(ApplicationStatus),
    "financing": frozenset(FinancingStatus),
    "credit_line": frozenset(CreditLineStatus),
    "enterprise": frozenset(EnterpriseStatus),
    "alert": frozenset(AlertStatus),
    "origin": frozenset(FinancingOrigin),
    "risk_class": frozenset(RiskClass),
    "line_kind": frozenset(CreditLineKind),
    "voucher": frozenset(VoucherStatus),
}
