"""E-credit vouchers end to end on the real Neo4j: issue -> split -> transfer across three
tiers -> discount -> clear, with the ledger reconciling to zero."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from neo4j import Driver

from finance import credit_lines as cl
from finance import ledger, settlement, vouchers
from finance.accounts import (
    AccountCode,
    lender_account,
    principal_id,
    settlement_account,
    voucher_held_account,
)
from finance.credit_lines import LineKind, LineSpec
from finance.daycount import DayCount, discount
from finance.errors import InvalidState, LimitExceeded, NotEligible
from tests.finance.conftest import CHAIN, build

CNY = "CNY"
D0 = date(2026, 3, 1)
DUE = D0 + timedelta(days=180)
PAYABLE = """
MATCH (t1:Enterprise {id: 'T1'}), (c:Enterprise {id: 'C'})
CREATE (i:Invoice {id: 'INV-P', amount: 100000000, status: 'issued', confirmation: 'confirmed',
                  confirmed_minor: 100000000})
CREATE (i)-[:SELLER]->(t1)
CREATE (i)-[:BUYER]->(c)
"""


@pytest.mark.slow
def _held(db: Driver, database: str) -> dict[str, int]:
    """The voucher claims each tier holds (memo 9202, a debit balance)."""
    ids = {e: voucher_held_account(e, CNY).id for e in ("T1", "T2", "T3")}
    got = ledger.get_accounts(db, database, list(ids.values()))
    return {e: got[i].debit_balance if i in got else 0 for e, i in ids.items()}


def test_voucher_issue_split_transfer_finance_clear(db: Driver, database: str) -> None:
    build(db, database, CHAIN)
    build(db, database, PAYABLE)
    cl.grant_line(
        db,
        database,
        LineSpec("SC-C", "C", LineKind.SUPPLY_CHAIN, 150_000_000, CNY, date(2030, 1, 1)),
    )
    v = vouchers.issue(db, database, "V1", "C", "T1", 100_000_000, CNY, ["INV-P"], D0, DUE)
    assert (v.status, v.holder_id) == ("live", "T1")
    assert cl.usage(db, database, "SC-C").used_minor == 100_000_000
    with pytest.raises(NotEligible, match="already backs a voucher"):
        vouchers.issue(db, database, "V2", "C", "T1", 1, CNY, ["INV-P"], D0, DUE)
    a, b = vouchers.split(db, database, "V1", [60_000_000, 40_000_000], D0 + timedelta(days=1))
    assert (a.id, b.id, a.parent_id) == ("V1.1", "V1.2", "V1")
    vouchers.transfer(db, database, "V1.1", "T2", D0 + timedelta(days=2))
    with pytest.raises(NotEligible, match="tier by tier"):
        vouchers.transfer(db, database, "V1.2", "T3", D0 + timedelta(days=2))
    c1, _c2 = vouchers.split(db, database, "V1.1", [35_000_000, 25_000_000], D0 + timedelta(days=3))
    t3 = vouchers.transfer(db, database, c1.id, "T3", D0 + timedelta(days=4))
    assert t3.holders == ["T2", "T3"]
    with pytest.raises(InvalidState):
        vouchers.split(db, database, "V1", [50_000_000, 50_000_000], D0 + timedelta(days=5))
    # Every hop posted: the claims each holder has are the live pieces it holds.
    assert _held(db, database) == {"T1": 40_000_000, "T2": 25_000_000, "T3": 35_000_000}
    assert ledger.trial_balance(db, database, CNY).balanced
    fin_on = D0 + timedelta(days=30)
    fv, proceeds = vouchers.finance_voucher(db, database, "V1.1.1", 350, fin_on)
    disc = discount(35_000_000, 350, fin_on, DUE, DayCount.ACT_360)
    assert (fv.status, proceeds) == ("financed", 35_000_000 - disc)
    # Every piece names its issuer, as exposure and contagion read it (ISSUED_BY).
    issued, _, _ = db.execute_query(
        "MATCH (v:Voucher {root_id: 'V1'}) OPTIONAL MATCH (v)-[:ISSUED_BY]->(c:Enterprise) "
        "RETURN v.id AS id, c.id AS core ORDER BY id", database_=database)  # fmt: skip
    assert {r["id"]: r["core"] for r in issued} == {
        v: "C" for v in ("V1", "V1.1", "V1.2", "V1.1.1", "V1.1.2")
    }
    reach = vouchers.reach(db, database, "C")
    assert reach.max_tier == 3
    assert reach.holders_by_tier == {1: ["T1"], 2: ["T2"], 3: ["T3"]}
    with pytest.raises(InvalidState):
        vouchers.clear(db, database, "V1", DUE - timedelta(days=1))
    with pytest.raises(NotEligible, match="too little"):
        vouchers.clear(db, database, "V1", DUE)
    settlement.deposit(db, database, "C", 100_000_000, CNY, "core-pays", DUE)
    cleared = vouchers.clear(db, database, "V1", DUE)
    assert {x.id: x.status for x in cleared} == {
        "V1": "split",
        "V1.1": "split",
        "V1.2": "cleared",
        "V1.1.1": "cleared",
        "V1.1.2": "cleared",
    }
    bal = {
        e: ledger.get_account(db, database, settlement_account(e, CNY).id).credit_balance
        for e in ("C", "T1", "T2", "T3")
    }
    assert bal == {"C": 0, "T1": 40_000_000, "T2": 25_000_000, "T3": 35_000_000 - disc}
    recv = ledger.get_account(db, database, principal_id("V1.1.1", CNY, AccountCode.FACTORING))
    deferred = ledger.get_account(
        db, database, lender_account(AccountCode.DEFERRED_DISCOUNT, CNY).id
    )
    income = ledger.get_account(db, database, lender_account(AccountCode.DISCOUNT_INCOME, CNY).id)
    assert (recv.debit_balance, deferred.credit_balance, income.credit_balance) == (0, 0, disc)
    assert cl.usage(db, database, "SC-C").used_minor == 0
    memo = ledger.get_account(db, database, f"{AccountCode.VOUCHER_PAYABLE.value}:{CNY}:C")
    assert memo.credit_balance == 0
    assert _held(db, database) == {"T1": 0, "T2": 0, "T3": 0}
    assert ledger.trial_balance(db, database, CNY).balanced
    # Clearing again changes nothing.
    vouchers.clear(db, database, "V1", DUE)
    assert ledger.get_account(db, database, settlement_account("T1", CNY).id).credit_balance == (
        40_000_000
    )


def test_each_hop_posts_once_per_request(db: Driver, database: str) -> None:
    """A split and a transfer post in the transaction of their lineage edge, keyed by the
    request id: the same request again answers the same and posts nothing; another request
    to move the voucher where it already is fails and posts nothing."""
    build(db, database, CHAIN)
    build(db, database, PAYABLE)
    cl.grant_line(
        db,
        database,
        LineSpec("SC-C", "C", LineKind.SUPPLY_CHAIN, 150_000_000, CNY, date(2030, 1, 1)),
    )
    vouchers.issue(db, database, "V1", "C", "T1", 100_000_000, CNY, ["INV-P"], D0, DUE)
    day1, day2 = D0 + timedelta(days=1), D0 + timedelta(days=2)
    first = vouchers.split(db, database, "V1", [60_000_000, 40_000_000], day1, "req-s")
    assert vouchers.split(db, database, "V1", [60_000_000, 40_000_000], day1, "req-s") == first
    with pytest.raises(InvalidState):
        vouchers.split(db, database, "V1", [60_000_000, 40_000_000], day1, "req-other")
    moved = vouchers.transfer(db, database, "V1.1", "T2", day2, "req-t")
    assert vouchers.transfer(db, database, "V1.1", "T2", day2, "req-t") == moved
    with pytest.raises(InvalidState, match="already held"):
        vouchers.transfer(db, database, "V1.1", "T2", day2, "req-late")
    hops = [(t.id, t.debit_account_id, t.credit_account_id, t.amount)
            for t in ledger.all_transfers(db, database)
            if t.code in ("voucher_split", "voucher_transfer")]  # fmt: skip
    t1, t2, contra = "9202:CNY:T1", "9202:CNY:T2", "9203:CNY:V1"
    assert sorted(hops) == [
        ("vs:V1:req-s:0", contra, t1, 100_000_000),
        ("vs:V1:req-s:1", t1, contra, 60_000_000),
        ("vs:V1:req-s:2", t1, contra, 40_000_000),
        ("vt:V1.1:req-t", t2, t1, 60_000_000),
    ]
    lines = ledger.statement(db, database, t2)
    assert [(x.code, x.ref, x.debit) for x in lines] == [("voucher_transfer", "V1.1", 60_000_000)]
    assert _held(db, database) == {"T1": 40_000_000, "T2": 60_000_000, "T3": 0}
    assert ledger.trial_balance(db, database, CNY).balanced


def test_voucher_issue_limited_by_core_line(db: Driver, database: str) -> None:
    build(db, database, CHAIN)
    build(db, database, PAYABLE)
    cl.grant_line(
        db,
        database,
        LineSpec("SC-C", "C", LineKind.SUPPLY_CHAIN, 50_000_000, CNY, date(2030, 1, 1)),
    )
    with pytest.raises(LimitExceeded):
        vouchers.issue(db, database, "V1", "C", "T1", 60_000_000, CNY, ["INV-P"], D0, DUE)
    assert ledger.all_transfers(db, database) == [
        t for t in ledger.all_transfers(db, database) if t.code == "limit_grant"
    ]


@pytest.mark.slow
def test_each_funder_book_balances_on_its_own(db: Driver, database: str) -> None:
    """A piece discounted by another funder (bank-b) is in bank-b's book; clearing pays it
    through both funders' cash accounts, so each funder's trial balance is zero; a line of
    bank-b draws into the borrower's settlement account with bank-b."""
    build(db, database, CHAIN)
    build(db, database, PAYABLE)
    cl.grant_line(
        db, database, LineSpec("SC-C", "C", LineKind.SUPPLY_CHAIN, 150_000_000, CNY,
                               date(2030, 1, 1)),
    )  # fmt: skip
    cl.grant_line(
        db,
        database,
        LineSpec("L-B", "T2", LineKind.ENTERPRISE, 9_000_000, CNY, date(2030, 1, 1),
                 funder_id="bank-b"),
    )  # fmt: skip
    vouchers.issue(db, database, "V1", "C", "T1", 100_000_000, CNY, ["INV-P"], D0, DUE)
    vouchers.split(db, database, "V1", [60_000_000, 40_000_000], D0 + timedelta(days=1))
    vouchers.transfer(db, database, "V1.1", "T2", D0 + timedelta(days=2))
    fin_on = D0 + timedelta(days=30)
    _, proceeds = vouchers.finance_voucher(
        db, database, "V1.1", 400, fin_on, DayCount.ACT_360, funder_id="bank-b"
    )
    disc = 60_000_000 - proceeds
    assert disc == discount(60_000_000, 400, fin_on, DUE, DayCount.ACT_360) > 0
    cl.drawdown(db, database, "L-B", 5_000_000, "dd-b", D0 + timedelta(days=31))
    # The holder is paid with bank-b; nothing of it is in the default funder's book.
    held_b = ledger.get_account(db, database, settlement_account("T2", CNY, "bank-b").id)
    assert held_b.credit_balance == proceeds + 5_000_000 and held_b.id == "2011:CNY:T2@bank-b"
    assert ledger.get_accounts(db, database, [settlement_account("T2", CNY).id]) == {}
    for funder in ("default", "bank-b", None):
        assert ledger.trial_balance(db, database, CNY, funder).balanced, funder
    settlement.deposit(db, database, "C", 100_000_000, CNY, "core-pays", DUE)
    vouchers.clear(db, database, "V1", DUE)
    books = {f: ledger.trial_balance(db, database, CNY, f) for f in ("default", "bank-b")}
    assert all(tb.balanced and tb.funder_id == f for f, tb in books.items())
    whole = ledger.trial_balance(db, database, CNY)
    assert whole.total_debits == sum(tb.total_debits for tb in books.values())
    b_lines = {x.code: x.balance for x in books["bank-b"].lines}
    # bank-b: collected the face in cash, paid the proceeds and the drawdown out to T2,
    # earned the discount; its voucher receivable and deferred discount are closed.
    assert b_lines[AccountCode.CASH.value] == 60_000_000
    assert b_lines[AccountCode.FACTORING.value] == 0
    assert b_lines[AccountCode.DEFERRED_DISCOUNT.value] == 0
    assert b_lines[AccountCode.DISCOUNT_INCOME.value] == -disc
    assert b_lines[AccountCode.SETTLEMENT.value] == -(proceeds + 5_000_000)
    assert b_lines[AccountCode.LOANS.value] == 5_000_000
    d_lines = {x.code: x.balance for x in books["default"].lines}
    assert d_lines[AccountCode.CASH.value] == 100_000_000 - 60_000_000  # sent on to bank-b
    assert d_lines.get(AccountCode.DISCOUNT_INCOME.value, 0) == 0  # the income is bank-b's
    recv = ledger.get_account(db, database, principal_id("V1.1", CNY, AccountCode.FACTORING))
    assert recv.debit_balance == 0
    assert ledger.get_account(db, database, settlement_account("T1", CNY).id).credit_balance == (
        40_000_000
    )


