"""A lender's book onto the one financing model of the graph.

Financings in the ingest format are loans that some lender already made (the `financings`
file). ChainLens keeps them in the same shape as the financings it originates itself, so
that every reader (policy, exposure, prospects, duplicate pledges, what-if, loan-to-value,
the explorer) sees one book:

- `amount` is stored as `amount_minor`;
- `outstanding` (optional) as `outstanding_minor`; when it is empty, the whole amount for a
  live or overdue loan and 0 for a repaid or written-off one;
- `status` `live` (the default), `repaid`, `overdue`, `written_off` become `active`, `closed`,
  `overdue`, `written_off`;
- `origin` is `loaded`: ChainLens does not service these (they have no ledger accounts here).
"""

from __future__ import annotations

from typing import Any

from graph.model import FINANCING_OUTSTANDING, FinancingOrigin, FinancingStatus

BOOK_STATUS: dict[str, FinancingStatus] = {
    "live": FinancingStatus.ACTIVE,
    "repaid": FinancingStatus.CLOSED,
    "overdue": FinancingStatus.OVERDUE,
    "written_off": FinancingStatus.WRITTEN_OFF,
}


def financing_row(values: dict[str, Any]) -> dict[str, Any]:
    """A validated `financings` row as the graph's financing properties."""
    status = BOOK_STATUS[values.get("status") or "live"]
    amount = values["amount"]
    outstanding = values.get("outstanding")
    if outstanding is None:
        outstanding = amount if status in FINANCING_OUTSTANDING else 0
    return {
        **values,
        "status": status.value,
        "amount_minor": amount,
        "outstanding_minor": outstanding,
        "origin": FinancingOrigin.LOADED.value,
    }
