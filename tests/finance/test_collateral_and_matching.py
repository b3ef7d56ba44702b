"""Margin calls from valuations, and product matching on a hand-built chain."""

from __future__ import annotations

from datetime import date

from neo4j import Driver

from finance import collateral, lifecycle, matching
from finance import credit_lines as cl
from finance.credit_lines import LineKind, LineSpec
from finance.lifecycle import ApplicationCreate, AppStatus
from tests.finance.conftest import CHAIN, build

CNY = "CNY"
D0 = date(2026, 2, 1)
CATTLE = """
MATCH (t2:Enterprise {id: 'T2'})
CREATE (a:Asset {id: 'HERD-1', kind: 'livestock', quantity: 100, unit: 'head',
                 unit_value: 1000000})
CREATE (t2)-[:OWNS]->(a)
CREATE (:Sensor {id: 'S-1', kind: 'ear_tag'})-[:MONITORS]->(a)
"""


def test_valuation_drop_raises_one_margin_call(db: Driver, database: str) -> None:
    build(db, database, CHAIN)
    build(db, database, CATTLE)  # 100 head at 10,000.00 = 1,000,000.00
    cl.grant_line(
        db,
        database,
        LineSpec("L-T2", "T2", LineKind.ENTERPRISE, 900_000_000, CNY, date(2030, 1, 1)),
    )
    app = lifecycle.submit_application(
        db,
        database,
        ApplicationCreate("M1", "T2", "movable_asset_pledge", 40_000_000, CNY, ["HERD-1"], "rm1"),
        D0,
    )
    assert app.status == AppStatus.APPROVED, app.reasons
    assert app.financing_id is not None
    ltv = collateral.loan_to_value(db, database, app.financing_id)
    assert (ltv.collateral_value_minor, ltv.ltv_bps) == (100_000_000, 4000)
    assert collateral.on_valuation(db, database, "HERD-1", 70_000_000, CNY) == []  # LTV 57.1%
    calls = collateral.on_valuation(db, database, "HERD-1", 60_000_000, CNY)  # 66.7% > 60%
    assert len(calls) == 1
    call = calls[0]
    assert (call.ltv_bps, call.max_ltv_bps) == (6666, 6000)
    assert call.shortfall_minor == 40_000_000 - 60_000_000 * 6000 // 10_000
    assert "margin call" in call.message and "HERD-1" in call.message
    again = collateral.on_valuation(db, database, "HERD-1", 55_000_000, CNY)
    assert again[0].alert_id == call.alert_id  # one alert per financing and day
    records, _, _ = db.execute_query("MATCH (a:Alert) RETURN count(a) AS n", database_=database)
    assert records[0]["n"] == 1


def test_matching_ranks_what_fits(db: Driver, database: str) -> None:
    build(db, database, CHAIN)
    build(db, database, CATTLE)
    build(
        db,
        database,
        """
        MATCH (t1:Enterprise {id: 'T1'}), (c:Enterprise {id: 'C'})
        CREATE (i:Invoice {id: 'INV-M', amount: 40000000, status: 'issued'})
        CREATE (i)-[:SELLER]->(t1)
        CREATE (i)-[:BUYER]->(c)
    """,
    )
    cl.grant_line(
        db,
        database,
        LineSpec("SC-C", "C", LineKind.SUPPLY_CHAIN, 900_000_000, CNY, date(2030, 1, 1)),
    )
    # Without a line of its own, only the products on the core's line fit.
    lineless = matching.match_products(db, database, "T1", today=D0)
    assert {m.product_id for m in lineless} == {"factoring_nonrecourse", "reverse_factoring"}
    cl.grant_line(
        db, database, LineSpec("L-T1", "T1", LineKind.ENTERPRISE, 900_000_000, CNY,
                               date(2030, 1, 1)),
    )  # fmt: skip
    t1 = matching.match_products(db, database, "T1", today=D0)
    ids = [m.product_id for m in t1]
    # No sales contract, assets or vouchers: only the receivable-based products fit.
    assert set(ids) == {
        "factoring_recourse",
        "factoring_nonrecourse",
        "reverse_factoring",
        "receivables_pledge",
    }
    rf = next(m for m in t1 if m.product_id == "reverse_factoring")
    assert rf.amount_minor == 40_000_000  # 100% of the open receivable, within every cap
    assert rf.reasons and rf.rate_bps > 0
    # T2 (tier 2) has livestock but no receivables: only the movable-asset pledge fits.
    cl.grant_line(
        db, database, LineSpec("L-T2", "T2", LineKind.ENTERPRISE, 900_000_000, CNY,
                               date(2030, 1, 1)),
    )  # fmt: skip
    t2 = matching.match_products(db, database, "T2", today=D0)
    assert [m.product_id for m in t2] == ["movable_asset_pledge"]
    # 30% of the weakest link's trade (2,000,000.00) less 20% (neutral default score).
    assert t2[0].amount_minor == 48_000_000
    everything = matching.match_products(db, database, "T2", include_ineligible=True, today=D0)
    vd = next(m for m in everything if m.product_id == "voucher_discounting")
    assert not vd.eligible and "holds no live e-credit voucher" in vd.reasons[0]
