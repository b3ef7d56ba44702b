"""Temporal payment features: how money moves through a firm, for the laundering typologies.

A fan-in is many payers in a few days; a fan-out many payees; a pass-through firm pays out
within a day or two what it has just received; scatter-gather is many two-hop paths between
one source and one sink; structuring keeps amounts just under the reporting threshold. Per
firm, from its payments up to the scoring date (payer = the invoice's buyer, payee = its seller):

- ``pay_{in,out}_log_n``: log(1 + payments received / made);
- ``pay_{in,out}_max_cp_{7,30}d``: log(1 + the most distinct payers / payees within any
  window of 7 or 30 consecutive days) — sliding windows, exact;
- ``pay_{in,out}_burstiness``: (σ - μ) / (σ + μ) of the days between consecutive payments
  (Goh and Barabási 2008: -1 regular, 0 random, towards 1 bursty; 0 with fewer than 3);
- ``pay_{in,out}_structured_share``: share of payments in [0.7, 1) × ``REPORTING_THRESHOLD``;
- ``pay_{in,out}_max_day_log_n``: log(1 + the most payments on one day);
- ``pay_flow_balance``: (in - out) / (in + out) of the amounts (0 without payments);
- ``pay_pass_through_share``: share of the amount paid out within ``PASS_DAYS`` days after a
  payment came in; ``pay_pass_through_days``: mean days from the latest earlier incoming
  payment to each outgoing one (capped at 60, in months; 2 when none came in before);
- ``pay_fan2_{in,out}_log_max``: log(1 + the most two-hop payment paths from one source /
  to one sink) through intermediates with at most ``HUB_DEGREE`` counterparties (scatter-gather
  and stacks give many; ordinary chains one or two).

Per trade edge ``seller -> buyer`` (the buyer pays the seller), ``TRADE_PAYMENT_EDGE_FEATURES``:
the port numbers of Egressy et al. (AAAI 2024) — the rank of this payee among the payer's
payees and of this payer among the payee's payers, by first payment, as log(1 + rank) and as
a share of the degree — so that a node can tell its counterparties apart; the structured share
of the pair's payments; the burst around them (``payee_burst_in``: log(1 + the most payments
the payee received within ``BURST_DAYS`` either side of one of the pair's payments);
``payer_burst_out``: the same for the payments the payer made); the pass-through along them
(``payee_passes_on``: share of the pair's payments after which the payee paid someone within
``PASS_DAYS``; ``payer_passes_through``: share the payer made within ``PASS_DAYS`` after
receiving a payment); and the cycle closures that an ego-identified message-passing network
learns: log(1 + number of payment paths of length 1, 2 and 3 from the payee back to the
payer) through intermediates of at most ``HUB_DEGREE`` counterparties, i.e. whether this
payment closes a directed cycle of length 2, 3 or 4 (computed for edges between firms of at
most ``HUB_DEGREE`` counterparties, 0 on a hub's edges: their path counts would not fit).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from ingest.synthetic.typologies import REPORTING_THRESHOLD

PASS_DAYS = 2
BURST_DAYS = 7
HUB_DEGREE = 50
WINDOWS = (7, 30)

_DIRECTIONAL = (
    "log_n",
    *(f"max_cp_{w}d" for w in WINDOWS),
    "burstiness",
    "structured_share",
    "max_day_log_n",
)
PAYMENT_FEATURES: tuple[str, ...] = (
    *(f"pay_in_{f}" for f in _DIRECTIONAL),
    *(f"pay_out_{f}" for f in _DIRECTIONAL),
    "pay_flow_balance",
    "pay_pass_through_share",
    "pay_pass_through_days",
    "pay_fan2_in_log_max",
    "pay_fan2_out_log_max",
)
TRADE_PAYMENT_EDGE_FEATURES: tuple[str, ...] = (
    "out_port_log",
    "out_port_share",
    "in_port_log",
    "in_port_share",
    "pay_structured_share",
    "payee_burst_in",
    "payer_burst_out",
    "payee_passes_on",
    "payer_passes_through",
    "closes_cycle_2",
    "closes_cycle_3",
    "closes_cycle_4",
)

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


def _structured(amount: FloatArray) -> NDArray[np.bool_]:
    return (amount >= 0.7 * REPORTING_THRESHOLD) & (amount < REPORTING_THRESHOLD)


def _max_distinct_in_window(
    n: int, firm: IntArray, cp: IntArray, day: IntArray, w: int
) -> FloatArray:
    """Per firm, the most distinct counterparties within any ``w`` consecutive days.

    Each payment covers the windows ending on days [day, day + w - 1]; a counterparty's
    coverings are merged into intervals, and the answer is the deepest overlap of a firm's
    intervals (a sweep over +1 / -1 events)."""
    out = np.zeros(n)
    if firm.size == 0:
        return out
    order = np.lexsort((day, cp, firm))
    f, c, d = firm[order], cp[order], day[order]
    new_pair = np.r_[True, (f[1:] != f[:-1]) | (c[1:] != c[:-1])]
    new_run = new_pair | np.r_[False, d[1:] - d[:-1] >= w]
    run = np.cumsum(new_run) - 1
    starts = d[new_run]
    ends = np.zeros(int(run[-1]) + 1, dtype=np.int64)
    np.maximum.at(ends, run, d + w - 1)
    run_firm = f[new_run]
    ev_firm = np.r_[run_firm, run_firm]
    ev_time = np.r_[starts, ends + 1]
    ev_delta = np.r_[np.ones(starts.size), -np.ones(ends.size)]
    # At one time, closings (-1) before openings (+1).
    o = np.lexsort((ev_delta, ev_time, ev_firm))
    ef, ed = ev_firm[o], ev_delta[o]
    csum = np.cumsum(ed)
    first = np.r_[True, ef[1:] != ef[:-1]]
    base = np.maximum.accumulate(np.where(first, np.arange(ef.size), 0))
    level = csum - np.r_[0.0, csum][base]
    np.maximum.at(out, ef, level)
    return out


def _burstiness(n: int, firm: IntArray, day: IntArray) -> FloatArray:
    out = np.zeros(n)
    if firm.size < 2:
        return out
    o = np.lexsort((day, firm))
    f, d = firm[o], day[o].astype(np.float64)
    same = f[1:] == f[:-1]
    gf, gap = f[1:][same], (d[1:] - d[:-1])[same]
    cnt = np.bincount(gf, minlength=n).astype(np.float64)
    s1 = np.bincount(gf, weights=gap, minlength=n)
    s2 = np.bincount(gf, weights=gap * gap, minlength=n)
    mu = np.divide(s1, cnt, out=np.zeros(n), where=cnt > 0)
    sd = np.sqrt(np.maximum(np.divide(s2, cnt, out=np.zeros(n), where=cnt > 0) - mu * mu, 0.0))
    ok = (cnt >= 2) & (mu + sd > 0)
    out[ok] = (sd[ok] - mu[ok]) / (sd[ok] + mu[ok])
    return out


def _max_per_day(n: int, firm: IntArray, day: IntArray) -> FloatArray:
    out = np.zeros(n)
    if firm.size == 0:
        return out
    key = firm.astype(np.int64) * 1_000_000 + day
    uniq, counts = np.unique(key, return_counts=True)
    np.maximum.at(out, uniq // 1_000_000, counts.astype(np.float64))
    return out


def _pass_through(
    n: int, payer: IntArray, payee: IntArray, amount: FloatArray, day: IntArray
) -> tuple[FloatArray, FloatArray]:
    """(share of the amount paid out within PASS_DAYS of an incoming payment, mean lag)."""
    share, lag_mean = np.zeros(n), np.full(n, 2.0)
    if payer.size == 0:
        return share, lag_mean
    big = 1 << 20
    in_key = np.sort(payee.astype(np.int64) * big + day)
    out_key = payer.astype(np.int64) * big + day
    idx = np.searchsorted(in_key, out_key, side="right") - 1
    valid = (idx >= 0) & (in_key[np.clip(idx, 0, None)] // big == payer)
    lag = np.where(valid, day - in_key[np.clip(idx, 0, None)] % big, 60)
    lag = np.minimum(lag, 60).astype(np.float64)
    out_amt = np.bincount(payer, weights=amount, minlength=n)
    quick = np.bincount(payer, weights=amount * (lag <= PASS_DAYS), minlength=n)
    share = np.divide(quick, out_amt, out=np.zeros(n), where=out_amt > 0)
    cnt = np.bincount(payer, minlength=n).astype(np.float64)
    lag_sum = np.bincount(payer, weights=lag, minlength=n)
    lag_mean = np.where(cnt > 0, lag_sum / np.maximum(cnt, 1) / 30.0, 2.0)
    return share, lag_mean


def _pair_matrix(n: int, payer: IntArray, payee: IntArray) -> sp.csr_matrix:
    keep = payer != payee
    a = sp.csr_matrix(
        (np.ones(int(keep.sum())), (payer[keep], payee[keep])), shape=(n, n), dtype=np.float64
    )
    a.sum_duplicates()
    a.data[:] = 1.0
    return a


def _low_degree(a: sp.csr_matrix) -> sp.dia_matrix:
    deg = np.asarray(a.sum(axis=0)).ravel() + np.asarray(a.sum(axis=1)).ravel()
    return sp.diags((deg <= HUB_DEGREE).astype(np.float64))


def payment_features(
    n: int, payer: IntArray, payee: IntArray, amount: FloatArray, day: IntArray
) -> NDArray[np.float32]:
    """``[n, len(PAYMENT_FEATURES)]`` from one row per payment (``day``: an integer date)."""
    payer, payee = payer.astype(np.int64), payee.astype(np.int64)
    day = day.astype(np.int64)
    cols: list[FloatArray] = []
    for firm, cp in ((payee, payer), (payer, payee)):  # in, then out
        cols.append(np.log1p(np.bincount(firm, minlength=n).astype(np.float64)))
        for w in WINDOWS:
            cols.append(np.log1p(_max_distinct_in_window(n, firm, cp, day, w)))
        cols.append(_burstiness(n, firm, day))
        cnt = np.bincount(firm, minlength=n).astype(np.float64)
        st = np.bincount(firm, weights=_structured(amount).astype(np.float64), minlength=n)
        cols.append(np.divide(st, cnt, out=np.zeros(n), where=cnt > 0))
        cols.append(np.log1p(_max_per_day(n, firm, day)))
    inflow = np.bincount(payee, weights=amount, minlength=n)
    outflow = np.bincount(payer, weights=amount, minlength=n)
    total = inflow + outflow
    cols.append(np.divide(inflow - outflow, total, out=np.zeros(n), where=total > 0))
    cols.extend(_pass_through(n, payer, payee, amount, day))
    a = _pair_matrix(n, payer, payee)
    two = sp.csr_matrix(a @ _low_degree(a) @ a)
    two.setdiag(0)
    two.eliminate_zeros()
    cols.append(np.log1p(_col_max(two)))
    cols.append(np.log1p(_col_max(sp.csr_matrix(two.T))))
    return np.column_stack(cols).astype(np.float32)


def _col_max(m: sp.csr_matrix) -> FloatArray:
    """Per column, the largest entry (0 for an empty column)."""
    out = np.zeros(m.shape[1])
    coo = m.tocoo()
    np.maximum.at(out, coo.col, coo.data)
    return out


def _ranks(owner: IntArray, other: IntArray, first: IntArray) -> tuple[FloatArray, FloatArray]:
    """Per (owner, other) pair, other's 1-based rank among owner's pairs by ``first`` day, and
    the owner's number of pairs."""
    o = np.lexsort((other, first, owner))
    f = owner[o]
    start = np.r_[True, f[1:] != f[:-1]]
    pos = np.arange(f.size) - np.maximum.accumulate(np.where(start, np.arange(f.size), 0))
    rank = np.empty(f.size)
    rank[o] = pos + 1
    deg = np.bincount(owner, minlength=int(owner.max()) + 1 if owner.size else 0)[owner]
    return rank, deg.astype(np.float64)


