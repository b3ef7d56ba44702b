"""Name normalisation and the spaCy name parser on hand-built names with known parts."""

from __future__ import annotations

import pytest

from entity_resolution.normalise import (
    base_text,
    chinese_name,
    english_words,
    expand_bank_alias,
    normalise_phone,
    pinyin_key,
)
from entity_resolution.parse import name_pipeline, parse_name, parse_names


def test_width_script_brackets_and_punctuation() -> None:
    assert base_text("ＡＢＣ　科技") == "abc 科技"
    assert chinese_name("拓搏國際貿易（寧波）有限公司") == "拓搏国际贸易(宁波)有限公司"
    assert chinese_name("拓搏·国际 贸易【宁波】有限公司。") == "拓搏国际贸易(宁波)有限公司"


def test_english_abbreviations_expand() -> None:
    assert english_words("TUOBO INTL TRDG CO., LTD.") == [
        "tuobo", "international", "trading", "co", "ltd"
    ]
    assert english_words("XYZ Tech GRP") == ["xyz", "technology", "group"]


def test_bank_short_names() -> None:
    assert expand_bank_alias("农行北京海淀支行") == "中国农业银行北京海淀支行"
    assert expand_bank_alias("工商银行宁波分行") == "中国工商银行宁波分行"
    # An ordinary word that is also a short name is left alone without a bank suffix.
    assert expand_bank_alias("华夏建设有限公司") == "华夏建设有限公司"
    assert expand_bank_alias("华夏杭州分行") == "华夏银行杭州分行"


def test_pinyin_and_phone() -> None:
    assert pinyin_key("拓搏") == pinyin_key("拓博") == pinyin_key("Tuo Bo") == "tuobo"
    assert normalise_phone("+86 574-8765 4321") == normalise_phone("0574 87654321")
    assert normalise_phone("+86 138 0013 8000") == "+8613800138000"


@pytest.mark.parametrize(
    ("name", "region", "trade", "industry", "form", "branch"),
    [
        ("宁波拓搏国际贸易有限公司", "宁波", "拓搏", "国际贸易", "有限责任公司", ""),
        ("拓搏國際貿易（寧波）有限公司", "宁波", "拓搏", "国际贸易", "有限责任公司", ""),
        ("浙江省宁波市拓搏国际贸易有限责任公司", "宁波", "拓搏", "国际贸易", "有限责任公司", ""),
        ("海南拓搏国际贸易有限公司", "海南", "拓搏", "国际贸易", "有限责任公司", ""),
        ("宁波拓搏国际贸易有限公司上海分公司", "宁波", "拓搏", "国际贸易", "有限责任公司",
         "上海分公司"),
        ("中国农业银行股份有限公司北京海淀支行", "", "中国农业银行", "", "股份有限公司",
         "北京海淀支行"),
        ("农行北京海淀支行", "", "中国农业银行", "", "", "北京海淀支行"),
        ("宏达五金(普通合伙)", "", "宏达", "五金", "合伙企业", ""),
        ("恒通个人独资企业", "", "恒通", "", "个人独资企业", ""),
        ("恒通集团控股有限公司", "", "恒通", "集团控股", "有限责任公司", ""),
    ],
)
def test_chinese_parts(
    name: str, region: str, trade: str, industry: str, form: str, branch: str
) -> None:
    parts = parse_name(name)
    assert (parts.region, parts.trade, parts.industry, parts.legal_form, parts.branch) == (
        region, trade, industry, form, branch
    )


