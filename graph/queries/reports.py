"""Cypher for the portfolio report: one row per outstanding financing with what the report
groups by (risk class, product, core) and its principal in the ledger.

The core of a financing is the enterprise granted the root of its credit line's PART_OF
chain when that root is a supply-chain line; a financing drawn on any other line (or loaded
from a lender's book, which has no line here) has none. The ledger principal is the debit
balance of the financing's principal sub-account (`<code>:<currency>:<id>`, codes 1301 and
1303), read from the account's posted totals; a loaded financing has no account, so null.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from neo4j import Driver, RoutingControl

from graph.model import DEFAULT_FUNDER, FINANCING_OUTSTANDING, CreditLineKind, Label, Rel
from graph.queries.finance import COLLATERAL_VALUE, LIVE_FINANCING, collateral_node

Row = dict[str, Any]

_FIN = Label.FINANCING.value
_E = Label.ENTERPRISE.value
_LINE = Label.CREDIT_LINE.value
_ACC = Label.ACCOUNT.value
_PART_OF = Rel.PART_OF.value
_GRANTED_TO = Rel.GRANTED_TO.value

PORTFOLIO_ROWS = f"""
MATCH (f:{_FIN})
WHERE f.status IN $statuses
  AND ($currency IS NULL OR f.currency = $currency)
  AND ($lender IS NULL OR f.lender = $lender)
  AND ($product_id IS NULL OR coalesce(f.product_id, f.product_kind) = $product_id)
  AND ($funder IS NULL OR coalesce(f.funder_id, $default) = $funder)
OPTIONAL MATCH (b:{_E} {{id: f.borrower_id}})
OPTIONAL MATCH (:{_LINE} {{id: f.line_id}})-[:{_PART_OF}*0..6]->(root:{_LINE})
               -[:{_GRANTED_TO}]->(core:{_E})
WHERE root.kind = $supply_chain AND NOT (root)-[:{_PART_OF}]->(:{_LINE})
WITH f, b, head(collect(core)) AS core
WHERE $core_id IS NULL OR core.id = $core_id
OPTIONAL MATCH (a:{_ACC})
WHERE a.id IN [code IN $principal_codes | code + ':' + f.currency + ':' + f.id]
WITH f, b, core, count(a) AS accounts,
     sum(coalesce(a.debits_posted, 0) - coalesce(a.credits_posted, 0)) AS principal
RETURN f.id AS id, f.status AS status, f.origin AS origin, f.lender AS lender,
       f.product_id AS product_id, f.product_kind AS product_kind,
       f.borrower_id AS borrower_id, b.name AS borrower_name,
       core.id AS core_id, core.name AS core_name, f.currency AS currency,
       coalesce(f.outstanding_minor, 0) AS outstanding_minor,
       coalesce(f.interest_due_minor, 0) AS interest_due_minor,
       coalesce(f.provision_minor, 0) AS provision_minor,
       f.maturity_on AS maturity_on, coalesce(f.dpd, 0) AS dpd,
       coalesce(f.risk_class, 'normal') AS risk_class,
       CASE WHEN accounts = 0 THEN null ELSE principal END AS ledger_principal_minor,
       f.rate_bps AS rate_bps, f.day_count AS day_count, f.accrued_through AS accrued_through,
       f.start_on AS start_on
ORDER BY f.id
"""


def portfolio_rows(
    driver: Driver, database: str, *, principal_codes: Sequence[str], currency: str | None,
    lender: str | None = None, core_id: str | None = None, product_id: str | None = None,
    funder: str | None = None,
) -> list[Row]:  # fmt: skip
    """Outstanding financings (active and overdue) matching the filters, by id; of one
    funder's book (a financing without `funder_id` is the default funder's), or of every
    funder's when ``funder`` is None."""
    records, _, _ = driver.execute_query(
        PORTFOLIO_ROWS,
        statuses=sorted(FINANCING_OUTSTANDING),
        supply_chain=CreditLineKind.SUPPLY_CHAIN.value,
        principal_codes=list(principal_codes),
        currency=currency,
        lender=lender,
        core_id=core_id,
        product_id=product_id,
        funder=funder,
        default=DEFAULT_FUNDER,
        database_=database,
        routing_=RoutingControl.READ,
    )
    return [r.data() for r in records]


