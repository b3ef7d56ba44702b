"""Money in and out of enterprises' settlement accounts with a funder (the default funder's
unless one is named): the funder's cash against the enterprise's account in its book."""

from __future__ import annotations

from datetime import UTC, date, datetime

from neo4j import Driver, ManagedTransaction

from finance import ledger
from finance.accounts import AccountCode, AccountSpec, lender_account, settlement_account
from finance.ledger import Transfer, TransferRequest
from graph.model import DEFAULT_FUNDER


def _at(day: date | None) -> datetime | None:
    return None if day is None else datetime(day.year, day.month, day.day, tzinfo=UTC)


def movement(
    enterprise_id: str,
    amount_minor: int,
    currency: str,
    transfer_id: str,
    code: str,
    inbound: bool,
    on: date | None,
    funder: str,
) -> tuple[AccountSpec, AccountSpec, TransferRequest]:
    """The funder's cash account, the enterprise's settlement account with it, and the one
    transfer between them (a deposit when ``inbound``, else a withdrawal)."""
    cash, settle = (
        lender_account(AccountCode.CASH, currency, funder),
        settlement_account(enterprise_id, currency, funder),
    )
    if funder != DEFAULT_FUNDER:  # request ids are each funder's own
        transfer_id = f"{transfer_id}@{funder}"
    debit, credit = (cash, settle) if inbound else (settle, cash)
    req = TransferRequest(
        transfer_id,
        debit.id,
        credit.id,
        amount_minor,
        currency,
        code=code,
        ref=enterprise_id,
        value_at=_at(on),
    )
    return cash, settle, req


def deposit_id(request_id: str) -> str:
    return f"dep:{request_id}"


def withdrawal_id(request_id: str) -> str:
    return f"wd:{request_id}"


def _move(
    driver: Driver,
    database: str,
    enterprise_id: str,
    amount_minor: int,
    currency: str,
    transfer_id: str,
    code: str,
    inbound: bool,
    on: date | None,
    funder: str,
) -> Transfer:
    """One transfer between the funder's cash and the enterprise's settlement account."""
    cash, settle, req = movement(
        enterprise_id, amount_minor, currency, transfer_id, code, inbound, on, funder
    )

    def work(tx: ManagedTransaction) -> Transfer:
        ledger.ensure_accounts_tx(tx, [cash, settle])
        return ledger.require_ok(ledger.create_transfers_tx(tx, [req]))[0]

    return ledger.run_write(driver, database, work)


def deposit(
    driver: Driver,
    database: str,
    enterprise_id: str,
    amount_minor: int,
    currency: str,
    request_id: str,
    on: date | None = None,
    funder: str = DEFAULT_FUNDER,
) -> Transfer:
    """Funds received for an enterprise (cash in, settlement account credited)."""
    return _move(
        driver,
        database,
        enterprise_id,
        amount_minor,
        currency,
        deposit_id(request_id),
        "deposit",
        inbound=True,
        on=on,
        funder=funder,
    )


def withdraw(
    driver: Driver,
    database: str,
    enterprise_id: str,
    amount_minor: int,
    currency: str,
    request_id: str,
    on: date | None = None,
    funder: str = DEFAULT_FUNDER,
) -> Transfer:
    """Funds paid out to an enterprise's bank account; refused beyond its balance."""
    return _move(
        driver,
        database,
        enterprise_id,
        amount_minor,
        currency,
        withdrawal_id(request_id),
        "withdrawal",
        inbound=False,
        on=on,
        funder=funder,
    )
