"""The development benchmark of real firm names (tests/data/er/benchmark.csv), `match(a, b)`
and scores that do not depend on the batch (issue #21)."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import os
import subprocess
import sys

import pytest

from entity_resolution.benchmark import DEFAULT_PATH, evaluate, read_pairs, roc_auc
from entity_resolution.match import match
from entity_resolution.records import EnterpriseRecord, prepare_records
from entity_resolution.resolver import resolve_records
from entity_resolution.score import TradeRarity, default_model


@pytest.fixture(scope="module")
def test_part() -> dict[str, object]:
    return evaluate(read_pairs(), "test")


def test_benchmark_is_labelled_split_and_unique() -> None:
    with DEFAULT_PATH.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) >= 600
    assert set(rows[0]) >= {"pair_id", "name_a", "name_b", "same", "category", "split",
                            "uscc_a", "uscc_b"}
    assert {r["same"] for r in rows} == {"0", "1"}
    pairs = {tuple(sorted((r["name_a"], r["name_b"]))) for r in rows}
    assert len(pairs) == len(rows)  # no pair twice, in either order
    for r in rows:  # the split is a function of the pair id alone
        digest = hashlib.sha256(r["pair_id"].encode()).digest()[0]
        assert r["split"] == ("tune" if digest % 2 == 0 else "test")
    tune = sum(r["split"] == "tune" for r in rows)
    assert 0.4 < tune / len(rows) < 0.6
    categories = {r["category"] for r in rows}
    assert {"legal_form", "abbreviation", "bank_branch", "near_miss_finance",
            "branch_vs_branch", "industry_variant", "restructuring", "foreign"} <= categories


def test_test_part_figures(test_part: dict[str, object]) -> None:
    """Measured on the test part (never trained on). The issue's targets: ROC-AUC >= 0.95
    (0.978) and recall >= 0.90 with >= 95% of different pairs apart (0.908 at a 95%
    true-negative rate). The operating threshold keeps near misses apart first (0.887
    recall at 0.995 TNR)."""
    out = test_part
    assert out["roc_auc"] >= 0.95
    # Probabilities mean what they say to within 0.06 on average (0.044 measured: the
    # mid-scored real pairs are same more often than their score says).
    assert out["calibration_error"] <= 0.06
    assert out["recall_at_tnr95"] >= 0.90
    assert out["recall"] >= 0.87
    assert out["tnr"] >= 0.99
    categories = out["categories"]
    assert isinstance(categories, dict)
    assert {p.category for p in read_pairs() if p.split == "test"} == set(categories)
    for name in ("legal_form", "traditional", "restructuring", "bank_head_office"):
        assert categories[name]["recall"] == 1.0, name
    assert categories["bank_branch"]["recall"] >= 0.95
    assert categories["abbreviation"]["recall"] >= 0.95
    for name in ("branch_vs_branch", "branch_vs_head_office", "near_miss_industry"):
        assert categories[name]["tnr"] == 1.0, name


def test_operating_threshold_merges_no_different_pair_of_the_tune_part() -> None:
    """The threshold is set for precision on the generated pairs and the names-only weights
    may not spend it: on the tune part (what they were set on) no near miss merges."""
    tune = evaluate(read_pairs(), "tune")
    assert tune["tnr"] == 1.0
    assert tune["recall_at_tnr95"] >= 0.91


def test_calibration_error_by_hand() -> None:
    import numpy as np

    from entity_resolution.benchmark import calibration_error

    y = np.array([True, False, True, True])
    assert calibration_error(np.array([1.0, 0.0, 1.0, 1.0]), y) == 0.0
    # Two bins: 0.25 (half the pairs, none same: gap 0.25), 0.95 (all same: gap 0.05).
    scores = np.array([0.25, 0.25, 0.95, 0.95])
    assert abs(calibration_error(scores, np.array([False, False, True, True])) - 0.15) < 1e-12


def test_roc_auc_by_hand() -> None:
    import numpy as np

    scores = np.array([0.9, 0.8, 0.4, 0.4, 0.1])
    y = np.array([True, False, True, False, False])
    # Positive-negative pairs: (0.9 > all 3) 3, (0.4 vs 0.8) 0, (0.4 = 0.4) 0.5, (0.4 > 0.1) 1.
    assert roc_auc(scores, y) == pytest.approx(4.5 / 6)


def test_match_explains_and_keeps_near_misses_apart() -> None:
    same = match("招商证券", "招商证券股份有限公司")
    assert same.same and same.score >= default_model().threshold
    assert "parts_agree" in same.agreed and not same.blocked_by
    assert "form_conflict" not in same.disagreed
    other = match("招商银行股份有限公司", "招商证券股份有限公司")
    assert not other.same
    branch = match("中国工商银行股份有限公司北京市分行", "中国工商银行股份有限公司")
    assert branch.score == 0.0 and branch.blocked_by.startswith("branch")
    # 北京分行 and 北京市分行, short and registered bank name: one branch.
    one = match("工行北京分行", "中国工商银行股份有限公司北京市分行")
    assert one.same and not one.blocked_by
    assert match("中国工商银行股份有限公司北京中关村支行",
                 "中国工商银行股份有限公司北京西单支行").blocked_by
    assert set(same.reasons) >= {"score", "agreed", "disagreed", "contributions"}


def test_restructured_firm_is_no_conflict() -> None:
    result = match("宁德时代新能源科技有限公司", "宁德时代新能源科技股份有限公司")
    assert result.same
    assert "form_conflict" not in result.disagreed
    variant = match("深圳市投资控股有限公司", "深圳市投资有限公司")
    assert "industry_conflict" not in variant.disagreed


def test_local_arms_and_group_names() -> None:
    """A firm's arm named for (中国) or Hong Kong is another legal person; two 股份有限公司
    that differ by 集团 are one firm renamed, a group and its listed company are two."""
    for bare, arm in (("Microsoft Corporation", "Microsoft (China) Co., Ltd."),
                      ("中国银行股份有限公司", "中国银行(香港)有限公司")):
        result = match(bare, arm)
        assert not result.same and "subsidiary_place" in result.disagreed
        assert "parts_agree" not in result.agreed
    # The same arm in two scripts, and a mainland region in brackets, are no arm.
    assert "subsidiary_place" not in match("西门子(中国)有限公司", "Siemens Ltd., China").disagreed
    assert "subsidiary_place" not in match("拓搏国际贸易(宁波)有限公司",
                                           "拓搏国际贸易有限公司").disagreed
    renamed = match("内蒙古伊利实业股份有限公司", "内蒙古伊利实业集团股份有限公司")
    assert "group_renamed" in renamed.agreed
    parent = match("鞍钢集团有限公司", "鞍钢股份有限公司")
    assert not parent.same and "group_and_company" in parent.disagreed
    assert renamed.score > parent.score


def _batch() -> tuple[EnterpriseRecord, EnterpriseRecord, list[EnterpriseRecord]]:
    a = EnterpriseRecord("a", "tax", "宁波拓搏国际贸易有限公司", phone="0574-87654321")
    b = EnterpriseRecord("b", "erp", "宁波拓搏国际贸易", phone="0574 8765 4321")
    cities = ["杭州", "温州", "嘉兴", "湖州", "绍兴", "金华", "台州", "南京", "苏州", "无锡"]
    others = [
        # The same trade name elsewhere: counted over the batch, it would make 拓搏 common.
        EnterpriseRecord(f"o{i}", "tax", f"{cities[i % 10]}拓搏{['物流', '科技', '实业'][i % 3]}"
                         "有限公司", phone=f"0571-{10_000_000 + i}")
        for i in range(998)
    ]
    return a, b, others


def test_a_pair_scores_the_same_alone_in_a_batch_and_against_an_index() -> None:
    a, b, others = _batch()
    alone = match(a, b).score
    assert alone >= default_model().threshold

    def link_score(records: list[EnterpriseRecord]) -> float:
        res = resolve_records(records, workers=1)
        link = next(x for x in res.links if x.record_id == "b")
        assert link.explanation["matched_record"] == "a"
        return link.score

    assert link_score([a, b]) == pytest.approx(alone, abs=1e-12)
    assert link_score([a, *others, b]) == pytest.approx(alone, abs=1e-12)
    index = resolve_records([a, *others], workers=1).index
    assert index is not None
    looked_up = index.lookup(b)
    assert looked_up.explanation["matched_record"] == "a"
    assert looked_up.score == pytest.approx(alone, abs=1e-12)
    # Nothing an index holds or is given enters the frequencies, so an index of a million
    # records scores like this one (bench/entity_resolution.py checks every lookup of its run
    # against match() at whatever size it runs).
    reference = TradeRarity.reference()
    for rec in others[:50]:
        index.add(dataclasses.replace(rec, record_id=f"{rec.record_id}-new"))
    assert (index.rarity.total, index.rarity.counts) == (reference.total, reference.counts)
    assert index.lookup(b).score == pytest.approx(alone, abs=1e-12)
    # Counting the batch (what runs did before) would have changed the score.
    batch_counted = TradeRarity.of(prepare_records([a, *others, b]))
    assert batch_counted("tuobo") < TradeRarity.reference()("tuobo") - 0.5


def test_large_trade_block_is_split_not_dropped() -> None:
    branches = [
        EnterpriseRecord(f"k{i}", "bank", f"中国工商银行股份有限公司第{i}支行")
        for i in range(150)
    ]
    one = EnterpriseRecord("x1", "erp", "工行杭州西湖支行")
    two = EnterpriseRecord("x2", "bank", "中国工商银行股份有限公司杭州西湖支行")
    res = resolve_records([*branches, one, two], max_block=60, workers=1)
    assert res.stats["blocks_capped"] >= 1 and res.stats["blocks_split"] >= 1
    e = res.entity_of()
    assert e["x1"] == e["x2"]
    assert e["x1"] != e["k0"]
    assert res.index is not None
    assert res.index.lookup(EnterpriseRecord("x3", "kyc", "工行杭州西湖支行")).entity_id == e["x1"]


def test_cli_benchmark_prints_tables_and_one_json_line() -> None:
    env = {**os.environ, "COLUMNS": "120"}
    result = subprocess.run([sys.executable, "-m", "cli.main", "er", "benchmark", "--split",
                             "tune"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    last = json.loads(result.stdout.strip().splitlines()[-1])
    assert last["split"] == "tune" and last["pairs"] == sum(
        p.split == "tune" for p in read_pairs())
    assert "legal_form" in last["categories"]
    assert "ROC-AUC" in result.stdout and "per category" in result.stdout
    assert "recall at a 95% true-negative rate" in result.stdout
