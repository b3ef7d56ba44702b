"""Interest, discount and accrual amounts against QuantLib's day counters and
numpy-financial on a table of cases."""

from __future__ import annotations

from datetime import date, timedelta

import numpy_financial as npf
import pytest
import QuantLib as ql

from finance import daycount as dc
from finance.daycount import DayCount

QL_DC = {DayCount.ACT_360: ql.Actual360(), DayCount.ACT_365F: ql.Actual365Fixed()}

CASES = [
    # principal (minor), rate bps, start, end, convention
    (640_000_000, 615, date(2026, 1, 5), date(2026, 4, 5), DayCount.ACT_360),
    (100_000_000, 480, date(2024, 2, 1), date(2024, 3, 1), DayCount.ACT_365F),  # leap February
    (35_000_000, 350, date(2026, 3, 31), date(2026, 8, 28), DayCount.ACT_360),
    (1_234_567, 999, date(2025, 12, 31), date(2026, 12, 31), DayCount.ACT_365F),
    (50_000_000, 1, date(2026, 1, 1), date(2026, 1, 2), DayCount.ACT_360),
    (987_654_321, 725, date(2023, 6, 15), date(2025, 6, 15), DayCount.ACT_365F),  # spans leap
    (10_000, 5000, date(2026, 5, 1), date(2026, 5, 31), DayCount.ACT_360),
]


def _ql(d: date) -> ql.Date:
    return ql.Date(d.day, d.month, d.year)


@pytest.mark.parametrize(("principal", "bps", "start", "end", "conv"), CASES)
def test_interest_matches_quantlib(
    principal: int, bps: int, start: date, end: date, conv: DayCount
) -> None:
    assert float(dc.year_fraction(conv, start, end)) == pytest.approx(
        QL_DC[conv].yearFraction(_ql(start), _ql(end)), abs=1e-15
    )
    rate = ql.InterestRate(bps / 10_000, QL_DC[conv], ql.Simple, ql.Annual)
    ql_interest = principal * (rate.compoundFactor(_ql(start), _ql(end)) - 1)
    assert dc.simple_interest(principal, bps, start, end, conv) == round(ql_interest)
    # Bank discount on a face paid at `end` is the same simple interest on the face.
    assert dc.proceeds(principal, bps, start, end, conv) == principal - round(ql_interest)


@pytest.mark.parametrize(("principal", "bps", "start", "end", "conv"), CASES)
def test_daily_accruals_sum_to_the_period_interest(
    principal: int, bps: int, start: date, end: date, conv: DayCount
) -> None:
    days = (end - start).days
    daily = [
        dc.accrued_between(
            principal, bps, start + timedelta(days=i), start + timedelta(days=i + 1), conv, start
        )
        for i in range(days)
    ]
    rate = ql.InterestRate(bps / 10_000, QL_DC[conv], ql.Simple, ql.Annual)
    assert sum(daily) == round(principal * (rate.compoundFactor(_ql(start), _ql(end)) - 1))
    assert max(daily) - min(daily) <= 1  # rounding spreads evenly, never drifts


@pytest.mark.parametrize(("principal", "bps", "start", "end", "conv"), CASES)
def test_discount_yield_matches_numpy_financial(
    principal: int, bps: int, start: date, end: date, conv: DayCount
) -> None:
    proceeds = dc.proceeds(principal, bps, start, end, conv)
    # One period from proceeds to face: npf.rate is that period's yield; annualise simply.
    period_yield = npf.rate(nper=1, pmt=0, pv=-proceeds, fv=principal)
    t = QL_DC[conv].yearFraction(_ql(start), _ql(end))
    assert float(dc.discount_yield_bps(principal, proceeds, start, end, conv)) == pytest.approx(
        period_yield / t * 10_000, rel=1e-9
    )
    # And the future value of the proceeds at that simple yield is the face (npf.fv, 1 period).
    assert npf.fv(period_yield, 1, 0, -proceeds) == pytest.approx(principal, rel=1e-12)


def test_fees_and_advances_round_half_even() -> None:
    assert dc.bps_of(640_000_000, 50) == 3_200_000
    assert dc.bps_of(5, 1000) == 0  # 0.5 -> 0
    assert dc.bps_of(15, 1000) == 2  # 1.5 -> 2
