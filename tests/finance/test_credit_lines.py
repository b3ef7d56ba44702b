"""Credit lines on the real Neo4j: hierarchy occupation, freeze, expiry, limit cuts, and 200
concurrent drawdowns against one line."""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from neo4j import Driver

from finance import credit_lines as cl
from finance import ledger
from finance.credit_lines import LineKind, LineSpec
from finance.errors import FinanceError, InvalidState, LimitExceeded
from tests.finance.conftest import CHAIN, build

CNY = "CNY"
END = date(2099, 12, 31)


def test_group_line_limits_every_member(db: Driver, database: str) -> None:
    build(db, database, CHAIN)
    cl.grant_line(db, database, LineSpec("G", "C", LineKind.GROUP, 1000, CNY, END))
    cl.grant_line(db, database, LineSpec("G-T1", "T1", LineKind.ENTERPRISE, 800, CNY, END, "G"))
    cl.grant_line(db, database, LineSpec("G-T2", "T2", LineKind.ENTERPRISE, 800, CNY, END, "G"))
    cl.drawdown(db, database, "G-T1", 700, "r1")
    # T2's own line has 800, but the group has only 300 left: refused, nothing written.
    with pytest.raises(LimitExceeded):
        cl.drawdown(db, database, "G-T2", 400, "r2")
    assert cl.usage(db, database, "G-T2").used_minor == 0
    cl.drawdown(db, database, "G-T2", 300, "r3")
    assert cl.usage(db, database, "G").available_minor == 0
    # A retry of r1 is the same drawdown, not a second one.
    assert cl.drawdown(db, database, "G-T1", 700, "r1").transfer_id == "dd:r1:payout"
    assert cl.usage(db, database, "G-T1").used_minor == 700


def test_freeze_expiry_and_limit_cut(db: Driver, database: str) -> None:
    build(db, database, CHAIN)
    cl.grant_line(
        db, database, LineSpec("L", "T1", LineKind.ENTERPRISE, 1000, CNY, date(2030, 1, 1))
    )
    cl.drawdown(db, database, "L", 600, "a", on=date(2029, 1, 1))
    cl.set_status(db, database, "L", frozen=True, reason="court freeze order")
    with pytest.raises(InvalidState, match="court freeze order"):
        cl.drawdown(db, database, "L", 1, "b", on=date(2029, 1, 1))
    cl.set_status(db, database, "L", frozen=False, reason="lifted")
    with pytest.raises(InvalidState, match="expired"):
        cl.drawdown(db, database, "L", 1, "c", on=date(2030, 1, 2))
    with pytest.raises(LimitExceeded):
        cl.change_limit(db, database, "L", 500, "cut1")
    assert cl.change_limit(db, database, "L", 700, "cut2").available_minor == 100
    assert cl.expire_lines(db, database, date(2030, 1, 2)) == ["L"]
    with pytest.raises(FinanceError):
        cl.grant_line(db, database, LineSpec("X", "nobody", LineKind.ENTERPRISE, 1, CNY, END))


@pytest.mark.slow
def test_200_concurrent_drawdowns_never_exceed_the_line(
    db: Driver, database: str, caplog: pytest.LogCaptureFixture
) -> None:
    build(db, database, CHAIN)
    cl.grant_line(db, database, LineSpec("L", "T1", LineKind.ENTERPRISE, 10_000, CNY, END))
    amounts = [37 + (i * 53) % 151 for i in range(200)]  # 37..187, total far above 10,000

    def one(i: int) -> tuple[int, bool]:
        try:
            cl.drawdown(db, database, "L", amounts[i], f"req-{i}")
            return i, True
        except LimitExceeded:
            return i, False

    with caplog.at_level(logging.WARNING, logger="neo4j"), ThreadPoolExecutor(32) as pool:
        outcomes = list(pool.map(one, range(200)))
    # Drawdowns on one line queue in this process (credit_lines.line_guard), not in the
    # database's lock manager: without the guard about 80 of them died in deadlocks.
    assert not [r for r in caplog.records if "DeadlockDetected" in r.getMessage()]
    accepted = [i for i, ok in outcomes if ok]
    used = cl.usage(db, database, "L").used_minor
    assert used == sum(amounts[i] for i in accepted) <= 10_000
    assert 10_000 - used < max(amounts)  # refusals only once the line was (nearly) full
    payouts = [t for t in ledger.all_transfers(db, database) if t.code == "disbursement"]
    assert sorted(t.ref for t in payouts) == sorted(f"req-{i}" for i in accepted)
    assert ledger.trial_balance(db, database, CNY).balanced
    recomputed = ledger.recompute_totals(db, database)
    for acc in ledger.get_accounts(db, database, list(recomputed)).values():
        assert acc.debits_posted == recomputed[acc.id].debits_posted
        assert acc.credits_posted == recomputed[acc.id].credits_posted


def test_a_write_stopped_while_waiting_for_a_lock_runs_again(
    db: Driver, database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(db, database, CHAIN)
    cl.grant_line(db, database, LineSpec("L", "T1", LineKind.ENTERPRISE, 10_000, CNY, END))
    cl.drawdown(db, database, "L", 100, "req-first")  # the accounts exist
    monkeypatch.setattr(ledger, "WRITE_TIMEOUT_S", 1.0)
    # Another process holds every account for 3 s: the drawdown's attempts wait for their
    # locks until the server stops them at the write timeout, then one gets through.
    with db.session(database=database) as session, ThreadPoolExecutor(1) as pool:
        holder = session.begin_transaction()
        holder.run("MATCH (a:Account) SET a.held_by_test = true").consume()
        late = pool.submit(cl.drawdown, db, database, "L", 250, "req-late")
        time.sleep(3)
        holder.rollback()
        assert late.result(timeout=60).amount_minor == 250
    assert cl.usage(db, database, "L").used_minor == 350