def test_unpaid_at_maturity_is_overdue_until_the_core_pays(db: Driver, database: str) -> None:
    """At maturity without payment the open pieces (live and discounted) become overdue with
    one alert about the voucher, its core and its holders; a later payment clears them with
    the usual postings."""
    build(db, database, CHAIN)
    build(db, database, PAYABLE)
    cl.grant_line(
        db,
        database,
        LineSpec("SC-C", "C", LineKind.SUPPLY_CHAIN, 150_000_000, CNY, date(2030, 1, 1)),
    )
    vouchers.issue(db, database, "V1", "C", "T1", 100_000_000, CNY, ["INV-P"], D0, DUE)
    vouchers.split(db, database, "V1", [60_000_000, 40_000_000], D0 + timedelta(days=1))
    vouchers.transfer(db, database, "V1.1", "T2", D0 + timedelta(days=2))
    _, proceeds = vouchers.finance_voucher(db, database, "V1.2", 350, D0 + timedelta(days=30))
    assert vouchers.mark_overdue(db, database, DUE - timedelta(days=1)) == vouchers.OverdueRun(0, 0)
    assert vouchers.mark_overdue(db, database, DUE) == vouchers.OverdueRun(2, 1)
    assert vouchers.mark_overdue(db, database, DUE + timedelta(days=1)) == vouchers.OverdueRun(0, 0)
    status = {v.id: v.status for v in vouchers.tree(db, database, "V1")}
    assert status == {"V1": "split", "V1.1": "overdue", "V1.2": "overdue"}
    alerts, _, _ = db.execute_query(
        "MATCH (al:Alert {kind: 'voucher_overdue'})-[:ABOUT]->(e:Enterprise) "
        "RETURN al.id AS id, al.cleared_at AS cleared, collect(e.id) AS about",
        database_=database,
    )
    assert [(a["id"], sorted(a["about"]), a["cleared"]) for a in alerts] == [
        (f"voucher_overdue:V1:{DUE}", ["C", "T1", "T2"], None)
    ]
    with pytest.raises(InvalidState):  # an overdue piece is neither moved nor discounted
        vouchers.transfer(db, database, "V1.1", "T3", DUE + timedelta(days=1))
    with pytest.raises(NotEligible, match="too little"):
        vouchers.clear(db, database, "V1", DUE + timedelta(days=3))
    settlement.deposit(db, database, "C", 100_000_000, CNY, "core-pays-late", DUE)
    cleared = vouchers.clear(db, database, "V1", DUE + timedelta(days=5))
    assert {v.id: v.status for v in cleared} == {
        "V1": "split", "V1.1": "cleared", "V1.2": "cleared"
    }
    bal = {
        e: ledger.get_account(db, database, settlement_account(e, CNY).id).credit_balance
        for e in ("C", "T2")
    }
    assert bal == {"C": 0, "T2": 60_000_000}
    recv = ledger.get_account(db, database, principal_id("V1.2", CNY, AccountCode.FACTORING))
    assert recv.debit_balance == 0 and proceeds < 40_000_000
    assert cl.usage(db, database, "SC-C").used_minor == 0
    assert _held(db, database) == {"T1": 0, "T2": 0, "T3": 0}
    assert ledger.trial_balance(db, database, CNY).balanced
    (after,), _, _ = db.execute_query(
        "MATCH (al:Alert {kind: 'voucher_overdue'}) RETURN al.cleared_at AS cleared",
        database_=database,
    )
    assert after["cleared"] is not None
