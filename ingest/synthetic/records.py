"""Dirty enterprise records as other sources hold them: the input of entity resolution.

A bank's KYC file, customs, the tax bureau and an ERP vendor master each spell the same firm
their own way: traditional characters, full-width characters, the region in brackets, a
missing or different legal form, English names, look-alike typos, missing or malformed codes,
legacy organisation codes. Each record lists the variants applied, for the ground truth.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from entity_resolution.uscc import legacy_org_code
from ingest.synthetic.names import NameParts, look_alike, to_fullwidth

SOURCES = ("bank_kyc", "customs", "tax", "erp_vendor_master")
_PREFIX = {"bank_kyc": "KYC", "customs": "CUS", "tax": "TAX", "erp_vendor_master": "ERP"}
# How many records a firm has in the other sources (0..4, mean 1.55).
RECORD_COUNT_WEIGHTS = (0.1, 0.45, 0.3, 0.1, 0.05)


@dataclass(frozen=True, slots=True)
class FirmFacts:
    """What the sources may know about a firm, as registered."""

    parts: NameParts
    uscc: str
    region_code: str
    address: str
    phone: str
    legal_rep: str


class RecordIds:
    """Record ids that reveal nothing about order: an odd multiplier is a bijection mod 2^40."""

    def __init__(self, seed: int) -> None:
        self._counter = 0
        self._offset = (seed * 0x9E3779B1) % (1 << 40)

    def next(self, source: str) -> str:
        self._counter += 1
        scrambled = (self._counter * 0x5DEECE66D + self._offset) % (1 << 40)
        return f"{_PREFIX[source]}-{scrambled:010x}"


def record_count(r: random.Random) -> int:
    u = r.random()
    acc = 0.0
    for k, w in enumerate(RECORD_COUNT_WEIGHTS):
        acc += w
        if u < acc:
            return k
    return len(RECORD_COUNT_WEIGHTS) - 1


def _bracketed(p: NameParts, full_width: bool) -> str:
    """宁波拓博贸易有限公司 -> 拓博贸易（宁波）有限公司."""
    left, right = ("（", "）") if full_width else ("(", ")")
    return f"{p.trade}{p.industry}{left}{p.region}{right}{p.form.suffix}"


def _check_fail(uscc: str, r: random.Random) -> str:
    """One character of the body changed: well formed, but the check character fails."""
    i = r.randint(8, 16)
    choices = [c for c in "0123456789" if c != uscc[i]]
    return uscc[:i] + r.choice(choices) + uscc[i + 1 :]


def _malformed(uscc: str, r: random.Random) -> str:
    """Wrong length or alphabet: what a careless clerk types."""
    if r.random() < 0.5:
        i = r.randint(2, 17)
        return uscc[:i] + uscc[i + 1 :]
    i = r.randint(8, 16)
    bad = {"0": "O", "1": "I", "5": "S", "2": "Z"}.get(uscc[i], "O")
    return uscc[:i] + bad + uscc[i + 1 :]


def _uscc_variant(uscc: str, r: random.Random, p_missing: float, variants: list[str]) -> str:
    u = r.random()
    if u < p_missing:
        variants.append("uscc_missing")
        return ""
    u = r.random()
    if u < 0.05:
        variants.append("uscc_check_fail")
        return _check_fail(uscc, r)
    if u < 0.08:
        variants.append("uscc_malformed")
        return _malformed(uscc, r)
    if u < 0.16:
        variants.append("uscc_full_width")
        return to_fullwidth(uscc)
    return uscc


def dirty_records(
    facts: FirmFacts, r: random.Random, s2t: object, ids: RecordIds
) -> list[tuple[list[str], list[str]]]:
    """The firm's records as (row in ``enterprise_records`` field order, variants applied)."""
    out: list[tuple[list[str], list[str]]] = []
    p = facts.parts
    for source in sorted(r.sample(SOURCES, record_count(r)), key=SOURCES.index):
        v: list[str] = []
        name, name_en, uscc, org, reg_no = p.name, "", facts.uscc, "", ""
        legal_form, region, address, phone, rep = p.form.legal_form, facts.region_code, "", "", ""
        if source == "bank_kyc":
            uscc = _uscc_variant(facts.uscc, r, 0.03, v)
            address, phone, rep = facts.address, facts.phone, facts.legal_rep
            if r.random() < 0.3:
                name_en = p.name_en
        elif source == "customs":
            if r.random() < 0.5:
                traditional = s2t.convert(name)  # type: ignore[attr-defined]
                if traditional != name:
                    name = traditional
                    v.append("traditional")
            name_en = p.name_en
            if r.random() < 0.3:
                name_en = name_en.upper().replace(",", "").replace(".", "")
                v.append("english_upper")
            uscc = _uscc_variant(facts.uscc, r, 0.3, v)
            reg_no = f"{facts.region_code[:4]}9{int(facts.uscc[9:16], 36) % 100000:05d}"
            legal_form = ""
        elif source == "tax":
            u = r.random()
            if u < 0.3:
                name = _bracketed(p, full_width=True)
                v.append("region_in_brackets")
            elif u < 0.4:
                name = _bracketed(p, full_width=False)
                v.append("region_in_brackets")
            uscc = _uscc_variant(facts.uscc, r, 0.02, v)
            address = facts.address
        else:  # erp_vendor_master
            u = r.random()
            if u < 0.25:
                name = f"{p.region}{p.trade}{p.industry}"
                v.append("legal_form_missing")
                legal_form = ""
            elif u < 0.45:
                name = f"{p.trade}{p.industry}{p.form.suffix}"
                v.append("region_missing")
            elif u < 0.6:
                alt = "有限责任公司" if p.form.suffix == "有限公司" else "有限公司"
                name = f"{p.region}{p.trade}{p.industry}{alt}"
                v.append("legal_form_different")
            if r.random() < 0.25:
                typo = look_alike(p.trade, r)
                name = name.replace(p.trade, typo, 1)
                v.append("typo_trade_name")
            if r.random() < 0.6:
                uscc = ""
                v.append("uscc_missing")
            else:
                uscc = _uscc_variant(facts.uscc, r, 0.0, v)
            if r.random() < 0.5:
                code = legacy_org_code(facts.uscc)
                org = f"{code[:8]}-{code[8]}"
                v.append("legacy_org_code")
            phone = facts.phone
            region = facts.region_code if r.random() < 0.5 else ""
            if r.random() < 0.1:
                name = f" {name} "
                v.append("whitespace")
        row = [ids.next(source), source, name, name_en, uscc, org, reg_no, legal_form, region,
               address, phone, rep]
        out.append((row, v))
    return out

