"""Documents through the front door: a licence and invoices uploaded over HTTP, read by OCR,
checked against a hand-built graph and stored as `Document` nodes; forgeries answered with
their reasons; bad uploads refused with a 4xx and nothing stored.

Each upload is a real OCR run (several seconds on a shared machine), so the pages are few.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable

import httpx
import pytest
from neo4j import Driver
from PIL import Image

from api.security import Role
from documents.synth import damage, make_invoice, render_invoice, render_licence, stamp
from entity_resolution.uscc import make_uscc

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]

URL = "/api/v1/documents"
SELLER = {
    "name": "上海恒达钢铁有限公司", "uscc": make_uscc("9", "1", "310000", "MA1FL0FJ"),
    "legal_form": "有限责任公司", "legal_rep": "王小明", "registered_capital": "5000000",
    "founded_on": "2015-03-02", "address": "上海市纬一路12号",
}  # fmt: skip
BUYER = {"name": "深圳前海华润贸易有限公司", "uscc": make_uscc("9", "1", "440300", "MA5DA0X1")}
OTHER = {"name": "杭州明泰机械有限公司", "uscc": make_uscc("9", "1", "330100", "MA2CK7Q4")}


def scan(img: Image.Image, seed: int) -> bytes:
    r = random.Random(seed)
    stamp(img, (r.randrange(700, 1000), 930), "专用章")
    return damage(img, r)[0]


def world(db: Driver, database: str, invoice: dict[str, str]) -> None:
    db.execute_query(
        """
        CREATE (s:Enterprise {id: 'E1', name: $s.name, uscc: $s.uscc, legal_form: '有限责任公司',
                              registered_capital: 500000000, founded_on: date('2015-03-02')})
        CREATE (b:Enterprise {id: 'E2', name: $b.name, uscc: $b.uscc})
        CREATE (o:Enterprise {id: 'E3', name: $o.name, uscc: $o.uscc})
        CREATE (:Person {id: 'P1', name: '王小明'})-[:ROLE {kind: 'legal_representative'}]->(s)
        CREATE (i:Invoice {id: 'INV1', amount: $amount, tax: $tax,
                           issued_on: date($issued_on)})
        CREATE (i)-[:SELLER]->(s), (i)-[:BUYER]->(b)
        CREATE (j:Invoice {id: 'INV2', amount: $amount, tax: $tax,
                           issued_on: date($issued_on)})
        CREATE (j)-[:SELLER]->(s), (j)-[:BUYER]->(b)
        // the trade behind both (their four flows hold; unpaid, as a receivable is)
        CREATE (k:Contract {id: 'K1', amount: $amount * 10,
                            signed_on: date($issued_on) - duration('P30D')})
        CREATE (i)-[:UNDER]->(k), (j)-[:UNDER]->(k)
        CREATE (:Shipment {id: 'SH1', shipped_on: date($issued_on),
                           received_on: date($issued_on) + duration('P2D')})-[:DELIVERS]->(i)
        CREATE (:Shipment {id: 'SH2', shipped_on: date($issued_on),
                           received_on: date($issued_on) + duration('P2D')})-[:DELIVERS]->(j)
        """,
        s=SELLER, b=BUYER, o=OTHER, amount=int(invoice["amount"].replace(".", "")),
        tax=int(invoice["tax"].replace(".", "")), issued_on=invoice["issued_on"],
        database_=database,
    )  # fmt: skip


def documents(db: Driver, database: str) -> int:
    records, _, _ = db.execute_query("MATCH (d:Document) RETURN count(d) AS n", database_=database)
    return int(records[0]["n"])


def test_licence_and_invoices_verified_and_forgeries_caught(
    db: Driver, database: str, client: httpx.Client, login: Callable[..., dict[str, str]]
) -> None:
    rm = login(Role.RELATIONSHIP_MANAGER)
    r = random.Random(5)
    inv = make_invoice(SELLER, BUYER, r)
    world(db, database, inv)

    licence = scan(render_licence(SELLER), 1)
    got = client.post(URL, content=licence, headers=rm, params={"enterprise_id": "E1"})
    assert got.status_code == 201, got.text
    doc = got.json()
    assert (doc["kind"], doc["outcome"], doc["reasons"]) == ("licence", "verified", [])
    assert doc["fields"]["uscc"]["value"] == SELLER["uscc"]
    assert doc["fields"]["uscc"]["confidence"] >= 0.95
    assert client.get(f"{URL}/{doc['id']}", headers=rm).json() == doc
    proves, _, _ = db.execute_query(
        "MATCH (d:Document {id: $id})-[:PROVES]->(e:Enterprise) RETURN e.id AS e",
        id=doc["id"], database_=database,
    )  # fmt: skip
    assert [x["e"] for x in proves] == ["E1"]

    genuine = scan(render_invoice(inv), 2)
    got = client.post(URL, content=genuine, headers=rm, params={"invoice_id": "INV1"})
    assert got.status_code == 201, got.text
    assert (got.json()["outcome"], got.json()["reasons"]) == ("verified", [])
    # The four-flow check the graph gave, as GraphQL's `Document.fourFlow` carries it.
    assert got.json()["text_method"] == "ocr"
    assert {c["flow"] for c in got.json()["four_flow"]} == {
        "contract", "goods", "invoice", "payment"
    }  # fmt: skip
    assert doc["four_flow"] is None  # a licence has none

    # The same invoice shown again as evidence for another invoice.
    got = client.post(URL, content=genuine, headers=rm, params={"invoice_id": "INV2"})
    assert got.json()["outcome"] == "forged"
    key = f"{inv['code']}:{inv['number']}"
    assert got.json()["reasons"] == [
        f"forged: invoice {key} was already shown as evidence for invoice INV1 "
        f"(document {got.json()['reasons'][0].split('document ')[1][:-1]})"
    ]

    # An altered amount (the total altered with it) and a buyer that is not the graph's.
    amount = int(inv["amount"].replace(".", "")) + 1_000_000  # 10,000.00 more
    altered = dict(inv, number=f"{(int(inv['number']) + 1) % 10**8:08d}",
                   amount=f"{amount // 100}.{amount % 100:02d}",
                   total=f"{(amount + int(inv['tax'].replace('.', ''))) / 100:.2f}",
                   buyer_name=OTHER["name"], buyer_tax_id=OTHER["uscc"])  # fmt: skip
    got = client.post(URL, content=scan(render_invoice(altered), 3), headers=rm,
                      params={"invoice_id": "INV1"})  # fmt: skip
    reasons = got.json()["reasons"]
    assert got.json()["outcome"] == "forged", reasons
    assert f"forged: buyer tax id (the graph's buyer is E2) reads {OTHER['uscc']}, the graph " \
        f"has {BUYER['uscc']}" in reasons  # fmt: skip
    said = f"forged: amount reads {altered['amount']}, the graph's invoice INV1 has {inv['amount']}"
    assert said in reasons, reasons

    # A licence whose USCC check character is wrong.
    bad = SELLER["uscc"][:17] + ("0" if SELLER["uscc"][17] != "0" else "1")
    got = client.post(URL, content=scan(render_licence(dict(SELLER, uscc=bad)), 4), headers=rm)
    assert got.json()["outcome"] == "forged"
    assert got.json()["reasons"][0].startswith(f"forged: USCC {bad} is not a valid code")
    assert documents(db, database) == 5


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _empty_pdf() -> bytes:
    import pypdfium2 as pdfium

    buf = io.BytesIO()
    pdfium.PdfDocument.new().save(buf)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 50, 422, "cannot be decoded"),
        (b"name,amount\nacme,12\n", 415, "not a document this service reads"),
        (_png(Image.new("RGB", (800, 600), "white")), 422, "no business licence or VAT invoice"),
        (_empty_pdf(), 422, "the PDF has no pages"),
        (b"%PDF-1.4\n%%EOF\n", 422, "the PDF cannot be opened"),
        (b"\xff\xd8\xff" + b"\x00" * (10 * 1024 * 1024), 413, "at most"),
    ],
    ids=[
        "corrupt-image",
        "not-a-document-file",
        "blank-page",
        "empty-pdf",
        "broken-pdf",
        "too-large",
    ],
)
def test_bad_uploads_are_refused_and_nothing_is_stored(
    db: Driver, database: str, client: httpx.Client, login: Callable[..., dict[str, str]],
    body: bytes, status: int, says: str,
) -> None:  # fmt: skip
    rm = login(Role.RELATIONSHIP_MANAGER)
    got = client.post(URL, content=body, headers=rm)
    assert got.status_code == status, got.text
    assert says in got.json()["detail"]
    assert documents(db, database) == 0


def test_uploads_need_a_writer_and_a_known_reference(
    db: Driver, database: str, client: httpx.Client, login: Callable[..., dict[str, str]]
) -> None:
    body = b"\x89PNG\r\n\x1a\n"
    assert client.post(URL, content=body).status_code == 401
    assert client.post(URL, content=body, headers=login(Role.ANALYST)).status_code == 403
    blank = _png(Image.new("RGB", (50, 50), "white"))
    got = client.post(URL, content=blank, headers=login(Role.CREDIT_OFFICER),
                      params={"invoice_id": "NOPE"})  # fmt: skip
    assert (got.status_code, got.json()["detail"]) == (404, "no invoice NOPE")
    assert documents(db, database) == 0
