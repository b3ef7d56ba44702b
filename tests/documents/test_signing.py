"""Contract PDFs signed with pyHanko under a CA the test makes, and verified by pyHanko's
validator: an untouched PDF verifies; a byte changed in the signed range, an incremental
update that changes the page's text, another CA's signature, or a signature made for another
contract do not. Bad files are refused before verification (issue 22)."""

from __future__ import annotations

import io
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from documents.contracts import ContractFacts, render_contract_pdf
from documents.signing import (
    BadSignedPdf,
    SigningIdentity,
    check_pdf,
    sign_pdf,
    verify_signed_pdf,
)
from graph.model import SignatureStatus

FACTS = ContractFacts(
    id="C-7", kind="supply", amount_minor=123_456_78, currency="CNY", signed_on="2026-03-01",
    due_on="2026-09-01", seller_name="上海恒达钢铁有限公司", seller_uscc="91310000MA1FL0FJ0X",
    buyer_name="深圳前海华润贸易有限公司", buyer_uscc="91440300MA5DA0X10X",
    goods=[{"id": "G1", "name": "热轧钢卷", "hs_code": "7208", "unit": "吨", "quantity": 120}],
)  # fmt: skip


@pytest.fixture(scope="module")
def identity(tmp_path_factory: pytest.TempPathFactory) -> SigningIdentity:
    return SigningIdentity.ensure(tmp_path_factory.mktemp("ca") / "signing", "test passphrase")


@pytest.fixture(scope="module")
def signed(identity: SigningIdentity) -> bytes:
    return sign_pdf(render_contract_pdf(FACTS), identity, FACTS.id)


def text_of(pdf: bytes) -> str:
    doc = pdfium.PdfDocument(pdf)
    try:
        return "".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    finally:
        doc.close()


def test_the_contract_pdf_carries_the_graph_facts() -> None:
    text = text_of(render_contract_pdf(FACTS))
    for fact in ("C-7", "上海恒达钢铁有限公司", "深圳前海华润贸易有限公司", "123,456.78",
                 "2026-03-01", "2026-09-01", "热轧钢卷", "供货合同"):  # fmt: skip
        assert fact in text


def test_an_untouched_signed_pdf_verifies(identity: SigningIdentity, signed: bytes) -> None:
    got = verify_signed_pdf(signed, identity.ca_cert, FACTS.id)
    assert got.status is SignatureStatus.VALID, got.reason
    assert got.signer == identity.signer_name
    assert got.signed_at is not None and got.signatures == 1


def test_the_identity_is_kept_and_its_keys_are_encrypted(
    identity: SigningIdentity, tmp_path: Path
) -> None:
    folder = tmp_path / "signing"
    first = SigningIdentity.ensure(folder, "pw")
    again = SigningIdentity.ensure(folder, "pw")
    assert first.ca_cert == again.ca_cert
    assert b"ENCRYPTED PRIVATE KEY" in (folder / "signer-key.pem").read_bytes()
    assert (folder / "ca-key.pem").stat().st_mode & 0o077 == 0


