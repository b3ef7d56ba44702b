"""The exposure network read from a small hand-built graph in the real Neo4j, and "what if"."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from neo4j import Driver

from gnn.contagion import what_if
from gnn.errors import InvalidInput
from gnn.exposure import build_network, contagion_tiers, load_network, simulate_defaults

# A core buyer C owes supplier S1 on two invoices (one part-paid); S1 owes its supplier S2;
# S2 guarantees S3; S1 holds a voucher issued by C (split: only the leaf counts); H holds
# 40% of S1; a lender finances S1. Amounts in fen. S3 is a paid-up, void and pre-date trade.
GRAPH = """
CREATE (c:Enterprise {id: 'C', name: '核心', registered_capital: 100000000, is_core: true})
CREATE (s1:Enterprise {id: 'S1', name: '一级', registered_capital: 1000000})
CREATE (s2:Enterprise {id: 'S2', name: '二级', registered_capital: 400000})
CREATE (s3:Enterprise {id: 'S3', name: '三级', registered_capital: 200000})
CREATE (h:Enterprise {id: 'H', name: '控股', registered_capital: 5000000})
CREATE (i1:Invoice {id: 'I1', amount: 300000, tax: 39000, status: 'issued',
                    issued_on: date('2025-01-10')})-[:SELLER]->(s1)
CREATE (i1)-[:BUYER]->(c)
CREATE (i2:Invoice {id: 'I2', amount: 200000, status: 'partially_paid',
                    issued_on: date('2025-02-01')})-[:SELLER]->(s1)
CREATE (i2)-[:BUYER]->(c)
CREATE (:Payment {id: 'P1', amount: 50000, paid_on: date('2025-03-01')})-[:SETTLES]->(i2)
CREATE (i3:Invoice {id: 'I3', amount: 500000, status: 'issued',
                    issued_on: date('2025-01-20')})-[:SELLER]->(s2)
CREATE (i3)-[:BUYER]->(s1)
CREATE (i4:Invoice {id: 'I4', amount: 70000, status: 'paid',
                    issued_on: date('2024-12-01')})-[:SELLER]->(s3)
CREATE (i4)-[:BUYER]->(s2)
CREATE (:Payment {id: 'P2', amount: 70000, paid_on: date('2025-01-05')})-[:SETTLES]->(i4)
CREATE (i5:Invoice {id: 'I5', amount: 99999, status: 'void',
                    issued_on: date('2025-01-01')})-[:SELLER]->(s3)
CREATE (i5)-[:BUYER]->(s2)
CREATE (s2)-[:GUARANTEES {id: 'G1', amount: 150000, signed_on: date('2024-06-01')}]->(s3)
CREATE (s2)-[:GUARANTEES {id: 'G2', amount: 999999, expires_on: date('2020-01-01')}]->(s1)
CREATE (v:Voucher {id: 'V1', face_minor: 100000, status: 'split'})-[:ISSUED_BY]->(c)
CREATE (v)-[:HELD_BY]->(s1)
CREATE (v2:Voucher {id: 'V1-1', face_minor: 60000, status: 'live'})-[:SPLIT_FROM]->(v)
CREATE (v2)-[:ISSUED_BY]->(c)
CREATE (v2)-[:HELD_BY]->(s1)
CREATE (h)-[:HOLDS {pct: 40.0}]->(s1)
CREATE (:Financing {id: 'F1', amount_minor: 800000, outstanding_minor: 800000,
                   lender: 'Bank A', status: 'active'})
       -[:BORROWER]->(s1)
CREATE (:Financing {id: 'F2', amount_minor: 123, outstanding_minor: 0, lender: 'Bank A',
                   status: 'closed'})
       -[:BORROWER]->(s1)
