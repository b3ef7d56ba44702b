"""The project's own lexicons for firm names, shipped as text files next to this module.

Each file is plain UTF-8, one entry a line, ``#`` comments; editing a file changes parsing
without touching code.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

_DIR = Path(__file__).resolve().parent


def _lines(name: str) -> list[list[str]]:
    rows = []
    for line in (_DIR / name).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            rows.append(line.split("\t"))
    return rows


@dataclass(frozen=True, slots=True)
class Region:
    code: str  # GB/T 2260 prefix: 2 (province), 4 (prefecture) or 6 (county-level) digits
    name: str
    roman: str  # the first romanisation


@dataclass(frozen=True, slots=True)
class Bank:
    name: str
    abbreviations: tuple[str, ...]
    english: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Lexicons:
    regions: dict[str, Region]  # by Chinese name, also with 省/市/自治区 suffixes
    regions_by_roman: dict[str, Region]
    legal_forms: dict[str, str]  # surface -> canonical
    branches: tuple[str, ...]
    industry: dict[str, tuple[str, ...]]  # Chinese word -> English phrases
    industry_by_english: dict[str, str]  # English phrase -> Chinese word
    english_forms: tuple[tuple[str, ...], ...]  # token sequences, longest first
    english_abbr: dict[str, str]
    banks: tuple[Bank, ...]
    bank_alias: dict[str, str]  # abbreviation or English name -> canonical Chinese name


_REGION_SUFFIXES = ("省", "市", "自治区", "特别行政区", "壮族自治区", "回族自治区",
                    "维吾尔自治区", "地区")


@cache
def load() -> Lexicons:
    """Read every lexicon once per process."""
    regions: dict[str, Region] = {}
    by_roman: dict[str, Region] = {}
    for code, name, romans in _lines("regions.txt"):
        region = Region(code, name, romans.split(",")[0])
        regions[name] = region
        for suffix in _REGION_SUFFIXES:
            regions.setdefault(name + suffix, region)
        for roman in romans.split(","):
            by_roman.setdefault(roman, region)
    legal_forms = {row[0]: row[1] for row in _lines("legal_forms.txt")}
    branches = tuple(row[0] for row in _lines("branches.txt"))
    industry: dict[str, tuple[str, ...]] = {}
    industry_by_english: dict[str, str] = {}
    for zh, en in _lines("industry.txt"):
        phrases = tuple(p.strip() for p in en.split(",") if p.strip())
        industry[zh] = phrases
        for phrase in phrases:
            industry_by_english.setdefault(phrase, zh)
    forms: list[tuple[str, ...]] = []
    abbr: dict[str, str] = {}
    for row in _lines("english_forms.txt"):
        if row[0] == "form":
            forms.append(tuple(row[1].split()))
        else:
            abbr[row[1]] = row[2]
    forms.sort(key=len, reverse=True)
    banks = []
    alias: dict[str, str] = {}
    for name, abbrs, english in _lines("banks.txt"):
        bank = Bank(name, tuple(abbrs.split(",")), tuple(english.split(",")))
        banks.append(bank)
        for a in (*bank.abbreviations, *bank.english):
            alias[a] = name
    return Lexicons(
        regions=regions,
        regions_by_roman=by_roman,
        legal_forms=legal_forms,
        branches=branches,
        industry=industry,
        industry_by_english=industry_by_english,
        english_forms=tuple(forms),
        english_abbr=abbr,
        banks=tuple(banks),
        bank_alias=alias,
    )


@cache
def translations() -> dict[str, tuple[str, ...]]:
    """translations.txt: Chinese word -> the English words and phrases it translates."""
    out: dict[str, tuple[str, ...]] = {}
    for zh, en in _lines("translations.txt"):
        phrases = tuple(p.strip() for p in en.split(",") if p.strip())
        out[zh] = out.get(zh, ()) + phrases
    return out