def test_english_name_meets_its_chinese_name() -> None:
    zh = parse_name("宁波拓搏国际贸易有限公司")
    for en in ("Ningbo Tuobo International Trading Co., Ltd.", "TUOBO INTL TRDG CO LTD (NINGBO)"):
        parts = parse_name(en)
        assert parts.is_english
        assert (parts.region, parts.trade_key, parts.industry, parts.legal_form) == (
            zh.region, zh.trade_key, zh.industry, zh.legal_form
        )
    bank_en = parse_name("Agricultural Bank of China Limited Beijing Haidian Sub-branch")
    bank_zh = parse_name("中国农业银行股份有限公司北京海淀支行")
    assert bank_en.bank == bank_zh.bank == "中国农业银行"
    assert bank_en.branch_key == bank_zh.branch_key == "beijinghaidian"
    # Synonymous industry words fold to one key.
    assert parse_name("华为技术有限公司").industry_key == parse_name(
        "Huawei Technologies Co., Ltd."
    ).industry_key


def test_near_misses_differ_in_trade_or_region() -> None:
    a, b = parse_name("宁波拓搏国际贸易有限公司"), parse_name("宁波拓博国际贸易有限公司")
    assert a.trade != b.trade and a.trade_key == b.trade_key
    c = parse_name("海南拓搏国际贸易有限公司")
    assert a.trade == c.trade and a.region_code != c.region_code


def test_pipeline_is_spacy_with_spans() -> None:
    nlp = name_pipeline()
    assert nlp.lang == "zh" and "chainlens_name_trade" in nlp.pipe_names
    doc = nlp(chinese_name("宁波拓搏国际贸易有限公司上海分公司"))
    labels = {span.label_: span.text for span in doc.spans["name_parts"]}
    assert labels == {"REGION": "宁波", "TRADE": "拓搏", "INDUSTRY": "国际贸易",
                      "FORM": "有限公司", "BRANCH": "上海分公司"}
    many = parse_names(["宁波拓搏国际贸易有限公司", "寧波拓搏國際貿易有限公司"])
    assert len({p.text for p in many.values()}) == 1


def test_bulk_path_equals_the_spacy_pipeline() -> None:
    from entity_resolution.parse import parse_prepared, prepare

    names = [
        "宁波拓搏国际贸易有限公司上海分公司", "拓搏國際貿易（寧波）有限公司", "农行北京海淀支行",
        "Ningbo Tuobo International Trading Co., Ltd.", "宏达五金(普通合伙)",
        "Agricultural Bank of China Limited Beijing Haidian Sub-branch", "恒通集团控股有限公司",
    ]
    for name in names:
        assert parse_prepared(prepare(name)) == parse_name(name)


def test_branches_without_a_legal_form_and_with_or_without_shi() -> None:
    from entity_resolution.parse import parse_name

    west_lake = parse_name("某某银行杭州西湖支行")
    assert west_lake.trade == "某某银行" and west_lake.branch == "杭州西湖支行"
    city_bank = parse_name("杭州银行西湖支行")
    assert city_bank.bank == "杭州银行" and city_bank.branch_key == "xihu"
    short, full = parse_name("工行北京分行"), parse_name("中国工商银行股份有限公司北京市分行")
    assert short.bank == full.bank == "中国工商银行"
    assert short.branch_key == full.branch_key == "beijing"
    assert parse_name("招商银行股份有限公司北京分行营业部").branch_key != short.branch_key
    head_office = parse_name("中国工商银行总行")
    assert head_office.bank == "中国工商银行" and head_office.branch == ""


def test_stock_short_names_group_brackets_and_foreign_forms() -> None:
    from entity_resolution.parse import parse_name

    assert parse_name("洋河股份").trade == "洋河" and parse_name("洋河股份").legal_form == ""
    assert parse_name("万科A").trade == "万科"
    assert parse_name("江苏洋河酒厂").trade == parse_name("江苏洋河酒厂股份有限公司").trade
    assert "集团" in parse_name("中国人寿保险(集团)公司").industry
    assert parse_name("BASF SE").legal_form != parse_name("BASF (China) Co., Ltd.").legal_form
    assert parse_name("Nestlé S.A.").trade == parse_name("NESTLE SA").trade == "nestle"
    yili = parse_name("Inner Mongolia Yili Industrial Group Co., Ltd.")
    assert yili.region == "内蒙古" and yili.trade == "yili"
