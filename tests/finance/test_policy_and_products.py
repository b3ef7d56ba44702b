"""The product catalogue and the credit policy on hand-made facts (no database needed),
plus the policy's graph facts on a small graph with a guarantee circle and a group."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from neo4j import Driver

from finance.errors import FinanceError
from finance.policy import (
    AUTO_APPROVE_MAX_MINOR,
    POLICY_VERSION,
    EnterpriseFacts,
    Verdict,
    evaluate,
    read_facts,
)
from finance.products import ProductKind, get_product, load_product_file, load_products
from tests.finance.conftest import CHAIN, build

BASE = EnterpriseFacts(
    enterprise_id="T1", name="Tier One Parts", status="active", is_core=False,
    fraud_score=0.1, default_score=0.1, scores_are_neutral=False, tier=1, core_id="C",
    buyer_id="C", path_trade_minor=1_000_000_000, months_trading=24, buys_from_core=False,
    seller_core_id=None, guarantee_circle=[], receivables_minor=100_000_000,
    receivables_from_core_minor=100_000_000, open_orders_minor=0,
    warehouse_receipts_value_minor=0, movable_assets_value_minor=0, monitored_assets=0,
    vouchers_held_minor=0, group_size=1, group_exposure_minor=0, core_line_id="SC",
    core_line_available_minor=10_000_000_000, own_line_id="L-T1",
    own_line_available_minor=10_000_000_000,
)  # fmt: skip


def test_catalogue_ships_every_product_kind() -> None:
    kinds = {p.kind for p in load_products().values()}
    assert kinds == set(ProductKind)
    assert {p.id for p in load_products().values()} >= {
        "factoring_recourse", "factoring_nonrecourse", "confirmed_warehouse"}
    assert get_product("factoring_recourse").recourse is True
    assert get_product("factoring_nonrecourse").recourse is False


def test_invalid_definition_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nname: x\nkind: payday_loan\n", encoding="utf-8")
    with pytest.raises(FinanceError, match=r"bad\.yaml is invalid"):
        load_product_file(bad)


def test_verdicts_and_reasons() -> None:
    fr = get_product("factoring_recourse")
    ok = evaluate(fr, BASE, 50_000_000, 100_000_000)
    assert (ok.verdict, ok.amount_minor, ok.policy_version) == (Verdict.APPROVE, 50_000_000,
                                                                POLICY_VERSION)
    # Advance rate caps the amount: 80% of 100,000,000.
    assert evaluate(fr, BASE, 500_000_000, 100_000_000).amount_minor == 80_000_000
    circle = evaluate(fr, replace(BASE, guarantee_circle=["A", "B", "T1"]), 1000, 100_000_000)
    assert circle.verdict == Verdict.REFER
    assert "member of a guarantee circle with 3 firms (A, B, T1)" in circle.reasons
    assert circle.rate_bps == ok.rate_bps + 100
    fraud = evaluate(fr, replace(BASE, fraud_score=0.85), 1000, 100_000_000)
    assert fraud.verdict == Verdict.DECLINE and fraud.amount_minor == 0
    assert any("fraud score 0.85" in r for r in fraud.reasons)
    deep = evaluate(fr, replace(BASE, tier=4), 1000, 100_000_000)
    assert deep.verdict == Verdict.REFER
    lineless = replace(BASE, own_line_id=None, own_line_available_minor=0)
    refused = evaluate(fr, lineless, 1000, 100_000_000)
    assert (refused.verdict, refused.amount_minor) == (Verdict.DECLINE, 0)
    assert "nothing can be granted: Tier One Parts has no credit line of its own" in refused.reasons
    core = evaluate(fr, replace(BASE, is_core=True), 1000, 100_000_000)
    assert core.verdict == Verdict.DECLINE
    rich = replace(BASE, path_trade_minor=10**13)
    big = evaluate(get_product("reverse_factoring"), rich, AUTO_APPROVE_MAX_MINOR + 1,
                   10 * AUTO_APPROVE_MAX_MINOR)
    assert big.verdict == Verdict.REFER
    assert any("automatic approval limit" in r for r in big.reasons)
    # Deeper tiers get a smaller share of the weakest link's trade and a higher rate.
    t1 = evaluate(get_product("reverse_factoring"), BASE, 10**12, 10**12)
    t3 = evaluate(get_product("reverse_factoring"), replace(BASE, tier=3), 10**12, 10**12)
    assert t3.amount_minor < t1.amount_minor and t3.rate_bps > t1.rate_bps


def test_facts_read_from_the_graph(db: Driver, database: str) -> None:
    build(db, database, CHAIN)
    build(db, database, """
        MATCH (t1:Enterprise {id: 'T1'}), (t2:Enterprise {id: 'T2'}), (t3:Enterprise {id: 'T3'})
        CREATE (t1)-[:GUARANTEES {id: 'g1', amount: 1}]->(t2)
        CREATE (t2)-[:GUARANTEES {id: 'g2', amount: 1}]->(t3)
        CREATE (t3)-[:GUARANTEES {id: 'g3', amount: 1}]->(t1)
        CREATE (p:Enterprise {id: 'P', name: 'Parent Group'})
        CREATE (p)-[:HOLDS {pct: 80.0}]->(t2)
        CREATE (p)-[:HOLDS {pct: 60.0}]->(t3)
    """)
    f = read_facts(db, database, "T3", today=date(2026, 1, 1))
    assert (f.tier, f.core_id, f.path_trade_minor) == (3, "C", 80_000_000)
    assert f.guarantee_circle == ["T1", "T2", "T3"]
    assert f.group_size == 2 and f.months_trading == 12
    assert f.scores_are_neutral and f.default_score == 0.2
    c = read_facts(db, database, "C")
    assert c.is_core and c.tier == 0
