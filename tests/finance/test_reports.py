"""The portfolio report's arithmetic on hand-made lines (no database): empty books, the due
window's ends, days past due of a lender's overdue financing, and a ledger difference. The
report read from the graph is tested over HTTP in tests/api/test_reports.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from finance import reports as fr
from finance.errors import FinanceError
from graph.model import RiskClass

AS_OF = date(2026, 6, 30)
LINE = fr.FinancingLine(
    id="F1", status="active", origin="originated", lender="own_book", product="p",
    borrower_id="B", borrower_name="", core_id="", core_name="", currency="CNY",
    outstanding_minor=1_000, interest_due_minor=0, provision_minor=0,
    maturity_on=AS_OF, dpd=0, risk_class=RiskClass.NORMAL, ledger_principal_minor=1_000,
)  # fmt: skip


def test_an_empty_book_has_five_empty_classes() -> None:
    p = fr.build([], fr.ReportFilter(as_of=AS_OF))
    assert [(b.key, b.count, b.outstanding_minor, b.share_bps) for b in p.classes] == [
        (rc.value, 0, 0, 0) for rc in RiskClass]  # fmt: skip
    assert (p.count, p.overdue.ratio_bps, p.reconciliation.reconciled) == (0, 0, True)


def test_the_due_window_includes_both_ends() -> None:
    lines = [replace(LINE, id=f"F{d}", maturity_on=AS_OF + timedelta(days=d))
             for d in (-1, 0, 30, 31)]  # fmt: skip
    p = fr.build(lines, fr.ReportFilter(as_of=AS_OF, due_within_days=30))
    assert [x.id for x in p.due] == ["F0", "F30"]
    with pytest.raises(FinanceError, match="dueWithinDays must be 0 to 366"):
        fr.ReportFilter(as_of=AS_OF, due_within_days=367)


def test_a_lenders_overdue_financing_counts_days_from_maturity() -> None:
    row = {
        "id": "FL", "status": "overdue", "origin": "loaded", "lender": "Bank", "product_id": None,
        "product_kind": "factoring", "borrower_id": "B", "borrower_name": None, "core_id": None,
        "core_name": None, "currency": "CNY", "outstanding_minor": 500,
        "interest_due_minor": 0, "provision_minor": 0,
        "maturity_on": AS_OF - timedelta(days=45), "dpd": 0, "risk_class": "normal",
        "ledger_principal_minor": None,
    }  # fmt: skip
    line = fr._line(row, AS_OF)
    assert (line.dpd, line.product, line.ledger_principal_minor) == (45, "factoring", None)
    p = fr.build([line, LINE], fr.ReportFilter(as_of=AS_OF))
    assert {b.key: b.count for b in p.overdue.buckets}["31-90"] == 1
    assert (p.overdue.outstanding_minor, p.overdue.ratio_bps) == (500, 3333)
    assert p.reconciliation.originated_count == 1  # the lender's financing is outside it


def test_a_ledger_difference_names_the_financing() -> None:
    off = replace(LINE, id="F2", ledger_principal_minor=999)
    rec = fr.build([LINE, off], fr.ReportFilter(as_of=AS_OF)).reconciliation
    assert (rec.difference_minor, rec.differing_ids, rec.reconciled) == (1, ["F2"], False)


def _move(fid: str, flow: str, on: date, amount: int, *, source: str = "ledger",
          code: str = "disbursement", recorded: int = 0) -> dict[str, object]:  # fmt: skip
    return {"id": fid, "flow": flow, "on": on, "amount": amount, "source": source, "code": code,
            "transfer_id": None, "product_id": "reverse_factoring", "product_kind": None,
            "borrower_id": "B", "core_id": "C", "core_name": "Core", "currency": "CNY",
            "amount_minor": recorded or amount}  # fmt: skip


def test_flows_fill_every_month_and_name_a_disbursement_unlike_its_financing() -> None:
    period = (date(2026, 1, 15), date(2026, 4, 2))
    rows = [
        _move("F1", "disbursement", date(2026, 1, 20), 10_000),
        _move("F2", "disbursement", date(2026, 3, 1), 5_000, recorded=6_000),
        _move("L1", "disbursement", date(2026, 3, 9), 7_000, source="book", code="loaded"),
        _move("F1", "principal", date(2026, 3, 20), 4_000, code="principal_repayment",
              recorded=10_000),
        _move("F1", "interest", date(2026, 3, 20), 123, code="interest_repayment",
              recorded=10_000),
    ]
    f = fr.build_flows(rows, period)
    assert [b.key for b in f.disbursed.by_month] == ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert [b.outstanding_minor for b in f.disbursed.by_month] == [10_000, 0, 12_000, 0]
    assert (f.disbursed.amount_minor, f.ledger_disbursed_minor, f.book_disbursed_minor) == (
        22_000, 15_000, 7_000)
    assert (f.principal_minor, f.interest_minor, f.recovered.amount_minor) == (4_000, 123, 4_123)
    assert f.recovered.financings == 1 and f.disbursed.financings == 3
    assert f.differing_ids == ["F2"]


def test_purpose_and_chains() -> None:
    a = replace(LINE, id="A", product="reverse_factoring", core_id="C1", core_name="Core 1")
    b = replace(LINE, id="B", product="movable_asset_pledge", outstanding_minor=3_000,
                status="overdue", core_id="C1", core_name="Core 1", borrower_id="B2")  # fmt: skip
    p = fr.build([a, b], fr.ReportFilter(as_of=AS_OF))
    assert {x.key: x.outstanding_minor for x in p.by_purpose} == {
        "movable_asset_pledge": 3_000, "reverse_factoring": 1_000}
    assert fr.purpose_of("factoring_recourse") == "factoring"  # a product id: its kind
    chains = fr._chains([a, b], [{"core_id": "C1", "core_name": "Core 1", "limit_minor": 8_000},
                                 {"core_id": "C2", "core_name": "Core 2", "limit_minor": 0}],
                        4_000)  # fmt: skip
    assert [(c.core_id, c.outstanding_minor, c.overdue_minor, c.borrowers, c.utilisation_bps)
            for c in chains] == [("C1", 4_000, 3_000, 2, 5_000), ("C2", 0, 0, 0, None)]


def test_a_period_must_not_end_before_it_starts() -> None:
    with pytest.raises(FinanceError, match="after it ends"):
        fr.ReportFilter(as_of=AS_OF, from_on=AS_OF, to_on=AS_OF - timedelta(days=1))
    assert fr.ReportFilter(as_of=AS_OF).period == (date(2026, 1, 1), AS_OF)


def test_the_forecast_brings_each_maturity_back_in_its_month_with_interest_to_accrue() -> None:
    priced = replace(LINE, id="FP", outstanding_minor=3_650_000, interest_due_minor=1_000,
                     rate_bps=1_000, day_count="ACT/365F", accrued_through=AS_OF,
                     maturity_on=date(2026, 7, 30))  # fmt: skip
    arrears = replace(LINE, id="FA", outstanding_minor=500, interest_due_minor=20,
                      maturity_on=AS_OF - timedelta(days=3), rate_bps=1_000)  # fmt: skip
    unpriced = replace(LINE, id="FU", outstanding_minor=700, maturity_on=date(2026, 7, 1))
    far = replace(LINE, id="FF", outstanding_minor=900, maturity_on=date(2027, 6, 1))
    edge = replace(LINE, id="FE", outstanding_minor=100, maturity_on=date(2027, 5, 31))
    repaid = replace(LINE, id="FR", outstanding_minor=0, maturity_on=date(2026, 8, 1))
    got = fr.forecast([priced, arrears, unpriced, far, edge, repaid], AS_OF)
    keys = [b.key for b in got]
    assert keys[0] == "overdue" and keys[-1] == "later" and len(keys) == 14
    assert keys[1:3] == ["2026-06", "2026-07"] and keys[-2] == "2027-05"
    by = {b.key: b for b in got}
    # 30 days at 10 % on 36,500.00 is 300.00 to accrue, on top of the 10.00 due.
    assert (by["2026-07"].count, by["2026-07"].principal_minor) == (2, 3_650_700)
    assert (by["2026-07"].projected_interest_minor, by["2026-07"].interest_minor) == (30_000,
                                                                                   31_000)
    assert by["2026-07"].unpriced == 1 and by["2026-07"].amount_minor == 3_681_700
    # The arrears are what is owed now, no projection; beyond twelve months is `later`.
    assert (by["overdue"].count, by["overdue"].amount_minor, by["overdue"].projected_interest_minor
            ) == (1, 520, 0)  # fmt: skip
    assert (by["later"].count, by["later"].principal_minor) == (1, 900)
    assert by["2027-05"].principal_minor == 100
    assert sum(b.principal_minor for b in got) == 3_650_000 + 500 + 700 + 900 + 100
    # In the report, the forecast covers exactly the outstanding book.
    p = fr.build([priced, arrears, unpriced, far, edge], fr.ReportFilter(as_of=AS_OF))
    assert sum(b.principal_minor for b in p.forecast) == p.outstanding_minor
