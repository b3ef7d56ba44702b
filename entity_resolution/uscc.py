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
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from entity_resolution.identifiers import typed_keys

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
    REGION = "region"
    ORG_CODE_CHECK = "org_code_check"
    CHECK_CHARACTER = "check_character"


# Position 1 (registration authority) and, for the commonest authorities, position 2.
AUTHORITIES: dict[str, str] = {
    "1": "机构编制 (institutional establishment)",
    "2": "外交 (foreign affairs)",
    "3": "司法行政 (justice)",
    "4": "文化 (culture)",
    "5": "民政 (civil affairs)",
    "6": "旅游 (tourism)",
    "7": "宗教 (religious affairs)",
    "8": "工会 (trade unions)",
    "9": "工商 (market regulation)",
    "A": "中央军委改革和编制办公室 (military)",
    "N": "农业 (agriculture)",
    "Y": "其他 (other)",
}
ORG_TYPES_MARKET: dict[str, str] = {
    "1": "企业 (enterprise)",
    "2": "个体工商户 (individual business)",
    "3": "农民专业合作社 (farmers' cooperative)",
}


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


_FULL_TO_HALF = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_SPACE_OR_DASH = re.compile(r"[\s-]+")


def normalise_uscc(raw: str) -> str:
    """Upper-case, strip spaces and convert full-width characters (Ｏ９１ -> O91)."""
    return _SPACE_OR_DASH.sub("", raw.translate(_FULL_TO_HALF)).upper()


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
    if not code[2:8].isdigit():
        return UsccCheck(
            code, UsccProblem.REGION, f"region part {code[2:8]} is not a 6-digit division code"
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


_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "S": "5", "Z": "2", "V": "U"})


def repair_uscc(code: str) -> str:
    """The code with letters outside the alphabet read as the digits they are mistaken for
    (O->0, I->1, S->5, Z->2), when that gives a fully valid code; else ''."""
    code = normalise_uscc(code)
    if len(code) != 18:
        return ""
    fixed = code.translate(_CONFUSABLE)
    return fixed if fixed != code and validate_uscc(fixed).ok else ""


def make_uscc(authority: str, org_type: str, region_code: str, org_body8: str) -> str:
    """Build a valid USCC from its parts (used by the generator and tests)."""
    org = org_body8 + org_code_check_digit(org_body8)
    first17 = authority + org_type + region_code + org
    return first17 + uscc_check_character(first17)


def legacy_org_code(uscc: str) -> str:
    """The 9-character legacy organisation code embedded at positions 9-17."""
    return normalise_uscc(uscc)[8:17]


class IdProblem(StrEnum):
    """Problems of the two older identifiers a source may carry instead of a USCC."""

    EMPTY = "empty"
    LENGTH = "length"
    ALPHABET = "alphabet"
    CHECK_DIGIT = "check_digit"


@dataclass(frozen=True, slots=True)
class IdCheck:
    """Validation outcome of a legacy organisation code or a 15-digit registration number."""

    code: str
    problem: IdProblem | None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def well_formed(self) -> bool:
        return self.problem in (None, IdProblem.CHECK_DIGIT)


def validate_org_code(raw: str) -> IdCheck:
    """Validate a 9-character legacy organisation code (GB 11714), written with or without '-'."""
    code = normalise_uscc(raw)
    if not code:
        return IdCheck(code, IdProblem.EMPTY, "no code given")
    if len(code) != 9:
        return IdCheck(code, IdProblem.LENGTH, f"{len(code)} characters, expected 9")
    if not _ORG_BODY.match(code[:8]) or not re.match(r"^[0-9X]$", code[8]):
        return IdCheck(
            code, IdProblem.ALPHABET, "expected 8 digits or capital letters and a digit or X"
        )
    expected = org_code_check_digit(code[:8])
    if code[8] != expected:
        return IdCheck(
            code, IdProblem.CHECK_DIGIT, f"check digit is {code[8]}, expected {expected}"
        )
    return IdCheck(code, None)


