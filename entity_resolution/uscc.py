"""Unified social credit codes (统一社会信用代码, GB 32100-2015) and legacy organisation codes
(组织机构代码, GB 11714).

A USCC is 18 characters over a 31-character alphabet: position 1 the registration authority,
2 the organisation type, 3-8 the administrative region, 9-17 the legacy organisation code
(itself 8 characters plus a check digit) and 18 a check character. Real registries contain a
few codes whose check fails, so :func:`validate_uscc` explains problems instead of raising, and
callers decide whether to flag or reject.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}
# Weight of position i (1-based) is 3^(i-1) mod 31.
_USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
_ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]
_ORG_BODY = re.compile(r"^[0-9A-Z]{8}$")


class UsccProblem(StrEnum):
    EMPTY = "empty"
    LENGTH = "length"
    ALPHABET = "alphabet"
    ORG_CODE_CHECK = "org_code_check"
    CHECK_CHARACTER = "check_character"


@dataclass(frozen=True, slots=True)
class UsccCheck:
    """The outcome of validating one code, with a reason a person can read."""

    code: str
    problem: UsccProblem | None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def well_formed(self) -> bool:
        """Right length and alphabet: usable as an identifier even when a check fails."""
        return self.problem not in (UsccProblem.EMPTY, UsccProblem.LENGTH, UsccProblem.ALPHABET)


def normalise_uscc(raw: str) -> str:
    """Upper-case, strip spaces and convert full-width characters (Ｏ９１ -> O91)."""
    out = []
    for ch in raw.strip():
        code = ord(ch)
        if 0xFF01 <= code <= 0xFF5E:
            ch = chr(code - 0xFEE0)
        if not ch.isspace() and ch != "-":
            out.append(ch.upper())
    return "".join(out)


def uscc_check_character(first17: str) -> str:
    """The 18th character for the first 17 (which must use the USCC alphabet)."""
    total = sum(_USCC_VALUE[c] * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def org_code_check_digit(body8: str) -> str:
    """The check digit of a legacy organisation code body (8 digits or capital letters)."""
    total = sum(int(c, 36) * w for c, w in zip(body8, _ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def validate_uscc(raw: str) -> UsccCheck:
    code = normalise_uscc(raw)
    if not code:
        return UsccCheck(code, UsccProblem.EMPTY, "no code given")
    if len(code) != 18:
        return UsccCheck(code, UsccProblem.LENGTH, f"{len(code)} characters, expected 18")
    bad = sorted({c for c in code if c not in _USCC_VALUE})
    if bad:
        return UsccCheck(
            code, UsccProblem.ALPHABET, f"characters {''.join(bad)!r} are not in the USCC alphabet"
        )
    expected = uscc_check_character(code[:17])
    if code[17] != expected:
        return UsccCheck(
            code, UsccProblem.CHECK_CHARACTER, f"check character is {code[17]}, expected {expected}"
        )
    org = code[8:17]
    if _ORG_BODY.match(org[:8]) and org[8] != org_code_check_digit(org[:8]):
        return UsccCheck(
            code,
            UsccProblem.ORG_CODE_CHECK,
            f"embedded organisation code {org} has check digit {org[8]}, "
            f"expected {org_code_check_digit(org[:8])}",
        )
    return UsccCheck(code, None)


def make_uscc(authority: str, org_type: str, region_code: str, org_body8: str) -> str:
    """Build a valid USCC from its parts (used by the generator and tests)."""
    org = org_body8 + org_code_check_digit(org_body8)
    first17 = authority + org_type + region_code + org
    return first17 + uscc_check_character(first17)


def legacy_org_code(uscc: str) -> str:
    """The 9-character legacy organisation code embedded at positions 9-17."""
    return normalise_uscc(uscc)[8:17]