def test_one_byte_changed_in_the_signed_range_fails(
    identity: SigningIdentity, signed: bytes
) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader

    start, length, _, _ = PdfFileReader(io.BytesIO(signed)).embedded_signatures[0].byte_range
    data = bytearray(signed)
    at = data.index(b"stream", start + length // 2) + 20  # inside a content stream
    assert at < start + length
    data[at] ^= 0x01
    got = verify_signed_pdf(bytes(data), identity.ca_cert, FACTS.id)
    assert got.status is SignatureStatus.INVALID
    assert "changed after signing" in got.reason


def test_an_incremental_update_that_changes_the_text_fails(
    identity: SigningIdentity, signed: bytes
) -> None:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    page = writer.root["/Pages"]["/Kids"].raw_get(0).get_object()
    font = generic.DictionaryObject({
        generic.NameObject("/Type"): generic.NameObject("/Font"),
        generic.NameObject("/Subtype"): generic.NameObject("/Type1"),
        generic.NameObject("/BaseFont"): generic.NameObject("/Helvetica"),
    })  # fmt: skip
    page["/Resources"] = generic.DictionaryObject(
        {generic.NameObject("/Font"): generic.DictionaryObject(
            {generic.NameObject("/F9"): writer.add_object(font)})}
    )  # fmt: skip
    page["/Contents"] = writer.add_object(generic.StreamObject(
        stream_data=b"BT /F9 24 Tf 72 700 Td (Amount CNY 999,999,999.00) Tj ET"))  # fmt: skip
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    tampered = out.getvalue()
    assert tampered.startswith(signed)  # the signed revision itself is untouched
    assert "999,999,999.00" in text_of(tampered)
    got = verify_signed_pdf(tampered, identity.ca_cert, FACTS.id)
    assert got.status is SignatureStatus.INVALID
    assert "incremental update" in got.reason and "other" in got.reason


def test_another_cas_signature_or_contract_is_refused(
    identity: SigningIdentity, signed: bytes, tmp_path: Path
) -> None:
    stranger = SigningIdentity.ensure(tmp_path / "other", "pw")
    theirs = sign_pdf(render_contract_pdf(FACTS), stranger, FACTS.id)
    got = verify_signed_pdf(theirs, identity.ca_cert, FACTS.id)
    assert got.status is SignatureStatus.INVALID and "trust root" in got.reason
    got = verify_signed_pdf(signed, identity.ca_cert, "C-8")
    assert got.status is SignatureStatus.INVALID and "not for contract C-8" in got.reason
    unsigned = render_contract_pdf(FACTS)
    got = verify_signed_pdf(unsigned, identity.ca_cert, FACTS.id)
    assert got.status is SignatureStatus.INVALID and got.reason == "the PDF carries no signature"


def test_bad_files_are_refused(signed: bytes) -> None:
    assert check_pdf(signed, 10 * len(signed)) == 1
    buf = io.BytesIO()
    pdfium.PdfDocument.new().save(buf)
    no_pages = buf.getvalue()
    cases = {
        b"": "the upload is empty",
        b"id,name\n1,x\n": "not a PDF",
        signed[: len(signed) // 3]: "cannot be opened",
        b"%PDF-1.7\n" + b"\x00garbage" * 100: "cannot be opened",
        no_pages: "no pages",
    }
    for data, message in cases.items():
        with pytest.raises(BadSignedPdf, match=message):
            check_pdf(data, 10 * len(signed))
    with pytest.raises(BadSignedPdf, match="at most 1024 bytes"):
        check_pdf(signed, 1024)
    assert BadSignedPdf.http_status == 400


def test_a_countersignature_by_another_signer_of_the_ca_verifies(
    identity: SigningIdentity, signed: bytes, tmp_path: Path
) -> None:
    folder = tmp_path / "signing"
    platform = SigningIdentity.ensure(folder, "pw")
    borrower = SigningIdentity.countersigner(folder, "pw", "深圳前海华润贸易有限公司")
    once = sign_pdf(render_contract_pdf(FACTS), platform, FACTS.id)
    twice = sign_pdf(once, borrower, FACTS.id, field_name="Borrower")
    assert twice.startswith(once)  # an incremental update
    got = verify_signed_pdf(twice, platform.ca_cert, FACTS.id)
    assert got.status is SignatureStatus.VALID, got.reason
    assert got.signatures == 2
    assert got.signer == "ChainLens Contract Signer; 深圳前海华润贸易有限公司"


def test_a_byte_changed_in_the_signature_dictionary_fails(
    identity: SigningIdentity, signed: bytes
) -> None:
    data = bytearray(signed)
    at = data.index(b"/ByteRange") + len(b"/ByteRange") + 3  # a digit of the byte range
    data[at] = ord("9") if data[at] != ord("9") else ord("8")
    got = verify_signed_pdf(bytes(data), identity.ca_cert, FACTS.id)
    assert got.status is SignatureStatus.INVALID, got.reason
