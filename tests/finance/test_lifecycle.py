"""The financing life cycle end to end on the real Neo4j: factoring from application to
close (ledger reconciles to zero), overdue to write-off, and pledge races."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from neo4j import Driver

from finance import credit_lines as cl
from finance import ledger, lifecycle, settlement
from finance.accounts import AccountCode, interest_id, lender_account, principal_id
from finance.credit_lines import LineKind, LineSpec
from finance.daycount import DayCount, bps_of, simple_interest
from finance.errors import Forbidden, InvalidState
from finance.lifecycle import ApplicationCreate, AppStatus, FinStatus, RiskClass
from tests.finance.conftest import CHAIN, build

CNY = "CNY"
D0 = date(2026, 1, 5)
BIG_TRADE = "MATCH (:Enterprise {id: 'T1'})-[s:SUPPLIES]->() SET s.amount_12m = 5000000000"
INVOICES = """
MATCH (t1:Enterprise {id: 'T1'}), (c:Enterprise {id: 'C'})
UNWIND $rows AS r
CREATE (i:Invoice {id: r.id, amount: r.amount, status: 'issued', issued_on: date('2025-12-01')})
CREATE (i)-[:SELLER]->(t1)
CREATE (i)-[:BUYER]->(c)
"""


def _setup(db: Driver, database: str, invoices: list[tuple[str, int]]) -> None:
    build(db, database, CHAIN)
    build(db, database, BIG_TRADE)
    build(db, database, INVOICES, rows=[{"id": i, "amount": a} for i, a in invoices])
    cl.grant_line(
        db,
        database,
        LineSpec("L-T1", "T1", LineKind.ENTERPRISE, 1_000_000_000, CNY, date(2030, 1, 1)),
    )


def _app(id: str, invoice: str, amount: int, maker: str = "rm1") -> ApplicationCreate:
    return ApplicationCreate(id, "T1", "factoring_recourse", amount, CNY, [invoice], maker)


@pytest.mark.slow
def test_factoring_apply_to_close_reconciles_to_zero(db: Driver, database: str) -> None:
    _setup(db, database, [("INV-1", 800_000_000)])
    app = lifecycle.submit_application(db, database, _app("A1", "INV-1", 800_000_000), D0)
    # 80% of the invoice is 6.4M, above the automatic approval limit: sent to a person.
    assert app.status == AppStatus.REFERRED
    assert app.decided_amount_minor == 640_000_000
    assert any("automatic approval limit" in r for r in app.reasons)
    assert app.policy_version
    with pytest.raises(Forbidden, match="cannot check"):
        lifecycle.review_application(db, database, "A1", "rm1", "credit_officer", True, today=D0)
    app = lifecycle.review_application(
        db, database, "A1", "co1", "credit_officer", True, "trade verified", today=D0
    )
    assert app.status == AppStatus.APPROVED and app.financing_id == "F-A1"
    assert [d["kind"] for d in lifecycle.decisions(db, database, "A1")] == ["automatic", "review"]
    assert cl.usage(db, database, "L-T1").held_minor == 640_000_000
    # The invoice now backs a live financing: a second application on it is declined, and
    # kept, with the reason that names the financing.
    second = lifecycle.submit_application(db, database, _app("A2", "INV-1", 100), D0)
    assert (second.status, second.financing_id) == (AppStatus.DECLINED, None)
    assert "invoice INV-1 already backs live financing F-A1" in second.reasons
    assert lifecycle.get_application(db, database, "A2") == second
    assert [d["verdict"] for d in lifecycle.decisions(db, database, "A2")] == ["decline"]
    with pytest.raises(InvalidState):
        lifecycle.disburse(db, database, "F-A1", D0)
    lifecycle.sign_contract(db, database, "F-A1", "CT-1", D0)
    fin = lifecycle.disburse(db, database, "F-A1", D0)
    assert (fin.status, fin.maturity_on) == (FinStatus.ACTIVE, D0 + timedelta(days=90))
    line = cl.usage(db, database, "L-T1")
    assert (line.used_minor, line.held_minor) == (640_000_000, 0)
    fee = bps_of(640_000_000, 50)
    settle = f"{AccountCode.SETTLEMENT.value}:{CNY}:T1"
    assert ledger.get_account(db, database, settle).credit_balance == 640_000_000 - fee
    for day in range(1, 31):  # the daily job
        lifecycle.accrue_all(db, database, D0 + timedelta(days=day))
    expected = simple_interest(
        640_000_000, fin.rate_bps, D0, D0 + timedelta(days=30), DayCount.ACT_360
    )
    fin = lifecycle.get_financing(db, database, "F-A1")
    assert fin.interest_due_minor == expected
    r1 = lifecycle.repay(db, database, "F-A1", 300_000_000, D0 + timedelta(days=30), "p1")
    assert (r1.interest_paid_minor, r1.principal_paid_minor) == (expected, 300_000_000 - expected)
    assert cl.usage(db, database, "L-T1").used_minor == 640_000_000 - r1.principal_paid_minor
    # A retried repayment changes nothing.
    again = lifecycle.repay(db, database, "F-A1", 300_000_000, D0 + timedelta(days=30), "p1")
    assert again.financing.outstanding_minor == r1.financing.outstanding_minor
    settlement.deposit(db, database, "T1", 400_000_000, CNY, "top-up", D0 + timedelta(days=59))
    out = r1.financing.outstanding_minor
    interest2 = simple_interest(
        out, fin.rate_bps, D0 + timedelta(days=30), D0 + timedelta(days=60), DayCount.ACT_360
    )
    r2 = lifecycle.repay(db, database, "F-A1", out + interest2, D0 + timedelta(days=60), "p2")
    assert r2.financing.status == FinStatus.CLOSED  # early and full
    # Reconciliation: the financing's accounts are zero, the line is free, the books balance.
    accounts = ledger.get_accounts(
        db, database, [principal_id("F-A1", CNY, AccountCode.FACTORING), interest_id("F-A1", CNY)]
    )
    assert [a.debit_balance for a in accounts.values()] == [0, 0]
    line = cl.usage(db, database, "L-T1")
    assert (line.used_minor, line.held_minor, line.available_minor) == (0, 0, 1_000_000_000)
    assert ledger.trial_balance(db, database, CNY).balanced
    income = ledger.get_account(db, database, lender_account(AccountCode.INTEREST_INCOME, CNY).id)
    assert income.credit_balance == expected + interest2
    cash = ledger.get_account(db, database, lender_account(AccountCode.CASH, CNY).id)
    t1 = ledger.get_account(db, database, settle)
    # What T1 holds now is what it got (advance less fee, plus its deposit) less what it paid.
    assert t1.credit_balance == 640_000_000 - fee + 400_000_000 - 640_000_000 - expected - interest2
    assert cash.debit_balance == 400_000_000
    # The invoice is free again once the financing is closed.
    app3 = lifecycle.submit_application(db, database, _app("A3", "INV-1", 100_000_000), D0)
    assert app3.status == AppStatus.APPROVED


def test_overdue_penalty_classification_and_write_off(db: Driver, database: str) -> None:
    _setup(db, database, [("INV-9", 100_000_000)])
    app = lifecycle.submit_application(db, database, _app("B1", "INV-9", 50_000_000), D0)
    assert app.status == AppStatus.APPROVED, app.reasons
    fid = app.financing_id
    assert fid is not None
    lifecycle.sign_contract(db, database, fid, "CT-9", D0)
    fin = lifecycle.disburse(db, database, fid, D0)
    maturity = fin.maturity_on
    assert maturity is not None
    fin = lifecycle.update_delinquency(db, database, fid, maturity + timedelta(days=100))
    assert (fin.status, fin.dpd, fin.risk_class) == (FinStatus.OVERDUE, 100, RiskClass.SUBSTANDARD)
    assert fin.provision_minor == bps_of(50_000_000, 2500)
    regular = simple_interest(50_000_000, fin.rate_bps, D0, maturity, DayCount.ACT_360)
    penalty = simple_interest(
        50_000_000,
        fin.rate_bps * 150 // 100,
        maturity,
        maturity + timedelta(days=100),
        DayCount.ACT_360,
    )
    assert fin.interest_due_minor == regular + penalty
    with pytest.raises(InvalidState, match="only doubtful or loss"):
        lifecycle.write_off(db, database, fid, "co1", "credit_officer", maturity)
    fin = lifecycle.update_delinquency(db, database, fid, maturity + timedelta(days=400))
    assert fin.risk_class == RiskClass.LOSS
    fin = lifecycle.write_off(
        db, database, fid, "co1", "credit_officer", maturity + timedelta(days=400)
    )
    assert fin.status == FinStatus.WRITTEN_OFF
    prov = ledger.get_account(db, database, lender_account(AccountCode.PROVISION, CNY).id)
    assert prov.debit_balance == 0
    assert cl.usage(db, database, "L-T1").used_minor == 0
    assert ledger.trial_balance(db, database, CNY).balanced


@pytest.mark.slow
def test_an_approval_not_drawn_in_time_expires_and_frees_line_and_invoice(
    db: Driver, database: str
) -> None:
    _setup(db, database, [("INV-5", 100_000_000)])
    app = lifecycle.submit_application(db, database, _app("E1", "INV-5", 50_000_000), D0)
    assert app.status == AppStatus.APPROVED and app.financing_id == "F-E1", app.reasons
    lifecycle.sign_contract(db, database, "F-E1", "CT-E1", D0)
    assert cl.usage(db, database, "L-T1").held_minor == 50_000_000
    # On the last valid day the approval stands; the day after, the end-of-day job cancels it.
    last_day = D0 + timedelta(days=lifecycle.APPROVAL_VALID_DAYS)
    assert lifecycle.run_daily(db, database, last_day).expired == 0
    assert lifecycle.get_financing(db, database, "F-E1").status == FinStatus.CONTRACTED
    assert lifecycle.run_daily(db, database, last_day + timedelta(days=1)).expired == 1
    assert lifecycle.get_financing(db, database, "F-E1").status == FinStatus.CANCELLED
    assert cl.usage(db, database, "L-T1").held_minor == 0
    assert lifecycle.run_daily(db, database, last_day + timedelta(days=2)).expired == 0
    with pytest.raises(InvalidState):
        lifecycle.disburse(db, database, "F-E1", last_day + timedelta(days=2))
    # The invoice backs nothing live any more: a new application on it goes through.
    again = lifecycle.submit_application(
        db, database, _app("E2", "INV-5", 50_000_000), last_day + timedelta(days=2)
    )
    assert again.status == AppStatus.APPROVED, again.reasons
    assert ledger.trial_balance(db, database, CNY).balanced


def test_two_racing_pledges_of_one_invoice(db: Driver, database: str) -> None:
    _setup(db, database, [("INV-R", 100_000_000)])

    def submit(i: int) -> str:
        app = lifecycle.submit_application(db, database, _app(f"R{i}", "INV-R", 10_000_000), D0)
        if app.status == AppStatus.DECLINED:
            assert any("already backs live financing" in r for r in app.reasons), app.reasons
        return app.status.value

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(submit, range(6)))
    assert sorted(outcomes) == ["approved"] + ["declined"] * 5
    assert cl.usage(db, database, "L-T1").held_minor == 10_000_000


@pytest.mark.slow
def test_40_concurrent_approvals_on_one_line_hold_it_once_each(
    db: Driver, database: str, caplog: pytest.LogCaptureFixture
) -> None:
    invoices = [(f"INV-C{i}", 1_000_000) for i in range(40)]
    _setup(db, database, invoices)

    def submit(i: int) -> AppStatus:
        app = _app(f"C{i}", f"INV-C{i}", 1_000_000)
        return lifecycle.submit_application(db, database, app, D0).status

    with caplog.at_level(logging.WARNING, logger="neo4j"), ThreadPoolExecutor(32) as pool:
        outcomes = list(pool.map(submit, range(40)))
    # Holds on one line queue in this process (credit_lines.line_guard), as drawdowns do,
    # instead of deadlocking on the line's accounts in the database and retrying.
    assert not [r for r in caplog.records if "DeadlockDetected" in r.getMessage()]
    assert outcomes == [AppStatus.APPROVED] * 40
    assert cl.usage(db, database, "L-T1").held_minor == 40 * 800_000
    assert ledger.trial_balance(db, database, CNY).balanced


DEALER = """
MATCH (c:Enterprise {id: 'C'})
CREATE (d:Enterprise {id: 'D', name: 'Dealer Motors', status: 'active'})
CREATE (c)-[:SUPPLIES {amount_12m: 900000000, first_on: date('2023-01-01')}]->(d)
CREATE (w:Warehouse {id: 'W1', name: 'Bonded Warehouse 1'})
CREATE (cars:Asset {id: 'CARS-1', kind: 'goods', quantity: 10, unit_value: 10000000})
CREATE (rcpt:Asset {id: 'WR-1', kind: 'warehouse_receipt', value_minor: 80000000})
CREATE (d)-[:OWNS]->(cars)
CREATE (d)-[:OWNS]->(rcpt)
CREATE (d)-[:OWNS]->(:Asset {id: 'CARS-2', kind: 'goods', quantity: 1, unit_value: 10000000})
CREATE (cars)-[:STORED_AT]->(w)
CREATE (rcpt)-[:STORED_AT]->(w)
"""


def test_confirmed_warehouse_draws_on_the_core_line(db: Driver, database: str) -> None:
    build(db, database, CHAIN)
    build(db, database, DEALER)
    cl.grant_line(db, database, LineSpec("SC-C", "C", LineKind.SUPPLY_CHAIN, 500_000_000, CNY,
                                         date(2030, 1, 1)))
    cl.grant_line(db, database, LineSpec("L-D", "D", LineKind.ENTERPRISE, 500_000_000, CNY,
                                         date(2030, 1, 1)))
    app = lifecycle.submit_application(db, database, ApplicationCreate(
        "CW1", "D", "confirmed_warehouse", 50_000_000, CNY, ["CARS-1"], "rm1"), D0)
    assert app.status == AppStatus.APPROVED, app.reasons
    fin = lifecycle.get_financing(db, database, "F-CW1")
    assert fin.line_id == "SC-C"  # the core's line, not the dealer's own
    assert cl.usage(db, database, "SC-C").held_minor == 50_000_000
    assert cl.usage(db, database, "L-D").held_minor == 0
    # A warehouse-receipt pledge takes receipts only, on the dealer's own line.
    wr0 = lifecycle.submit_application(db, database, ApplicationCreate(
        "WR0", "D", "warehouse_receipt_pledge", 10_000_000, CNY, ["CARS-2"], "rm1"), D0)
    assert wr0.status == AppStatus.DECLINED
    assert "asset CARS-2 is not a warehouse receipt" in wr0.reasons
    wr = lifecycle.submit_application(db, database, ApplicationCreate(
        "WR1", "D", "warehouse_receipt_pledge", 40_000_000, CNY, ["WR-1"], "rm1"), D0)
    assert wr.status == AppStatus.APPROVED and wr.decided_amount_minor == 40_000_000
    assert cl.usage(db, database, "L-D").held_minor == 40_000_000
    lifecycle.cancel(db, database, "F-WR1", "customer withdrew")
    assert cl.usage(db, database, "L-D").held_minor == 0