# ---- flows over a period: disbursements and cash recovered ----------------------------------
# A financing's movements come from the ledger where it has one (the posted transfers on its
# principal and interest sub-accounts, found by the account-id indexes, their value date in
# the period); a financing loaded from a lender's book has no ledger here, so its
# disbursement is its start date and amount as the lender said (`source` says which).
_CORE_OF = f"""
OPTIONAL MATCH (:{_LINE} {{id: f.line_id}})-[:{_PART_OF}*0..6]->(root:{_LINE})
               -[:{_GRANTED_TO}]->(core:{_E})
WHERE root.kind = $supply_chain AND NOT (root)-[:{_PART_OF}]->(:{_LINE})
WITH f, head(collect(core)) AS core
WHERE $core_id IS NULL OR core.id = $core_id
"""
_TR = Label.TRANSFER.value

FLOW_ROWS = f"""
MATCH (f:{_FIN})
WHERE ($currency IS NULL OR f.currency = $currency)
  AND ($product_id IS NULL OR coalesce(f.product_id, f.product_kind) = $product_id)
  AND ($funder IS NULL OR coalesce(f.funder_id, $default) = $funder)
  AND ($lender IS NULL OR f.lender = $lender)
  AND (f.origin = $loaded OR f.status IN $paid_out)
{_CORE_OF}
WITH f, core, [c IN $principal_codes | c + ':' + f.currency + ':' + f.id] AS principal,
     $interest_code + ':' + f.currency + ':' + f.id AS interest
CALL (f, principal, interest) {{
  MATCH (t:{_TR}) WHERE t.debit_account_id IN principal AND t.code IN $disbursement_codes
    AND t.kind IN $posted AND date(t.value_at) >= $from_on AND date(t.value_at) <= $to_on
  RETURN 'disbursement' AS flow, t.id AS transfer_id, t.code AS code, t.amount AS amount,
         date(t.value_at) AS on, 'ledger' AS source
  UNION
  MATCH (t:{_TR}) WHERE t.credit_account_id IN principal AND t.code IN $principal_codes_in
    AND t.kind IN $posted AND date(t.value_at) >= $from_on AND date(t.value_at) <= $to_on
  RETURN 'principal' AS flow, t.id AS transfer_id, t.code AS code, t.amount AS amount,
         date(t.value_at) AS on, 'ledger' AS source
  UNION
  MATCH (t:{_TR}) WHERE t.credit_account_id = interest AND t.code IN $interest_codes_in
    AND t.kind IN $posted AND date(t.value_at) >= $from_on AND date(t.value_at) <= $to_on
  RETURN 'interest' AS flow, t.id AS transfer_id, t.code AS code, t.amount AS amount,
         date(t.value_at) AS on, 'ledger' AS source
  UNION
  WITH f WHERE f.origin = $loaded AND f.start_on IS NOT NULL
    AND date(f.start_on) >= $from_on AND date(f.start_on) <= $to_on
  RETURN 'disbursement' AS flow, null AS transfer_id, 'loaded' AS code,
         coalesce(f.amount_minor, 0) AS amount, date(f.start_on) AS on, 'book' AS source
}}
RETURN f.id AS id, f.origin AS origin, f.product_id AS product_id,
       f.product_kind AS product_kind, f.borrower_id AS borrower_id,
       coalesce(f.amount_minor, 0) AS amount_minor, f.currency AS currency,
       core.id AS core_id, core.name AS core_name, flow, transfer_id, code, amount, on, source
ORDER BY on, id, flow, transfer_id
"""

CHAIN_LIMITS = f"""
MATCH (l:{_LINE} {{kind: $supply_chain}})-[:{_GRANTED_TO}]->(core:{_E})
WHERE NOT (l)-[:{_PART_OF}]->(:{_LINE}) AND l.status IN $statuses
  AND ($currency IS NULL OR l.currency = $currency)
  AND ($funder IS NULL OR coalesce(l.funder_id, $default) = $funder)
  AND ($core_id IS NULL OR core.id = $core_id)
RETURN core.id AS core_id, core.name AS core_name, sum(coalesce(l.limit_minor, 0)) AS limit_minor
ORDER BY core_id
"""


