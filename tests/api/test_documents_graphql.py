"""Documents through GraphQL: a licence rendered for a firm of the graph and a VAT invoice
uploaded as multipart requests (`uploadDocument`), read back (`document`), listed per
enterprise (`documents`) and attached to an application (`attachDocument`,
`Application.documents`); bad uploads refused with the REST door's HTTP status and a code,
nothing stored; roles and an enterprise's user's own firm.

The requests are read from docs/documents.md. Each upload of a page is a real OCR run (a few
seconds here), so there are two; the refusals come before OCR.
"""

from __future__ import annotations

import io
import json
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from neo4j import Driver
from PIL import Image

from api.security import Role, add_user
from documents.ocr import MAX_BYTES
from documents.synth import (
    damage,
    invoice_pdf,
    make_invoice,
    render_invoice,
    render_licence,
    stamp,
)
from entity_resolution.uscc import make_uscc
from tests.api.conftest import PASSWORD, gql

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]


def _doc_requests() -> list[str]:
    """The GraphQL blocks of docs/documents.md's GraphQL upload section, in order."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "documents.md").read_text("utf-8")
    section = text.split("## Upload and reading through GraphQL", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```graphql\n(.*?)```", section, flags=re.S)


UPLOAD, READ, LIST = _doc_requests()
ATTACH = """mutation($a: ID!, $d: ID!) { attachDocument(applicationId: $a, documentId: $d) {
  id } }"""
APPLICATION = "query($a: ID!) { application(id: $a) { documents { id kind outcome } } }"

SELLER = {
    "name": "苏州恒通精密机械有限公司", "uscc": make_uscc("9", "1", "320500", "MA1GQ3K2"),
    "legal_form": "有限责任公司", "legal_rep": "李建国", "registered_capital": "8000000",
    "founded_on": "2016-05-18", "address": "苏州市工业园区星湖街88号",
}  # fmt: skip
BUYER = {"name": "宁波海联贸易有限公司", "uscc": make_uscc("9", "1", "330200", "MA2H7D1X")}


def world(db: Driver, database: str, invoice: dict[str, str]) -> None:
    db.execute_query(
        """
        CREATE (s:Enterprise {id: 'GD-E1', name: $s.name, uscc: $s.uscc,
                              legal_form: '有限责任公司', registered_capital: 800000000,
                              founded_on: date($s.founded_on)})
        CREATE (b:Enterprise {id: 'GD-E2', name: $b.name, uscc: $b.uscc})
        CREATE (:Enterprise {id: 'GD-E3', name: '无关企业有限公司'})
        CREATE (:Person {id: 'GD-P1', name: $s.legal_rep})
               -[:ROLE {kind: 'legal_representative'}]->(s)
        CREATE (i:Invoice {id: 'GD-I1', amount: $amount, tax: $tax, issued_on: date($issued)})
        CREATE (i)-[:SELLER]->(s), (i)-[:BUYER]->(b)
        CREATE (i)-[:UNDER]->(:Contract {id: 'GD-K1', amount: $amount,
                                         signed_on: date($issued) - duration('P30D')})
        CREATE (:Shipment {id: 'GD-SH1', shipped_on: date($issued),
                           received_on: date($issued) + duration('P1D')})-[:DELIVERS]->(i)
        CREATE (:Application {id: 'GD-A1', enterprise_id: 'GD-E1', amount_minor: 1000000,
                              product_id: 'factoring_recourse', currency: 'CNY',
                              collateral_ids: ['GD-I1'], funder_id: 'default',
                              status: 'referred'})
        """,
        s=SELLER, b=BUYER, amount=int(invoice["amount"].replace(".", "")),
        tax=int(invoice["tax"].replace(".", "")), issued=invoice["issued_on"],
        database_=database,
    )  # fmt: skip


def scan(img: Image.Image, seed: int) -> bytes:
    r = random.Random(seed)
    stamp(img, (r.randrange(700, 1000), 930), "专用章")
    return damage(img, r)[0]


def upload(
    client: httpx.Client, headers: dict[str, str], data: bytes, **variables: object
) -> httpx.Response:
    """`uploadDocument` as a GraphQL multipart request (operations, map, the file)."""
    operations = {"query": UPLOAD, "variables": {**variables, "file": None}}
    return client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": ("scan.bin", data, "application/octet-stream")},
        headers=headers,
    )


def stored(db: Driver, database: str) -> int:
    records, _, _ = db.execute_query("MATCH (d:Document) RETURN count(d) AS n", database_=database)
    return int(records[0]["n"])


def data(response: httpx.Response, field: str) -> Any:
    body = response.json()
    assert response.status_code == 200 and not body.get("errors"), body
    return body["data"][field]


def code(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["extensions"]["code"])


def token(client: httpx.Client, username: str) -> dict[str, str]:
    r = client.post("/auth/token", json={"username": username, "password": PASSWORD})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_upload_read_list_and_attach_through_graphql(
    db: Driver, database: str, client: httpx.Client, login: Callable[..., dict[str, str]]
) -> None:
    rm = login(Role.RELATIONSHIP_MANAGER)
    analyst = login(Role.ANALYST)
    inv = make_invoice(SELLER, BUYER, random.Random(8))
    world(db, database, inv)

    licence = data(upload(client, rm, scan(render_licence(SELLER), 1), e="GD-E1"),
                   "uploadDocument")  # fmt: skip
    assert (licence["kind"], licence["outcome"], licence["reasons"]) == ("licence", "verified", [])
    assert (licence["enterpriseId"], licence["textMethod"]) == ("GD-E1", "ocr")
    fields = {f["name"]: f for f in licence["fields"]}
    assert fields["uscc"]["value"] == SELLER["uscc"] and not fields["uscc"]["needsReview"]

    invoice = data(upload(client, rm, scan(render_invoice(inv), 2), kind="invoice", i="GD-I1"),
                   "uploadDocument")  # fmt: skip
    assert (invoice["kind"], invoice["outcome"], invoice["reasons"]) == ("invoice", "verified", [])
    assert invoice["invoiceId"] == "GD-I1"

    # Read back by id (an analyst reads too), with every stored field.
    read = data(gql(client, analyst, READ, id=licence["id"]), "document")
    assert {k: read[k] for k in ("id", "kind", "outcome", "reasons", "enterpriseId")} == {
        k: licence[k] for k in ("id", "kind", "outcome", "reasons", "enterpriseId")}  # fmt: skip
    assert (read["mediaType"], read["pages"], read["uploadedBy"]) == (
        "image/jpeg", 1, "user-relationship_manager")  # fmt: skip
    assert len(read["fileHash"]) == 64 and read["sizeBytes"] > 0 and read["ocrSeconds"] > 0
    assert {f["name"]: f["value"] for f in read["fields"]}["name"] == SELLER["name"]
    assert all(f["raw"] is not None and 0 <= f["confidence"] <= 1 for f in read["fields"])
    missing = gql(client, rm, READ, id="DOC-nope")
    assert missing.json()["data"] is None and code(missing) == "NOT_FOUND"

    # Listed per enterprise, newest first: the seller's both, the buyer's its invoice.
    listed = data(gql(client, rm, LIST, e="GD-E1"), "documents")
    assert [d["id"] for d in listed] == [invoice["id"], licence["id"]]
    assert [d["id"] for d in data(gql(client, rm, LIST, e="GD-E1", kind="licence"),
                                  "documents")] == [licence["id"]]  # fmt: skip
    assert [d["id"] for d in data(gql(client, rm, LIST, e="GD-E2"), "documents")] == [
        invoice["id"]]  # fmt: skip
    assert data(gql(client, rm, LIST, e="GD-E3"), "documents") == []
    assert code(gql(client, rm, LIST, e="GD-E1", kind="passport")) == "BAD_REQUEST"
    assert code(gql(client, rm, LIST, e="GD-NOPE")) == "NOT_FOUND"

    # Attached to the applicant's application, and listed on it.
    attached = data(gql(client, rm, ATTACH, a="GD-A1", d=licence["id"]), "attachDocument")
    assert [d["id"] for d in attached] == [licence["id"]]
    docs = data(gql(client, rm, APPLICATION, a="GD-A1"), "application")["documents"]
    assert docs == [{"id": licence["id"], "kind": "licence", "outcome": "verified"}]

    # An enterprise's user (the buyer's): its own firm's documents only; no uploads.
    add_user(db, database, "gd-e2-user", PASSWORD, [Role.RELATIONSHIP_MANAGER],
             enterprise_id="GD-E2")  # fmt: skip
    buyer = token(client, "gd-e2-user")
    assert [d["id"] for d in data(gql(client, buyer, LIST, e="GD-E2"), "documents")] == [
        invoice["id"]]  # fmt: skip
    assert data(gql(client, buyer, READ, id=invoice["id"]), "document")["id"] == invoice["id"]
    other = gql(client, buyer, LIST, e="GD-E1")
    assert other.json()["data"] is None and code(other) == "FORBIDDEN"
    hidden = gql(client, buyer, READ, id=licence["id"])
    assert hidden.json()["data"] is None and code(hidden) == "NOT_FOUND"
    refused = upload(client, buyer, scan(render_licence(SELLER), 3), e="GD-E2")
    assert refused.json()["data"] is None and code(refused) == "FORBIDDEN"

    # A role without upload rights is refused before anything is read.
    denied = upload(client, analyst, scan(render_licence(SELLER), 4), e="GD-E1")
    assert denied.status_code == 403 and code(denied) == "FORBIDDEN"
    assert upload(client, {}, b"\x89PNG\r\n\x1a\n").status_code == 401
    assert stored(db, database) == 2


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def test_an_e_invoice_is_read_from_its_text_layer(
    db: Driver, database: str, client: httpx.Client, login: Callable[..., dict[str, str]]
) -> None:
    """An e-invoice (a PDF whose text is a layer, not a picture) is read from that layer,
    not recognised: every field exact, at full confidence, and verified against the graph."""
    inv = make_invoice(SELLER, BUYER, random.Random(9))
    world(db, database, inv)
    got = data(upload(client, login(Role.CREDIT_OFFICER), invoice_pdf(inv), kind="invoice",
                      i="GD-I1"), "uploadDocument")  # fmt: skip
    assert (got["outcome"], got["reasons"], got["textMethod"]) == ("verified", [], "text_layer")
    fields = {f["name"]: f for f in got["fields"]}
    assert fields["total"]["value"] == inv["total"] and fields["check_code"]["value"]
    assert all(f["confidence"] == 1.0 and not f["needsReview"] for f in fields.values()
               if f["value"] is not None)  # fmt: skip
    read = data(gql(client, login(Role.ANALYST), READ, id=got["id"]), "document")
    assert (read["mediaType"], read["textMethod"]) == ("application/pdf", "text_layer")


def _empty_pdf() -> bytes:
    import pypdfium2 as pdfium

    buf = io.BytesIO()
    pdfium.PdfDocument.new().save(buf)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("body", "variables", "status", "error_code", "says"),
    [
        (b"\xff\xd8\xff" + b"\x00" * MAX_BYTES, {}, 413, "PAYLOAD_TOO_LARGE",
         f"a document is at most {MAX_BYTES} bytes"),
        (b"name,amount\nacme,12\n", {}, 415, "UNSUPPORTED_MEDIA_TYPE",
         "not a document this service reads"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 50, {}, 422, "UNPROCESSABLE",
         "cannot be decoded"),
        (_empty_pdf(), {}, 422, "UNPROCESSABLE", "the PDF has no pages"),
        (_png(Image.new("RGB", (50, 50), "white")), {"i": "GD-NOPE"}, 404, "NOT_FOUND",
         "no invoice GD-NOPE"),
        (_png(Image.new("RGB", (50, 50), "white")), {"kind": "passport"}, 422, "UNPROCESSABLE",
         "kind is one of licence, invoice, contract"),
    ],
    ids=["too-large", "not-an-image", "corrupt-image", "pdf-without-pages", "unknown-invoice",
         "unknown-kind"],
)  # fmt: skip
def test_bad_uploads_answer_their_status_and_store_nothing(
    db: Driver, database: str, client: httpx.Client, login: Callable[..., dict[str, str]],
    body: bytes, variables: dict[str, str], status: int, error_code: str, says: str,
) -> None:  # fmt: skip
    world(db, database, make_invoice(SELLER, BUYER, random.Random(8)))
    before = stored(db, database)
    got = upload(client, login(Role.CREDIT_OFFICER), body, **variables)
    assert got.status_code == status, got.text
    assert got.json()["data"] is None
    assert code(got) == error_code and says in got.json()["errors"][0]["message"]
    assert stored(db, database) == before


def test_the_body_guard_lets_a_document_through_and_nothing_larger(
    db: Driver, database: str, client: httpx.Client, login: Callable[..., dict[str, str]]
) -> None:
    """A multipart request to /graphql may carry a 10 MiB document and its envelope (64 KiB);
    a longer one, and a JSON request over `api_max_body_bytes` (1 MiB), never reach GraphQL."""
    co = login(Role.CREDIT_OFFICER)
    limit = MAX_BYTES + 64 * 1024
    got = upload(client, co, b"\xff\xd8\xff" + b"\x00" * limit)
    assert got.status_code == 413 and got.json() == {
        "detail": f"the request body is at most {limit} bytes"}  # fmt: skip
    query = "query($x: String) { __typename }"
    got = client.post("/graphql", json={"query": query, "variables": {"x": "a" * 1024 * 1024}},
                      headers=co)  # fmt: skip
    assert got.status_code == 413 and "the request body is at most" in got.json()["detail"]
    assert stored(db, database) == 0
