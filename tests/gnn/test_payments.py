"""Temporal payment features (gnn.payments) on hand-built payments with known answers."""

from __future__ import annotations

import numpy as np

from gnn.payments import (
    PAYMENT_FEATURES,
    TRADE_PAYMENT_EDGE_FEATURES,
    payment_features,
    trade_payment_edge_features,
)
from ingest.synthetic.typologies import REPORTING_THRESHOLD

I64 = np.int64


def _col(x: np.ndarray, name: str) -> np.ndarray:
    return x[:, PAYMENT_FEATURES.index(name)].astype(np.float64)


def _count(x: np.ndarray, name: str) -> np.ndarray:
    """A log(1 + count) feature back as whole counts."""
    return np.asarray(np.rint(np.expm1(_col(x, name))))


def test_fan_in_burst_pass_through_and_structuring() -> None:
    # Firms 1..6 pay hub 0 within three days (structured); the hub pays firm 7 a day later.
    # Firm 8 pays firm 9 once a month for six months, never passing anything on.
    payer = np.array([1, 2, 3, 4, 5, 6, 0, 8, 8, 8, 8, 8, 8], dtype=I64)
    payee = np.array([0, 0, 0, 0, 0, 0, 7, 9, 9, 9, 9, 9, 9], dtype=I64)
    day = np.array([100, 100, 101, 102, 102, 102, 103, 0, 30, 60, 90, 120, 150], dtype=I64)
    below = 0.9 * REPORTING_THRESHOLD
    amount = np.array([below] * 6 + [6 * below] + [50_000_00] * 6, dtype=np.float64)
    x = payment_features(10, payer, payee, amount, day)
    assert x.shape == (10, len(PAYMENT_FEATURES))
    assert _count(x, "pay_in_max_cp_7d")[0] == 6
    assert _count(x, "pay_in_max_cp_7d")[9] == 1  # one payer, however often
    assert _count(x, "pay_in_max_day_log_n")[0] == 3
    assert _col(x, "pay_in_structured_share")[0] == 1.0
    assert _col(x, "pay_out_structured_share")[8] == 0.0
    assert _col(x, "pay_pass_through_share")[0] == 1.0  # paid out a day after money came in
    assert _col(x, "pay_pass_through_share")[8] == 0.0
    assert _col(x, "pay_pass_through_days")[8] == 2.0  # nothing ever came in
    assert _col(x, "pay_out_burstiness")[8] == -1.0  # perfectly regular
    assert _col(x, "pay_flow_balance")[7] == 1.0 and _col(x, "pay_flow_balance")[8] == -1.0


def test_two_hop_paths_count_scatter_gather() -> None:
    # Source 0 pays 1, 2, 3, which each pay sink 4: three two-hop paths from 0 to 4.
    payer = np.array([0, 0, 0, 1, 2, 3], dtype=I64)
    payee = np.array([1, 2, 3, 4, 4, 4], dtype=I64)
    day = np.array([10, 10, 11, 11, 11, 12], dtype=I64)
    x = payment_features(6, payer, payee, np.full(6, 1e8), day)
    assert _count(x, "pay_fan2_in_log_max")[4] == 3
    assert _count(x, "pay_fan2_out_log_max")[0] == 3
    assert _col(x, "pay_fan2_in_log_max")[5] == 0


def test_edges_carry_ports_and_cycle_closures() -> None:
    # Payments 0 -> 1 -> 2 -> 0 (a 3-cycle) and 0 -> 3 later; trade edges run seller -> buyer,
    # so payment 0 -> 1 is trade edge 1 -> 0.
    payer = np.array([0, 1, 2, 0], dtype=I64)
    payee = np.array([1, 2, 0, 3], dtype=I64)
    day = np.array([1, 2, 3, 9], dtype=I64)
    seller = np.array([1, 2, 0, 3, 4], dtype=I64)
    buyer = np.array([0, 1, 2, 0, 3], dtype=I64)
    e = trade_payment_edge_features(5, seller, buyer, payer, payee, np.full(4, 1e8), day)

    def col(name: str) -> np.ndarray:
        return e[:, TRADE_PAYMENT_EDGE_FEATURES.index(name)].astype(np.float64)

    assert list(np.rint(np.expm1(col("closes_cycle_3")))) == [1, 1, 1, 0, 0]
    assert list(col("closes_cycle_2")) == [0] * 5 and list(col("closes_cycle_4")) == [0] * 5
    # Firm 0 paid 1 first, then 3: out-ports 1 and 2 of 2.
    assert np.rint(np.expm1(col("out_port_log")))[[0, 3]].tolist() == [1, 2]
    assert col("out_port_share")[[0, 3]].tolist() == [0.5, 1.0]
    assert col("out_port_log")[4] == 0  # a trade edge without payments
    # Pass-through along edges: 1 pays 2 a day after 0 paid it; 2 pays 0 a day after 1 paid it.
    assert col("payee_passes_on").tolist() == [1.0, 1.0, 0.0, 0.0, 0.0]
    assert col("payer_passes_through").tolist() == [0.0, 1.0, 1.0, 0.0, 0.0]
    # Firm 0's payments on days 1 and 9 are 8 days apart: each alone in its burst window.
    assert np.rint(np.expm1(col("payer_burst_out")))[[0, 3]].tolist() == [1, 1]
