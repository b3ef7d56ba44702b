"""Group commit of ledger writes (`finance/batching.py`) on the real Neo4j: jobs that wait
together share one transaction and each gets its own answer; a refusal stays its own; a
failure of the group's transaction runs each job alone; a full queue refuses at once.

Each test arranges its group deterministically: the committer waits long (``wait_s``) but
takes the group as soon as ``max_batch`` jobs are waiting, and exactly that many are sent."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime

import pytest
from neo4j import Driver, ManagedTransaction
from neo4j.exceptions import Neo4jError

from finance import ledger
from finance import settlement as fs
from finance.administration import Movement, MovementJob, move
from finance.batching import GroupCommitter, Prepared, run_alone
from finance.errors import Busy, LimitExceeded
from graph.errors import DatabaseUnavailable
from graph.model import DEFAULT_FUNDER
from tests.finance.conftest import CHAIN, build

pytestmark = pytest.mark.neo4j
CNY = "CNY"


def _job(deposit: bool, enterprise: str, amount: int, req: str) -> MovementJob:
    return MovementJob(deposit, enterprise, amount, CNY, req, None, DEFAULT_FUNDER)


def _movements(db: Driver, database: str) -> dict[str, int]:
    return {
        t.id: t.amount
        for t in ledger.all_transfers(db, database)
        if t.code in ("deposit", "withdrawal")
    }


def _answers(futures: list[Future[Movement]]) -> list[Movement | BaseException]:
    out: list[Movement | BaseException] = []
    for f in futures:
        e = f.exception(timeout=60)
        out.append(e if e is not None else f.result())
    return out


@dataclass(frozen=True)
class Poison:
    """A job whose reads fail the whole transaction (a division by zero in Cypher): no job
    owns that failure, so the group's jobs must run again alone."""

    key: str = "poison"

    def prepare(self, tx: ManagedTransaction, now: datetime) -> Prepared:
        tx.run("RETURN 1 / 0 AS x").consume()
        return Prepared([], [])

    def finish(self, results: list[ledger.TransferResult], accounts: object) -> None:
        return None


def test_a_group_checks_each_job_against_the_others_and_answers_each(
    db: Driver, database: str
) -> None:
    build(db, database, CHAIN)
    move(db, database, deposit=True, enterprise_id="T1", amount=1_000, currency=CNY,
         request_id="seed")  # fmt: skip
    committer = GroupCommitter(db, database, max_batch=6, wait_s=5.0)
    try:
        # 1,000 held: four withdrawals of 300 compete; a deposit of 50 is in the same group,
        # after them, so at most three fit; T2's withdrawal has no account at all.
        jobs = [_job(False, "T1", 300, f"w{i}") for i in range(4)]
        jobs += [_job(True, "T1", 50, "d1"), _job(False, "T2", 1, "w-t2")]
        answers = _answers([committer.submit(j) for j in jobs])
    finally:
        committer.close()
    assert (committer.stats.groups, committer.stats.largest, committer.stats.jobs) == (1, 6, 6)
    ok = [a for a in answers[:4] if isinstance(a, Movement)]
    refused = [a for a in answers[:4] if isinstance(a, LimitExceeded)]
    assert (len(ok), len(refused)) == (3, 1)
    assert "holds 150, less than the 300 asked" in str(refused[0])  # as the group left it
    assert isinstance(answers[4], Movement) and answers[4].transfer_id == "dep:d1"
    assert isinstance(answers[5], LimitExceeded) and "holds 0" in str(answers[5])
    moved = _movements(db, database)
    assert sorted(moved) == sorted(["dep:seed", "dep:d1", *(m.transfer_id for m in ok)])
    assert ledger.get_account(db, database, "2011:CNY:T1").credit_balance == 150
    # The refused withdrawal from T2 opened no account.
    assert not ledger.get_accounts(db, database, ["2011:CNY:T2"])
    assert ledger.trial_balance(db, database, CNY).balanced