def registration_no_check_digit(first14: str) -> str:
    """Check digit of a 15-digit business registration number (注册号): ISO 7064 MOD 11,10."""
    p = 10
    for c in first14:
        s = (p + int(c)) % 10 or 10
        p = (s * 2) % 11
    return str((11 - p) % 10)


def validate_registration_no(raw: str) -> IdCheck:
    """Validate a 15-digit registration number (6-digit region, 8-digit sequence, check digit)."""
    code = normalise_uscc(raw)
    if not code:
        return IdCheck(code, IdProblem.EMPTY, "no number given")
    if len(code) != 15:
        return IdCheck(code, IdProblem.LENGTH, f"{len(code)} characters, expected 15")
    if not code.isdigit():
        return IdCheck(code, IdProblem.ALPHABET, "a registration number has digits only")
    expected = registration_no_check_digit(code[:14])
    if code[14] != expected:
        return IdCheck(
            code, IdProblem.CHECK_DIGIT, f"check digit is {code[14]}, expected {expected}"
        )
    return IdCheck(code, None)


def describe_uscc(raw: str) -> dict[str, str]:
    """The parts of a well-formed code, named, for explanations and the API."""
    code = normalise_uscc(raw)
    if len(code) != 18:
        return {}
    authority = AUTHORITIES.get(code[0], "unknown")
    org_type = ORG_TYPES_MARKET.get(code[1], "unknown") if code[0] == "9" else code[1]
    return {
        "authority": authority,
        "org_type": org_type,
        "region_code": code[2:8],
        "org_code": code[8:17],
        "check": code[17],
    }


@dataclass(frozen=True, slots=True)
class IdentifierKeys:
    """The identifiers of one record, in the forms under which two records can be linked."""

    uscc: str | None
    uscc_valid: bool
    org_code: str | None
    registration_no: str | None
    problems: tuple[str, ...]
    # Other countries' numbers and LEIs as ``SCHEME:VALUE`` (`identifiers.typed_keys`).
    typed: tuple[str, ...] = ()


def identifier_keys(
    uscc: str = "", org_code: str = "", registration_no: str = "",
    identifiers: Iterable[str] = (),
) -> IdentifierKeys:
    """Normalise and cross-link a record's identifiers.

    A well-formed USCC whose check fails is kept (flagged, not dropped) but only a valid one
    counts as proof of identity. A legacy organisation code, given or embedded in the USCC at
    positions 9-17, links records that carry only the old code with those that carry a USCC.
    Other identifiers (``SCHEME:VALUE``: an LEI, another country's company number) become
    typed keys (`identifiers.typed_keys`).
    """
    problems: list[str] = []
    u_key: str | None = None
    u_valid = False
    org_key: str | None = None
    if uscc:
        check = validate_uscc(uscc)
        if not check.well_formed:
            repaired = repair_uscc(check.code)
            if repaired:
                problems.append(f"uscc: {check.problem}: {check.detail}; read as {repaired}")
                check = validate_uscc(repaired)
        if check.well_formed:
            u_key = check.code
            u_valid = check.ok
        if not check.ok:
            problems.append(f"uscc: {check.problem}: {check.detail}")
        elif check.code != normalise_uscc(uscc):
            u_valid = False  # repaired codes link records but do not prove identity
        if check.well_formed:
            embedded = validate_org_code(check.code[8:17])
            if embedded.ok:
                org_key = embedded.code
    if org_code:
        oc = validate_org_code(org_code)
        if oc.ok:
            if org_key is not None and org_key != oc.code:
                problems.append(f"org_code: {oc.code} differs from the code in the USCC {org_key}")
            org_key = org_key or oc.code
        else:
            problems.append(f"org_code: {oc.problem}: {oc.detail}")
    reg_key: str | None = None
    if registration_no:
        rc = validate_registration_no(registration_no)
        if not rc.ok:
            problems.append(f"registration_no: {rc.problem}: {rc.detail}")
        # Flag, do not drop: a number in a local format still links the records that carry it.
        if rc.ok or rc.code.isdigit():
            reg_key = rc.code
    typed, typed_problems = typed_keys(identifiers)
    problems.extend(typed_problems)
    return IdentifierKeys(u_key, u_valid, org_key, reg_key, tuple(problems), typed)
