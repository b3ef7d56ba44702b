"""Post-loan work on originated financings: follow-up records (collections contacts and
inspections) and the end-of-day job with its warnings.

`end_of_day` is `lifecycle.run_daily` (expire undrawn approvals, accrue, days past due,
five-tier class, provisions) followed by the warnings a credit team acts on: an alert for
each financing that matures within `MATURITY_WARNING_DAYS`, and one for each financing that
is overdue; then e-credit vouchers unpaid at maturity become `overdue` with a
`voucher_overdue` alert about the voucher, its core and its holders
(`vouchers.mark_overdue`). Alerts are keyed (one per financing, or voucher tree, and
maturity date), so running the job again raises nothing twice; they reach the `alertRaised`
subscription and the `alerts` list like the sensors' alerts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from neo4j import Driver, ManagedTransaction

from finance import ledger, vouchers
from finance import lifecycle as lc
from finance.errors import FinanceError, IdempotencyConflict, NotFound
from graph.queries import finance as fq
from graph.queries import postloan as q
from graph.values import native

MATURITY_WARNING_DAYS = 7


class FollowUpKind(StrEnum):
    COLLECTION_CALL = "collection_call"
    COLLECTION_VISIT = "collection_visit"
    PROMISE_TO_PAY = "promise_to_pay"
    LEGAL_NOTICE = "legal_notice"
    INSPECTION = "inspection"  # a post-loan inspection of the borrower or the collateral


@dataclass(frozen=True)
class FollowUpCreate:
    id: str  # idempotency key chosen by the caller
    financing_id: str
    kind: FollowUpKind
    on: date
    note: str
    recorded_by: str
    outcome: str = ""
    promised_minor: int | None = None
    promised_on: date | None = None

    def __post_init__(self) -> None:
        if not self.note.strip() or len(self.note) > 2000:
            raise FinanceError("a follow-up note is 1 to 2000 characters")
        if self.promised_minor is not None and self.promised_minor <= 0:
            raise FinanceError("a promised amount must be positive")
        if (self.kind == FollowUpKind.PROMISE_TO_PAY) != (self.promised_minor is not None):
            raise FinanceError("a promise to pay, and only a promise, names the amount promised")


@dataclass(frozen=True)
class FollowUp:
    id: str
    financing_id: str
    kind: str
    on: date
    note: str
    outcome: str
    promised_minor: int | None
    promised_on: date | None
    recorded_by: str
    recorded_at: datetime



def _follow_up(row: dict[str, Any]) -> FollowUp:
    return FollowUp(
        id=row["id"], financing_id=row["financing_id"], kind=row["kind"], on=native(row["on"]),
        note=row["note"], outcome=row.get("outcome") or "",
        promised_minor=row.get("promised_minor"), promised_on=native(row.get("promised_on")),
        recorded_by=row["recorded_by"], recorded_at=native(row["recorded_at"]),
    )  # fmt: skip


def record_follow_up(driver: Driver, database: str, req: FollowUpCreate) -> FollowUp:
    """Record a collections contact or an inspection of a financing ChainLens services.
    The same id again returns the first record; with other fields it is a conflict."""
    props = {
        "financing_id": req.financing_id, "kind": req.kind.value, "on": req.on,
        "note": req.note, "outcome": req.outcome, "promised_minor": req.promised_minor,
        "promised_on": req.promised_on, "recorded_by": req.recorded_by,
        "recorded_at": datetime.now(UTC),
    }  # fmt: skip

    def work(tx: ManagedTransaction) -> dict[str, Any]:
        fin = fq.get_financing_tx(tx, req.financing_id)
        if fin is None:
            raise NotFound(f"financing {req.financing_id} does not exist")
        lc.require_serviced(fin)
        got = q.merge_follow_up(tx, req.id, req.financing_id, props)
        assert got is not None  # the financing exists: the MERGE ran
        return got

    got = ledger.run_write(driver, database, work)
    row = dict(got["follow_up"])
    if not got["created"]:
        differ = sorted(k for k, v in props.items() if k != "recorded_at" and row.get(k) != v)
        if differ:
            raise IdempotencyConflict(
                f"follow-up {req.id} was already recorded with other {', '.join(differ)}"
            )
    return _follow_up(row)


def follow_ups(driver: Driver, database: str, financing_id: str) -> list[FollowUp]:
    """Every follow-up of a financing, oldest first."""
    return [_follow_up(r) for r in q.follow_ups_of(driver, database, financing_id)]


@dataclass(frozen=True)
class EndOfDay:
    expired: int  # approvals never drawn in time, cancelled
    accrued: int
    reviewed: int  # financings whose days past due, class and provision were updated
    maturity_warnings: int  # new alerts: maturing within MATURITY_WARNING_DAYS
    overdue_alerts: int  # new alerts: overdue
    early_warnings: int = 0  # new alerts raised by the post-loan rules (the caller's hook)
    overdue_vouchers: int = 0  # voucher pieces found unpaid past maturity, marked overdue
    voucher_alerts: int = 0  # new alerts: vouchers unpaid at maturity (one per tree)


# The post-loan early-warning rules, given by the caller (package `decisions` reads finance,
# not the other way round): (driver, database, as_of) -> new alerts raised.
EarlyWarningHook = Callable[[Driver, str, date], int]


def _money(minor: int, currency: str) -> str:
    return f"{minor / 100:,.2f} {currency}"


def end_of_day(
    driver: Driver, database: str, as_of: date, early_warning: EarlyWarningHook | None = None
) -> EndOfDay:
    """The end-of-day job and its warnings (idempotent for a day); then, when given, the
    post-loan rules (`decisions.postloan.end_of_day_rules`) on the financings as they stand
    after the day's review."""
    run = lc.run_daily(driver, database, as_of)
    now = datetime.now(UTC)
    until = as_of + timedelta(days=MATURITY_WARNING_DAYS)
    soon = [
        {
            "id": f"maturity:{r['id']}:{native(r['maturity_on'])}",
            "financing_id": r["id"],
            "props": {
                "kind": "maturity_warning", "severity": "medium", "status": "open",
                "scope": f"financing:{r['id']}", "financing_id": r["id"],
                "message": f"{r['id']} matures on {native(r['maturity_on'])} with "
                f"{_money(r['outstanding_minor'], r['currency'])} outstanding",
                "raised_at": now, "created_at": now,
            },
        }
        for r in q.due_soon(driver, database, as_of, until)
    ]  # fmt: skip
    late = [
        {
            "id": f"overdue:{r['id']}:{native(r['maturity_on'])}",
            "financing_id": r["id"],
            "props": {
                "kind": "overdue", "severity": "high", "status": "open",
                "scope": f"financing:{r['id']}", "financing_id": r["id"],
                "message": f"{r['id']} is {r['dpd']} days past due with "
                f"{_money(r['outstanding_minor'], r['currency'])} outstanding "
                f"(class {r['risk_class']})",
                "raised_at": now, "created_at": now,
            },
        }
        for r in q.overdue(driver, database)
    ]  # fmt: skip
    maturity_warnings = q.merge_financing_alerts(driver, database, soon)
    overdue_alerts = q.merge_financing_alerts(driver, database, late)
    unpaid = vouchers.mark_overdue(driver, database, as_of)
    return EndOfDay(
        expired=run.expired, accrued=run.accrued, reviewed=run.reviewed,
        maturity_warnings=maturity_warnings, overdue_alerts=overdue_alerts,
        early_warnings=early_warning(driver, database, as_of) if early_warning else 0,
        overdue_vouchers=unpaid.pieces, voucher_alerts=unpaid.alerts,
    )  # fmt: skip
