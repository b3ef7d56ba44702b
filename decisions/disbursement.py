"""Disbursement re-evaluates: before the money goes out, the rule set ``disbursement`` in
force (shipped as `decisions/rulesets/disbursement.json`: the borrower still active, fraud
and default scores below the decline thresholds) runs on the approval catalogue's
indicators read from the graph now, for the financing's borrower, product, amount and the
collateral pledged to it (registry conflicts, documents, four-flow score). A
``decline`` row refuses the disbursement (`DisbursementRefused`, with the reasons and the
version) and nothing is paid; every fired row counts in the metrics. Financings loaded from
a lender's book (no product) are not checked."""

from __future__ import annotations

from datetime import date

from neo4j import Driver

from decisions import lifecycle, monitoring
from decisions.engine import Hit
from decisions.errors import DisbursementRefused
from decisions.indicators import compute
from finance import lifecycle as lc
from graph.queries import finance as fq

DISBURSEMENT = "disbursement"


def check(driver: Driver, database: str, financing_id: str, on: date) -> tuple[Hit, ...]:
    """The disbursement rules on a financing now; raises `DisbursementRefused` when one
    declines."""
    fin = lc.get_financing(driver, database, financing_id)
    if fin.product_id is None:
        return ()
    rs = lifecycle.in_force(driver, database, DISBURSEMENT)
    with driver.session(database=database) as s:
        pledged = s.execute_read(fq.collateral_of_financing, financing_id)
    ind = compute(driver, database, fin.borrower_id, fin.product_id, fin.amount_minor,
                  currency=fin.currency, today=on, collateral_ids=[str(c["id"]) for c in pledged],
                  funder=fin.funder_id)  # fmt: skip
    hits = rs.fire(ind)
    monitoring.record_hits(rs.label, hits)
    declines = [r for h in hits if h.outcome == "decline" for r in h.reasons]
    if declines:
        raise DisbursementRefused(
            f"{rs.label} refuses to disburse {financing_id}: {'; '.join(declines)}"
        )
    return hits


def disburse(driver: Driver, database: str, financing_id: str, on: date) -> lc.Financing:
    """`finance.lifecycle.disburse` after the disbursement rules."""
    check(driver, database, financing_id, on)
    return lc.disburse(driver, database, financing_id, on)
