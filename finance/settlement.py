"""Money in and out of enterprises' settlement accounts at the lender."""

from __future__ import annotations

from datetime import UTC, date, datetime

from neo4j import Driver, ManagedTransaction

from finance import ledger
from finance.accounts import AccountCode, lender_account, settlement_account
from finance.ledger import Transfer, TransferRequest


def _at(day: date | None) -> datetime | None:
    return None if day is None else datetime(day.year, day.month, day.day, tzinfo=UTC)


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
    cash, settle = (
        lender_account(AccountCode.CASH, currency),
        settlement_account(enterprise_id, currency),
    )

    def work(tx: ManagedTransaction) -> Transfer:
        ledger.ensure_accounts_tx(tx, [cash, settle])
        req = TransferRequest(
            f"dep:{request_id}",
            cash.id,
            settle.id,
            amount_minor,
            currency,
            code="deposit",
            ref=enterprise_id,
            value_at=_at(on),
        )
        return ledger.require_ok(ledger.create_transfers_tx(tx, [req]))[0]

    return ledger.run_write(driver, database, work)


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
    cash, settle = (
        lender_account(AccountCode.CASH, currency),
        settlement_account(enterprise_id, currency),
    )

    def work(tx: ManagedTransaction) -> Transfer:
        ledger.ensure_accounts_tx(tx, [cash, settle])
        req = TransferRequest(
            f"wd:{request_id}",
            settle.id,
            cash.id,
            amount_minor,
            currency,
            code="withdrawal",
            ref=enterprise_id,
            value_at=_at(on),
        )
        return ledger.require_ok(ledger.create_transfers_tx(tx, [req]))[0]

    return ledger.run_write(driver, database, work)
