"""Financing contracts without a database (issue 22): the templates each product gets, the
amount in capital numerals, and a contract filled from a financing, signed by the borrower
and the funder with timestamps from the project TSA, verified, and failing once tampered."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from chainlens.settings import Environment, Settings
from documents.financing_contracts import ContractParty, parties_of, verify
from documents.signing import party_identity, project_timestamper, sign_pdf, tsa_identity
from documents.templates import (
    TEMPLATES,
    FinancingContractFacts,
    NoTemplate,
    amount_in_words,
    render_financing_contract,
    templates_for,
    yuan,
)


@pytest.mark.parametrize(("product", "expected"), [
    ("factoring_recourse", ["financing_agreement@1", "receivable_transfer_notice@1"]),
    ("factoring_nonrecourse", ["financing_agreement@1", "receivable_transfer_notice@1"]),
    ("reverse_factoring", ["financing_agreement@1", "receivable_transfer_notice@1"]),
    ("voucher_discounting", ["financing_agreement@1", "receivable_transfer_notice@1"]),
    ("warehouse_receipt_pledge", ["financing_agreement@1", "pledge_agreement@1"]),
    ("movable_asset_pledge", ["financing_agreement@1", "pledge_agreement@1"]),
    ("confirmed_warehouse", ["financing_agreement@1", "pledge_agreement@1"]),
    ("receivables_pledge", ["financing_agreement@1", "pledge_agreement@1"]),
    ("order_financing", ["financing_agreement@1"]),
])  # fmt: skip
def test_each_product_gets_its_templates(product: str, expected: list[str]) -> None:
    assert [t.ref for t in templates_for(product)] == expected


def test_every_catalogue_product_is_served_and_unknown_ones_are_refused() -> None:
    catalogue = {p.stem for p in Path("finance/products").glob("*.yaml")}
    served = set().union(*(t.products for t in TEMPLATES))
    assert catalogue <= served
    with pytest.raises(NoTemplate):
        templates_for("no_such_product")


@pytest.mark.parametrize(("fen", "words"), [
    (0, "零元整"), (1, "壹分"), (50, "伍角整"), (1050, "壹拾元伍角整"),
    (100_005, "壹仟元零伍分"), (100_000_000, "壹佰万元整"),
    (123_456_789, "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分"),
    (10_001_000, "壹拾万零壹拾元整"), (1_000_100_000, "壹仟万壹仟元整"),
    (10_000_000_100, "壹亿零壹元整"), (10_000_500_000, "壹亿零伍仟元整"),
    (101_010_101, "壹佰零壹万零壹佰零壹元零壹分"),
])  # fmt: skip
def test_amount_in_words(fen: int, words: str) -> None:
    assert amount_in_words(fen) == words


def test_amount_in_figures() -> None:
    assert (yuan(123_456_789), yuan(5), yuan(0)) == ("1,234,567.89", "0.05", "0.00")


ROW = {
    "financing": {"id": "F-1", "status": "approved", "product_id": "reverse_factoring",
                  "currency": "CNY", "amount_minor": 123_456_789, "rate_bps": 650,
                  "tenor_days": 90, "approved_on": date(2026, 3, 1), "funder_id": "default",
                  "borrower_id": "E-1", "application_id": "A-1", "conditions": ["core confirms"]},
    "borrower": {"id": "E-1", "name": "上海恒达钢铁有限公司", "uscc": "91310000MA1FL0FJ0X"},
    "funder": {"id": "default", "name": "ChainLens 默认资金方"},
    "collateral": [{"id": "INV-1", "label": "Invoice", "value": 150_000_000,
                    "due_on": date(2026, 6, 1),
                    "debtor": {"name": "深圳前海华润贸易有限公司", "uscc": "91440300MA5DA0X10X"}}],
}  # fmt: skip


def test_a_contract_signed_by_both_parties_verifies_and_tampering_fails(
    tmp_path: Path,
) -> None:
    import pypdfium2 as pdfium

    facts = FinancingContractFacts.from_row(ROW, "DOC-1", date(2026, 3, 2))
    pdf = render_financing_contract(facts, templates_for("reverse_factoring"))
    doc = pdfium.PdfDocument(pdf)
    text = "".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    doc.close()
    for fact in ("DOC-1", "上海恒达钢铁有限公司", "91310000MA1FL0FJ0X", "1,234,567.89",
                 "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分", "6.50", "90", "INV-1", "1,500,000.00",
                 "深圳前海华润贸易有限公司", "financing_agreement@1",
                 "receivable_transfer_notice@1", "应收账款转让通知书"):  # fmt: skip
        assert fact in text, fact

    settings = Settings(
        environment=Environment.TEST, state_dir=tmp_path, signing_key_passphrase="test passphrase"
    )  # type: ignore[arg-type]
    folder = settings.effective_signing_dir()
    parties = parties_of(ROW)
    ts = project_timestamper(tsa_identity(folder, "test passphrase"))
    once = sign_pdf(pdf, party_identity(folder, "test passphrase",
                                        parties[ContractParty.BORROWER]),
                    "DOC-1", "borrower", ts)  # fmt: skip
    half = verify(once, settings, "DOC-1", parties)
    assert half.valid and half.missing == [ContractParty.FUNDER], half.reason
    both = sign_pdf(once, party_identity(folder, "test passphrase",
                                         parties[ContractParty.FUNDER]),
                    "DOC-1", "funder", ts)  # fmt: skip
    got = verify(both, settings, "DOC-1", parties)
    assert got.complete, got.reason
    assert [(s.party, s.report.signer, s.report.timestamp_valid) for s in got.signatures] == [
        (ContractParty.BORROWER, "上海恒达钢铁有限公司", True),
        (ContractParty.FUNDER, "ChainLens 默认资金方", True),
    ]
    assert all(s.report.signed_at for s in got.signatures)
    # The funder's key in the borrower's field is no borrower's signature.
    wrong = sign_pdf(pdf, party_identity(folder, "test passphrase",
                                         parties[ContractParty.FUNDER]),
                     "DOC-1", "borrower", ts)  # fmt: skip
    assert ContractParty.BORROWER in verify(wrong, settings, "DOC-1", parties).missing
    # One byte changed inside the signed range.
    bad = bytearray(both)
    bad[bad.index(b"stream", len(both) // 3) + 30] ^= 0x01
    tampered = verify(bytes(bad), settings, "DOC-1", parties)
    assert not tampered.valid and "changed after signing" in tampered.reason
    assert tampered.missing == [ContractParty.BORROWER, ContractParty.FUNDER]
