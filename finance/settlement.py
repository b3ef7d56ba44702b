"""Money in and out of enterprises' settlement accounts at the lender."""

from __future__ import annotations

from datetime import UTC, date, datetime

from neo4j import Driver, ManagedTransaction

from finance import ledger
from finance.accounts import AccountCode, lender_account, settlement_account
from finance.ledger import Transfer, TransferRequest


def _at(day: date | None) -> datetime | None:
    return None if day is None else datetime(day.year, day.month, day.day, tzinfo=UTC)


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
) -> Transfer:
    """One transfer between the lender's cash and the enterprise's settlement account."""
    cash, settle = (
        lender_account(AccountCode.CASH, currency),
        settlement_account(enterprise_id, currency),
    )
    debit, credit = (cash, settle) if inbound else (settle, cash)

    def work(tx: ManagedTransaction) -> Transfer:
        ledger.ensure_accounts_tx(tx, [cash, settle])
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
) -> Transfer:
    """Funds received for an enterprise (cash in, settlement account credited)."""
    return _move(
        driver,
        database,
        enterprise_id,
        amount_minor,
        currency,
        f"dep:{request_id}",
        "deposit",
        inbound=True,
        on=on,
    )


def withdraw(
    driver: Driver,
    database: str,
    enterprise_id: str,
    amount_minor: int,
    currency: str,
    request_id: str,
    on: date | None = None,
) -> Transfer:
    """Funds paid out to an enterprise's bank account; refused beyond its balance."""
    return _move(
        driver,
        database,
        enterprise_id,
        amount_minor,
        currency,
        f"wd:{request_id}",
        "withdrawal",
        inbound=False,
        on=on,
    )
