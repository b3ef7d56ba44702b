"""resolve_records on hand-built dirty records with known answers (pure, no database)."""

from __future__ import annotations

import numpy as np

from entity_resolution.evaluate import blocking_recall, score_clusters
from entity_resolution.records import EnterpriseRecord, prepare_records
from entity_resolution.resolver import Decision, resolve_records
from entity_resolution.score import TradeRarity, default_model, pair_features
from entity_resolution.uscc import make_uscc
from tests.entity_resolution.cases import TRUTH, U_TUOBO, records


def _groups(entity_of: dict[str, str]) -> set[frozenset[str]]:
    by: dict[str, set[str]] = {}
    for record, entity in entity_of.items():
        by.setdefault(entity, set()).add(record)
    return {frozenset(v) for v in by.values()}


def test_hand_built_cases_resolve_exactly() -> None:
    res = resolve_records(records())
    assert _groups(res.entity_of()) == _groups(TRUTH)
    scores = score_clusters(res.entity_of(), TRUTH)
    assert scores.precision == 1.0 and scores.recall == 1.0 and scores.bcubed_f1 == 1.0
    assert blocking_recall([r.record_id for r in res.records], res.pairs, TRUTH) == 1.0


def test_branches_point_at_their_parent() -> None:
    res = resolve_records(records())
    e = res.entity_of()
    assert set(res.branch_of) == {(e["b1"], e["t1"]), (e["k1"], e["k0"])}
    assert res.entities[e["b1"]].is_branch and not res.entities[e["t1"]].is_branch


def test_links_explain_which_fields_agreed() -> None:
    res = resolve_records(records())
    link = next(x for x in res.links if x.record_id == "t3")  # English only, shares the phone
    assert link.explanation["reason"] == "matched"
    assert link.score >= default_model().threshold
    assert "phone_same" in link.explanation["agreed"]
    assert "trade_exact" in link.explanation["agreed"]  # across scripts: the same pinyin
    alone = next(x for x in res.links if x.record_id == "h1")
    assert alone.explanation == {"reason": "no match above threshold"}


def test_two_valid_usccs_never_merge_even_with_everything_else_equal() -> None:
    other = make_uscc("9", "1", "330200", "MA9Y8X7W")
    twin = EnterpriseRecord("x1", "tax", "宁波拓搏国际贸易有限公司", uscc=other,
                            phone="0574-87654321", region_code="330200")
    res = resolve_records([*records(), twin])
    e = res.entity_of()
    assert e["x1"] != e["t1"]
    # The model alone would merge them (same name, phone and region): the constraint decides.
    # Scored with the shipped trade-name frequencies, as a run scores.
    prepared = prepare_records([records()[0], twin])
    x = np.array([pair_features(prepared[0], prepared[1], TradeRarity.reference())])
    assert default_model().probabilities(x)[0] >= default_model().threshold


def test_failed_check_is_flagged_not_dropped() -> None:
    bad = U_TUOBO[:17] + ("0" if U_TUOBO[17] != "0" else "1")
    rec = EnterpriseRecord("f1", "erp", "宁波拓搏国际贸易有限公司", uscc=bad, phone="0574-87654321")
    res = resolve_records([*records(), rec])
    assert any("check_character" in p for p in res.flags["f1"])
    assert res.entity_of()["f1"] == res.entity_of()["t1"]


def test_decisions_split_and_join() -> None:
    decisions = [
        Decision("t1", "t3", same=False, by="officer"),
        Decision("h1", "t1", same=True, by="admin"),
    ]
    res = resolve_records(records(), decisions=decisions)
    e = res.entity_of()
    assert e["t3"] != e["t1"]
    assert e["h1"] == e["t1"]
    link = next(x for x in res.links if x.record_id == "h1")
    assert link.explanation["reason"] == "decision" and link.explanation["decided_by"] == "admin"


def test_master_records_anchor_entity_ids() -> None:
    master = EnterpriseRecord("M-E1", "master", "宁波拓搏国际贸易有限公司", uscc=U_TUOBO,
                              enterprise_id="E000001")
    e = resolve_records([*records(), master]).entity_of()
    assert e["t1"] == e["t3"] == "E000001"


def test_incremental_lookup_matches_the_full_run() -> None:
    res = resolve_records(records())
    assert res.index is not None
    new = EnterpriseRecord("n1", "erp", "寧波拓搏國際貿易有限公司", phone="0574 8765 4321")
    link = res.index.lookup(new)
    assert link.entity_id == res.entity_of()["t1"]
    fresh = EnterpriseRecord("n2", "erp", "深圳市腾讯计算机系统有限公司")
    added = res.index.add(fresh)
    assert added.explanation == {"reason": "new entity"}
    again = res.index.lookup(EnterpriseRecord("n3", "tax", "深圳市腾讯计算机系统有限公司",
                                              phone="0755-1"))
    assert again.entity_id == added.entity_id


def test_index_round_trips_through_a_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from entity_resolution.resolver import ResolutionIndex

    res = resolve_records(records())
    assert res.index is not None
    res.index.save(tmp_path / "er.idx")
    loaded = ResolutionIndex.load(tmp_path / "er.idx")
    rec = EnterpriseRecord("n1", "erp", "NINGBO TUOBO INTL TRDG CO LTD", phone="0574-87654321")
    assert loaded.lookup(rec).entity_id == res.entity_of()["t1"]
