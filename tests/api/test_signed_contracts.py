"""Signed contracts through the front door (issue 22): a credit officer downloads a graph
Contract as a signed PDF over REST; a relationship manager uploads it back through GraphQL's
multipart `uploadSignedContract` and gets `valid` with the signer and time, stored on a
`Document`; the same PDF with one byte changed, or with an incremental update that rewrites
its text, is stored as `invalid` with the reason; bad files are refused with 400
BAD_REQUEST and nothing stored."""

from __future__ import annotations

import io
import json
from collections.abc import Callable

import httpx
import pypdfium2 as pdfium
import pytest
from neo4j import Driver

from api.security import Role
from tests.api.conftest import gql

pytestmark = [pytest.mark.neo4j]

UPLOAD = """
mutation Upload($contractId: ID!, $file: Upload!) {
  uploadSignedContract(contractId: $contractId, file: $file) {
    id contractId status signer signedAt reason signatures fileHash sizeBytes pages uploadedBy
  }
}
"""
LIST = """
query Docs($contractId: ID!) {
  signedContractDocuments(contractId: $contractId) { id status reason signer }
}
"""


def world(db: Driver, database: str) -> None:
    db.execute_query(
        """
        CREATE (s:Enterprise {id: 'SC-E1', name: '上海恒达钢铁有限公司',
                              uscc: '91310000MA1FL0FJ0X'})
        CREATE (b:Enterprise {id: 'SC-E2', name: '深圳前海华润贸易有限公司',
                              uscc: '91440300MA5DA0X10X'})
        CREATE (c:Contract {id: 'SC-C1', kind: 'supply', amount: 12345678, currency: 'CNY',
                            signed_on: date('2026-03-01'), due_on: date('2026-09-01')})
        CREATE (s)-[:PARTY {role: 'seller'}]->(c), (b)-[:PARTY {role: 'buyer'}]->(c)
        CREATE (g:Goods {id: 'SC-G1', name: '热轧钢卷', hs_code: '7208', unit: '吨'})
        CREATE (i:Invoice {id: 'SC-I1', amount: 12345678})-[:UNDER]->(c)
        CREATE (i)-[:FOR {qty: '120'}]->(g)
        """,
        database_=database,
    )


def upload(
    client: httpx.Client, headers: dict[str, str], data: bytes, contract_id: str = "SC-C1"
) -> httpx.Response:
    operations = {"query": UPLOAD, "variables": {"contractId": contract_id, "file": None}}
    return client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": ("contract.pdf", data, "application/pdf")},
        headers=headers,
    )


def stored(db: Driver, database: str) -> int:
    records, _, _ = db.execute_query(
        "MATCH (d:Document {kind: 'signed_contract'}) RETURN count(d) AS n", database_=database
    )
    return int(records[0]["n"])


def text_of(pdf: bytes) -> str:
    doc = pdfium.PdfDocument(pdf)
    try:
        return "".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    finally:
        doc.close()


