"""Circular trade, the four-flow check and duplicate pledges on hand-built invoices."""

from __future__ import annotations

import pytest
from neo4j import Driver

from graph.analytics import trade as t
from graph.errors import InvalidArgument, NotFound
from tests.graph.analytics.conftest import Build, firms, invoice


def test_ring_of_invoices_within_window_is_found_once_per_round(
    build: Build, db: Driver, database: str
) -> None:
    build(
        firms("X", "Y", "Z", "W") + ";"
        # two rounds X -> Y -> Z -> X within 90 days, amounts within 25%
        + invoice("R1a", "X", "Y", 1000, "2025-01-01")
        + invoice("R1b", "Y", "Z", 950, "2025-01-10")
        + invoice("R1c", "Z", "X", 1020, "2025-01-20")
        + invoice("R2a", "X", "Y", 2000, "2025-03-01")
        + invoice("R2b", "Y", "Z", 2100, "2025-03-03")
        + invoice("R2c", "Z", "X", 1900, "2025-03-05")
        # not rings: amount far off; and a cycle spread over 6 months
        + invoice("N1", "Z", "X", 9000, "2025-01-21")
        + invoice("S1", "Y", "W", 500, "2025-01-01") + invoice("S2", "W", "X", 500, "2025-04-15")
        + invoice("S3", "X", "Y", 500, "2025-07-01")
        + "MATCH (i:Invoice {id: 'R1a'}) "
        "CREATE (:Shipment {id: 'SH1', quantity: 1})-[:DELIVERS]->(i)"
    )  # fmt: skip
    scan = t.circular_trade(db, database)
    assert [r.members for r in scan.rings] == [["X", "Y", "Z"]]
    ring = scan.rings[0]
    rounds = [[i.id for i in r] for r in ring.rounds]
    assert rounds == [["R1a", "R1b", "R1c"], ["R2a", "R2b", "R2c"]]
    assert ring.invoices_without_goods == 5
    assert ring.total_amount == 1000 + 950 + 1020 + 2000 + 2100 + 1900
    # a window long enough for the slow cycle Y -> W -> X -> Y (S1, S2, S3)
    slow = t.circular_trade(db, database, window_days=200)
    assert ["W", "X", "Y"] in [r.members for r in slow.rings]
    assert t.circular_trade(db, database, min_length=4, max_length=6).rings == []
    with pytest.raises(InvalidArgument):
        t.circular_trade(db, database, max_length=7)


def test_four_flows(build: Build, db: Driver, database: str) -> None:
    build(
        firms("S", "B") + ";"
        "MATCH (s:Enterprise {id: 'S'}), (b:Enterprise {id: 'B'}) "
        "CREATE (k:Contract {id: 'K1', amount: 10000, signed_on: date('2025-01-01')}) "
        "CREATE (i:Invoice {id: 'I1', amount: 5000, tax: 650, issued_on: date('2025-02-01'), "
        "  status: 'paid'})-[:UNDER]->(k) "
        "CREATE (i)-[:SELLER]->(s), (i)-[:BUYER]->(b) "
        "CREATE (i)-[:FOR {qty: 10}]->(:Goods {id: 'GD'}) "
        "CREATE (:Shipment {id: 'SH1', quantity: 10, shipped_on: date('2025-01-30'), "
        "  received_on: date('2025-02-02')})-[:DELIVERS]->(i) "
        "CREATE (:Payment {id: 'PM1', amount: 5650, paid_on: date('2025-03-01')})-[:SETTLES]->(i) "
        "CREATE (j:Invoice {id: 'I2', amount: 5000, tax: 0, issued_on: date('2025-02-01'), "
        "  status: 'partially_paid'}) "
        "CREATE (j)-[:SELLER]->(s), (j)-[:BUYER]->(b) "
        "CREATE (:Payment {id: 'PM2', amount: 2000, paid_on: date('2025-03-01')})-[:SETTLES]->(j)"
        ";MATCH (s:Enterprise {id: 'S'}), (b:Enterprise {id: 'B'}), (p1:Payment {id: 'PM1'}) "
        "CREATE (p1)-[:PAID_BY]->(b) "
        "CREATE (i3:Invoice {id: 'I3', amount: 100, tax: 0, issued_on: date('2025-02-01'), "
        "  status: 'paid'}) "
        "CREATE (i3)-[:SELLER]->(s), (i3)-[:BUYER]->(b) "
        "CREATE (p3:Payment {id: 'PM3', amount: 100, paid_on: date('2025-03-01')}) "
        "CREATE (p3)-[:SETTLES]->(i3), (p3)-[:PAID_BY]->(:Enterprise {id: 'X'}) "
    )
    good = t.four_flow_invoice(db, database, "I1")
    assert good.score == 1.0 and good.missing == [] and good.inconsistent == []
    bad = t.four_flow_invoice(db, database, "I2")
    assert bad.missing == [t.Flow.CONTRACT, t.Flow.GOODS]
    assert bad.inconsistent == [t.Flow.PAYMENT]
    assert bad.score == 0.25
    assert "paid 2000 of 5000" in next(c.detail for c in bad.checks if c.flow is t.Flow.PAYMENT)
    # a payment from a third party does not tie the capital flow (I1's is the buyer's)
    third = t.four_flow_invoice(db, database, "I3")
    assert third.inconsistent == [t.Flow.PAYMENT]
    assert "paid by another than the buyer B (PM3 by X)" in next(
        c.detail for c in third.checks if c.flow is t.Flow.PAYMENT)  # fmt: skip
    assert t.four_flow_contract(db, database, "K1").score == 1.0
    with pytest.raises(NotFound):
        t.four_flow_invoice(db, database, "NOPE")


def test_duplicate_pledges(build: Build, db: Driver, database: str) -> None:
    build(
        "CREATE (f1:Financing {id: 'F1', status: 'active', amount_minor: 100, "
        "                      outstanding_minor: 100, origin: 'loaded', lender: 'Bank A'}) "
        "CREATE (f2:Financing {id: 'F2', status: 'active', amount_minor: 200, "
        "                      outstanding_minor: 200, origin: 'loaded', lender: 'Bank A'}) "
        "CREATE (f3:Financing {id: 'F3', status: 'closed', amount_minor: 300, "
        "                      outstanding_minor: 0, origin: 'loaded', lender: 'Bank A'}) "
        "CREATE (i:Invoice {id: 'I1'})-[:ASSIGNED_TO]->(f1) "
        "CREATE (:Invoice {id: 'I2'})-[:ASSIGNED_TO]->(f1) "
        "CREATE (i)-[:ASSIGNED_TO]->(f2) "
        "CREATE (a:Asset {id: 'A1'})-[:PLEDGED_TO]->(f1) CREATE (a)-[:PLEDGED_TO]->(f3)"
    )
    conflicting = t.duplicate_pledges(db, database)
    assert [(d.collateral_id, d.collateral_kind) for d in conflicting] == [("I1", "invoice")]
    assert [f.id for f in conflicting[0].financings] == ["F1", "F2"]
    every = t.duplicate_pledges(db, database, conflicting_only=False)
    assert [(d.collateral_id, d.live_count) for d in every] == [("A1", 1), ("I1", 2)]