def test_a_failed_group_transaction_runs_each_job_alone_and_loses_none(
    db: Driver, database: str
) -> None:
    build(db, database, CHAIN)
    committer = GroupCommitter(db, database, max_batch=5, wait_s=5.0)
    try:
        futures: list[Future[object]] = []
        for i in range(4):
            futures.append(committer.submit(_job(True, "T1", 100 + i, f"d{i}")))
            if i == 1:
                futures.append(committer.submit(Poison()))
        answers = [f.exception(timeout=60) or f.result() for f in futures]
    finally:
        committer.close()
    assert committer.stats.fallbacks == 1
    assert isinstance(answers[2], Neo4jError)  # the poison's own answer
    good = [a for a in answers if isinstance(a, Movement)]
    assert sorted(m.transfer_id for m in good) == [f"dep:d{i}" for i in range(4)]
    assert _movements(db, database) == {f"dep:d{i}": 100 + i for i in range(4)}
    assert ledger.get_account(db, database, "2011:CNY:T1").credit_balance == 406


def test_the_same_key_twice_waits_for_the_next_group_and_moves_money_once(
    db: Driver, database: str
) -> None:
    build(db, database, CHAIN)
    committer = GroupCommitter(db, database, max_batch=3, wait_s=5.0)
    try:
        jobs = [_job(True, "T1", 70, "same"), _job(True, "T1", 70, "same"),
                _job(True, "T2", 5, "other")]  # fmt: skip
        answers = _answers([committer.submit(j) for j in jobs])
    finally:
        committer.close()
    assert all(isinstance(a, Movement) for a in answers), answers
    assert committer.stats.groups == 2  # the repeat went to a group of its own
    assert _movements(db, database) == {"dep:same": 70, "dep:other": 5}
    assert ledger.get_account(db, database, "2011:CNY:T1").credit_balance == 70


def test_a_full_queue_refuses_at_once_and_what_it_took_is_answered(
    db: Driver, database: str
) -> None:
    build(db, database, CHAIN)
    entered, release = threading.Event(), threading.Event()

    def gate() -> None:  # holds the writer on its first group
        entered.set()
        release.wait(60)

    committer = GroupCommitter(db, database, max_batch=10, wait_s=0.0, max_queue=2, gate=gate)
    try:
        first = committer.submit(_job(True, "T1", 1, "q0"))
        assert entered.wait(30)
        queued = [committer.submit(_job(True, "T1", 1, f"q{i}")) for i in (1, 2)]
        with pytest.raises(Busy, match="nothing was written"):
            committer.submit(_job(True, "T1", 1, "q3"))
        release.set()
        answers = _answers([first, *queued])
    finally:
        committer.close()
    assert all(isinstance(a, Movement) for a in answers), answers
    assert committer.stats.refused == 1
    assert sorted(_movements(db, database)) == ["dep:q0", "dep:q1", "dep:q2"]


def test_a_gone_database_fails_the_group_at_once_with_nothing_written(
    db: Driver, database: str
) -> None:
    build(db, database, CHAIN)

    def gate() -> None:
        raise DatabaseUnavailable("the database cannot be reached")

    committer = GroupCommitter(db, database, max_batch=3, wait_s=5.0, gate=gate)
    try:
        answers = _answers([committer.submit(_job(True, "T1", 1, f"g{i}")) for i in range(3)])
    finally:
        committer.close()
    assert all(isinstance(a, DatabaseUnavailable) for a in answers)
    assert _movements(db, database) == {}


def test_alone_a_refusal_rolls_back_everything_as_before(db: Driver, database: str) -> None:
    build(db, database, CHAIN)
    with pytest.raises(LimitExceeded, match="holds 0, less than the 5 asked"):
        run_alone(db, database, _job(False, "T3", 5, "x"))
    assert not ledger.get_accounts(db, database, ["2011:CNY:T3"])
    assert fs.deposit_id("x") == "dep:x" and fs.withdrawal_id("x") == "wd:x"
