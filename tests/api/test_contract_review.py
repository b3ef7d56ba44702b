"""Contract review through the front door (issue 22): a contract PDF uploaded over REST
(`kind=contract`), reviewed over GraphQL against an application and against its financing,
the stored review read back; a moved maturity found with its element; the contract attached
to the application and listed on it. The graph is hand-built: two firms, their Contract with
an invoice under it, an application offering that invoice and its financing."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from neo4j import Driver

from api.security import Role, add_user
from documents.review_synth import alter, make_truths, render_pdf
from documents.review_synth import contract_text as write_contract
from graph.funders import save_funder
from graph.model import FunderKind
from tests.api.conftest import PASSWORD, gql

pytestmark = [pytest.mark.neo4j]


def _doc_requests() -> list[str]:
    """The GraphQL blocks of docs/documents.md's contract-review section, in order."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "documents.md").read_text("utf-8")
    section = text.split("## Contract review", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```graphql\n(.*?)```", section, flags=re.S)


REVIEW, READ, ATTACH = _doc_requests()
REVIEW_FIN = """mutation($d: ID!, $f: ID!) { reviewFinancingContract(documentId: $d,
  financingId: $f) { against summary differences { element severity } } }"""
TRUTH = dataclasses.replace(make_truths(1, 12)[0], assignment_restricted=False, currency="CNY",
                            governing_law="中华人民共和国法律")  # fmt: skip


def world(db: Driver, database: str) -> None:
    t = TRUTH
    db.execute_query(
        """
        CREATE (s:Enterprise {id: 'CR-E1', name: $s.name, uscc: $s.uscc})
        CREATE (b:Enterprise {id: 'CR-E2', name: $b.name, uscc: $b.uscc})
        CREATE (c:Contract {id: 'CR-C1', kind: 'supply', amount: $amount, currency: 'CNY',
                            signed_on: date($signed), due_on: date($due)})
        CREATE (s)-[:PARTY {role: 'seller'}]->(c), (b)-[:PARTY {role: 'buyer'}]->(c)
        CREATE (i:Invoice {id: 'CR-I1', amount: $amount})-[:UNDER]->(c)
        CREATE (i)-[:SELLER]->(s), (i)-[:BUYER]->(b)
        CREATE (:Application {id: 'CR-A1', enterprise_id: 'CR-E1', amount_minor: 1000000,
                              product_id: 'factoring_recourse',
                              currency: 'CNY', collateral_ids: ['CR-I1'], funder_id: 'default',
                              status: 'approved', financing_id: 'CR-F1'})
        CREATE (:Financing {id: 'CR-F1', application_id: 'CR-A1', borrower_id: 'CR-E1',
                            amount_minor: 1000000, currency: 'CNY', funder_id: 'default',
                            product_kind: 'factoring', status: 'approved'})
        """,
        s=t.seller, b=t.buyer, amount=t.amount_minor, signed=t.signed_on, due=t.due_on,
        database_=database,
    )  # fmt: skip


def upload(client: httpx.Client, headers: dict[str, str], pdf: bytes) -> dict[str, object]:
    r = client.post("/api/v1/documents", content=pdf, headers=headers,
                    params={"kind": "contract", "enterprise_id": "CR-E1"})  # fmt: skip
    assert r.status_code == 201, r.text
    doc: dict[str, object] = r.json()
    return doc


def test_contract_reviewed_against_the_application_and_its_financing(
    db: Driver, database: str, client: httpx.Client, login: Callable[..., dict[str, str]]
) -> None:
    world(db, database)
    rm, analyst = login(Role.RELATIONSHIP_MANAGER), login(Role.ANALYST)
    clean = upload(client, rm, render_pdf(write_contract(TRUTH)))
    assert (clean["kind"], clean["outcome"]) == ("contract", "needs_review")

    got = gql(client, rm, REVIEW, d=clean["id"], a="CR-A1").json()
    review = got["data"]["reviewContract"]
    assert (review["against"], review["summary"], review["textMethod"]) == (
        "application:CR-A1", "clean", "text_layer")  # fmt: skip
    assert review["differences"] == []
    assert review["elements"]["amount"] == TRUTH.amount_minor
    assert {p["name"] for p in review["elements"]["parties"]} == {TRUTH.seller["name"],
                                                                 TRUTH.buyer["name"]}  # fmt: skip
    doc = client.get(f"/api/v1/documents/{clean['id']}", headers=rm).json()
    assert (doc["outcome"], doc["reasons"]) == ("verified", [])

    moved = upload(client, rm, render_pdf(write_contract(alter(TRUTH, "maturity"))))
    review = gql(client, rm, REVIEW, d=moved["id"], a="CR-A1").json()["data"]["reviewContract"]
    assert review["summary"] == "high"
    (diff,) = review["differences"]
    assert (diff["element"], diff["expectedValue"], diff["severity"]) == (
        "maturity date", TRUTH.due_on, "high")  # fmt: skip
    assert diff["contractValue"] == alter(TRUTH, "maturity").due_on
    doc = client.get(f"/api/v1/documents/{moved['id']}", headers=rm).json()
    assert doc["outcome"] == "mismatch" and "maturity date" in doc["reasons"][0]

    # Against the financing: the same graph contract, so the same finding.
    fin = gql(client, rm, REVIEW_FIN, d=moved["id"], f="CR-F1").json()["data"]
    assert fin["reviewFinancingContract"]["against"] == "financing:CR-F1"
    assert [d["element"] for d in fin["reviewFinancingContract"]["differences"]] == [
        "maturity date"]  # fmt: skip
    read = gql(client, analyst, READ, d=moved["id"]).json()["data"]["contractReview"]
    assert (read["against"], read["reviewedBy"]) == ("financing:CR-F1",
                                                     "user-relationship_manager")  # fmt: skip

    # Unknown application: NOT_FOUND-like refusal; an analyst may not review.
    bad = gql(client, rm, REVIEW, d=clean["id"], a="CR-NOPE").json()
    assert bad["data"] is None and "no application CR-NOPE" in bad["errors"][0]["message"]
    denied = gql(client, analyst, REVIEW, d=clean["id"], a="CR-A1").json()
    assert denied["data"] is None

    docs = gql(client, rm, ATTACH, a="CR-A1", d=clean["id"]).json()["data"]["attachDocument"]
    assert [(d["id"], d["kind"], d["outcome"]) for d in docs] == [
        (clean["id"], "contract", "verified")]  # fmt: skip


def test_another_funders_user_neither_reviews_reads_nor_attaches(
    db: Driver, database: str, client: httpx.Client, login: Callable[..., dict[str, str]]
) -> None:
    world(db, database)
    rm = login(Role.RELATIONSHIP_MANAGER)
    doc = upload(client, rm, render_pdf(write_contract(TRUTH)))
    assert gql(client, rm, REVIEW, d=doc["id"], a="CR-A1").json()["data"]["reviewContract"]
    save_funder(db, database, "bank-z", "Bank Z", FunderKind.BANK, "test", datetime.now(UTC))
    add_user(db, database, "rm-bank-z", PASSWORD, [Role.RELATIONSHIP_MANAGER], funder_id="bank-z")
    token = client.post("/auth/token", json={"username": "rm-bank-z", "password": PASSWORD})
    other = {"Authorization": f"Bearer {token.json()['access_token']}"}
    for query, args in ((REVIEW, {"d": doc["id"], "a": "CR-A1"}),
                        (REVIEW_FIN, {"d": doc["id"], "f": "CR-F1"}),
                        (ATTACH, {"a": "CR-A1", "d": doc["id"]})):  # fmt: skip
        body = gql(client, other, query, **args).json()
        assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert gql(client, other, READ, d=doc["id"]).json()["data"]["contractReview"] is None
    assert gql(client, rm, READ, d=doc["id"]).json()["data"]["contractReview"]["summary"] == (
        "clean")  # fmt: skip
    # The reviewed contract carries the review's outcome: hidden from the other funder's
    # `document` and `documents` (docs/documents.md), shown to the reviewing funder's.
    one = "query($id: ID!) { document(id: $id) { id outcome } }"
    listed = "query($e: ID!) { documents(enterpriseId: $e) { id } }"
    body = gql(client, other, one, id=doc["id"]).json()
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert gql(client, other, listed, e="CR-E1").json()["data"]["documents"] == []
    assert gql(client, rm, one, id=doc["id"]).json()["data"]["document"] == {
        "id": doc["id"], "outcome": "verified"}  # fmt: skip
    assert gql(client, rm, listed, e="CR-E1").json()["data"]["documents"] == [{"id": doc["id"]}]
