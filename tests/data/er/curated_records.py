# ruff: noqa: E501 -- a table of records, one entry a line
"""The curated pairs behind `records.csv`: whole records (not only names) of firms as
directories, registries and onboarding forms write them - other countries' phone formats,
names in another word order or with a typo, aliases (former names 曾用名, abbreviations 简称,
English names), LEIs and other countries' company numbers.

Written by hand; nothing comes from the project's generator. `python
tests/data/er/curated_records.py` rewrites `records.csv` (deterministic; the split is the hash
of each pair id, as for `benchmark.csv`).

Sources and caveats:
- Firm names, brands, former and English names are public knowledge of real firms (listed
  companies, platforms and their operating companies).
- Phone numbers are fictional on purpose: the ranges reserved for drama (US 555-01xx, UK
  020 7946 0xxx, Australia 02 5550 xxxx, France 01 99 00 xx xx) or made up for China and
  Hong Kong; addresses are plausible, not looked up.
- The LEIs of Apple Inc. and Microsoft Corporation are their real codes; every other LEI is
  a placeholder that passes the ISO 17442 check (made by `_lei`), not the firm's code.
  Company numbers other than Tesco PLC's (00445790) are placeholders too.

Labelling: same = 1 only for one legal person (or one listed business, for directory
listings); same = 0 for different legal persons - the same name registered in another
country, two outlets of a chain with their own phone and address, firms that share an
address, two different identifiers under one scheme.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

OUT = Path(__file__).resolve().parent / "records.csv"
FIELDS = ("name", "name_en", "uscc", "country", "city", "address", "phone", "aliases",
          "identifiers")  # fmt: skip


def _lei(seed: str) -> str:
    """A placeholder LEI: 18 characters from ``seed``, then the ISO 17442 check digits."""
    body = ("5493" + hashlib.sha256(seed.encode()).hexdigest().upper())[:18]
    digits = "".join(str(int(c, 36)) for c in body + "00")
    return f"{body}{98 - int(digits) % 97:02d}"


APPLE = "LEI:HWUPKR0MPOU8FGXBT394"
MICROSOFT = "LEI:INR2EJN1ERAN0W5ZP974"

# (category, same, record a, record b); a record is a dict of FIELDS.
PAIRS: list[tuple[str, int, dict[str, str], dict[str, str]]] = [
    # -- one business, its phone written in two formats (and the name or address as another
    #    directory writes it)
    ("phone_format", 1, {"name": "Blue Ribbon Sushi Bar", "country": "US", "city": "New York", "address": "119 Sullivan St", "phone": "+1 212 555 0142"},
     {"name": "Blue Ribbon Sushi", "country": "US", "city": "New York", "address": "119 Sullivan Street", "phone": "(212) 555-0142"}),
    ("phone_format", 1, {"name": "Carnegie Deli", "country": "US", "address": "854 7th Ave, New York", "phone": "212-555-0117"},
     {"name": "Carnegie Delicatessen", "country": "US", "city": "New York", "address": "854 Seventh Avenue", "phone": "+12125550117"}),
    ("phone_format", 1, {"name": "Arnie Morton's of Chicago", "country": "US", "city": "Los Angeles", "address": "435 S. La Cienega Blvd.", "phone": "310/555-0161"},
     {"name": "Arnie Morton's of Chicago", "country": "US", "city": "Los Angeles", "address": "435 S. La Cienega Boulevard", "phone": "310-555-0161"}),
    ("phone_format", 1, {"name": "Hawksmoor Seven Dials", "country": "GB", "city": "London", "address": "11 Langley Street", "phone": "+44 20 7946 0958"},
     {"name": "Hawksmoor Seven Dials", "country": "GB", "city": "London", "address": "11 Langley St, WC2H 9JG", "phone": "020 7946 0958"}),
    ("phone_format", 1, {"name": "Dishoom Covent Garden", "country": "GB", "address": "12 Upper St Martin's Lane, London", "phone": "020 7946 0321"},
     {"name": "Dishoom", "country": "GB", "city": "London", "address": "12 Upper Saint Martin's Lane", "phone": "+44 (0)20 7946 0321"}),
    ("phone_format", 1, {"name": "Harrison Freight Services Ltd", "country": "GB", "city": "Manchester", "address": "Unit 4, Trafford Park", "phone": "0161 496 0734"},
     {"name": "Harrison Freight Services Limited", "country": "GB", "city": "Manchester", "address": "Unit 4 Trafford Park Road", "phone": "+44 161 496 0734"}),
    ("phone_format", 1, {"name": "Le Petit Bistrot", "country": "FR", "city": "Paris", "address": "12 rue de Bretagne", "phone": "01 99 00 12 34"},
     {"name": "Le Petit Bistrot", "country": "FR", "city": "Paris", "address": "12, rue de Bretagne, 75003", "phone": "+33 1 99 00 12 34"}),
    ("phone_format", 1, {"name": "Harbour View Logistics Pty Ltd", "country": "AU", "city": "Sydney", "address": "8 Cooper St", "phone": "02 5550 1234"},
     {"name": "Harbour View Logistics", "country": "AU", "city": "Sydney", "address": "8 Cooper Street", "phone": "+61 2 5550 1234"}),
    ("phone_format", 1, {"name": "宁波拓海国际贸易有限公司", "city": "宁波", "address": "宁波市鄞州区天童南路588号", "phone": "0574-8765 4321"},
     {"name": "宁波拓海国际贸易有限公司", "address": "浙江省宁波市鄞州区天童南路588号", "phone": "+86 574 87654321"}),
    ("phone_format", 1, {"name": "上海恒盛五金制品有限公司", "phone": "138 0013 8123"},
     {"name": "上海恒盛五金制品有限公司", "phone": "+86-13800138123"}),
    ("phone_format", 1, {"name": "Golden Harvest Trading Co Ltd", "country": "HK", "address": "88 Queen's Road Central", "phone": "2555 0188"},
     {"name": "Golden Harvest Trading Company Limited", "country": "HK", "address": "88 Queen's Rd Central, Hong Kong", "phone": "+852 2555 0188"}),
    # -- the same words in another order, same phone
    ("word_order", 1, {"name": "Acme Widgets Ltd", "country": "GB", "address": "4 Mill Lane, Leeds", "phone": "0113 496 0500"},
     {"name": "Widgets Acme Limited", "country": "GB", "address": "4 Mill Lane Leeds", "phone": "+44 113 496 0500"}),
    ("word_order", 1, {"name": "Pacific Coast Seafood", "country": "US", "city": "San Francisco", "address": "Pier 45", "phone": "415-555-0133"},
     {"name": "Seafood Pacific Coast", "country": "US", "city": "San Francisco", "address": "Pier 45, Fisherman's Wharf", "phone": "(415) 555-0133"}),
    ("word_order", 1, {"name": "Northern Steel Supplies Ltd", "country": "GB", "phone": "0191 496 0777"},
     {"name": "Steel Supplies Northern Ltd", "country": "GB", "phone": "0191 4960777"}),
    ("word_order", 1, {"name": "Grand Central Oyster Bar", "country": "US", "city": "New York", "address": "89 E 42nd St", "phone": "212 555 0109"},
     {"name": "Oyster Bar Grand Central", "country": "US", "city": "New York", "address": "89 East 42nd Street", "phone": "+1-212-555-0109"}),
    # -- a typo in the name, same phone
    ("typo", 1, {"name": "Acme Widgets Ltd", "country": "GB", "phone": "+44 20 7946 0001"},
     {"name": "Acme Widgetz Ltd", "country": "GB", "phone": "020 7946 0001"}),
    ("typo", 1, {"name": "Brennan's Restaurant", "country": "US", "city": "New Orleans", "address": "417 Royal St", "phone": "504-555-0177"},
     {"name": "Brenan's Restaurant", "country": "US", "city": "New Orleans", "address": "417 Royal Street", "phone": "(504) 555-0177"}),
    ("typo", 1, {"name": "Meridian Components Inc", "country": "US", "phone": "+1 617 555 0190"},
     {"name": "Meridain Components Inc", "country": "US", "phone": "617.555.0190"}),
    ("typo", 1, {"name": "Westbrook Engineering Ltd", "country": "GB", "phone": "0117 496 0812"},
     {"name": "Westbrok Engineering Ltd", "country": "GB", "phone": "+44 117 496 0812"}),
    ("typo", 1, {"name": "Kingsway Packaging Ltd", "country": "GB", "address": "22 Kingsway, Cardiff", "phone": "029 2018 0555"},
     {"name": "Kingsway Packageing Ltd", "country": "GB", "address": "22 Kingsway Cardiff", "phone": "+44 29 2018 0555"}),
    # -- a firm known by several names: the record lists them, the other source uses one
    ("alias", 1, {"name": "蚂蚁科技集团股份有限公司", "aliases": "浙江蚂蚁小微金融服务集团股份有限公司; 蚂蚁集团; Ant Group"},
     {"name": "浙江蚂蚁小微金融服务集团股份有限公司"}),
    ("alias", 1, {"name": "蚂蚁科技集团股份有限公司", "aliases": "浙江蚂蚁小微金融服务集团股份有限公司; 蚂蚁集团; Ant Group"},
     {"name": "Ant Group Co., Ltd."}),
    ("alias", 1, {"name": "北京三快在线科技有限公司", "aliases": "美团"}, {"name": "美团"}),
    ("alias", 1, {"name": "北京小桔科技有限公司", "aliases": "滴滴出行; 滴滴"}, {"name": "滴滴出行"}),
    ("alias", 1, {"name": "上海寻梦信息技术有限公司", "aliases": "拼多多; Pinduoduo"}, {"name": "拼多多"}),
    ("alias", 1, {"name": "行吟信息科技(上海)有限公司", "aliases": "小红书; Xiaohongshu"}, {"name": "小红书"}),
    ("alias", 1, {"name": "上海拉扎斯信息科技有限公司", "aliases": "饿了么"}, {"name": "饿了么"}),
    ("alias", 1, {"name": "携程计算机技术(上海)有限公司", "aliases": "携程; Ctrip"}, {"name": "Ctrip"}),
    ("alias", 1, {"name": "深圳市大疆创新科技有限公司", "aliases": "大疆; DJI"}, {"name": "DJI"}),
    ("alias", 1, {"name": "宁德时代新能源科技股份有限公司", "aliases": "宁德时代; CATL; Contemporary Amperex Technology Co., Limited"},
     {"name": "Contemporary Amperex Technology Co., Limited"}),
    ("alias", 1, {"name": "中国石油化工股份有限公司", "aliases": "中国石化; Sinopec"}, {"name": "Sinopec"}),
    ("alias", 1, {"name": "中国石油天然气股份有限公司", "aliases": "中国石油; PetroChina"}, {"name": "PetroChina Company Limited"}),
    ("alias", 1, {"name": "中国联合网络通信股份有限公司", "aliases": "中国联合通信股份有限公司; 中国联通"}, {"name": "中国联合通信股份有限公司"}),
    ("alias", 1, {"name": "中国工商银行股份有限公司", "aliases": "工商银行; ICBC"}, {"name": "ICBC"}),
    # -- one legal entity under its LEI (names in other scripts or forms)
    ("lei", 1, {"name": "Apple Inc.", "country": "US", "identifiers": APPLE}, {"name": "苹果公司", "identifiers": APPLE}),
    ("lei", 1, {"name": "Microsoft Corporation", "country": "US", "identifiers": MICROSOFT}, {"name": "MSFT Corp", "identifiers": MICROSOFT}),
    ("lei", 1, {"name": "HSBC Holdings plc", "country": "GB", "identifiers": "LEI:" + _lei("hsbc")}, {"name": "汇丰控股有限公司", "identifiers": "LEI:" + _lei("hsbc")}),
    ("lei", 1, {"name": "Toyota Motor Corporation", "country": "JP", "identifiers": "LEI:" + _lei("toyota")}, {"name": "トヨタ自動車株式会社", "identifiers": "LEI:" + _lei("toyota")}),
    ("lei", 1, {"name": "Siemens Aktiengesellschaft", "country": "DE", "identifiers": "LEI:" + _lei("siemens")}, {"name": "Siemens AG", "identifiers": "LEI:" + _lei("siemens")}),
    # -- one company under another country's company number
    ("company_number", 1, {"name": "Tesco PLC", "country": "GB", "identifiers": "GB-COH:00445790"}, {"name": "TESCO", "country": "GB", "identifiers": "GB-COH:00445790"}),
    ("company_number", 1, {"name": "Harrison Freight Services Ltd", "country": "GB", "identifiers": "GB-COH:08123456"}, {"name": "Harrison Logistics", "country": "GB", "identifiers": "GB-COH: 0812 3456"}),
    ("company_number", 1, {"name": "Nordic Timber AB", "country": "SE", "identifiers": "SE-BV:556677-8899"}, {"name": "Nordic Timber Aktiebolag", "country": "SE", "identifiers": "SE-BV:5566778899"}),
    # -- two legal entities: the same or a like name, different identifiers under one scheme
    ("different_identifier", 0, {"name": "Apple Inc.", "country": "US", "identifiers": APPLE}, {"name": "Apple Inc", "identifiers": "LEI:" + _lei("apple-other")}),
    ("different_identifier", 0, {"name": "Harrison Freight Services Ltd", "country": "GB", "identifiers": "GB-COH:08123456"}, {"name": "Harrison Freight Services Ltd", "country": "GB", "identifiers": "GB-COH:09876543"}),
    ("different_identifier", 0, {"name": "Siemens AG", "identifiers": "LEI:" + _lei("siemens")}, {"name": "Siemens Energy AG", "identifiers": "LEI:" + _lei("siemens-energy")}),
    ("different_identifier", 0, {"name": "Global Trade Partners LLC", "country": "US", "identifiers": "US-EIN:12-3456789"}, {"name": "Global Trade Partners LLC", "country": "US", "identifiers": "US-EIN:98-7654321"}),
    # -- the same name registered in another country: another legal person
    ("other_country", 0, {"name": "Deloitte LLP", "country": "GB"}, {"name": "Deloitte LLP", "country": "US"}),
    ("other_country", 0, {"name": "Siemens Ltd", "country": "IN"}, {"name": "Siemens Ltd", "country": "GB"}),
    ("other_country", 0, {"name": "Nordic Timber AB", "country": "SE"}, {"name": "Nordic Timber AS", "country": "NO"}),
    ("other_country", 0, {"name": "Golden Harvest Trading Co Ltd", "country": "HK"}, {"name": "Golden Harvest Trading Co Ltd", "country": "SG"}),
    ("other_country", 0, {"name": "Microsoft Corporation", "country": "US"}, {"name": "微软(中国)有限公司", "country": "CN"}),
    # -- directory near misses: two outlets of a chain, firms sharing a building
    ("directory_near_miss", 0, {"name": "Dishoom", "country": "GB", "city": "London", "address": "12 Upper St Martin's Lane", "phone": "020 7946 0321"},
     {"name": "Dishoom", "country": "GB", "city": "London", "address": "7 Boundary Street", "phone": "020 7946 0422"}),
    ("directory_near_miss", 0, {"name": "Blue Ribbon Sushi", "country": "US", "city": "New York", "address": "119 Sullivan St", "phone": "212-555-0142"},
     {"name": "Blue Ribbon Sushi", "country": "US", "city": "Brooklyn", "address": "278 5th Ave", "phone": "718-555-0143"}),
    ("directory_near_miss", 0, {"name": "Hawksmoor Seven Dials", "country": "GB", "city": "London", "address": "11 Langley Street", "phone": "020 7946 0958"},
     {"name": "Hawksmoor Guildhall", "country": "GB", "city": "London", "address": "10 Basinghall Street", "phone": "020 7946 0959"}),
    ("directory_near_miss", 0, {"name": "Harbour View Logistics Pty Ltd", "country": "AU", "city": "Sydney", "address": "8 Cooper St", "phone": "02 5550 1234"},
     {"name": "Harbour View Cafe", "country": "AU", "city": "Sydney", "address": "8 Cooper St", "phone": "02 5550 9876"}),
    ("directory_near_miss", 0, {"name": "Meridian Components Inc", "country": "US", "city": "Boston", "address": "1 Federal St", "phone": "617-555-0190"},
     {"name": "Meridian Capital Advisors", "country": "US", "city": "Boston", "address": "1 Federal St", "phone": "617-555-0191"}),
    ("directory_near_miss", 0, {"name": "宁波拓海国际贸易有限公司", "city": "宁波", "address": "宁波市鄞州区天童南路588号", "phone": "0574-87654321"},
     {"name": "宁波拓海电子科技有限公司", "city": "宁波", "address": "宁波市鄞州区天童南路588号", "phone": "0574-87650000"}),
    ("directory_near_miss", 0, {"name": "Le Petit Bistrot", "country": "FR", "city": "Paris", "address": "12 rue de Bretagne", "phone": "01 99 00 12 34"},
     {"name": "Le Petit Bistrot", "country": "FR", "city": "Lyon", "address": "5 rue Mercière", "phone": "04 99 00 56 78"}),
    ("directory_near_miss", 0, {"name": "Pacific Coast Seafood", "country": "US", "city": "San Francisco", "phone": "415-555-0133"},
     {"name": "Pacific Coast Seafood", "country": "US", "city": "Seattle", "phone": "206-555-0134"}),
]


def _split(pair_id: str) -> str:
    return "tune" if hashlib.sha256(pair_id.encode()).digest()[0] % 2 == 0 else "test"


def write(path: Path = OUT) -> int:
    header = ["pair_id", "same", "category", "split",
              *(f"{f}_{side}" for side in "ab" for f in FIELDS)]  # fmt: skip
    seen = set()
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        for category, same, a, b in PAIRS:
            key = repr((sorted(a.items()), sorted(b.items())))
            assert key not in seen, f"pair listed twice: {a} / {b}"
            seen.add(key)
            pair_id = "R" + hashlib.sha256(key.encode()).hexdigest()[:10]
            writer.writerow([pair_id, same, category, _split(pair_id),
                             *(side.get(f, "") for side in (a, b) for f in FIELDS)])  # fmt: skip
    return len(PAIRS)


if __name__ == "__main__":
    print(f"{write()} pairs written to {OUT}")
