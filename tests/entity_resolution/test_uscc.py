"""USCC, legacy organisation code and registration number checks on published and
hand-computed codes."""

from __future__ import annotations

import pytest

from entity_resolution.uscc import (
    IdProblem,
    UsccProblem,
    describe_uscc,
    identifier_keys,
    legacy_org_code,
    make_uscc,
    normalise_uscc,
    org_code_check_digit,
    registration_no_check_digit,
    uscc_check_character,
    validate_org_code,
    validate_registration_no,
    validate_uscc,
)

# Published codes of well-known firms (华为技术, 阿里巴巴(中国), 深圳市腾讯计算机系统).
PUBLISHED = ["914403001922038216", "91330100716105852F", "91440300708461136T"]


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_are_valid(code: str) -> None:
    assert validate_uscc(code).ok


def test_org_code_check_digit_by_hand() -> None:
    # 19220382: 1*3+9*7+2*9+2*10+0*5+3*8+8*4+2*2 = 164; 164 mod 11 = 10; 11-10 = 1.
    assert org_code_check_digit("19220382") == "1"
    # 00000001: 1*2 = 2; 11-2 = 9.
    assert org_code_check_digit("00000001") == "9"
    # 00000000: 0; 11-0 = 11 -> '0'.
    assert org_code_check_digit("00000000") == "0"
    # 0000000A: A=10, 10*2 = 20; 20 mod 11 = 9; 11-9 = 2.
    assert org_code_check_digit("0000000A") == "2"
    # 00000006: 6*2 = 12; 12 mod 11 = 1; 11-1 = 10 -> 'X'.
    assert org_code_check_digit("00000006") == "X"


def test_uscc_check_character_by_hand() -> None:
    # The rule itself, checked by an independent sum over the alphabet values:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    first17 = "91440300708461136"
    total = sum(alphabet.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    assert uscc_check_character(first17) == alphabet[(31 - total % 31) % 31] == "T"


def test_explained_errors() -> None:
    assert validate_uscc("").problem is UsccProblem.EMPTY
    short = validate_uscc("9144030019220382")
    assert short.problem is UsccProblem.LENGTH and "16 characters" in short.detail
    bad_alpha = validate_uscc("91440300192203821I")
    assert bad_alpha.problem is UsccProblem.ALPHABET and "I" in bad_alpha.detail
    assert not bad_alpha.well_formed
    region = validate_uscc(make_uscc("9", "1", "330200", "MA2H3K7B").replace("330200", "3302A0"))
    assert region.problem is UsccProblem.REGION
    wrong_check = validate_uscc("914403001922038217")
    assert wrong_check.problem is UsccProblem.CHECK_CHARACTER
    assert wrong_check.detail == "check character is 7, expected 6"
    # Flag-not-drop: a failed check is still usable as an identifier.
    assert wrong_check.well_formed and not wrong_check.ok
    # Embedded organisation code with a wrong check digit but a right 18th character.
    first17 = "91440300" + "19220382" + "5"
    code = first17 + uscc_check_character(first17)
    org = validate_uscc(code)
    assert org.problem is UsccProblem.ORG_CODE_CHECK and "expected 1" in org.detail


def test_normalise_and_parts() -> None:
    assert normalise_uscc(" ９１４４０３００１９２２０３８２１６ ") == PUBLISHED[0]
    assert normalise_uscc("91440300-19220382-16") == PUBLISHED[0]
    assert legacy_org_code(PUBLISHED[0]) == "192203821"
    parts = describe_uscc(PUBLISHED[0])
    assert parts["region_code"] == "440300" and parts["org_code"] == "192203821"
    assert parts["authority"].startswith("工商")
    assert validate_uscc(make_uscc("9", "1", "330200", "MA2H3K7B")).ok


def test_org_code_validation() -> None:
    assert validate_org_code("19220382-1").ok
    assert validate_org_code("192203825").problem is IdProblem.CHECK_DIGIT
    assert validate_org_code("1922038").problem is IdProblem.LENGTH
    assert validate_org_code("19220382Z").problem is IdProblem.ALPHABET


def test_registration_number_by_hand() -> None:
    # ISO 7064 MOD 11,10 on 11000000000000: p=10; '1': s=(10+1)%10=1, p=2; '1': s=3, p=6;
    # then twelve '0': s=6,p=1; s=1,p=2; s=2,p=4; s=4,p=8; s=8,p=5; s=5,p=10; s=10(0->10),p=9;
    # s=9,p=7; s=7,p=3; s=3,p=6; s=6,p=1; s=1,p=2.  check = (11-2) % 10 = 9.
    assert registration_no_check_digit("11000000000000") == "9"
    assert validate_registration_no("110000000000009").ok
    # Published: 华为技术's former registration number.
    assert validate_registration_no("440301103097413").ok
    bad = validate_registration_no("440301103097414")
    assert bad.problem is IdProblem.CHECK_DIGIT and "expected 3" in bad.detail
    assert validate_registration_no("4403011030974").problem is IdProblem.LENGTH
    assert validate_registration_no("44030110309741A").problem is IdProblem.ALPHABET


def test_identifier_keys_link_legacy_code_and_flag_problems() -> None:
    full = identifier_keys(uscc=PUBLISHED[0])
    legacy = identifier_keys(org_code="19220382-1", registration_no="440301103097413")
    assert full.uscc_valid and full.org_code == legacy.org_code == "192203821"
    assert legacy.uscc is None and legacy.registration_no == "440301103097413"
    flagged = identifier_keys(uscc="914403001922038217")
    assert flagged.uscc == "914403001922038217" and not flagged.uscc_valid
    assert flagged.problems and "check_character" in flagged.problems[0]
    conflict = identifier_keys(uscc=PUBLISHED[0], org_code="716105852")
    assert any("differs" in p for p in conflict.problems)
    assert identifier_keys(uscc="garbage").uscc is None
