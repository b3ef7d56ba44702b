"""Finance over GraphQL on the real app and Neo4j: matching for the service account, the
maker-checker rule, and 200 simultaneous drawdowns through the API against one line."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import httpx
import pytest
from neo4j import Driver

from api.security import Role
from finance import credit_lines as cl
from finance import ledger, vouchers
from finance.credit_lines import LineKind, LineSpec
from tests.api.conftest import gql
from tests.finance.conftest import CHAIN, build
from tests.finance.test_vouchers import PAYABLE

INVOICE = """
MATCH (t1:Enterprise {id: 'T1'}), (c:Enterprise {id: 'C'})
CREATE (i:Invoice {id: 'INV-G', amount: 40000000, status: 'issued'})
CREATE (i)-[:SELLER]->(t1)
CREATE (i)-[:BUYER]->(c)
"""
MATCHES = """query($id: ID!) { productMatches(enterpriseId: $id) {
  productId eligible verdict amount rateBps tenorDays reasons } }"""
SUBMIT = """mutation($input: ApplicationInput!) { submitApplication(input: $input) {
  id status reasons financingId decisions { kind verdict policyVersion reasons } } }"""
REVIEW = """mutation($id: ID!) { reviewApplication(id: $id, approve: true) { status } }"""
DRAW = """mutation($line: ID!, $amount: BigInt!, $req: ID!) {
  drawdown(lineId: $line, amount: $amount, requestId: $req) { transferId } }"""


def test_matching_and_applications_over_graphql(
    db: Driver, database: str, client: httpx.Client, login: Callable[..., dict[str, str]]
) -> None:
    build(db, database, CHAIN)
    build(db, database, INVOICE)
    cl.grant_line(db, database, LineSpec("L-T1", "T1", LineKind.ENTERPRISE, 900_000_000, "CNY",
                                         date(2099, 1, 1)))
    service = login(Role.SERVICE)
    body = gql(client, service, MATCHES, id="T1").json()
    matches = body["data"]["productMatches"]
    assert matches and all(m["eligible"] for m in matches)
    assert {"factoring_recourse", "receivables_pledge"} <= {m["productId"] for m in matches}
    analyst = login(Role.ANALYST)
    r = gql(client, analyst, SUBMIT, input={"id": "GA1", "enterpriseId": "T1",
            "productId": "factoring_recourse", "amount": 10_000_000, "collateralIds": ["INV-G"]})
    assert r.status_code == 403
    rm = login(Role.RELATIONSHIP_MANAGER, username="rm1")
    app = gql(client, rm, SUBMIT, input={"id": "GA1", "enterpriseId": "T1",
              "productId": "factoring_recourse", "amount": 10_000_000,
              "collateralIds": ["INV-G"]}).json()["data"]["submitApplication"]
    assert app["status"] == "approved" and app["financingId"] == "F-GA1"
    assert app["decisions"][0]["kind"] == "automatic" and app["decisions"][0]["policyVersion"]
    second = gql(client, rm, SUBMIT, input={"id": "GA2", "enterpriseId": "T1",
                 "productId": "factoring_recourse", "amount": 10_000_000,
                 "collateralIds": ["INV-G"]}).json()["data"]["submitApplication"]
    assert (second["status"], second["financingId"]) == ("declined", None)
    assert "invoice INV-G already backs live financing F-GA1" in second["reasons"]
    # The same id with other terms is a conflict, not the first result.
    other = gql(client, rm, SUBMIT, input={"id": "GA2", "enterpriseId": "T1",
                "productId": "factoring_recourse", "amount": 20_000_000,
                "collateralIds": ["INV-G"]}).json()
    assert other["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert "already submitted with other amount_minor" in other["errors"][0]["message"]
    officer = login(Role.CREDIT_OFFICER)
    tb = gql(client, officer, "{ trialBalance { balanced totalDebits } }").json()["data"]
    assert tb["trialBalance"]["balanced"] is True
    bal = gql(client, officer, '{ accountBalance(accountId: "9101:CNY:L-T1") { debitsPending } }')
    assert bal.json()["data"]["accountBalance"]["debitsPending"] == 10_000_000  # the hold
    assert gql(client, rm, "{ trialBalance { balanced } }").status_code == 403


@pytest.mark.slow
def test_200_simultaneous_drawdowns_through_the_api(
    db: Driver, database: str, client: httpx.Client, login: Callable[..., dict[str, str]],
    api_url: str,
) -> None:
    build(db, database, CHAIN)
    cl.grant_line(db, database, LineSpec("L", "T1", LineKind.ENTERPRISE, 10_000, "CNY",
                                         date(2099, 1, 1)))
    headers = login(Role.SERVICE)
    amounts = [37 + (i * 53) % 151 for i in range(200)]

    def one(i: int) -> bool:
        with httpx.Client(base_url=api_url, timeout=120) as c:
            response = gql(c, headers, DRAW, line="L", amount=amounts[i], req=f"api-{i}")
        assert response.status_code == 200, response.text  # a 429 or 500 is no answer
        body = response.json()
        if "errors" in body:
            assert body["errors"][0]["extensions"]["code"] == "CONFLICT", body
            return False
        return True

    with ThreadPoolExecutor(max_workers=40) as pool:
        accepted = [i for i, ok in zip(range(200), pool.map(one, range(200)), strict=True) if ok]
    used = cl.usage(db, database, "L").used_minor
    assert used == sum(amounts[i] for i in accepted) <= 10_000
    payouts = [t.ref for t in ledger.all_transfers(db, database) if t.code == "disbursement"]
    assert sorted(payouts) == sorted(f"api-{i}" for i in accepted)
    assert ledger.trial_balance(db, database, "CNY").balanced


VOUCHERS = """query($holder: ID, $issuer: ID, $status: [String!]) {
  voucherList(holderId: $holder, issuerId: $issuer, status: $status, first: 20) {
    totalCount edges { node { id parentId holderId face status holders } } } }"""


def test_vouchers_are_listed_by_holder_issuer_and_status(
    db: Driver, database: str, client: httpx.Client, login: Callable[..., dict[str, str]]
) -> None:
    build(db, database, CHAIN)
    build(db, database, PAYABLE)
    cl.grant_line(db, database, LineSpec("SC-C", "C", LineKind.SUPPLY_CHAIN, 150_000_000, "CNY",
                                         date(2099, 1, 1)))  # fmt: skip
    d0 = date(2026, 3, 1)
    vouchers.issue(db, database, "V1", "C", "T1", 100_000_000, "CNY", ["INV-P"], d0,
                   d0 + timedelta(days=180))  # fmt: skip
    vouchers.split(db, database, "V1", [60_000_000, 40_000_000], d0 + timedelta(days=1))
    vouchers.transfer(db, database, "V1.1", "T2", d0 + timedelta(days=2))
    officer = login(Role.CREDIT_OFFICER)

    def listed(**variables: object) -> dict[str, dict[str, object]]:
        body = gql(client, officer, VOUCHERS, **variables).json()
        conn = body["data"]["voucherList"]
        assert conn["totalCount"] == len(conn["edges"])
        return {e["node"]["id"]: e["node"] for e in conn["edges"]}

    assert set(listed(issuer="C")) == {"V1", "V1.1", "V1.2"}
    t2 = listed(holder="T2")
    assert set(t2) == {"V1.1"} and t2["V1.1"]["holders"] == ["T1", "T2"]
    assert t2["V1.1"]["face"] == 60_000_000 and t2["V1.1"]["parentId"] == "V1"
    assert set(listed(issuer="C", status=["live"])) == {"V1.1", "V1.2"}
    assert set(listed(issuer="C", status=["split"])) == {"V1"}
    bad = gql(client, officer, VOUCHERS, status=["pending"]).json()
    assert bad["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
