"""Shared GraphQL scalars, strict about what they accept (docs/api.md, "Security").

- `BigInt` (money in minor units): a whole JSON number, or a string of plain digits, within
  64 bits; a fraction (`1.9`), a boolean (`true`), a string such as `"1_000"` or `"1e3"` is
  refused rather than coerced.
- `DateTime`: ISO 8601 with an offset; a timezone-naive value is refused (it would be read
  as the server's local time).
- Currencies: ISO 4217 codes (`ISO_4217`), checked wherever an argument or input field is
  named `currency` (api/limits.py), so a module that takes `currency: str` needs no change.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, NewType

from strawberry.types.scalar import ScalarDefinition, scalar

# Money in minor units (fen) can pass 2^31, the limit of GraphQL's Int.
BigInt = NewType("BigInt", int)

_DIGITS = re.compile(r"-?[0-9]{1,19}")
_INT64 = 2**63

# Active ISO 4217 currency codes (2025). Fund, metal and testing codes (XAU, XDR, XTS, XXX,
# ...) are left out on purpose: no credit line is drawn in them.
_ISO_4217_CODES = """
    AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP
    GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES
    KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU
    MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON
    RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND
    TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW
    ZWG
"""
ISO_4217 = frozenset(_ISO_4217_CODES.split())


def currency_problem(value: object) -> str | None:
    """Why ``value`` is no currency code, or None for an active ISO 4217 code."""
    if not isinstance(value, str) or value not in ISO_4217:
        shown = value[:20] if isinstance(value, str) else value
        return f"currency {shown!r} is not an ISO 4217 code (three capitals, e.g. CNY)"
    return None


def parse_big_int(value: Any) -> int:
    """A money amount from a variable or literal: whole, 64-bit, never coerced."""
    if isinstance(value, bool):
        raise TypeError("BigInt takes a whole number, not a boolean")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        number = int(value)
    elif isinstance(value, float):
        raise TypeError(f"BigInt takes a whole number, not {value!r}: money is in minor units")
    else:
        raise TypeError(f"BigInt takes a whole number, not {str(value)[:40]!r}")
    if not -_INT64 <= number < _INT64:
        raise ValueError("BigInt is at most 64 bits")
    return number


def parse_datetime(value: Any) -> datetime:
    """An ISO 8601 date and time with an offset; naive values are refused."""
    if not isinstance(value, str):
        raise TypeError("DateTime takes an ISO 8601 string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as e:
        raise ValueError(f"DateTime {value[:40]!r} is not ISO 8601") from e
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"DateTime {value[:40]!r} has no offset (e.g. +08:00 or Z)")
    return parsed


SCALARS: dict[object, ScalarDefinition] = {
    BigInt: scalar(
        name="BigInt",
        serialize=int,
        parse_value=parse_big_int,
        description="A whole number within 64 bits; money is always in minor units (fen for "
        "CNY). A JSON number, or a string of digits; fractions and booleans are refused.",
    ),
    datetime: scalar(
        name="DateTime",
        serialize=datetime.isoformat,
        parse_value=parse_datetime,
        description="Date with time (ISO 8601) with an offset; naive values are refused.",
    ),
}
