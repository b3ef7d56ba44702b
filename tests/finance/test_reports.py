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
