"""Entity-resolution matching of a licence and the four-flow check of an invoice, as pure
rules over an extraction and graph rows (docs/documents.md, "Checking against the graph").

The candidates are scored by the project's matcher (`entity_resolution.match`) on the
licence's record (`resolution_record`) against the graph enterprise's master record, as
`entity_resolution.lookup.match_candidates` scores them in the service.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from documents.fields import Extraction, extract_invoice, extract_licence
from documents.verify import (
    ErCandidate,
    resolution_record,
    verify_invoice,
    verify_licence,
    wants_resolution,
)
from entity_resolution.match import match
from entity_resolution.pipeline import master_record
from entity_resolution.uscc import make_uscc
from graph.analytics.trade import Flow, FlowCheck
from graph.model import DocumentOutcome
from tests.documents.test_fields import USCC, invoice_lines, licence_lines
from tests.documents.test_verify import ENTERPRISE, FACTS

NAME = "上海恒达钢铁有限公司"
GRAPH_USCC = make_uscc("9", "1", "310000", "MA7QW3KP")  # the graph's code for the firm


def _firm(eid: str, name: str, uscc: str | None, **more: Any) -> dict[str, Any]:
    return {
        "id": eid,
        "name": name,
        "uscc": uscc,
        "name_en": None,
        "legal_form": "有限责任公司",
        "region_code": "310000",
        "address": "上海市纬一路12号",
        "phone": None,
        **more,
    }


def _candidate(ex: Extraction, firm: dict[str, Any], reps: list[str] | None = None) -> ErCandidate:
    """The firm as entity resolution offers it: the real matcher's score of the pair."""
    record = resolution_record(ex)
    assert record is not None
    r = match(record, master_record(firm))
    return ErCandidate(firm, reps or [], r.score, r.same, r.threshold, r.blocked_by)


def _with(ex: Extraction, name: str, value: str) -> Extraction:
    f = ex.fields[name]
    return Extraction(ex.kind, {**ex.fields, name: replace(f, value=value, raw=value)})


def test_the_licence_record_has_its_name_address_form_and_rep_but_not_its_uscc() -> None:
    ex = extract_licence(licence_lines())
    rec = resolution_record(ex)
    assert rec is not None
    assert (rec.name, rec.address, rec.legal_form, rec.legal_rep, rec.uscc) == (
        NAME,
        "上海市纬一路12号",
        "有限责任公司",
        "王小明",
        "",
    )
    assert resolution_record(extract_licence(licence_lines(name=0.5))) is None


def test_resolution_is_wanted_only_without_a_holder_of_the_uscc_or_with_another_name() -> None:
    ex = extract_licence(licence_lines())
    assert wants_resolution(ex, [])
    assert not wants_resolution(ex, [ENTERPRISE])
    renamed = {
        **ENTERPRISE,
        "enterprise": {**ENTERPRISE["enterprise"], "name": "杭州明泰机械有限公司"},
    }
    assert wants_resolution(ex, [renamed])
    assert not wants_resolution(extract_licence(licence_lines(name=0.5)), [])
    assert not wants_resolution(extract_licence(licence_lines(uscc=0.5)), [])


def test_a_licence_with_another_firms_name_and_an_unknown_uscc_is_a_mismatch() -> None:
    ex = extract_licence(licence_lines())
    best = _candidate(ex, _firm("E7", NAME, GRAPH_USCC))
    low = _candidate(ex, _firm("E8", "杭州明泰机械有限公司", None))
    assert best.same and not low.same
    v = verify_licence(ex, [], None, [best, low])
    assert v.outcome is DocumentOutcome.MISMATCH and v.enterprise_id == "E7"
    (reason,) = v.reasons
    assert reason.startswith(
        f"mismatch: entity resolution matches the licence's name {NAME} to E7 ({NAME}, score "
    )
    assert f"the licence's USCC {USCC} is not E7's: the graph has {GRAPH_USCC}" in reason
    assert "a licence that claims another firm's name" in reason
    # how it was decided: the fields compared and every candidate with its score
    assert (
        "entity resolution on the licence's name, address, legal form, legal representative"
        in reason
    )
    assert f"E7 {NAME} ({GRAPH_USCC}) {best.score:.3f}, same firm" in reason
    assert (
        f"E8 杭州明泰机械有限公司 (no USCC in the graph) {low.score:.3f}, below the threshold"
        in reason
    )


