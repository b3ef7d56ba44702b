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

from chainlens.money import ISO_4217 as ISO_4217
from chainlens.money import currency_problem as currency_problem

# Money in minor units (fen) can pass 2^31, the limit of GraphQL's Int.
BigInt = NewType("BigInt", int)

_DIGITS = re.compile(r"-?[0-9]{1,19}")
_INT64 = 2**63

# ISO 4217 codes and their check live in `chainlens.money` (the domain checks them too).


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
