"""Confirmation of receivables (确权): a core enterprise answers what its suppliers say it owes.

For an invoice where the core is the buyer, the core confirms the whole amount, confirms a
smaller amount, or disputes it, with the due date it will pay on. Each answer is kept as a
`Confirmation` (who, when, what; never changed), and the latest is carried on the invoice
(`confirmation`, `confirmed_minor`, `confirmed_due_on`). A confirmed payable is what an
e-credit voucher draws on (`finance.vouchers.issue`); once a voucher draws on it the answer
stands.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from neo4j import Driver, ManagedTransaction

from finance import ledger
from finance.errors import FinanceError, InvalidState, NotEligible, NotFound
from graph.model import INVOICE_OPEN, ConfirmationOutcome, InvoiceStatus
from graph.queries import receivables as q
from graph.values import native

MAX_NOTE = 1_000


@dataclass(frozen=True)
class ConfirmationEntry:
    seq: int
    outcome: ConfirmationOutcome
    amount_minor: int
    due_on: date | None
    note: str
    by: str
    at: datetime


@dataclass(frozen=True)
class Receivable:
    invoice_id: str
    seller_id: str | None
    buyer_id: str | None
    amount_minor: int
    currency: str
    status: str
    issued_on: date | None
    due_on: date | None
    confirmation: ConfirmationOutcome | None  # the latest answer; None before any
    confirmed_minor: int  # what the core owes by its latest answer
    confirmed_due_on: date | None
    financing_id: str | None  # the live financing it is assigned to, if any
    history: list[ConfirmationEntry]


@dataclass(frozen=True)
class ConfirmationRequest:
    invoice_id: str
    core_id: str
    outcome: ConfirmationOutcome
    amount_minor: int | None  # required for partly_confirmed; the invoice's for confirmed
    due_on: date | None  # required unless disputed
    note: str
    by: str
    at: datetime



def _check(req: ConfirmationRequest) -> None:
    if req.at.tzinfo is None:
        raise FinanceError("the time of a confirmation needs a timezone")
    if len(req.note) > MAX_NOTE:
        raise FinanceError(f"a note has at most {MAX_NOTE} characters")
    if req.outcome == ConfirmationOutcome.DISPUTED:
        if req.amount_minor:
            raise FinanceError("a dispute acknowledges no amount")
        if req.due_on is not None:
            raise FinanceError("a dispute has no due date")
        if not req.note.strip():
            raise FinanceError("a dispute needs a note saying why")
        return
    if req.due_on is None:
        raise FinanceError(f"{req.outcome.value} needs the due date the core will pay on")
    if req.amount_minor is not None and req.amount_minor <= 0:
        raise FinanceError("the confirmed amount must be positive")
    if req.outcome == ConfirmationOutcome.PARTLY_CONFIRMED and req.amount_minor is None:
        raise FinanceError("partly_confirmed needs the amount the core acknowledges")


def confirm(driver: Driver, database: str, req: ConfirmationRequest) -> Receivable:
    """Record the core's answer on one of its payables; the same answer again records
    nothing new. Refused (nothing written) when the core is not the invoice's buyer, the
    invoice is paid or void, the amounts do not fit, or a voucher already draws on it."""
    _check(req)

    def work(tx: ManagedTransaction) -> None:
        got = q.lock_receivable(tx, req.invoice_id)
        if got is None:
            raise NotFound(f"invoice {req.invoice_id} does not exist")
        inv = got["invoice"]
        if got["buyer_id"] != req.core_id:
            raise NotEligible(
                f"invoice {req.invoice_id} is owed by {got['buyer_id']}, not {req.core_id}: "
                "a core confirms only its own payables"
            )
        status = inv["status"] or InvoiceStatus.ISSUED
        if status not in INVOICE_OPEN:
            raise NotEligible(f"invoice {req.invoice_id} is {status}; nothing is owed to confirm")
        amount = int(inv["amount"])
        if req.outcome == ConfirmationOutcome.DISPUTED:
            confirmed = 0
        else:
            confirmed = amount if req.amount_minor is None else req.amount_minor
            if req.outcome == ConfirmationOutcome.CONFIRMED and confirmed != amount:
                raise FinanceError(
                    f"confirmed means the whole {amount}; a smaller amount is partly_confirmed"
                )
            if req.outcome == ConfirmationOutcome.PARTLY_CONFIRMED and confirmed >= amount:
                raise FinanceError(f"partly_confirmed needs an amount below the invoice's {amount}")
            issued = native(inv["issued_on"])
            if req.due_on is not None and issued is not None and req.due_on < issued:
                raise FinanceError(f"the due date is before the invoice's issue date {issued}")
        same = (
            inv["confirmation"] == req.outcome.value
            and int(inv["confirmed_minor"] or 0) == confirmed
            and native(inv["confirmed_due_on"]) == req.due_on
        )
        if same:
            return
        if got["used"]:
            raise InvalidState(
                f"a voucher draws on invoice {req.invoice_id}; its confirmation stands"
            )
        seq = int(got["answers"]) + 1
        q.record_confirmation(
            tx,
            req.invoice_id,
            {
                "id": f"{req.invoice_id}:c{seq}", "invoice_id": req.invoice_id,
                "core_id": req.core_id, "seq": seq, "outcome": req.outcome.value,
                "amount_minor": confirmed, "currency": inv["currency"] or "CNY",
                "due_on": req.due_on, "note": req.note, "by": req.by, "at": req.at,
            },
            {
                "confirmation": req.outcome.value, "confirmed_minor": confirmed,
                "confirmed_due_on": req.due_on, "confirmed_at": req.at, "confirmed_by": req.by,
            },
        )  # fmt: skip

    ledger.run_write(driver, database, work)
    return get(driver, database, req.invoice_id)


def _receivable(row: dict[str, Any]) -> Receivable:
    inv = row["invoice"]
    history = [
        ConfirmationEntry(
            seq=int(h["seq"]), outcome=ConfirmationOutcome(h["outcome"]),
            amount_minor=int(h["amount_minor"]), due_on=native(h.get("due_on")),
            note=h.get("note") or "", by=h["by"], at=native(h["at"]),
        )
        for h in row["history"]
    ]  # fmt: skip
    return Receivable(
        invoice_id=inv["id"], seller_id=row["seller_id"], buyer_id=row["buyer_id"],
        amount_minor=int(inv["amount"]), currency=inv["currency"] or "CNY",
        status=inv["status"] or InvoiceStatus.ISSUED.value,
        issued_on=native(inv["issued_on"]), due_on=native(inv["due_on"]),
        confirmation=ConfirmationOutcome(inv["confirmation"]) if inv["confirmation"] else None,
        confirmed_minor=int(inv["confirmed_minor"] or 0),
        confirmed_due_on=native(inv["confirmed_due_on"]),
        financing_id=row.get("financing_id"), history=history,
    )  # fmt: skip


def get(driver: Driver, database: str, invoice_id: str) -> Receivable:
    """An invoice as a receivable, with every answer the core gave on it."""
    row = q.receivable(driver, database, invoice_id)
    if row is None:
        raise NotFound(f"invoice {invoice_id} does not exist")
    return _receivable(row)


def payables(
    driver: Driver, database: str, core_id: str, outcome: str | None, skip: int, limit: int
) -> tuple[list[Receivable], int]:
    """A core's payables, filtered by the latest answer (``unanswered`` for none yet);
    history is left out of lists (ask for one receivable to see it)."""
    if outcome is not None and outcome != "unanswered":
        try:
            outcome = ConfirmationOutcome(outcome).value
        except ValueError:
            allowed = ", ".join([*(o.value for o in ConfirmationOutcome), "unanswered"])
            raise FinanceError(f"outcome must be one of {allowed}") from None
    rows, total = q.payables_of(driver, database, core_id, outcome, skip, limit)
    return [_receivable(r) for r in rows], total
