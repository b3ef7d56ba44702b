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
       CASE WHEN accounts = 0 THEN null ELSE principal END AS ledger_principal_minor
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
