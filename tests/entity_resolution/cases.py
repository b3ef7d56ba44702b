"""Hand-built dirty enterprise records with known answers, shared by the tests."""

from __future__ import annotations

from entity_resolution.records import EnterpriseRecord as R
from entity_resolution.uscc import make_uscc

U_TUOBO = make_uscc("9", "1", "330200", "MA2H3K7B")
U_HAINAN = make_uscc("9", "1", "460100", "MA5T2B1C")
U_TWIN = make_uscc("9", "1", "330200", "MA0K9X2D")
U_BRANCH = make_uscc("9", "1", "310000", "MA7Q1W3E")
U_SUB = make_uscc("9", "1", "330200", "MA3R5T7Y")


def records() -> list[R]:
    return [
        # One firm, four spellings: simplified with USCC, traditional + region in brackets,
        # English only, full width with its legacy organisation code.
        R("t1", "tax", "宁波拓搏国际贸易有限公司", uscc=U_TUOBO, region_code="330200",
          phone="0574-87654321", address="浙江省宁波市鄞州区中山路100号"),
        R("t2", "customs", "拓搏國際貿易（寧波）有限公司",
          name_en="Ningbo Tuobo International Trading Co., Ltd.", phone="+86 574 8765 4321"),
        R("t3", "erp", "NINGBO TUOBO INTL TRDG CO LTD", phone="057487654321"),
        R("t4", "bank", "宁波拓搏国际贸易有限责任公司",
          legacy_org_code=f"{U_TUOBO[8:16]}-{U_TUOBO[16]}", address="宁波市鄞州区中山路100号"),
        # Same trade name, other region and its own USCC: another firm.
        R("h1", "tax", "海南拓搏国际贸易有限公司", uscc=U_HAINAN, region_code="460100",
          phone="0898-66001122"),
        # Look-alike trade name 拓博 in the same city: another firm.
        R("w1", "tax", "宁波拓博国际贸易有限公司", uscc=U_TWIN, region_code="330200",
          phone="0574-22223333"),
        R("w2", "erp", "宁波拓博国际贸易有限公司", phone="0574 2222 3333"),
        # A branch: its own entity, BRANCH_OF the firm.
        R("b1", "bank", "宁波拓搏国际贸易有限公司上海分公司", uscc=U_BRANCH,
          phone="021-55556666"),
        # A subsidiary shares the trade name but is a separate enterprise.
        R("s1", "tax", "宁波拓搏物流有限公司", uscc=U_SUB, region_code="330200",
          phone="0574-99990000"),
        # Bank branches: short name and registered name are one branch.
        R("k1", "erp", "农行北京海淀支行", phone="010-68880000"),
        R("k2", "bank", "中国农业银行股份有限公司北京海淀支行", phone="(010) 6888 0000"),
        R("k0", "bank", "中国农业银行股份有限公司", uscc="911100001000054748"),
    ]


TRUTH = {
    "t1": "T", "t2": "T", "t3": "T", "t4": "T",
    "h1": "H", "w1": "W", "w2": "W", "b1": "B", "s1": "S", "k1": "K", "k2": "K", "k0": "K0",
}
