"""Tiers, chain view and trade paths on a small chain whose answers are worked out by hand.

    G --20--> D --100--> A --600--> C (focal)      A --5--> G  (a cycle A -> G -> D -> A)
              D --50---> B --400--> C
    F --10--> E --300--> A
"""

from __future__ import annotations

import pytest
from neo4j import Driver

from graph.analytics import tiers as t
from graph.errors import InvalidArgument, NotFound
from graph.queries.analytics import NAIVE_UPSTREAM
from tests.graph.analytics.conftest import Build, firms, supplies


@pytest.fixture
def chain(build: Build) -> None:
    build(
        firms("A", "B", "C", "D", "E", "F", "G")
        + ";"
        + supplies("A", "C", 600)
        + supplies("B", "C", 400)
        + supplies("D", "A", 100)
        + supplies("D", "B", 50)
        + supplies("E", "A", 300)
        + supplies("F", "E", 10)
        + supplies("G", "D", 20)
        + supplies("A", "G", 5)
    )


def test_upstream_tiers_place_each_firm_once_at_its_minimum_tier(
    chain: None, db: Driver, database: str
) -> None:
    result = t.tiers(db, database, "C", "upstream", depth=5)
    placed = {f.id: f.tier for f in result.firms}
    assert placed == {"A": 1, "B": 1, "D": 2, "E": 2, "F": 3, "G": 3}
    by_id = {f.id: f for f in result.firms}
    assert (by_id["A"].volume, by_id["A"].share) == (600, pytest.approx(0.6))
    assert (by_id["B"].volume, by_id["B"].share) == (400, pytest.approx(0.4))
    # D sells 100 to A and 50 to B, which buy 400 and 50 in all
    assert (by_id["D"].volume, by_id["D"].share) == (150, pytest.approx(150 / 450))
    assert [link.counterparty_id for link in by_id["D"].links] == ["A", "B"]
    assert by_id["E"].share == pytest.approx(0.75)
    assert by_id["F"].share == pytest.approx(1.0) and by_id["G"].share == pytest.approx(1.0)
    assert result.path_to_focal("G") == ["G", "D", "A", "C"]
    assert [f.id for f in result.tier(2)] == ["E", "D"]  # heaviest first
    assert not result.truncated


def test_depth_bounds_the_walk_and_downstream_follows_buyers(
    chain: None, db: Driver, database: str
) -> None:
    assert {f.id for f in t.tiers(db, database, "C", "upstream", depth=2).firms} == {
        "A", "B", "D", "E",
    }  # fmt: skip
    down = t.tiers(db, database, "F", t.Direction.DOWNSTREAM, depth=5)
    assert {f.id: f.tier for f in down.firms} == {
        "E": 1, "A": 2, "C": 3, "G": 3, "D": 4, "B": 5,
    }  # fmt: skip


def test_matches_the_naive_variable_length_query(chain: None, db: Driver, database: str) -> None:
    records, _, _ = db.execute_query(NAIVE_UPSTREAM, id="C", database_=database)
    naive = {r["id"]: r["tier"] for r in records}
    ours = {f.id: f.tier for f in t.tiers(db, database, "C").firms}
    assert ours == naive


def test_chain_view_and_truncation(chain: None, db: Driver, database: str) -> None:
    view = t.chain_view(db, database, "A", up=1, down=2)
    assert {f.id for f in view.upstream.firms} == {"D", "E"}
    assert {f.id: f.tier for f in view.downstream.firms} == {"C": 1, "G": 1, "D": 2}
    capped = t.tiers(db, database, "C", depth=5, max_firms=3)
    assert capped.truncated and len(capped.firms) == 3


def test_shortest_and_all_simple_paths(chain: None, db: Driver, database: str) -> None:
    path = t.shortest_trade_path(db, database, "F", "C", directed=True)
    assert path is not None and path.ids == ["F", "E", "A", "C"]
    assert [h.amount_12m for h in path.hops] == [10, 300, 600]
    assert t.shortest_trade_path(db, database, "C", "F", directed=True) is None
    undirected = t.shortest_trade_path(db, database, "C", "F")
    assert undirected is not None and undirected.length == 3

    paths = t.simple_trade_paths(db, database, "G", "C", max_length=4)
    assert [p.ids for p in paths.paths] == [["G", "D", "A", "C"], ["G", "D", "B", "C"]]
    assert paths.total == 2
    assert t.simple_trade_paths(db, database, "G", "C", max_length=2).total == 0
    page = t.simple_trade_paths(db, database, "G", "C", max_length=4, first=1, offset=1)
    assert [p.ids for p in page.paths] == [["G", "D", "B", "C"]]
    both = t.simple_trade_paths(db, database, "D", "C", max_length=3, directed=False)
    # D-A-C, D-B-C, D-G-A-C (G-D is traded the other way round)
    assert [p.ids for p in both.paths] == [["D", "A", "C"], ["D", "B", "C"], ["D", "G", "A", "C"]]
    assert both.paths[2].hops[0].seller_id == "G"


def test_unknown_ids_and_bad_arguments(chain: None, db: Driver, database: str) -> None:
    with pytest.raises(NotFound):
        t.tiers(db, database, "NOPE")
    with pytest.raises(InvalidArgument):
        t.tiers(db, database, "C", depth=6)
    with pytest.raises(InvalidArgument):
        t.tiers(db, database, "C", direction="sideways")
    with pytest.raises(InvalidArgument):
        t.simple_trade_paths(db, database, "G", "C", max_length=7)
    with pytest.raises(InvalidArgument):
        t.simple_trade_paths(db, database, "G", "C", first=201)
    with pytest.raises(NotFound):
        t.shortest_trade_path(db, database, "G", "NOPE")