def test_a_match_to_a_firm_without_a_uscc_goes_to_a_person_with_the_candidate() -> None:
    ex = extract_licence(licence_lines())
    firm = _firm("E7", NAME, None, registered_capital=500_000_000, founded_on="2015-03-02")
    v = verify_licence(ex, [], None, [_candidate(ex, firm, ["王小明"])])
    assert (v.outcome, v.enterprise_id) == (DocumentOutcome.NEEDS_REVIEW, "E7")
    (reason,) = v.reasons
    assert reason.startswith(
        f"needs_review: no enterprise in the graph has USCC {USCC}; "
        f"entity resolution matches the licence's name {NAME} to E7"
    )
    assert f"which has no USCC in the graph: a person confirms that {USCC} is E7's" in reason
    # the licence's other facts are compared with the candidate's
    v = verify_licence(ex, [], None, [_candidate(ex, firm, ["李四"])])
    assert v.outcome is DocumentOutcome.MISMATCH
    assert v.reasons[1] == "mismatch: legal representative reads 王小明, the graph has 李四"


def test_no_confident_candidate_stays_unmatched_with_the_candidates() -> None:
    ex = extract_licence(licence_lines())
    low = _candidate(ex, _firm("E8", "杭州明泰机械有限公司", None))
    v = verify_licence(ex, [], None, [low])
    assert (v.outcome, v.enterprise_id) == (DocumentOutcome.UNMATCHED, None)
    assert v.reasons == [
        f"unmatched: no enterprise in the graph has USCC {USCC}, and entity resolution on the "
        f"licence's name, address, legal form, legal representative (threshold "
        f"{low.threshold:.3f}): E8 杭州明泰机械有限公司 (no USCC in the graph) {low.score:.3f}, "
        "below the threshold"
    ]
    v = verify_licence(ex, [], None, [])
    assert v.reasons == [
        f"unmatched: no enterprise in the graph has USCC {USCC}, and entity resolution on the "
        "licence's name, address, legal form, legal representative found no candidate"
    ]


def test_the_uploaders_enterprise_against_the_match() -> None:
    ex = extract_licence(licence_lines())
    claimed = {
        "enterprise": {"id": "E1", "name": "杭州明泰机械有限公司", "uscc": None},
        "legal_reps": [],
    }
    best = _candidate(ex, _firm("E7", NAME, GRAPH_USCC))
    v = verify_licence(ex, [], claimed, [best])
    assert (v.outcome, v.enterprise_id) == (DocumentOutcome.MISMATCH, "E1")
    assert v.reasons[1] == (
        f"mismatch: the licence is E7's by entity resolution, not E1's "
        f"(USCC {USCC} is not E1's either: none on record)"
    )
    # no candidate: the USCC is not the claimed firm's, as before, with how it was decided
    v = verify_licence(ex, [], claimed, [])
    assert v.outcome is DocumentOutcome.MISMATCH
    assert v.reasons[0].startswith(
        f"mismatch: USCC {USCC} is not E1's (none on record), and "
        "entity resolution on the licence's name"
    )


