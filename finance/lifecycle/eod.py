"""The end-of-day job: expire undrawn approvals, accrue, review delinquency."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from neo4j import Driver

from finance.errors import (
    InvalidState,
)
from finance.lifecycle.accrual import (
    accrue_all,
)
from finance.lifecycle.financings import (
    cancel,
)
from finance.lifecycle.servicing import (
    update_delinquency,
)
from finance.lifecycle.states import (
    APPROVAL_VALID_DAYS,
    FinStatus,
)
from graph.queries import finance as q


@dataclass(frozen=True)
class DailyRun:
    """What one end-of-day run did."""

    expired: int  # approvals never drawn within APPROVAL_VALID_DAYS, cancelled
    accrued: int
    reviewed: int


def expire_approvals(driver: Driver, database: str, as_of: date) -> int:
    """Cancel financings approved more than ``APPROVAL_VALID_DAYS`` before ``as_of`` and
    still not disbursed: their line holds are voided and their collateral is free again.
    Returns how many; a second run on the same day finds none left."""
    before = as_of - timedelta(days=APPROVAL_VALID_DAYS)
    ids = q.undrawn_approvals_before(
        driver, database, [FinStatus.APPROVED, FinStatus.CONTRACTED], before
    )
    reason = f"approval expired: not drawn within {APPROVAL_VALID_DAYS} days"
    expired = 0
    for fid in ids:
        try:
            cancel(driver, database, fid, reason)
        except InvalidState:  # disbursed or cancelled since it was listed: nothing to expire
            continue
        expired += 1
    return expired


def run_daily(driver: Driver, database: str, as_of: date) -> DailyRun:
    """The end-of-day job: expire undrawn approvals, accrue every live financing to `as_of`,
    then update days past due, penalty interest, five-tier class and provisions."""
    expired = expire_approvals(driver, database, as_of)
    accrued = accrue_all(driver, database, as_of)
    ids = q.financings_by_status(driver, database, [FinStatus.ACTIVE, FinStatus.OVERDUE])
    for fid in ids:
        update_delinquency(driver, database, fid, as_of)
    return DailyRun(expired, accrued, len(ids))