def flow_rows(
    driver: Driver, database: str, *, from_on: Any, to_on: Any, principal_codes: Sequence[str],
    interest_code: str, disbursement_codes: Sequence[str], principal_in: Sequence[str],
    interest_in: Sequence[str], posted: Sequence[str], paid_out: Sequence[str],
    loaded: str, currency: str | None, lender: str | None = None, core_id: str | None = None,
    product_id: str | None = None, funder: str | None = None,
) -> list[Row]:  # fmt: skip
    """One row per movement in [from_on, to_on] of the financings matching the filters:
    `flow` is disbursement, principal (repaid) or interest (received); `source` ledger or
    book (a loaded financing's start)."""
    records, _, _ = driver.execute_query(
        FLOW_ROWS,
        from_on=from_on, to_on=to_on, principal_codes=list(principal_codes),
        interest_code=interest_code, disbursement_codes=list(disbursement_codes),
        principal_codes_in=list(principal_in), interest_codes_in=list(interest_in),
        posted=list(posted), paid_out=list(paid_out), loaded=loaded,
        supply_chain=CreditLineKind.SUPPLY_CHAIN.value, currency=currency, lender=lender,
        core_id=core_id, product_id=product_id, funder=funder, default=DEFAULT_FUNDER,
        database_=database, routing_=RoutingControl.READ,
    )  # fmt: skip
    return [r.data() for r in records]


def chain_limits(
    driver: Driver, database: str, *, statuses: Sequence[str], currency: str | None,
    core_id: str | None = None, funder: str | None = None,
) -> list[Row]:  # fmt: skip
    """The supply-chain lines granted to each core (roots of their PART_OF trees): their
    summed limit, per core."""
    records, _, _ = driver.execute_query(
        CHAIN_LIMITS, supply_chain=CreditLineKind.SUPPLY_CHAIN.value, statuses=list(statuses),
        currency=currency, core_id=core_id, funder=funder, default=DEFAULT_FUNDER,
        database_=database, routing_=RoutingControl.READ,
    )  # fmt: skip
    return [r.data() for r in records]


# ---- collateral, for a financing's page and an application's review ------------------------
_BACKS = f"""
OPTIONAL MATCH (c)-[:{Rel.PLEDGED_TO.value}|{Rel.ASSIGNED_TO.value}]->(live:{_FIN})
WHERE live.status IN {LIVE_FINANCING}
RETURN c.id AS id, labels(c)[0] AS label, {COLLATERAL_VALUE} AS value,
       collect(DISTINCT live.id) AS backs
ORDER BY id
"""
FINANCING_COLLATERAL = f"""
MATCH (c)-[:{Rel.PLEDGED_TO.value}|{Rel.ASSIGNED_TO.value}]->(:{_FIN} {{id: $id}})
{_BACKS}"""
APPLICATION_COLLATERAL = f"""
MATCH (a:{Label.APPLICATION.value} {{id: $id}})
UNWIND coalesce(a.collateral_ids, []) AS cid
{collateral_node("cid")}
{_BACKS}"""


def financing_collateral(driver: Driver, database: str, financing_id: str) -> list[Row]:
    """What is pledged or assigned to a financing: id, label, value (minor units) as
    loan-to-value reads it, and the live financings it backs."""
    records, _, _ = driver.execute_query(
        FINANCING_COLLATERAL, id=financing_id, database_=database, routing_=RoutingControl.READ)
    return [r.data() for r in records]


def application_collateral(driver: Driver, database: str, application_id: str) -> list[Row]:
    """What an application offers as collateral (its `collateral_ids` that exist), read as
    `financing_collateral` reads a financing's: for the reviewer, before anything is pledged."""
    records, _, _ = driver.execute_query(
        APPLICATION_COLLATERAL, id=application_id, database_=database,
        routing_=RoutingControl.READ)  # fmt: skip
    return [r.data() for r in records]
