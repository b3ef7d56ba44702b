"""The checks against the graph, as pure functions over an extraction and graph rows: each
forgery the issue names is caught with its reason, and an unread field is never a verdict."""

from __future__ import annotations

from dataclasses import replace

from documents.fields import Extraction, extract_invoice, extract_licence
from documents.verify import verify_invoice, verify_licence
from graph.model import DocumentOutcome
from tests.documents.test_fields import BUYER, USCC, invoice_lines, licence_lines

ENTERPRISE = {
    "enterprise": {
        "id": "E1", "name": "上海恒达钢铁有限公司", "uscc": USCC, "legal_form": "有限责任公司",
        "registered_capital": 500_000_000, "founded_on": "2015-03-02",
    },
    "legal_reps": ["王小明"],
}  # fmt: skip
FACTS = {
    "invoice": {"id": "INV1", "amount": 100_000, "tax": 13_000, "issued_on": "2024-05-12"},
    "seller": {"id": "E1", "name": "上海恒达钢铁有限公司", "uscc": USCC},
    "buyer": {"id": "E2", "name": "深圳前海买方贸易有限公司", "uscc": BUYER},
}


def _with(ex: Extraction, name: str, value: str) -> Extraction:
    f = ex.fields[name]
    return Extraction(ex.kind, {**ex.fields, name: replace(f, value=value, raw=value)})


def test_a_true_licence_is_verified_and_matched() -> None:
    v = verify_licence(extract_licence(licence_lines()), [ENTERPRISE], None)
    assert (v.outcome, v.reasons, v.enterprise_id) == (DocumentOutcome.VERIFIED, [], "E1")


def test_a_wrong_check_character_is_a_forgery() -> None:
    bad = USCC[:17] + ("0" if USCC[17] != "0" else "1")
    lines = [
        replace(x, text=f"统一社会信用代码 {bad}") if "信用代码" in x.text else x
        for x in licence_lines()
    ]
    v = verify_licence(extract_licence(lines), [], None)
    assert v.outcome is DocumentOutcome.FORGED
    assert v.reasons == [f"forged: USCC {bad} is not a valid code: check character is "
                         f"{bad[17]}, expected {USCC[17]}"]  # fmt: skip


def test_a_licence_of_another_legal_rep_is_a_mismatch_and_unread_is_review() -> None:
    ex = _with(extract_licence(licence_lines()), "legal_rep", "李四")
    v = verify_licence(ex, [ENTERPRISE], None)
    assert v.outcome is DocumentOutcome.MISMATCH
    assert v.reasons == ["mismatch: legal representative reads 李四, the graph has 王小明"]
    v = verify_licence(extract_licence(licence_lines(rep=0.5)), [ENTERPRISE], None)
    assert v.outcome is DocumentOutcome.NEEDS_REVIEW


def test_a_true_invoice_is_verified() -> None:
    v = verify_invoice(extract_invoice(invoice_lines()), FACTS, [])
    assert (v.outcome, v.reasons) == (DocumentOutcome.VERIFIED, [])


def test_an_altered_amount_is_a_forgery() -> None:
    facts = {**FACTS, "invoice": {**FACTS["invoice"], "amount": 90_000, "tax": 11_700}}
    v = verify_invoice(extract_invoice(invoice_lines()), facts, [])
    assert v.outcome is DocumentOutcome.FORGED
    assert v.reasons == [
        "forged: amount reads 1000.00, the graph's invoice INV1 has 900.00",
        "forged: tax reads 130.00, the graph's invoice INV1 has 117.00",
    ]


def test_a_buyer_that_is_not_the_graphs_buyer_is_a_forgery() -> None:
    other = {"id": "E9", "name": "深圳前海买方贸易有限公司", "uscc": USCC}
    v = verify_invoice(extract_invoice(invoice_lines()), {**FACTS, "buyer": other}, [])
    assert v.outcome is DocumentOutcome.FORGED
    assert v.reasons == [f"forged: buyer tax id (the graph's buyer is E9) reads {BUYER}, "
                         f"the graph has {USCC}"]  # fmt: skip


def test_a_reused_invoice_number_is_a_forgery_but_the_same_invoice_again_is_not() -> None:
    ex = extract_invoice(invoice_lines())
    seen = [{"id": "DOC-1", "invoice_id": "INV7", "file_hash": "x", "uploaded_at": "t"}]
    v = verify_invoice(ex, FACTS, seen)
    assert v.outcome is DocumentOutcome.FORGED
    assert v.reasons == ["forged: invoice 3100194130:01234567 was already shown as evidence "
                         "for invoice INV7 (document DOC-1)"]  # fmt: skip
    again = [{**seen[0], "invoice_id": "INV1"}]
    assert verify_invoice(ex, FACTS, again).outcome is DocumentOutcome.VERIFIED
