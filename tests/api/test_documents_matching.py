"""Through the front door: a licence matched by entity resolution and an invoice's four flows
(docs/documents.md, "Checking against the graph").

A licence that prints a graph firm's name with a USCC no enterprise has comes back
`mismatch`, naming both USCCs and entity resolution's candidates with their scores; one of a
firm the graph holds without a USCC goes to a person with the candidate. A true invoice whose
trade has no shipment and a short payment from a third party comes back `mismatch` with the
four-flow reasons, stored on the Document: `document(id)` and `Application.documents` show
them. Each upload is a real OCR run, so there are three.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from neo4j import Driver

from api.security import Role
from documents.synth import make_invoice, render_invoice, render_licence
from entity_resolution.uscc import make_uscc
from tests.api.conftest import gql
from tests.api.test_documents_graphql import scan

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]

URL = "/api/v1/documents"
FIRM = {
    "name": "武汉鼎盛新材料有限公司", "uscc": make_uscc("9", "1", "420100", "MA4K8Q2D"),
    "legal_form": "有限责任公司", "legal_rep": "陈建华", "registered_capital": "3000000",
    "founded_on": "2017-08-21", "address": "武汉市洪山区珞瑜路66号",
    "business_scope": "新材料技术研发；金属材料销售",
}  # fmt: skip
# The USCC the forged licence prints: a valid code that no enterprise in the graph has.
FAKE = make_uscc("9", "1", "420100", "MA9Y3T7W")
# A firm the graph holds without a USCC, and the code its licence gives.
BARE = dict(FIRM, name="成都锦程物流有限公司", uscc=make_uscc("9", "1", "510100", "MA6C1B2N"),
            legal_rep="刘芳", address="成都市武侯区天府大道100号")  # fmt: skip
BUYER = {"name": "长沙湘江贸易有限公司", "uscc": make_uscc("9", "1", "430100", "MA3PX0R5")}

READ = """query($id: ID!) { document(id: $id) { id kind outcome reasons enterpriseId
  invoiceId fourFlow { flow present consistent detail } } }"""
ATTACH = """mutation($a: ID!, $d: ID!) { attachDocument(applicationId: $a, documentId: $d) {
  id outcome reasons } }"""
APPLICATION = """query($a: ID!) { application(id: $a) { documents { id kind outcome
  reasons invoiceId fourFlow { flow consistent } } } }"""


def world(db: Driver, database: str, invoice: dict[str, str]) -> None:
    db.execute_query(
        """
        CREATE (s:Enterprise {id: 'M-E1', name: $f.name, uscc: $f.uscc,
                              legal_form: '有限责任公司'})
        CREATE (b:Enterprise {id: 'M-E2', name: $b.name, uscc: $b.uscc})
        CREATE (e3:Enterprise {id: 'M-E3', name: $bare.name, legal_form: '有限责任公司'})
        CREATE (i:Invoice {id: 'M-I1', amount: $amount, tax: $tax, issued_on: date($issued)})
        CREATE (i)-[:SELLER]->(s), (i)-[:BUYER]->(b)
        CREATE (i)-[:UNDER]->(:Contract {id: 'M-K1', amount: $amount,
                                         signed_on: date($issued) - duration('P30D')})
        // no shipment delivers it, and a third party (M-E3, not the buyer) paid 10.00 of it
        CREATE (p:Payment {id: 'M-P1', amount: 1000, paid_on: date($issued) + duration('P5D')})
        CREATE (p)-[:SETTLES]->(i), (p)-[:PAID_BY]->(e3), (p)-[:PAID_TO]->(s)
        CREATE (:Application {id: 'M-A1', enterprise_id: 'M-E1', amount_minor: 1000000,
                              product_id: 'factoring_recourse', currency: 'CNY',
                              collateral_ids: ['M-I1'], funder_id: 'default',
                              status: 'referred'})
        """,
        f=FIRM, b=BUYER, bare=BARE, amount=int(invoice["amount"].replace(".", "")),
        tax=int(invoice["tax"].replace(".", "")), issued=invoice["issued_on"],
        database_=database,
    )  # fmt: skip


def post(client: httpx.Client, headers: dict[str, str], data: bytes, **params: str) -> Any:
    got = client.post(URL, content=data, headers=headers, params=params)
    assert got.status_code == 201, got.text
    return got.json()


def body(response: httpx.Response, field: str) -> Any:
    out = response.json()
    assert response.status_code == 200 and not out.get("errors"), out
    return out["data"][field]


def test_a_licence_claiming_a_firms_name_is_matched_by_entity_resolution(
    db: Driver, database: str, client: httpx.Client, login: Callable[..., dict[str, str]]
) -> None:
    rm = login(Role.RELATIONSHIP_MANAGER)
    world(db, database, make_invoice(FIRM, BUYER, random.Random(3)))

    doc = post(client, rm, scan(render_licence(dict(FIRM, uscc=FAKE)), 11))
    assert doc["fields"]["uscc"]["value"] == FAKE
    assert (doc["outcome"], doc["enterprise_id"]) == ("mismatch", "M-E1"), doc["reasons"]
    (reason,) = doc["reasons"]
    assert reason.startswith(
        f"mismatch: entity resolution matches the licence's name {FIRM['name']} to M-E1 "
        f"({FIRM['name']}, score "
    ), reason
    assert (
        f"the licence's USCC {FAKE} is not M-E1's: the graph has {FIRM['uscc']} for M-E1 and "
        f"no enterprise has {FAKE} (a licence that claims another firm's name)"
    ) in reason
    # how: the fields entity resolution compared, the candidates with their scores
    assert "entity resolution on the licence's name" in reason and "(threshold 0." in reason
    assert f"M-E1 {FIRM['name']} ({FIRM['uscc']}) " in reason and ", same firm" in reason
    proves, _, _ = db.execute_query(
        "MATCH (:Document {id: $id})-[:PROVES]->(e:Enterprise) RETURN e.id AS e",
        id=doc["id"], database_=database,
    )  # fmt: skip
    assert [x["e"] for x in proves] == ["M-E1"]

    # A firm the graph knows without a USCC: a person confirms, the candidate named.
    doc = post(client, rm, scan(render_licence(BARE), 12))
    assert (doc["outcome"], doc["enterprise_id"]) == ("needs_review", "M-E3"), doc["reasons"]
    assert doc["reasons"][0].startswith(
        f"needs_review: no enterprise in the graph has USCC {BARE['uscc']}; entity resolution "
        f"matches the licence's name {BARE['name']} to M-E3"
    ), doc["reasons"]
    assert f"a person confirms that {BARE['uscc']} is M-E3's" in doc["reasons"][0]


def test_an_invoice_without_a_shipment_and_paid_short_by_a_third_party(
    db: Driver, database: str, client: httpx.Client, login: Callable[..., dict[str, str]]
) -> None:
    rm = login(Role.RELATIONSHIP_MANAGER)
    inv = make_invoice(FIRM, BUYER, random.Random(3))
    world(db, database, inv)
    due = int(inv["amount"].replace(".", "")) + int(inv["tax"].replace(".", ""))

    doc = post(client, rm, scan(render_invoice(inv), 13), invoice_id="M-I1")
    flows = [
        "mismatch: four flows of invoice M-I1: the goods flow is missing "
        "(no shipment delivers the invoice)",
        f"mismatch: four flows of invoice M-I1: the payment flow is inconsistent "
        f"(paid 1000 of {due}; paid by another than the buyer M-E2 (M-P1 by M-E3))",
    ]
    assert (doc["outcome"], doc["reasons"]) == ("mismatch", flows), doc
    stored, _, _ = db.execute_query(
        "MATCH (d:Document {id: $id}) RETURN d.four_flow AS f", id=doc["id"], database_=database
    )
    four = json.loads(stored[0]["f"])
    assert (four["invoice_id"], four["score"]) == ("M-I1", 0.5)
    assert [c["flow"] for c in four["checks"] if c["present"] and c["consistent"]] == [
        "contract", "invoice"]  # fmt: skip

    # Read back through GraphQL, and on the application it is attached to.
    read = body(gql(client, rm, READ, id=doc["id"]), "document")
    assert (read["outcome"], read["reasons"], read["invoiceId"]) == ("mismatch", flows, "M-I1")
    assert read["fourFlow"] == [
        {"flow": c["flow"], "present": c["present"], "consistent": c["consistent"],
         "detail": c["detail"]} for c in four["checks"]]  # fmt: skip
    assert read["fourFlow"][1] == {"flow": "goods", "present": False, "consistent": False,
                                   "detail": "no shipment delivers the invoice"}  # fmt: skip
    body(gql(client, rm, ATTACH, a="M-A1", d=doc["id"]), "attachDocument")
    docs = body(gql(client, rm, APPLICATION, a="M-A1"), "application")["documents"]
    assert docs == [{"id": doc["id"], "kind": "invoice", "outcome": "mismatch",
                     "reasons": flows, "invoiceId": "M-I1",
                     "fourFlow": [{"flow": f, "consistent": ok} for f, ok in (
                         ("contract", True), ("goods", False), ("invoice", True),
                         ("payment", False))]}]  # fmt: skip
