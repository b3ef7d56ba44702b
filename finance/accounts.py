"""Each funder's chart of accounts and the ids of its ledger accounts.

Codes follow the usual Chinese bank chart loosely (1xxx assets, 2xxx liabilities, 4xxx/6xxx
income and expense, 9xxx off-balance memo). Per-financing and per-voucher sub-accounts make
"does this financing reconcile to zero" a look at a handful of accounts.

Every account belongs to one funder's book (`funder_id`; an account without one is the
default funder's). The default funder's ids are what they always were (`1001:CNY`,
`2011:CNY:E1`); another funder's own accounts and the settlement accounts enterprises keep
with it end in `@<funder>` (`1001:CNY@bank-b`, `2011:CNY:E1@bank-b`). Sub-accounts of a
financing, a discounted voucher or a credit line keep their ids (the owner's id is unique
on the platform) and carry the owner's funder. A payment from one funder's book to
another's is two transfers through each funder's cash (clearing) account, so that each
funder's trial balance balances on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from graph.model import DEFAULT_FUNDER


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
    VOUCHER_HELD = "9202"  # memo: the voucher claims an enterprise holds, one per holder
    VOUCHER_HELD_CONTRA = "9203"  # memo contra of VOUCHER_HELD, one per voucher tree


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
    AccountCode.VOUCHER_HELD: AccountKind.MEMO,
    AccountCode.VOUCHER_HELD_CONTRA: AccountKind.MEMO,
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
    funder_id: str = DEFAULT_FUNDER  # whose book the account is in

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
            "funder_id": self.funder_id,
        }


def book_of(row: Mapping[str, Any]) -> str:
    """The funder whose book a stored record (financing, credit line, voucher) is in."""
    return str(row.get("funder_id") or DEFAULT_FUNDER)


def _id(code: AccountCode, currency: str, owner: str = "") -> str:
    return f"{code.value}:{currency}" + (f":{owner}" if owner else "")


def _at(account_id: str, funder: str) -> str:
    """The id in ``funder``'s book: unchanged for the default funder, else `<id>@<funder>`."""
    return account_id if funder == DEFAULT_FUNDER else f"{account_id}@{funder}"


def lender_account(
    code: AccountCode, currency: str, funder: str = DEFAULT_FUNDER
) -> AccountSpec:
    """One of a funder's own (unowned) accounts: cash, income, expense, contras."""
    name = f"{code.name.lower()} {currency}" + ("" if funder == DEFAULT_FUNDER else f" of {funder}")
    return AccountSpec(_at(_id(code, currency), funder), code, currency, name, funder_id=funder)


def settlement_account(
    enterprise_id: str, currency: str, funder: str = DEFAULT_FUNDER
) -> AccountSpec:
    """An enterprise's deposit account with a funder; it cannot go overdrawn."""
    return AccountSpec(
        _at(_id(AccountCode.SETTLEMENT, currency, enterprise_id), funder),
        AccountCode.SETTLEMENT,
        currency,
        f"settlement of {enterprise_id}" + ("" if funder == DEFAULT_FUNDER else f" at {funder}"),
        owner_id=enterprise_id,
        debits_must_not_exceed_credits=True,
        funder_id=funder,
    )


def financing_accounts(
    financing_id: str, currency: str, code: AccountCode, funder: str = DEFAULT_FUNDER
) -> list[AccountSpec]:
    """Principal and interest receivable of one financing, in its funder's book."""
    return [
        AccountSpec(
            _id(code, currency, financing_id),
            code,
            currency,
            f"principal of {financing_id}",
            owner_id=financing_id,
            funder_id=funder,
        ),
        AccountSpec(
            _id(AccountCode.INTEREST_RECEIVABLE, currency, financing_id),
            AccountCode.INTEREST_RECEIVABLE,
            currency,
            f"interest of {financing_id}",
            owner_id=financing_id,
            funder_id=funder,
        ),
    ]