def trade_payment_edge_features(
    n: int,
    seller: IntArray,
    buyer: IntArray,
    payer: IntArray,
    payee: IntArray,
    amount: FloatArray,
    day: IntArray,
) -> NDArray[np.float32]:
    """``[len(seller), len(TRADE_PAYMENT_EDGE_FEATURES)]`` for trade edges ``seller -> buyer``."""
    m = seller.size
    out = np.zeros((m, len(TRADE_PAYMENT_EDGE_FEATURES)), dtype=np.float64)
    if m == 0 or payer.size == 0:
        return out.astype(np.float32)
    payer, payee, day = payer.astype(np.int64), payee.astype(np.int64), day.astype(np.int64)
    key = payer * n + payee
    uniq, inv = np.unique(key, return_inverse=True)
    first = np.full(uniq.size, np.iinfo(np.int64).max)
    np.minimum.at(first, inv, day)
    cnt = np.bincount(inv, minlength=uniq.size).astype(np.float64)
    st = np.bincount(inv, weights=_structured(amount).astype(np.float64), minlength=uniq.size)
    big = 1 << 20
    recv = np.sort(payee * big + day)
    sent = np.sort(payer * big + day)

    def within(keys: IntArray, firm: IntArray, lo: IntArray, hi: IntArray) -> FloatArray:
        """Per payment, how many of ``firm``'s keyed payments fall on days [lo, hi]."""
        a = np.searchsorted(keys, firm * big + lo, side="left")
        b = np.searchsorted(keys, firm * big + hi, side="right")
        return (b - a).astype(np.float64)

    per_payment = np.column_stack([
        np.log1p(within(recv, payee, day - BURST_DAYS, day + BURST_DAYS)),
        np.log1p(within(sent, payer, day - BURST_DAYS, day + BURST_DAYS)),
        within(sent, payee, day, day + PASS_DAYS) > 0,
        within(recv, payer, day - PASS_DAYS, day) > 0,
    ])  # fmt: skip
    ctx = np.zeros((uniq.size, 4))
    np.maximum.at(ctx[:, 0], inv, per_payment[:, 0])
    np.maximum.at(ctx[:, 1], inv, per_payment[:, 1])
    for j in (2, 3):
        ctx[:, j] = np.bincount(inv, weights=per_payment[:, j], minlength=uniq.size) / cnt
    p_payer, p_payee = uniq // n, uniq % n
    out_rank, out_deg = _ranks(p_payer, p_payee, first)
    in_rank, in_deg = _ranks(p_payee, p_payer, first)
    pair_feats = np.column_stack([
        np.log1p(out_rank), out_rank / out_deg, np.log1p(in_rank), in_rank / in_deg, st / cnt,
        ctx,
    ])  # fmt: skip
    edge_key = buyer.astype(np.int64) * n + seller.astype(np.int64)  # buyer pays seller
    pos = np.searchsorted(uniq, edge_key)
    found = (pos < uniq.size) & (uniq[np.clip(pos, 0, uniq.size - 1)] == edge_key)
    out[found, :9] = pair_feats[pos[found]]
    # Cycle closures: paths from the payee (seller) back to the payer (buyer), for edges
    # between firms of at most HUB_DEGREE counterparties (0 elsewhere).
    a = _pair_matrix(n, payer, payee)
    deg = np.asarray(a.sum(axis=0)).ravel() + np.asarray(a.sum(axis=1)).ravel()
    low = sp.diags((deg <= HUB_DEGREE).astype(np.float64))
    a_low = sp.csr_matrix(low @ a)  # steps leaving a low-degree intermediate
    s, b = seller.astype(np.int64), buyer.astype(np.int64)
    small = (deg[s] <= HUB_DEGREE) & (deg[b] <= HUB_DEGREE)
    s, b = s[small], b[small]
    rows = sp.csr_matrix(a[s])
    out[small, 9] = np.asarray(a[s, b]).ravel()  # the payee pays the payer back: a 2-cycle
    out[small, 10] = np.asarray(rows.multiply(sp.csr_matrix(a_low.T)[b]).sum(axis=1)).ravel()
    two = sp.csr_matrix(a_low @ a_low)
    out[small, 11] = np.asarray(rows.multiply(sp.csr_matrix(two.T)[b]).sum(axis=1)).ravel()
    out[:, 9:] = np.log1p(out[:, 9:])
    return out.astype(np.float32)
