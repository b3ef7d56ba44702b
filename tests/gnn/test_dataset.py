"""Point-in-time features of a three-firm folder, computed by hand."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from gnn.dataset import build_graph, latest_date, without_goods_flow
from gnn.errors import DatasetError
from gnn.explain import core_tiers, explanations
from gnn.targets import standalone_pd

FILES = {
    "enterprises.csv": """id,name,registered_capital,founded_on,is_core,address_id,phone_id
A,甲,100000000,2010-01-01,true,AD1,
B,乙,5000000,2015-01-01,false,AD1,PH1
C,丙,1000000,,false,,PH1
""",
    # B sells to A (paid in 19 days); C sells to B twice, unpaid, one after the scoring date.
    "invoices.csv": """id,seller_id,buyer_id,amount,tax,issued_on,due_on,status
I1,B,A,100000,13000,2025-01-01,2025-02-01,paid
I2,C,B,50000,,2025-03-01,2025-04-01,issued
I3,C,B,70000,,2026-03-01,2026-04-01,issued
I4,C,B,99999,,2025-03-02,,void
""",
    "payments.csv": """id,invoice_id,payer_id,payee_id,amount,paid_on
P1,I1,A,B,113000,2025-01-20
""",
    "shipments.csv": """id,invoice_id,from_id,to_id,qty,shipped_on
S1,I1,B,A,1,2024-12-30
""",
    "guarantees.csv": """id,guarantor_id,guarantor_kind,beneficiary_id,amount,signed_on
G1,A,enterprise,C,30000,2024-01-01
G2,A,enterprise,B,1,2025-12-01
""",
    "roles.csv": """person_id,enterprise_id,kind
P1,B,legal_representative
P1,C,legal_representative
""",
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name, text in FILES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_hand_computed_features(folder: Path) -> None:
    g = build_graph(folder, date(2025, 6, 30))
    assert list(g.ids) == ["A", "B", "C"]
    f = g.feature
    assert f("is_core").tolist() == [1, 0, 0]
    assert f("age_missing").tolist() == [0, 0, 1]
    # Only I2 counts for C (I3 is later, I4 void): one sale, unpaid, unshipped, overdue for B.
    assert f("sales_n").tolist() == pytest.approx(np.log([1, 2, 2]))
    assert f("sales_shipped_share").tolist() == [1.0, 1.0, 0.0]
    assert f("sales_paid_share").tolist() == [1.0, 1.0, 0.0]
    assert f("purchases_overdue_share").tolist() == [0.0, 1.0, 0.0]
    assert f("pay_days_mean")[0] == pytest.approx(19 / 30)
    assert f("address_shared_n").tolist() == pytest.approx([np.log(2), np.log(2), 0])
    assert f("legal_rep_shared_n").tolist() == pytest.approx([0, np.log(2), np.log(2)])
    # G2 is signed after the scoring date.
    assert f("guarantees_given_n")[0] == pytest.approx(np.log(2))
    # Exposure: C is owed 500.00 by B; A guaranteed 300.00 for C.
    assert g.exposure.toarray().tolist() == [[0, 0, 30000], [0, 0, 0], [0, 50000, 0]]
    trade = g.relations["trade"]
    assert list(zip(trade.src.tolist(), trade.dst.tolist(), strict=True)) == [(1, 0), (2, 1)]
    assert g.relations["person"].size == 2 and g.num_nodes["person"] == 1
    # B has been silent 121 days, over four of its usual 29.5-day gaps: visibly defaulted.
    assert standalone_pd(g)[1] == 1.0
    # Mid-April it was still trading, with all its payables overdue: 3% × (1 + 4).
    assert standalone_pd(build_graph(folder, date(2025, 4, 15)))[1] == pytest.approx(0.15)


def test_scoring_date_defaults_to_the_last_invoice(folder: Path) -> None:
    assert latest_date(folder) == date(2026, 3, 1)
    with pytest.raises(DatasetError):
        build_graph(folder / "missing")


def test_blanking_goods_flow_keeps_shapes(folder: Path) -> None:
    g = build_graph(folder, date(2025, 6, 30))
    b = without_goods_flow(g)
    assert b.x.shape == g.x.shape
    assert (b.feature("sales_shipped_share") == 1).all()
    assert (g.feature("sales_shipped_share") != 1).any()


def test_explanations_name_neighbours_and_tiers(folder: Path) -> None:
    g = build_graph(folder, date(2025, 6, 30))
    assert core_tiers(g).tolist() == [0, 1, 2]
    scores = {"fraud": np.array([0.1, 0.2, 0.9])}
    att = {"fraud": np.eye(3, g.x.shape[1])}
    out = [json.loads(e) for e in explanations(g, scores, att)]
    # B's riskiest neighbour is its supplier C, two trade steps from the core A.
    assert out[1]["neighbours"][0]["id"] == "C"
    assert out[1]["neighbours"][0]["relation"] == "supplier"
    assert out[1]["neighbours"][0]["tier"] == 2
    assert out[0]["features"]["fraud"][0]["feature"] == g.feature_names[0]
    assert out[0]["tier"] == 0
    # C is owed 500.00 by B: a full hit only once C's equity is below that.
    assert [o["contagion"] for o in out] == [[], [], []]
    fragile = replace(g, equity=np.array([1e8, 5e6, 40000.0]))
    out = [json.loads(e) for e in explanations(fragile, scores, att)]
    assert out[2]["contagion"] == [
        {
            "id": "B",
            "tier": 1,
            "exposure_over_equity": 1.25,
            "standalone_pd": round(float(standalone_pd(g)[1]), 4),
        }
    ]
    assert out[0]["contagion"] == out[1]["contagion"] == []
