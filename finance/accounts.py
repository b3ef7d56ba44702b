"""The lender's chart of accounts and the ids of its ledger accounts.

Codes follow the usual Chinese bank chart loosely (1xxx assets, 2xxx liabilities, 4xxx/6xxx
income and expense, 9xxx off-balance memo). Per-financing and per-voucher sub-accounts make
"does this financing reconcile to zero" a look at a handful of accounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AccountKind(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    INCOME = "income"
    EXPENSE = "expense"
    MEMO = "memo"  # off-balance: credit limits and their use


class AccountCode(StrEnum):
    CASH = "1001"  # lender's clearing account at the central bank
    LOANS = "1301"  # loan principal receivable, one sub-account per financing
    FACTORING = "1303"  # factoring / discounted receivables (vouchers included)
    INTEREST_RECEIVABLE = "1132"
    PROVISION = "1304"  # loan-loss allowance (contra-asset, credit balance)
    SETTLEMENT = "2011"  # enterprises' settlement (deposit) accounts at the lender
    VOUCHER_PAYABLE = "2202"  # memo of core enterprises' outstanding e-vouchers (on-behalf)
    DEFERRED_DISCOUNT = "2502"  # discount received up front, recognised at clearing
    EQUITY = "4001"
    INTEREST_INCOME = "6011"
    FEE_INCOME = "6021"
    DISCOUNT_INCOME = "6012"
    PENALTY_INCOME = "6013"
    PROVISION_EXPENSE = "6701"
    LIMIT = "9101"  # memo: a credit line's limit (credited) and its holds (debited)
    LIMIT_SOURCE = "9102"  # memo contra of granted limits
    LIMIT_USED = "9103"  # memo: a credit line's occupation
    VOUCHER_OUTSTANDING = "9201"  # memo contra of VOUCHER_PAYABLE


KIND_OF: dict[AccountCode, AccountKind] = {
    AccountCode.CASH: AccountKind.ASSET,
    AccountCode.LOANS: AccountKind.ASSET,
    AccountCode.FACTORING: AccountKind.ASSET,
    AccountCode.INTEREST_RECEIVABLE: AccountKind.ASSET,
    AccountCode.PROVISION: AccountKind.ASSET,
    AccountCode.SETTLEMENT: AccountKind.LIABILITY,
    AccountCode.VOUCHER_PAYABLE: AccountKind.MEMO,
    AccountCode.DEFERRED_DISCOUNT: AccountKind.LIABILITY,
    AccountCode.EQUITY: AccountKind.EQUITY,
    AccountCode.INTEREST_INCOME: AccountKind.INCOME,
    AccountCode.FEE_INCOME: AccountKind.INCOME,
    AccountCode.DISCOUNT_INCOME: AccountKind.INCOME,
    AccountCode.PENALTY_INCOME: AccountKind.INCOME,
    AccountCode.PROVISION_EXPENSE: AccountKind.EXPENSE,
    AccountCode.LIMIT: AccountKind.MEMO,
    AccountCode.LIMIT_SOURCE: AccountKind.MEMO,
    AccountCode.LIMIT_USED: AccountKind.MEMO,
    AccountCode.VOUCHER_OUTSTANDING: AccountKind.MEMO,
}


@dataclass(frozen=True)
class AccountSpec:
    """What an account is; creating it twice is a no-op (MERGE on id)."""

    id: str
    code: AccountCode
    currency: str
    name: str
    owner_id: str = ""
    debits_must_not_exceed_credits: bool = False
    credits_must_not_exceed_debits: bool = False

    @property
    def kind(self) -> AccountKind:
        return KIND_OF[self.code]

    def props(self) -> dict[str, object]:
        return {
            "code": self.code.value,
            "kind": self.kind.value,
            "currency": self.currency,
            "name": self.name,
            "owner_id": self.owner_id,
            "debits_must_not_exceed_credits": self.debits_must_not_exceed_credits,
            "credits_must_not_exceed_debits": self.credits_must_not_exceed_debits,
        }


def _id(code: AccountCode, currency: str, owner: str = "") -> str:
    return f"{code.value}:{currency}" + (f":{owner}" if owner else "")


def lender_account(code: AccountCode, currency: str) -> AccountSpec:
    """One of the lender's own (unowned) accounts: cash, income, expense, contras."""
    return AccountSpec(_id(code, currency), code, currency, f"{code.name.lower()} {currency}")


def settlement_account(enterprise_id: str, currency: str) -> AccountSpec:
    """An enterprise's deposit account; it cannot go overdrawn."""
    return AccountSpec(
        _id(AccountCode.SETTLEMENT, currency, enterprise_id),
        AccountCode.SETTLEMENT,
        currency,
        f"settlement of {enterprise_id}",
        owner_id=enterprise_id,
        debits_must_not_exceed_credits=True,
    )


def financing_accounts(financing_id: str, currency: str, code: AccountCode) -> list[AccountSpec]:
    """Principal and interest receivable of one financing."""
    return [
        AccountSpec(
            _id(code, currency, financing_id),
            code,
            currency,
            f"principal of {financing_id}",
            owner_id=financing_id,
        ),
        AccountSpec(
            _id(AccountCode.INTEREST_RECEIVABLE, currency, financing_id),
            AccountCode.INTEREST_RECEIVABLE,
            currency,
            f"interest of {financing_id}",
            owner_id=financing_id,
        ),
    ]


def principal_id(financing_id: str, currency: str, code: AccountCode) -> str:
    return _id(code, currency, financing_id)


def interest_id(financing_id: str, currency: str) -> str:
    return _id(AccountCode.INTEREST_RECEIVABLE, currency, financing_id)


def limit_accounts(line_id: str, currency: str) -> list[AccountSpec]:
    """A credit line's limit account (holds may not exceed the granted limit) and its use."""
    return [
        AccountSpec(
            _id(AccountCode.LIMIT, currency, line_id),
            AccountCode.LIMIT,
            currency,
            f"limit of {line_id}",
            owner_id=line_id,
            debits_must_not_exceed_credits=True,
        ),
        AccountSpec(
            _id(AccountCode.LIMIT_USED, currency, line_id),
            AccountCode.LIMIT_USED,
            currency,
            f"use of {line_id}",
            owner_id=line_id,
        ),
    ]


def limit_id(line_id: str, currency: str) -> str:
    return _id(AccountCode.LIMIT, currency, line_id)


def limit_used_id(line_id: str, currency: str) -> str:
    return _id(AccountCode.LIMIT_USED, currency, line_id)


def voucher_accounts(core_id: str, currency: str) -> list[AccountSpec]:
    return [
        AccountSpec(
            _id(AccountCode.VOUCHER_PAYABLE, currency, core_id),
            AccountCode.VOUCHER_PAYABLE,
            currency,
            f"vouchers payable by {core_id}",
            owner_id=core_id,
        ),
    ]


def standard_accounts(currency: str) -> list[AccountSpec]:
    """The lender's own accounts for one currency."""
    own = [
        AccountCode.CASH,
        AccountCode.PROVISION,
        AccountCode.DEFERRED_DISCOUNT,
        AccountCode.EQUITY,
        AccountCode.INTEREST_INCOME,
        AccountCode.FEE_INCOME,
        AccountCode.DISCOUNT_INCOME,
        AccountCode.PENALTY_INCOME,
        AccountCode.PROVISION_EXPENSE,
        AccountCode.LIMIT_SOURCE,
        AccountCode.VOUCHER_OUTSTANDING,
    ]
    return [lender_account(code, currency) for code in own]
