"""Idempotency keys (issue 25): a request id is the caller's own and its mutation's own. The
same key with the same arguments answers the first result and writes nothing again; with
other arguments it is refused (CONFLICT) and nothing is written; another user's identical
key is another request, never the first caller's result. Every attack goes through HTTP."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import httpx
import pytest
from neo4j import Driver

from api.security import Role
from finance import credit_lines as cl
from finance.credit_lines import LineKind, LineSpec
from tests.api.conftest import gql
from tests.api.test_finance import INVOICE
from tests.contract_signing import contract_signed
from tests.finance.conftest import CHAIN, build

DRAW = """mutation($line: ID!, $amount: BigInt!, $req: ID!) {
  drawdown(lineId: $line, amount: $amount, requestId: $req) { requestId transferId amount } }"""
DEPOSIT = """mutation($e: ID!, $amount: BigInt!, $req: ID!) {
  depositToSettlement(enterpriseId: $e, amount: $amount, requestId: $req) {
    transferId amount balance } }"""
WITHDRAW = """mutation($e: ID!, $amount: BigInt!, $req: ID!) {
  withdrawFromSettlement(enterpriseId: $e, amount: $amount, requestId: $req) {
    transferId amount balance } }"""
LIMIT = """mutation($id: ID!, $limit: BigInt!, $req: ID!) {
  changeCreditLimit(id: $id, newLimit: $limit, requestId: $req) { id limit } }"""
SUBMIT = """mutation($input: ApplicationInput!) { submitApplication(input: $input) {
  id status financingId maker } }"""
DISBURSE = """mutation($id: ID!) { disburse(financingId: $id, on: "2026-03-01") { status } }"""
REPAY = """mutation($id: ID!, $amount: BigInt!, $req: ID!) {
  repay(financingId: $id, amount: $amount, on: "2026-03-31", requestId: $req) {
    interestPaid principalPaid fee financing { outstanding } } }"""


def ok(response: httpx.Response, field: str) -> Any:
    body = response.json()
    assert "errors" not in body, body
    return body["data"][field]


def refused(response: httpx.Response, code: str) -> str:
    body = response.json()
    assert body.get("data") is None, body
    assert body["errors"][0]["extensions"]["code"] == code, body
    return str(body["errors"][0]["message"])


def transfers(db: Driver, database: str) -> int:
    records, _, _ = db.execute_query("MATCH (t:Transfer) RETURN count(t) AS n", database_=database)
    return int(records[0]["n"])


@pytest.fixture
def line(db: Driver, database: str) -> str:
    build(db, database, CHAIN)
    build(db, database, INVOICE)
    cl.grant_line(db, database, LineSpec("L-T1", "T1", LineKind.ENTERPRISE, 900_000_000, "CNY",
                                         date(2099, 1, 1)))  # fmt: skip
    return "L-T1"


def test_a_drawdown_key_belongs_to_its_caller_and_its_arguments(
    db: Driver, database: str, line: str, client: httpx.Client,
    login: Callable[..., dict[str, str]],
) -> None:  # fmt: skip
    alice = login(Role.CREDIT_OFFICER, username="alice")
    engine = login(Role.SERVICE, username="engine")
    first = ok(gql(client, alice, DRAW, line=line, amount=1_000, req="k-1"), "drawdown")
    assert first["requestId"] == "k-1" and first["amount"] == 1_000
    written = transfers(db, database)
    # The same key and arguments: the first result, nothing written again.
    assert ok(gql(client, alice, DRAW, line=line, amount=1_000, req="k-1"), "drawdown") == first
    assert transfers(db, database) == written
    # The same key with other arguments: CONFLICT, nothing written.
    message = refused(gql(client, alice, DRAW, line=line, amount=2_000, req="k-1"), "CONFLICT")
    assert "request id k-1 was already used for drawdown" in message
    refused(gql(client, alice, DRAW, line="L-OTHER", amount=1_000, req="k-1"), "CONFLICT")
    assert transfers(db, database) == written
    assert cl.usage(db, database, line).used_minor == 1_000
    # Another caller's identical key is its own request, not alice's result.
    theirs = ok(gql(client, engine, DRAW, line=line, amount=1_000, req="k-1"), "drawdown")
    assert theirs["requestId"] == "k-1" and theirs["transferId"] != first["transferId"]
    assert cl.usage(db, database, line).used_minor == 2_000
    assert ok(gql(client, engine, DRAW, line=line, amount=1_000, req="k-1"), "drawdown") == theirs
    refused(gql(client, engine, DRAW, line=line, amount=5, req="k-1"), "CONFLICT")
    assert cl.usage(db, database, line).used_minor == 2_000
    # And the key is the mutation's own: the same key deposits.
    dep = ok(gql(client, alice, DEPOSIT, e="T1", amount=70, req="k-1"), "depositToSettlement")
    assert dep["amount"] == 70


def test_a_refused_request_leaves_its_key_free(
    db: Driver, database: str, line: str, client: httpx.Client,
    login: Callable[..., dict[str, str]],
) -> None:  # fmt: skip
    alice = login(Role.CREDIT_OFFICER, username="alice")
    written = transfers(db, database)
    refused(gql(client, alice, DRAW, line=line, amount=10**12, req="big"), "CONFLICT")
    assert transfers(db, database) == written
    # Nothing was written, so the key is not spent: a corrected request goes through.
    assert ok(gql(client, alice, DRAW, line=line, amount=10, req="big"), "drawdown")["amount"] == 10


def test_settlement_moves_and_limit_changes_are_scoped_the_same_way(
    db: Driver, database: str, line: str, client: httpx.Client,
    login: Callable[..., dict[str, str]],
) -> None:  # fmt: skip
    alice = login(Role.CREDIT_OFFICER, username="alice")
    bob = login(Role.CREDIT_OFFICER, username="bob")
    dep = ok(gql(client, alice, DEPOSIT, e="T1", amount=1_000, req="m-1"), "depositToSettlement")
    assert dep["balance"] == 1_000
    assert ok(gql(client, alice, DEPOSIT, e="T1", amount=1_000, req="m-1"),
              "depositToSettlement") == dep  # fmt: skip
    refused(gql(client, alice, DEPOSIT, e="T1", amount=999, req="m-1"), "CONFLICT")
    refused(gql(client, alice, DEPOSIT, e="T2", amount=1_000, req="m-1"), "CONFLICT")
    bobs = ok(gql(client, bob, DEPOSIT, e="T1", amount=1_000, req="m-1"), "depositToSettlement")
    assert bobs["balance"] == 2_000 and bobs["transferId"] != dep["transferId"]
    wd = ok(gql(client, bob, WITHDRAW, e="T1", amount=300, req="m-1"), "withdrawFromSettlement")
    assert wd["balance"] == 1_700
    assert ok(gql(client, bob, WITHDRAW, e="T1", amount=300, req="m-1"),
              "withdrawFromSettlement") == wd  # fmt: skip
    refused(gql(client, bob, WITHDRAW, e="T1", amount=301, req="m-1"), "CONFLICT")
    root = login(Role.ADMIN, username="root")
    other_root = login(Role.ADMIN, username="root2")
    assert ok(gql(client, root, LIMIT, id=line, limit=950_000_000, req="l-1"),
              "changeCreditLimit")["limit"] == 950_000_000  # fmt: skip
    refused(gql(client, root, LIMIT, id=line, limit=960_000_000, req="l-1"), "CONFLICT")
    assert ok(gql(client, other_root, LIMIT, id=line, limit=970_000_000, req="l-1"),
              "changeCreditLimit")["limit"] == 970_000_000  # fmt: skip
    # A retry moves nothing back.
    assert ok(gql(client, root, LIMIT, id=line, limit=950_000_000, req="l-1"),
              "changeCreditLimit")["limit"] == 970_000_000  # fmt: skip


def test_a_repeated_repayment_answers_the_first_repayment(
    db: Driver, database: str, line: str, client: httpx.Client,
    login: Callable[..., dict[str, str]],
) -> None:  # fmt: skip
    rm = login(Role.RELATIONSHIP_MANAGER, username="rm1")
    officer = login(Role.CREDIT_OFFICER, username="otto")
    engine = login(Role.SERVICE, username="engine")
    terms = {"id": "A1", "enterpriseId": "T1", "productId": "factoring_recourse",
             "amount": 10_000_000, "collateralIds": ["INV-G"]}  # fmt: skip
    app = ok(gql(client, rm, SUBMIT, input=terms), "submitApplication")
    assert app["status"] == "approved", app
    fin = app["financingId"]

    def call(user: dict[str, str], query: str, **variables: Any) -> dict[str, Any]:
        body = gql(client, user, query, **variables).json()
        assert "errors" not in body, body
        return dict(body["data"])

    signed = contract_signed(call, fin, manager=rm, officer=officer, contract_no="CT-1")
    assert signed["status"] == "contracted"
    assert ok(gql(client, officer, DISBURSE, id=fin), "disburse")["status"] == "active"
    first = ok(gql(client, officer, REPAY, id=fin, amount=1_000_000, req="p-1"), "repay")
    paid = (first["interestPaid"], first["principalPaid"])
    assert sum(paid) == 1_000_000 and first["principalPaid"] > 0
    again = ok(gql(client, officer, REPAY, id=fin, amount=1_000_000, req="p-1"), "repay")
    assert (again["interestPaid"], again["principalPaid"]) == paid  # not zeros
    assert again["financing"]["outstanding"] == first["financing"]["outstanding"]
    refused(gql(client, officer, REPAY, id=fin, amount=2_000_000, req="p-1"), "CONFLICT")
    theirs = ok(gql(client, engine, REPAY, id=fin, amount=500_000, req="p-1"), "repay")
    assert theirs["financing"]["outstanding"] < first["financing"]["outstanding"]
    # Applications are keyed by their id: another maker's identical id is refused, not
    # answered with the first maker's application.
    rm2 = login(Role.RELATIONSHIP_MANAGER, username="rm2")
    assert ok(gql(client, rm, SUBMIT, input=terms), "submitApplication") == app
    refused(gql(client, rm2, SUBMIT, input=terms), "CONFLICT")


def test_concurrent_uses_of_one_key_write_once(
    db: Driver, database: str, line: str, api_url: str, login: Callable[..., dict[str, str]],
) -> None:  # fmt: skip
    alice = login(Role.CREDIT_OFFICER, username="alice")

    def send(amount: int, key: str = "race") -> dict[str, Any]:
        with httpx.Client(base_url=api_url, timeout=60) as c:
            response = gql(c, alice, DRAW, line=line, amount=amount, req=key)
        assert response.status_code < 500, response.text
        return dict(response.json())

    with ThreadPoolExecutor(max_workers=16) as pool:
        same = list(pool.map(send, [777] * 16))
    ids = {b["data"]["drawdown"]["transferId"] for b in same}
    assert len(ids) == 1 and all("errors" not in b for b in same), same
    assert cl.usage(db, database, line).used_minor == 777
    with ThreadPoolExecutor(max_workers=16) as pool:
        mixed = list(pool.map(send, [1_000 + i for i in range(16)]))
    winners = [b for b in mixed if "errors" not in b]
    assert winners == []  # the key is spent on 777: every other amount conflicts
    assert {b["errors"][0]["extensions"]["code"] for b in mixed} == {"CONFLICT"}
    assert cl.usage(db, database, line).used_minor == 777
    # A fresh key sent at once with sixteen different amounts: one wins, the rest conflict.
    with ThreadPoolExecutor(max_workers=16) as pool:
        fresh = list(pool.map(lambda a: send(a, "race-2"), [1_000 + i for i in range(16)]))
    won = [b["data"]["drawdown"]["amount"] for b in fresh if "errors" not in b]
    assert len(won) == 1, fresh
    assert {b["errors"][0]["extensions"]["code"] for b in fresh if "errors" in b} == {"CONFLICT"}
    assert cl.usage(db, database, line).used_minor == 777 + won[0]


@pytest.mark.parametrize("key", ["", " ", "a~b", "x" * 65, "\u00e9t\u00e9", "a b", "-a"])
def test_malformed_request_ids_are_refused(
    db: Driver, database: str, line: str, client: httpx.Client,
    login: Callable[..., dict[str, str]], key: str,
) -> None:  # fmt: skip
    alice = login(Role.CREDIT_OFFICER, username="alice")
    message = refused(gql(client, alice, DRAW, line=line, amount=1, req=key), "BAD_REQUEST")
    assert "request id" in message
    assert transfers(db, database) == 0 or cl.usage(db, database, line).used_minor == 0
