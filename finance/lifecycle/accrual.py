"""Daily interest and penalty accrual of disbursed financings."""

from __future__ import annotations

from datetime import date
from typing import Any

from neo4j import Driver, ManagedTransaction

from finance import ledger
from finance.accounts import (
    AccountCode,
    book_of,
    interest_id,
    lender_account,
)
from finance.daycount import DayCount, simple_interest
from finance.ledger import TransferRequest
from finance.lifecycle.financings import (
    _step,
)
from finance.lifecycle.states import (
    Financing,
    FinStatus,
    _at,
    _d,
    _now,
)
from graph.queries import finance as q


def _accrual(row: dict[str, Any], until: date) -> tuple[int, int, dict[str, Any]]:
    """Interest and penalty from `accrued_through` to `until`; amounts and new properties.

    Regular interest runs to maturity as the difference of cumulative amounts since the
    period start (so daily accruals sum exactly to the period's interest); past maturity,
    penalty interest at the product's multiple of the rate runs on the overdue principal.
    """
    through = _d(row["accrued_through"])
    assert through is not None
    if until <= through:
        return 0, 0, {}
    dc = DayCount(row["day_count"])
    maturity = _d(row["maturity_on"])
    assert maturity is not None
    start, principal = _d(row["period_start"]), int(row["period_principal"])
    assert start is not None
    interest = 0
    reg_end = min(until, maturity)
    if reg_end > through:
        total = simple_interest(principal, row["rate_bps"], start, reg_end, dc)
        interest = total - int(row["period_accrued"])
    penalty = 0
    pen_start = max(through, maturity)
    if until > pen_start and row["outstanding_minor"] > 0:
        pen_rate = row["rate_bps"] * int(row.get("penalty_pct") or 150) // 100
        penalty = simple_interest(row["outstanding_minor"], pen_rate, pen_start, until, dc)
    props = {
        "accrued_through": until,
        "period_accrued": int(row["period_accrued"]) + interest,
        "interest_due_minor": int(row["interest_due_minor"]) + interest + penalty,
        "penalty_accrued": int(row.get("penalty_accrued") or 0) + penalty,
    }
    return interest, penalty, props


def _accrual_requests(
    financing_id: str, row: dict[str, Any], interest: int, penalty: int, until: date
) -> list[TransferRequest]:
    ccy = row["currency"]
    reqs = []
    if interest:
        reqs.append(
            TransferRequest(
                f"acc:{financing_id}:{until.isoformat()}",
                interest_id(financing_id, ccy),
                lender_account(AccountCode.INTEREST_INCOME, ccy, book_of(row)).id,
                interest,
                ccy,
                code="interest_accrual",
                ref=financing_id,
                value_at=_at(until),
            )
        )
    if penalty:
        reqs.append(
            TransferRequest(
                f"pen:{financing_id}:{until.isoformat()}",
                interest_id(financing_id, ccy),
                lender_account(AccountCode.PENALTY_INCOME, ccy, book_of(row)).id,
                penalty,
                ccy,
                code="penalty_accrual",
                ref=financing_id,
                value_at=_at(until),
            )
        )
    return reqs


def accrue(driver: Driver, database: str, financing_id: str, until: date) -> Financing:
    """Accrue interest (and penalty interest when overdue) up to `until` (exclusive)."""
    now = _now()

    def fn(tx: ManagedTransaction, row: dict[str, Any]) -> dict[str, Any]:
        interest, penalty, props = _accrual(row, until)
        reqs = _accrual_requests(financing_id, row, interest, penalty, until)
        ledger.require_ok(ledger.create_transfers_tx(tx, reqs, now))
        return props

    return _step(driver, database, financing_id, {FinStatus.ACTIVE, FinStatus.OVERDUE}, fn)


def accrue_all(driver: Driver, database: str, until: date) -> int:
    """The daily job: accrue every live financing up to `until`; returns how many."""
    ids = q.financings_by_status(driver, database, [FinStatus.ACTIVE, FinStatus.OVERDUE])
    for fid in ids:
        accrue(driver, database, fid, until)
    return len(ids)