def principal_id(financing_id: str, currency: str, code: AccountCode) -> str:
    return _id(code, currency, financing_id)


def interest_id(financing_id: str, currency: str) -> str:
    return _id(AccountCode.INTEREST_RECEIVABLE, currency, financing_id)


def limit_accounts(
    line_id: str, currency: str, funder: str = DEFAULT_FUNDER
) -> list[AccountSpec]:
    """A credit line's limit account (holds may not exceed the granted limit) and its use,
    in the book of the funder that grants the line."""
    return [
        AccountSpec(
            _id(AccountCode.LIMIT, currency, line_id),
            AccountCode.LIMIT,
            currency,
            f"limit of {line_id}",
            owner_id=line_id,
            debits_must_not_exceed_credits=True,
            funder_id=funder,
        ),
        AccountSpec(
            _id(AccountCode.LIMIT_USED, currency, line_id),
            AccountCode.LIMIT_USED,
            currency,
            f"use of {line_id}",
            owner_id=line_id,
            funder_id=funder,
        ),
    ]


def limit_id(line_id: str, currency: str) -> str:
    return _id(AccountCode.LIMIT, currency, line_id)


def limit_used_id(line_id: str, currency: str) -> str:
    return _id(AccountCode.LIMIT_USED, currency, line_id)


def discounted_voucher_account(
    voucher_id: str, currency: str, funder: str = DEFAULT_FUNDER
) -> AccountSpec:
    """What a funder that discounted a voucher piece is owed by the core at maturity."""
    return AccountSpec(
        _id(AccountCode.FACTORING, currency, voucher_id),
        AccountCode.FACTORING,
        currency,
        f"voucher {voucher_id}",
        owner_id=voucher_id,
        funder_id=funder,
    )


def voucher_accounts(
    core_id: str, currency: str, funder: str = DEFAULT_FUNDER
) -> list[AccountSpec]:
    """The memo of a core's outstanding vouchers issued on ``funder``'s lines, in its book."""
    return [
        AccountSpec(
            _at(_id(AccountCode.VOUCHER_PAYABLE, currency, core_id), funder),
            AccountCode.VOUCHER_PAYABLE,
            currency,
            f"vouchers payable by {core_id}"
            + ("" if funder == DEFAULT_FUNDER else f" at {funder}"),
            owner_id=core_id,
            funder_id=funder,
        ),
    ]


def voucher_held_account(
    holder_id: str, currency: str, funder: str = DEFAULT_FUNDER
) -> AccountSpec:
    """The voucher claims an enterprise holds (memo, in the issuing funder's book: the
    funder whose line the voucher occupies): debited when a voucher or a piece reaches it,
    credited when it leaves (a transfer, a split into pieces, clearing). Its statement shows
    every hop of every voucher of that funder it held."""
    return AccountSpec(
        _at(_id(AccountCode.VOUCHER_HELD, currency, holder_id), funder),
        AccountCode.VOUCHER_HELD,
        currency,
        f"vouchers held by {holder_id}" + ("" if funder == DEFAULT_FUNDER else f" at {funder}"),
        owner_id=holder_id,
        funder_id=funder,
    )


def voucher_held_contra(
    root_id: str, currency: str, funder: str = DEFAULT_FUNDER
) -> AccountSpec:
    """The contra of the claims on one voucher tree in holders' hands (memo), one per root
    voucher, so that splits of different trees do not meet at one account; in the issuing
    funder's book (the id is the root's, unique on the platform)."""
    return AccountSpec(
        _id(AccountCode.VOUCHER_HELD_CONTRA, currency, root_id),
        AccountCode.VOUCHER_HELD_CONTRA,
        currency,
        f"voucher {root_id} in holders' hands",
        owner_id=root_id,
        funder_id=funder,
    )


def standard_accounts(currency: str, funder: str = DEFAULT_FUNDER) -> list[AccountSpec]:
    """A funder's own accounts for one currency."""
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
    return [lender_account(code, currency, funder) for code in own]
