"""Day counts and interest arithmetic in exact fractions, rounded once to minor units.

Rates are in basis points per year (int), amounts in integer minor units; intermediate
values are `Fraction`s so that rounding happens once, half-even, at the end.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from fractions import Fraction


class DayCount(StrEnum):
    ACT_360 = "ACT/360"
    ACT_365F = "ACT/365F"


def year_fraction(convention: DayCount, start: date, end: date) -> Fraction:
    """Actual days between `start` (inclusive) and `end` (exclusive) over the basis."""
    days = (end - start).days
    basis = 360 if convention == DayCount.ACT_360 else 365
    return Fraction(days, basis)


def round_half_even(x: Fraction) -> int:
    return round(x)  # Fraction.__round__ rounds half to even


def simple_interest(
    principal: int, rate_bps: int, start: date, end: date, convention: DayCount
) -> int:
    """Interest on `principal` from `start` to `end` at `rate_bps` per year, simple."""
    return round_half_even(
        principal * Fraction(rate_bps, 10_000) * year_fraction(convention, start, end)
    )


def discount(face: int, rate_bps: int, start: date, end: date, convention: DayCount) -> int:
    """Bank discount (贴现息) on a face amount paid at `end`, financed at `start`."""
    return simple_interest(face, rate_bps, start, end, convention)


def proceeds(face: int, rate_bps: int, start: date, end: date, convention: DayCount) -> int:
    """What the holder receives when discounting `face` at `rate_bps` from `start` to `end`."""
    return face - discount(face, rate_bps, start, end, convention)


def accrued_between(
    principal: int,
    rate_bps: int,
    accrued_to: date,
    until: date,
    convention: DayCount,
    period_start: date,
) -> int:
    """Interest for days [accrued_to, until) computed as a difference of cumulative amounts
    from `period_start`, so that daily accruals sum exactly to the period's interest."""
    total = simple_interest(principal, rate_bps, period_start, until, convention)
    done = simple_interest(principal, rate_bps, period_start, accrued_to, convention)
    return total - done


def bps_of(amount: int, bps: int) -> int:
    """`bps` basis points of an amount, half-even (fees, advance rates)."""
    return round_half_even(amount * Fraction(bps, 10_000))


def discount_yield_bps(
    face: int, proceeds_minor: int, start: date, end: date, convention: DayCount
) -> Fraction:
    """The simple annual yield (bps) a holder effectively pays when discounting: what
    `proceeds` grows to at `end` is `face`. Shown in indicative terms as the all-in cost."""
    t = year_fraction(convention, start, end)
    return (Fraction(face, proceeds_minor) - 1) / t * 10_000
