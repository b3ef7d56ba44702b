"""Guarantee circles and chains.

    A -> B -> C -> A   and   C -> D -> C  (one circle {A, B, C, D} with two cycles)
    E -> A, person P -> A (outside the circle), F -> G (no circle)
"""

from __future__ import annotations

import pytest
from neo4j import Driver

from graph.analytics import guarantees as g
from graph.errors import InvalidArgument, NotFound
from tests.graph.analytics.conftest import Build, guarantees


@pytest.fixture
def circle(build: Build) -> None:
    build(
        guarantees("G1", "A", "B", 100) + guarantees("G2", "B", "C", 200)
        + guarantees("G3", "C", "A", 300) + guarantees("G4", "C", "D", 40)
        + guarantees("G5", "D", "C", 50) + guarantees("G6", "E", "A", 7)
        + guarantees("G7", "F", "G", 9)
        + "MERGE (p:Person {id: 'P'}) WITH p MATCH (a:Enterprise {id: 'A'}) "
        "CREATE (p)-[:GUARANTEES {id: 'G8', amount: 11}]->(a)"
    )  # fmt: skip


def test_full_scan_finds_the_circle_and_its_cycles(circle: None, db: Driver, database: str) -> None:
    circles = g.guarantee_circles(db, database)
    assert len(circles) == 1
    c = circles[0]
    assert (c.id, c.members, c.total_amount) == ("GC-A", ["A", "B", "C", "D"], 690)
    assert [cy.members for cy in c.cycles] == [["C", "D"], ["A", "B", "C"]]
    assert [link.guarantee_id for link in c.cycles[1].links] == ["G1", "G2", "G3"]
    assert c.cycles[1].total_amount == 600
    assert g.guarantee_circles(db, database, max_cycle_length=2)[0].cycles[0].members == ["C", "D"]


def test_circle_of_one_enterprise(circle: None, db: Driver, database: str) -> None:
    found = g.circle_of(db, database, "D")
    assert found is not None and found.members == ["A", "B", "C", "D"]
    assert g.circle_of(db, database, "E") is None
    assert g.circle_of(db, database, "G") is None
    with pytest.raises(NotFound):
        g.circle_of(db, database, "NOPE")


def test_chains_reaching_an_enterprise(circle: None, db: Driver, database: str) -> None:
    chains = g.guarantee_chains(db, database, "A", depth=2)
    assert [c.ids for c in chains] == [
        ["C", "A"], ["E", "A"], ["P", "A"], ["B", "C", "A"], ["D", "C", "A"],
    ]  # fmt: skip
    assert [link.amount for link in chains[3].links] == [200, 300]
    out = g.guarantee_chains(db, database, "E", depth=3, incoming=False)
    assert [c.ids for c in out] == [["E", "A"], ["E", "A", "B"], ["E", "A", "B", "C"]]
    with pytest.raises(InvalidArgument):
        g.guarantee_chains(db, database, "A", depth=6)
