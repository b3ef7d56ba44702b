"""A small maker of dirty enterprise records with ground truth, for training and benches.

It builds firms the way the project's generator does (`ingest.synthetic`: names from its
trade-name characters, chain industry words and regions; dirty source records from its
`dirty_records`), without the rest of the chain simulation, so that millions of records can
be made quickly. Hard negatives are included on purpose: look-alike trade names in the same
city (拓搏/拓博), the same trade name in another region, and branches with their own codes.
The generator is imported inside functions: `ingest` depends on this package, not the reverse.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from entity_resolution.records import EnterpriseRecord
from entity_resolution.uscc import USCC_ALPHABET, make_uscc

_BODY_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@dataclass(frozen=True, slots=True)
class Made:
    """Source records, the master record of each firm, and the truth (record -> firm)."""

    records: list[EnterpriseRecord]
    masters: list[EnterpriseRecord]
    truth: dict[str, str]


def _uscc(r: random.Random, region_code: str) -> str:
    body = "".join(r.choice(_BODY_ALPHABET[:10] if i < 2 else _BODY_ALPHABET) for i in range(8))
    assert all(c in USCC_ALPHABET for c in body)
    return make_uscc("9", "1", region_code, body)


def make_records(firms: int, seed: int, twin_rate: float = 0.03) -> Made:
    """Dirty records of ``firms`` firms (about 1.5 records per firm, some firms none)."""
    records: list[EnterpriseRecord] = []
    masters: list[EnterpriseRecord] = []
    truth: dict[str, str] = {}
    for firm_id, master, rows in iter_firms(firms, seed, twin_rate):
        masters.append(master)
        for rec in rows:
            records.append(rec)
            truth[rec.record_id] = firm_id
    return Made(records, masters, truth)


def iter_firms(
    firms: int, seed: int, twin_rate: float = 0.03
) -> Iterator[tuple[str, EnterpriseRecord, list[EnterpriseRecord]]]:
    """Yield (firm id, master record, dirty source records) per firm, lazily."""
    import opencc

    from ingest.synthetic.chains import CHAINS
    from ingest.synthetic.names import (
        COOP,
        GROUP,
        JOINT_STOCK,
        LIMITED,
        LIMITED_LONG,
        NameParts,
        look_alike,
        person_name,
        random_trade,
    )
    from ingest.synthetic.records import FirmFacts, RecordIds, dirty_records
    from ingest.synthetic.regions import REGIONS, ROADS
    from ingest.synthetic.writer import FIELDS

    columns = FIELDS["enterprise_records"]

    r = random.Random(seed)
    s2t = opencc.OpenCC("s2t")
    ids = RecordIds(seed)
    roles = [role for chain in CHAINS for role in chain.roles]
    forms = [LIMITED] * 6 + [LIMITED_LONG] * 2 + [JOINT_STOCK, GROUP]
    previous: list[tuple[NameParts, str]] = []
    for n in range(firms):
        role = r.choice(roles)
        region = REGIONS[r.randrange(len(REGIONS))]
        word, word_en = r.choice(role.words)
        form = COOP if role.coop and r.random() < 0.3 else r.choice(forms)
        use_city = r.random() < 0.6
        trade = random_trade(r, agricultural=role.coop)
        kind = ""
        if previous and r.random() < twin_rate:
            # A hard negative: another real firm named almost like an earlier one.
            base, base_region_code = r.choice(previous[-200:])
            if r.random() < 0.5:
                kind = "look_alike"
                trade = look_alike(base.trade, r)
                region = next(x for x in REGIONS if x.code == base_region_code)
                parts_region, parts_region_en = base.region, base.region_en
            else:
                kind = "other_region"
                trade = base.trade
                parts_region = region.city_short if use_city else region.province_short
                parts_region_en = region.city_en if use_city else region.province_en
            word, word_en = base.industry, base.industry_en
        else:
            parts_region = region.city_short if use_city else region.province_short
            parts_region_en = region.city_en if use_city else region.province_en
        parts = NameParts(parts_region, parts_region_en, trade, word, word_en, form)
        previous.append((parts, region.code))
        uscc = _uscc(r, region.code)
        phone = f"{region.area_code}-{r.randrange(10**7, 10**8)}"
        address = (
            f"{region.province}{region.city if region.city != region.province else ''}"
            f"{r.choice(ROADS)}{r.randrange(1, 999)}号"
        )
        rep = person_name(seed, n)
        facts = FirmFacts(parts, uscc, region.code, address, phone, rep)
        firm_id = f"F{seed % 1000:03d}{n:08d}"
        master = EnterpriseRecord(
            record_id=f"M-{firm_id}", source="master", name=parts.name, name_en=parts.name_en,
            uscc=uscc, legal_form=form.legal_form, region_code=region.code, address=address,
            phone=phone, legal_rep=rep, enterprise_id=firm_id,
        )
        rows = [
            EnterpriseRecord.from_fields(row[0], row[1], dict(zip(columns, row, strict=True)))
            for row, _variants in dirty_records(facts, r, s2t, ids)
        ]
        yield firm_id, master, rows
        if kind == "" and r.random() < 0.01:
            # A branch of this firm, registered with its own code.
            city = REGIONS[r.randrange(len(REGIONS))]
            b_name = f"{parts.name}{city.city_short}分公司"
            b_id = f"{firm_id}B"
            b_uscc = _uscc(r, city.code)
            b_phone = f"{city.area_code}-{r.randrange(10**7, 10**8)}"
            b_master = EnterpriseRecord(
                record_id=f"M-{b_id}", source="master", name=b_name, uscc=b_uscc,
                region_code=city.code, phone=b_phone, enterprise_id=b_id,
            )
            b_rows = [
                EnterpriseRecord(ids.next("bank_kyc"), "bank_kyc", b_name, uscc=b_uscc,
                                 phone=b_phone),
                EnterpriseRecord(ids.next("erp_vendor_master"), "erp_vendor_master",
                                 b_name.replace("有限公司", ""), phone=b_phone),
            ]
            yield b_id, b_master, b_rows