"""


@pytest.fixture
def chain(db: Driver, database: str) -> Driver:
    db.execute_query(GRAPH, database_=database)
    return db


def _dense(net: object, kind: str) -> dict[tuple[str, str], int]:
    from gnn.exposure import ExposureNetwork

    assert isinstance(net, ExposureNetwork)
    m = net.exposures[kind].tocoo()
    return {(net.ids[r], net.ids[c]): int(v) for r, c, v in zip(m.row, m.col, m.data, strict=True)}


@pytest.mark.neo4j
def test_exposures_from_the_graph(chain: Driver, database: str) -> None:
    net = load_network(chain, database, page_size=2)  # pages of 2 exercise the paging
    assert net.ids == ["C", "H", "S1", "S2", "S3"]
    # I1 339000 unpaid + I2 200000-50000; I3 500000; paid and void invoices do not count.
    assert _dense(net, "trade") == {("S1", "C"): 489000, ("S2", "S1"): 500000}
    # G2 expired.
    assert _dense(net, "guarantee") == {("S2", "S3"): 150000}
    assert _dense(net, "voucher") == {("S1", "C"): 60000}
    assert _dense(net, "equity") == {("H", "S1"): 400000}
    assert [(lx.lender, net.ids[lx.borrower], lx.amount) for lx in net.lenders] == [
        ("Bank A", "S1", 800000)
    ]
    np.testing.assert_array_equal(net.equity, [1e8, 5e6, 1e6, 4e5, 2e5])
    assert net.is_core.tolist() == [True, False, False, False, False]


@pytest.mark.neo4j
def test_point_in_time_exposures(chain: Driver, database: str) -> None:
    # On 2025-01-15 only I1 was issued for S1 (I2 came later); S3's paid invoice I4 was
    # already paid (P2 on 01-05); I3 was not yet issued.
    net = load_network(chain, database, as_of=date(2025, 1, 15))
    assert _dense(net, "trade") == {("S1", "C"): 339000}
    # Before its payment, I4 is still owed; I1 is not issued yet.
    net = load_network(chain, database, as_of=date(2025, 1, 2))
    assert _dense(net, "trade") == {("S3", "S2"): 70000}


@pytest.mark.neo4j
def test_what_if_core_defaults(chain: Driver, database: str) -> None:
    res = what_if(chain, database, defaulted_ids=["C"])
    by_id = {f.id: f for f in res.impacted}
    # S1 loses 489000 + 60000 on equity 1e6; S2 loses 500000 × 0.549 of its 400000.
    assert by_id["C"].tier == 0 and by_id["C"].defaulted
    assert by_id["S1"].tier == 1
    assert by_id["S1"].loss_fraction == pytest.approx(0.549)
    assert by_id["S2"].tier == 2
    assert by_id["S2"].loss_fraction == pytest.approx(min(1.0, 500000 * 0.549 / 400000))
    assert by_id["H"].loss_fraction == pytest.approx(400000 * 0.549 / 5e6)
    # S3 is owed nothing by anyone hit: untouched.
    assert "S3" not in by_id
    assert res.lenders[0].lender == "Bank A"
    assert res.lenders[0].exposure == 800000
    assert res.lenders[0].loss == round(800000 * 0.549)
    assert [f.tier for f in res.impacted] == sorted(f.tier for f in res.impacted)


@pytest.mark.neo4j
def test_what_if_partial_shock_and_guarantee(chain: Driver, database: str) -> None:
    res = what_if(chain, database, shock={"S3": 0.5})
    by_id = {f.id: f for f in res.impacted}
    # S2 guaranteed 150000 for S3: loses 75000 of 400000.
    assert by_id["S2"].loss_fraction == pytest.approx(75000 / 400000)
    assert by_id["S2"].tier == 1 and not by_id["S2"].defaulted
    # S2 is owed by S1 and nobody is owed by S2, so the cascade stops there.
    assert set(by_id) == {"S3", "S2"}


def test_what_if_refuses_unknown_ids_and_empty_shocks() -> None:
    net = build_network(["A", "B"], [10.0, 10.0], {"trade": [("A", "B", 5)]})
    with pytest.raises(InvalidInput):
        simulate_defaults(net, defaulted_ids=["Z"])
    with pytest.raises(InvalidInput):
        simulate_defaults(net)
    with pytest.raises(InvalidInput):
        simulate_defaults(net, shock={"A": 1.5})


def test_excluding_guarantees_changes_the_cascade() -> None:
    net = build_network(
        ["A", "B", "C"],
        [100.0, 100.0, 100.0],
        {"trade": [("B", "A", 50)], "guarantee": [("C", "A", 100)]},
    )
    full = {f.id: f.loss_fraction for f in simulate_defaults(net, ["A"]).impacted}
    trade = {f.id: f.loss_fraction for f in simulate_defaults(net, ["A"], kinds=["trade"]).impacted}
    assert full == {"A": 1.0, "B": 0.5, "C": 1.0}
    assert trade == {"A": 1.0, "B": 0.5}


def test_tiers_follow_creditors() -> None:
    net = build_network(
        list("ABCDE"), [1.0] * 5, {"trade": [("B", "A", 1), ("C", "B", 1), ("D", "C", 1)]}
    )
    tiers = contagion_tiers(net.total(), np.array([True, False, False, False, False]))
    assert tiers.tolist() == [0, 1, 2, 3, -1]