def test_a_uscc_whose_holder_bears_another_name() -> None:
    ex = extract_licence(licence_lines())
    holder = {
        **ENTERPRISE,
        "enterprise": {**ENTERPRISE["enterprise"], "name": "杭州明泰机械有限公司"},
    }
    # the name is another graph firm's: both USCCs named
    other = _candidate(ex, _firm("E7", NAME, GRAPH_USCC))
    v = verify_licence(ex, [holder], None, [other])
    assert (v.outcome, v.enterprise_id) == (DocumentOutcome.MISMATCH, "E1")
    assert v.reasons[0].startswith(
        f"mismatch: name reads {NAME}, the graph has 杭州明泰机械有限公司 for E1 (USCC {USCC}); "
        f"entity resolution gives the name to E7 ({GRAPH_USCC}, score "
    )
    assert f"the USCC {USCC} is E1's, the name E7's" in v.reasons[0]
    # the holder's name written another way: a person confirms
    variant = {
        **ENTERPRISE,
        "enterprise": {**ENTERPRISE["enterprise"], "name": "上海恒达钢铁有限责任公司"},
    }
    mine = _candidate(ex, _firm("E1", "上海恒达钢铁有限责任公司", USCC))
    assert mine.same
    v = verify_licence(ex, [variant], None, [mine])
    assert v.outcome is DocumentOutcome.NEEDS_REVIEW
    assert "entity resolution scores the two names one firm" in v.reasons[0]
    # nobody's name: a mismatch, as before
    v = verify_licence(ex, [holder], None, [])
    assert v.outcome is DocumentOutcome.MISMATCH
    assert v.reasons[0].endswith("found no candidate")


def test_a_genuine_licence_is_not_resolved_and_stays_verified() -> None:
    ex = extract_licence(licence_lines())
    v = verify_licence(ex, [ENTERPRISE], None, [])
    assert (v.outcome, v.reasons) == (DocumentOutcome.VERIFIED, [])


GOOD = [
    FlowCheck(Flow.CONTRACT, True, True, "under contract K1"),
    FlowCheck(Flow.GOODS, True, True, "1 shipment(s) match"),
    FlowCheck(Flow.INVOICE, True, True, "invoice INV1"),
    FlowCheck(Flow.PAYMENT, False, False, "no payment settles the invoice"),
]


def _flows(**changed: FlowCheck) -> list[FlowCheck]:
    return [changed.get(c.flow.value, c) for c in GOOD]


def test_an_invoice_whose_four_flows_hold_is_verified_unpaid_as_it_is() -> None:
    v = verify_invoice(extract_invoice(invoice_lines()), FACTS, [], GOOD)
    assert (v.outcome, v.reasons) == (DocumentOutcome.VERIFIED, [])


def test_a_broken_flow_is_a_mismatch_with_its_reason() -> None:
    ex = extract_invoice(invoice_lines())
    no_goods = _flows(goods=FlowCheck(Flow.GOODS, False, False, "no shipment delivers the invoice"))
    v = verify_invoice(ex, FACTS, [], no_goods)
    assert v.outcome is DocumentOutcome.MISMATCH
    assert v.reasons == [
        "mismatch: four flows of invoice INV1: the goods flow is missing "
        "(no shipment delivers the invoice)"
    ]
    short = _flows(payment=FlowCheck(Flow.PAYMENT, True, False, "paid 2000 of 113000"))
    v = verify_invoice(ex, FACTS, [], short)
    assert v.reasons == [
        "mismatch: four flows of invoice INV1: the payment flow is "
        "inconsistent (paid 2000 of 113000)"
    ]
    no_contract = _flows(contract=FlowCheck(Flow.CONTRACT, False, False, "no contract"))
    assert verify_invoice(ex, FACTS, [], no_contract).outcome is DocumentOutcome.MISMATCH


def test_a_forged_invoice_stays_forged_with_the_flows_beside() -> None:
    facts = {**FACTS, "invoice": {**FACTS["invoice"], "amount": 90_000}}
    no_goods = _flows(goods=FlowCheck(Flow.GOODS, False, False, "no shipment delivers the invoice"))
    v = verify_invoice(extract_invoice(invoice_lines()), facts, [], no_goods)
    assert v.outcome is DocumentOutcome.FORGED
    assert v.reasons[-1].startswith("mismatch: four flows of invoice INV1: the goods flow")
