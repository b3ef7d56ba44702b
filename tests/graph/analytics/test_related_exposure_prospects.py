"""Related parties, exposure per group and chain, and prospects around a core."""

from __future__ import annotations

import pytest
from neo4j import Driver

from graph.analytics import exposure, prospects, related
from graph.errors import InvalidArgument, NotFound
from tests.graph.analytics.conftest import Build, firms, guarantees, holds, supplies


def test_related_parties_each_link_explained(build: Build, db: Driver, database: str) -> None:
    build(
        firms("X", "Y", "Z", "V") + ";"
        + holds("Q", "X", 60, person=True) + holds("Q", "W", 70, person=True)
        + "MATCH (x:Enterprise {id: 'X'}), (y:Enterprise {id: 'Y'}), (v:Enterprise {id: 'V'}) "
        "CREATE (p:Person {id: 'P', name: '张三'}) "
        "CREATE (p)-[:ROLE {kind: 'legal_representative'}]->(x), "
        "       (p)-[:ROLE {kind: 'director'}]->(y), (p)-[:ROLE {kind: 'supervisor'}]->(v);"
        "MATCH (x:Enterprise {id: 'X'}), (z:Enterprise {id: 'Z'}) "
        "CREATE (a:Address {id: 'AD1', text: '北京市朝阳区1号'}) "
        "CREATE (x)-[:LOCATED_AT]->(a), (z)-[:LOCATED_AT]->(a)"
    )  # fmt: skip
    result = related.related_parties(db, database, "X")
    kinds = {p.id: p.kinds for p in result.parties}
    assert kinds == {
        "W": [related.LinkKind.COMMON_CONTROLLER],
        "Y": [related.LinkKind.SHARED_PERSON],
        "Z": [related.LinkKind.SHARED_ADDRESS],
    }
    y = next(p for p in result.parties if p.id == "Y")
    assert y.links[0].explanation == "张三 is legal_representative of Firm X and director of Firm Y"
    assert not result.truncated
    with pytest.raises(NotFound):
        related.related_parties(db, database, "NOPE")


def test_group_and_chain_exposure(build: Build, db: Driver, database: str) -> None:
    build(
        holds("Q", "X", 60, person=True) + holds("Q", "W", 70, person=True)
        + guarantees("G1", "X", "W", 300) + guarantees("G2", "W", "O", 200)
        + "MATCH (x:Enterprise {id: 'X'}), (w:Enterprise {id: 'W'}) "
        "CREATE (:Financing {id: 'F1', status: 'active', amount_minor: 1000, "
            "outstanding_minor: 1000})-[:BORROWER]->(x) "
        "CREATE (:Financing {id: 'F2', status: 'closed', amount_minor: 500, "
            "outstanding_minor: 0})-[:BORROWER]->(w);"
        + firms("C", "S") + ";" + supplies("X", "C", 50) + supplies("S", "X", 10)
    )  # fmt: skip
    group = exposure.group_exposure(db, database, "W")
    assert {m.id for m in group.members} == {"X", "W"}
    assert (group.financed, group.financings, group.guarantees_given) == (1000, 1, 200)
    chain = exposure.chain_exposure(db, database, "C", up=2, down=1)
    assert {m.id for m in chain.members} == {"C", "X", "S"}
    assert chain.financed == 1000 and chain.guarantees_given == 300  # X -> W leaves the chain


@pytest.fixture
def core(build: Build) -> None:
    build(
        firms("C", "A", "B", "D", "E", "G", "H") + ";"
        + supplies("A", "C", 1000) + supplies("B", "A", 300) + supplies("D", "A", 900)
        + supplies("E", "A", 800) + supplies("G", "A", 700, invoices=2) + supplies("H", "B", 100)
        + "MATCH (d:Enterprise {id: 'D'}) "
        "CREATE (:Financing {id: 'F', status: 'active', amount_minor: 1, "
        "outstanding_minor: 1})-[:BORROWER]->(d);"
        "MATCH (e:Enterprise {id: 'E'}) SET e.fraud_score = 0.9;"
        "MATCH (b:Enterprise {id: 'B'}) SET b.fraud_score = 0.1, b.default_score = 0.2"
    )  # fmt: skip


def test_prospects_are_filtered_ranked_and_explained(core: None, db: Driver, database: str) -> None:
    found = prospects.prospects(db, database, "C")
    assert [p.id for p in found] == ["B", "H"]
    b, h = found
    assert (b.tier, b.path, b.path_volumes) == (2, ["B", "A", "C"], [300, 1000])
    assert b.months_of_history == 18
    assert b.rank_score == pytest.approx(300 * 18 / 24 * 0.8)
    assert h.path == ["H", "B", "A", "C"]
    assert "B -> A -> C" in b.reason and "fraud 0.10" in b.reason
    assert "neutral" in h.reason
    assert [p.id for p in prospects.prospects(db, database, "C", min_months=19)] == []
    with pytest.raises(InvalidArgument):
        prospects.prospects(db, database, "C", max_tier=6)
