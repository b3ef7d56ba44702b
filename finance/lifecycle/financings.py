"""Financing steps before servicing: contract, cancellation, disbursement. Each step locks
the financing, checks its state and commits the change with its ledger transfers."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from neo4j import Driver, ManagedTransaction

from finance import credit_lines as cl
from finance import ledger
from finance.accounts import (
    AccountCode,
    book_of,
    financing_accounts,
    lender_account,
    principal_id,
    settlement_account,
)
from finance.daycount import bps_of
from finance.errors import (
    InvalidState,
    NotFound,
)
from finance.ledger import TransferRequest
from finance.lifecycle.states import (
    FIN_TRANSITIONS,
    Financing,
    FinStatus,
    _at,
    _now,
    _receivable_code,
    get_financing,
    require_serviced,
)
from finance.products import recorded
from graph.queries import finance as q
from graph.queries import financing_contracts as fcq

CONTRACT_KIND = "financing_contract"  # the Document kind of a financing's contract


def _step(
    driver: Driver,
    database: str,
    financing_id: str,
    allowed: set[FinStatus],
    fn: Any,
) -> Financing:
    """Lock the financing, check its state, run `fn(tx, row)` that returns new properties."""

    def work(tx: ManagedTransaction) -> None:
        row = q.lock_financing(tx, financing_id)
        if row is None:
            raise NotFound(f"financing {financing_id} does not exist")
        require_serviced(row)
        status = FinStatus(row["status"])
        if status not in allowed:
            raise InvalidState(f"financing {financing_id} is {status.value}")
        props = fn(tx, row)
        if props:
            new = FinStatus(props.get("status", status))
            if new != status and new not in FIN_TRANSITIONS[status]:
                raise InvalidState(f"financing {financing_id}: {status} -> {new} not allowed")
            q.update_financing(tx, financing_id, props)

    ledger.run_write(driver, database, work)
    return get_financing(driver, database, financing_id)


def sign_contract(
    driver: Driver, database: str, financing_id: str, contract_no: str, today: date | None = None,
    *, contract: tuple[str, str] | None = None,
) -> Financing:  # fmt: skip
    """An approved financing becomes contracted. ``contract`` is the (document id, SHA-256)
    of the signed contract PDF the front door verified (`documents.financing_contracts.
    require_signed`), recorded on the financing as `contract_document_id` and
    `contract_sha256`; it must still be the financing's newest contract when this commits.
    Every front door passes it; tests of later steps may leave it out."""
    day = today or _now().date()

    def fn(tx: ManagedTransaction, row: dict[str, Any]) -> dict[str, Any]:
        props: dict[str, Any] = {
            "status": FinStatus.CONTRACTED.value, "contract_no": contract_no, "signed_on": day,
        }  # fmt: skip
        if contract is not None:
            document_id, sha256 = contract
            if fcq.newest_contract_tx(tx, financing_id, CONTRACT_KIND) != (document_id, sha256):
                raise InvalidState(
                    f"the contract of financing {financing_id} changed after it was verified "
                    f"({document_id}): call signContract again"
                )
            props |= {"contract_document_id": document_id, "contract_sha256": sha256}
        return props

    return _step(driver, database, financing_id, {FinStatus.APPROVED}, fn)


def cancel(driver: Driver, database: str, financing_id: str, reason: str) -> Financing:
    """Before disbursement: void the line holds; collateral is free again."""
    now = _now()

    def fn(tx: ManagedTransaction, row: dict[str, Any]) -> dict[str, Any]:
        reqs = cl.close_chain(
            cl.confirm_requests(
                f"hold:{financing_id}", list(row["line_path"]), f"cancel:{financing_id}", void=True
            )
        )
        ledger.require_ok(ledger.create_transfers_tx(tx, reqs, now))
        return {"status": FinStatus.CANCELLED.value, "cancel_reason": reason}

    return _step(driver, database, financing_id, {FinStatus.APPROVED, FinStatus.CONTRACTED}, fn)


def disburse(driver: Driver, database: str, financing_id: str, on: date) -> Financing:
    """Draw the held line and pay the advance into the borrower's settlement account, less
    the arrangement fee; for discounting products the discount is taken up front."""
    now = _now()

    def fn(tx: ManagedTransaction, row: dict[str, Any]) -> dict[str, Any]:
        product = recorded(driver, database, row["product_id"], row.get("product_version"))
        ccy, amount, borrower = row["currency"], row["amount_minor"], row["borrower_id"]
        code = _receivable_code(product)
        book = book_of(row)  # the funder's: its accounts, the borrower's account with it
        settle = settlement_account(borrower, ccy, book)
        ledger.ensure_accounts_tx(
            tx,
            [
                *financing_accounts(financing_id, ccy, code, book),
                settle,
                lender_account(AccountCode.FEE_INCOME, ccy, book),
                lender_account(AccountCode.INTEREST_INCOME, ccy, book),
                lender_account(AccountCode.PENALTY_INCOME, ccy, book),
            ],
        )
        key = f"disb:{financing_id}"
        reqs = cl.confirm_requests(f"hold:{financing_id}", list(row["line_path"]), key)
        reqs.append(
            TransferRequest(
                f"{key}:principal",
                principal_id(financing_id, ccy, code),
                settle.id,
                amount,
                ccy,
                linked=True,
                code="disbursement",
                ref=financing_id,
                value_at=_at(on),
            )
        )
        fee = bps_of(amount, product.fees.arrangement_bps)
        if fee:
            reqs.append(
                TransferRequest(
                    f"{key}:fee",
                    settle.id,
                    lender_account(AccountCode.FEE_INCOME, ccy, book).id,
                    fee,
                    ccy,
                    linked=True,
                    code="arrangement_fee",
                    ref=financing_id,
                    value_at=_at(on),
                )
            )
        ledger.require_ok(ledger.create_transfers_tx(tx, cl.close_chain(reqs), now))
        maturity = on + timedelta(days=int(row.get("tenor_days") or product.tenor_days))
        return {
            "status": FinStatus.ACTIVE.value,
            "start_on": on,
            "maturity_on": maturity,
            "accrued_through": on,
            "outstanding_minor": amount,
            "interest_due_minor": 0,
            "period_start": on,
            "period_principal": amount,
            "period_accrued": 0,
            "penalty_accrued": 0,
        }

    return _step(driver, database, financing_id, {FinStatus.CONTRACTED}, fn)
