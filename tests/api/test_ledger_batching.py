"""Concurrent money movements through HTTP share commits (`finance/batching.py`, issue 24
item 3): many clients' withdrawals from one settlement account and drawdowns on one line,
sent at once, are committed in groups, yet exactly those the balance and the limit allow
succeed, nothing is overdrawn, and every request gets its own answer; one request id sent
by many clients at once moves money once.

The app here waits up to 50 ms for a group to fill (``ledger_batch_wait_ms``), so that
requests sent together are certain to meet in one."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from neo4j import Driver

from api.security import Role
from chainlens.settings import Settings
from finance import credit_lines as cl
from finance import ledger
from finance.batching import GroupCommitter
from finance.credit_lines import LineKind, LineSpec
from tests.api.conftest import gql
from tests.api.serving import serve_app, token_headers
from tests.finance.conftest import CHAIN, build

pytestmark = pytest.mark.neo4j

DEPOSIT = """mutation($e: ID!, $amount: BigInt!, $req: ID!) {
  depositToSettlement(enterpriseId: $e, amount: $amount, requestId: $req) {
    transferId balance } }"""
WITHDRAW = """mutation($e: ID!, $amount: BigInt!, $req: ID!) {
  withdrawFromSettlement(enterpriseId: $e, amount: $amount, requestId: $req) {
    transferId balance } }"""
DRAW = """mutation($line: ID!, $amount: BigInt!, $req: ID!) {
  drawdown(lineId: $line, amount: $amount, requestId: $req) { transferId } }"""


@pytest.fixture
def grouped(api_settings: Settings, db: Driver) -> Iterator[tuple[str, FastAPI]]:
    settings = api_settings.model_copy(update={"ledger_batch_wait_ms": 50.0})
    with serve_app(settings, db) as served:
        yield served


def _send(url: str, headers: dict[str, str], query: str, **variables: Any) -> dict[str, Any]:
    with httpx.Client(base_url=url, timeout=60) as c:
        response = gql(c, headers, query, **variables)
    assert response.status_code == 200, response.text  # a 503 or 500 is no answer here
    body: dict[str, Any] = response.json()
    return body


def test_concurrent_withdrawals_and_drawdowns_take_exactly_what_is_there(
    grouped: tuple[str, FastAPI], db: Driver, database: str
) -> None:
    url, app = grouped
    build(db, database, CHAIN)
    cl.grant_line(db, database, LineSpec("L-T2", "T2", LineKind.ENTERPRISE, 1_000, "CNY",
                                         date(2099, 1, 1)))  # fmt: skip
    with httpx.Client(base_url=url, timeout=30) as c:
        officer = token_headers(c, db, database, "batch-officer", Role.CREDIT_OFFICER)
        service = token_headers(c, db, database, "batch-service", Role.SERVICE)
    seeded = _send(url, officer, DEPOSIT, e="T1", amount=1_000, req="seed")
    assert seeded["data"]["depositToSettlement"]["balance"] == 1_000

    # 30 withdrawals of 70 from 1,000 (14 fit) and 20 drawdowns of 120 on a line of 1,000
    # (8 fit), all at once.
    def one(i: int) -> tuple[str, int, dict[str, Any]]:
        if i < 30:
            return "wd", i, _send(url, officer, WITHDRAW, e="T1", amount=70, req=f"w{i}")
        return "dd", i, _send(url, service, DRAW, line="L-T2", amount=120, req=f"d{i}")

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(one, range(50)))
    assert len(answers) == 50  # every request answered, once
    done: dict[str, list[str]] = {"wd": [], "dd": []}
    for kind, i, body in answers:
        if "errors" in body:
            error = body["errors"][0]
            assert error["extensions"]["code"] == "CONFLICT", body
            assert ("holds" if kind == "wd" else "has less than") in error["message"], body
        else:
            done[kind].append(f"w{i}" if kind == "wd" else f"d{i}")
    assert (len(done["wd"]), len(done["dd"])) == (14, 8)
    transfers = ledger.all_transfers(db, database)
    assert sorted(t.id for t in transfers if t.code == "withdrawal") == sorted(
        f"wd:{r}" for r in done["wd"]
    )
    assert sorted(t.ref for t in transfers if t.code == "disbursement") == sorted(done["dd"])
    # Nothing overdrawn: T1 holds what is left; the line is used up to 960 of 1,000.
    assert ledger.get_account(db, database, "2011:CNY:T1").credit_balance == 1_000 - 14 * 70
    assert cl.usage(db, database, "L-T2").used_minor == 8 * 120
    assert ledger.trial_balance(db, database, "CNY").balanced
    stats = app.state.ledger.stats
    assert stats.largest > 1, stats  # requests did share commits
    assert stats.groups < stats.jobs == 51, stats


def test_one_request_id_sent_at_once_by_many_clients_moves_money_once(
    grouped: tuple[str, FastAPI], db: Driver, database: str
) -> None:
    url, _ = grouped
    build(db, database, CHAIN)
    with httpx.Client(base_url=url, timeout=30) as c:
        officer = token_headers(c, db, database, "batch-officer-2", Role.CREDIT_OFFICER)

    def one(_: int) -> dict[str, Any]:
        return _send(url, officer, DEPOSIT, e="T3", amount=100, req="same-key")

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(one, range(12)))
    assert all("errors" not in a for a in answers), answers
    assert {a["data"]["depositToSettlement"]["transferId"] for a in answers} == {"dep:same-key"}
    deposits = [t for t in ledger.all_transfers(db, database) if t.code == "deposit"]
    assert [(t.id, t.amount) for t in deposits] == [("dep:same-key", 100)]
    assert ledger.get_account(db, database, "2011:CNY:T3").credit_balance == 100


def test_a_full_queue_answers_503_with_nothing_written_and_the_request_can_be_sent_again(
    grouped: tuple[str, FastAPI], db: Driver, database: str
) -> None:
    url, app = grouped
    build(db, database, CHAIN)
    with httpx.Client(base_url=url, timeout=30) as c:
        officer = token_headers(c, db, database, "batch-officer-3", Role.CREDIT_OFFICER)
    entered, release = threading.Event(), threading.Event()

    def gate() -> None:  # holds the writer on its first group
        entered.set()
        release.wait(60)

    # The app's committer, replaced by one that takes one waiting request at most.
    app.state.ledger.close()
    app.state.ledger = GroupCommitter(db, database, wait_s=0.0, max_queue=1, gate=gate)
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            first = pool.submit(_send, url, officer, DEPOSIT, e="T1", amount=10, req="q-1")
            assert entered.wait(30)
            second = pool.submit(_send, url, officer, DEPOSIT, e="T1", amount=20, req="q-2")
            deadline = time.monotonic() + 30
            while app.state.ledger.waiting < 1:
                assert time.monotonic() < deadline, "the second request never queued"
                time.sleep(0.02)
            with httpx.Client(base_url=url, timeout=30) as c:
                busy = gql(c, officer, DEPOSIT, e="T1", amount=30, req="q-3")
            release.set()
            answers = [first.result(), second.result()]
    finally:
        release.set()
    assert busy.status_code == 503 and busy.headers.get("retry-after"), busy.text
    error = busy.json()["errors"][0]
    assert error["extensions"]["code"] == "UNAVAILABLE"
    assert "nothing was written" in error["message"]
    assert all("errors" not in a for a in answers), answers
    deposits = {t.id for t in ledger.all_transfers(db, database) if t.code == "deposit"}
    assert deposits == {"dep:q-1", "dep:q-2"}
    # Refused before anything was written, its request id is free: sent again, it applies.
    again = _send(url, officer, DEPOSIT, e="T1", amount=30, req="q-3")
    assert again["data"]["depositToSettlement"]["balance"] == 60