def rewrite_text(signed: bytes, text: bytes) -> bytes:
    """An incremental update after the signature that replaces the first page's content."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    page = writer.root["/Pages"]["/Kids"].raw_get(0).get_object()
    font = writer.add_object(generic.DictionaryObject({
        generic.NameObject("/Type"): generic.NameObject("/Font"),
        generic.NameObject("/Subtype"): generic.NameObject("/Type1"),
        generic.NameObject("/BaseFont"): generic.NameObject("/Helvetica"),
    }))  # fmt: skip
    page["/Resources"] = generic.DictionaryObject({generic.NameObject("/Font"):
        generic.DictionaryObject({generic.NameObject("/F9"): font})})  # fmt: skip
    page["/Contents"] = writer.add_object(
        generic.StreamObject(stream_data=b"BT /F9 24 Tf 72 700 Td (" + text + b") Tj ET")
    )
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_signed_contract_download_upload_and_tampering(
    db: Driver, database: str, client: httpx.Client, login: Callable[..., dict[str, str]]
) -> None:
    world(db, database)
    officer = login(Role.CREDIT_OFFICER)
    rm = login(Role.RELATIONSHIP_MANAGER)
    analyst = login(Role.ANALYST)

    got = client.get("/api/v1/contracts/SC-C1/signed.pdf", headers=officer)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/pdf"
    signed = got.content
    text = text_of(signed)
    assert "SC-C1" in text and "上海恒达钢铁有限公司" in text and "123,456.78" in text
    assert "热轧钢卷" in text and "120" in text
    assert client.get("/api/v1/contracts/SC-C1/signed.pdf", headers=analyst).status_code == 403
    assert client.get("/api/v1/contracts/NOPE/signed.pdf", headers=officer).status_code == 404
    assert client.get("/api/v1/contracts/SC-C1/signed.pdf").status_code == 401

    # Untouched: valid, with the signer and the time, stored on a Document.
    got = upload(client, rm, signed)
    assert got.status_code == 200, got.text
    doc = got.json()["data"]["uploadSignedContract"]
    assert doc["status"] == "valid", doc
    assert doc["signer"] == "ChainLens Contract Signer" and doc["signedAt"]
    assert (doc["contractId"], doc["signatures"], doc["pages"]) == ("SC-C1", 1, 1)
    assert doc["sizeBytes"] == len(signed) and doc["uploadedBy"] == "user-relationship_manager"
    records, _, _ = db.execute_query(
        "MATCH (d:Document {id: $id})-[:PROVES]->(c:Contract) RETURN d, c.id AS c",
        id=doc["id"], database_=database,
    )  # fmt: skip
    node = records[0]["d"]
    assert records[0]["c"] == "SC-C1"
    assert (node["signature_status"], node["signer"], node["signed_at"]) == (
        "valid", doc["signer"], doc["signedAt"])  # fmt: skip

    # One byte flipped inside the signed range: invalid, with the reason.
    from pyhanko.pdf_utils.reader import PdfFileReader

    start, length, _, _ = PdfFileReader(io.BytesIO(signed)).embedded_signatures[0].byte_range
    flipped = bytearray(signed)
    at = flipped.index(b"stream", start + length // 2) + 20
    flipped[at] ^= 0x01
    doc = upload(client, rm, bytes(flipped)).json()["data"]["uploadSignedContract"]
    assert doc["status"] == "invalid"
    assert "changed after signing" in doc["reason"], doc

    # An incremental update that rewrites the amount: invalid, reported as modified.
    tampered = rewrite_text(signed, b"Amount CNY 999,999,999.00")
    assert "999,999,999.00" in text_of(tampered)
    doc = upload(client, rm, tampered).json()["data"]["uploadSignedContract"]
    assert doc["status"] == "invalid"
    assert "incremental update" in doc["reason"], doc

    # The same valid PDF offered as another contract's: invalid.
    db.execute_query("CREATE (:Contract {id: 'SC-C2', amount: 1})", database_=database)
    doc = upload(client, rm, signed, "SC-C2").json()["data"]["uploadSignedContract"]
    assert doc["status"] == "invalid" and "not for contract SC-C2" in doc["reason"]

    listed = gql(client, analyst, LIST, contractId="SC-C1").json()
    assert listed.get("errors") is None, listed
    statuses = sorted(d["status"] for d in listed["data"]["signedContractDocuments"])
    assert statuses == ["invalid", "invalid", "valid"]
    assert stored(db, database) == 4


def _no_pages() -> bytes:
    buf = io.BytesIO()
    pdfium.PdfDocument.new().save(buf)
    return buf.getvalue()


def test_bad_uploads_are_refused_and_nothing_is_stored(
    db: Driver, database: str, client: httpx.Client, login: Callable[..., dict[str, str]]
) -> None:
    world(db, database)
    rm = login(Role.RELATIONSHIP_MANAGER)
    cases = [
        (_no_pages(), "the PDF has no pages"),
        (b"%PDF-1.7\n" + b"\x00garbage" * 200, "the PDF cannot be opened"),
        (b"name,amount\nacme,12\n", "not a PDF"),
        (b"%PDF-1.7\n" + b"0" * (768 * 1024), "a signed contract is at most 786432 bytes"),
        (b"", "the upload is empty"),
    ]
    for data, says in cases:
        got = upload(client, rm, data)
        assert got.status_code == 400, (says, got.text)
        error = got.json()["errors"][0]
        assert error["extensions"]["code"] == "BAD_REQUEST", error
        assert says in error["message"], error
    # Over the contract's limit but within a multipart request's (uploadDocument's 10 MiB):
    # read to one byte over and refused; over that: refused before GraphQL reads it.
    got = upload(client, rm, b"%PDF-1.7\n" + b"0" * (2 * 1024 * 1024))
    assert got.status_code == 400 and "at most 786432 bytes" in got.text
    got = upload(client, rm, b"%PDF-1.7\n" + b"0" * (11 * 1024 * 1024))
    assert got.status_code == 413
    # An unknown contract: NOT_FOUND; an analyst may not upload.
    one_page = pdfium.PdfDocument.new()
    one_page.new_page(200, 200)
    buf = io.BytesIO()
    one_page.save(buf)
    got = upload(client, rm, buf.getvalue(), "NOPE")
    assert got.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND", got.text
    assert got.status_code == 404
    got = upload(client, login(Role.ANALYST), b"%PDF-1.7\n")
    assert got.status_code == 403
    assert stored(db, database) == 0
