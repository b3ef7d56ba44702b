"""The baselines every report prints beside the GNN: rules, trees, DebtRank and leakage controls.

- ``rule_score``: red-flag counts an analyst would write by hand (the chain-analytics rules).
- ``TreeModel``: gradient-boosted trees (LightGBM) on each firm's own features plus the mean
  and max of its 1-hop neighbours (suppliers, buyers, guarantee and ownership links, firms
  sharing a person, address or phone) and the mean over 2 hops — the published strong bar
  (GADBench, NeurIPS 2023; IBM AML, NeurIPS 2023).
- amount-only and degree-only trees: if they score close to the full models, the labels leak
  through trivial features.
- ``debtrank_score``: observed payment stress propagated by differential DebtRank.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import scipy.sparse as sp
import torch
from numpy.typing import NDArray

from gnn.contagion import debtrank, leverage_matrix
from gnn.dataset import AMOUNT_FEATURES, DEGREE_FEATURES, ChainGraph

FloatArray = NDArray[np.float64]


def _row_normalised(adj: sp.csr_matrix) -> sp.csr_matrix:
    """Rows summing to 1 (empty rows stay empty), in float32: the features are float32, and a
    float64 matrix would copy them to float64 for every product."""
    deg = np.asarray(adj.sum(axis=1)).ravel()
    inv = np.where(deg > 0, 1.0 / np.maximum(deg, 1e-12), 0.0)
    return sp.csr_matrix(sp.diags(inv) @ adj, dtype=np.float32)


def _projected(graph: ChainGraph, relation: str) -> sp.csr_matrix:
    """Enterprise × enterprise links through a shared person, address or phone."""
    rel = graph.relations[relation]
    n = graph.n
    if rel.size == 0:
        return sp.csr_matrix((n, n))
    m = graph.num_nodes[rel.src_type if rel.src_type != "enterprise" else rel.dst_type]
    ent = rel.dst if rel.src_type != "enterprise" else rel.src
    other = rel.src if rel.src_type != "enterprise" else rel.dst
    inc = sp.csr_matrix((np.ones(ent.size), (ent, other)), shape=(n, m))
    # Hubs (a registered-agent address shared by thousands) would make this dense: cap them.
    sizes = np.asarray(inc.sum(axis=0)).ravel()
    inc = sp.csr_matrix(inc @ sp.diags((sizes <= 50).astype(np.float64)))
    out = sp.csr_matrix(inc @ inc.T)
    out.setdiag(0)
    out.eliminate_zeros()
    return sp.csr_matrix((out > 0).astype(np.float64))


def adjacency(graph: ChainGraph) -> dict[str, sp.csr_matrix]:
    """Enterprise-level adjacency per view: sells_to, buys_from, guarantee, holds, shared."""
    n = graph.n

    def a(rel: str) -> sp.csr_matrix:
        r = graph.relations[rel]
        return sp.csr_matrix((np.ones(r.size), (r.src, r.dst)), shape=(n, n))

    sells, guar, holds = a("trade"), a("guarantee"), a("holds")
    shared = _projected(graph, "person") + _projected(graph, "address") + _projected(graph, "phone")
    return {
        "sells_to": (sells > 0).astype(np.float64).tocsr(),
        "buys_from": (sells.T > 0).astype(np.float64).tocsr(),
        "guarantee": ((guar + guar.T) > 0).astype(np.float64).tocsr(),
        "holds": ((holds + holds.T) > 0).astype(np.float64).tocsr(),
        "shared": (shared > 0).astype(np.float64).tocsr(),
    }


# Entries per slice of the max aggregation: a slice gathers this many feature rows at once
# (about 350 MB at 42 features), whatever the number of shared-contact links.
MAX_AGG_ENTRIES = 1 << 21


def _max_agg(adj: sp.csr_matrix, x: NDArray[np.float32]) -> NDArray[np.float32]:
    """Row-wise max of neighbours' features (0 where a node has no neighbour).

    In slices of rows holding about ``MAX_AGG_ENTRIES`` entries, with torch's gather and
    ``scatter_reduce`` (4x faster than numpy's fancy indexing and ``reduceat`` on a million
    firms' 35M shared-contact links, and without their 6 GB temporary).
    """
    n, width = adj.shape[0], x.shape[1]
    out = np.zeros((n, width), dtype=np.float32)
    features = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    indptr = adj.indptr
    start = 0
    while start < n:
        stop = int(np.searchsorted(indptr, indptr[start] + MAX_AGG_ENTRIES, side="right")) - 1
        stop = min(n, max(stop, start + 1))
        lo, hi = int(indptr[start]), int(indptr[stop])
        if hi > lo:
            counts = np.diff(indptr[start : stop + 1])
            rows = torch.from_numpy(np.repeat(np.arange(stop - start), counts))
            values = features.index_select(0, torch.from_numpy(adj.indices[lo:hi].astype(np.int64)))
            block = torch.zeros((stop - start, width), dtype=torch.float32)
            block.scatter_reduce_(
                0, rows[:, None].expand_as(values), values, reduce="amax", include_self=False
            )
            out[start:stop] = block.numpy()
        start = stop
    return out


def neighbour_features(
    graph: ChainGraph, x: NDArray[np.float32] | None = None
) -> NDArray[np.float32]:
    """Own features, 1-hop mean and max per view, and the 2-hop mean over all views."""
    x = graph.x if x is None else x
    adj = adjacency(graph)
    parts = [x]
    everything = sp.csr_matrix((graph.n, graph.n))
    for mat in adj.values():
        norm = _row_normalised(mat)
        parts.append(np.asarray(norm @ x, dtype=np.float32))
        parts.append(_max_agg(mat, x))
        parts.append(np.log1p(np.asarray(mat.sum(axis=1), dtype=np.float32)))
        everything = everything + mat
    norm_all = _row_normalised(sp.csr_matrix((everything > 0).astype(np.float64)))
    parts.append(np.asarray(norm_all @ (norm_all @ x), dtype=np.float32))
    return np.hstack(parts).astype(np.float32)


def feature_columns(graph: ChainGraph, names: tuple[str, ...]) -> NDArray[np.float32]:
    idx = [graph.feature_names.index(n) for n in names]
    return graph.x[:, idx]


@dataclass
class TreeModel:
    """LightGBM on a chosen feature view (``full``, ``amount`` or ``degree``)."""

    view: str = "full"
    booster: lgb.Booster | None = None
    num_rounds: int = 300

    def features(self, graph: ChainGraph) -> NDArray[np.float32]:
        if self.view == "full":
            return neighbour_features(graph)
        if self.view == "amount":
            return feature_columns(graph, AMOUNT_FEATURES)
        if self.view == "degree":
            return feature_columns(graph, DEGREE_FEATURES)
        raise ValueError(f"unknown view {self.view!r}")

    def fit(
        self, graphs: list[ChainGraph], labels: list[NDArray[np.float64]], seed: int = 0
    ) -> TreeModel:
        return self.fit_masked(graphs, labels, None, seed)

    def fit_masked(
        self,
        graphs: list[ChainGraph],
        labels: list[NDArray[np.float64]],
        masks: list[NDArray[np.bool_]] | None,
        seed: int = 0,
        *,
        offsets: list[FloatArray] | None = None,
        weights: list[FloatArray] | None = None,
    ) -> TreeModel:
        """Fit on the enterprises selected by ``masks`` (all when None).

        ``offsets`` are per-enterprise logits the trees boost from (a prior they correct);
        ``predict`` must then be given the same kind of offset. ``weights`` weigh each
        enterprise (e.g. unlabelled firms as uncertain negatives).
        """
        feats = [self.features(g) for g in graphs]
        init = list(offsets) if offsets is not None else None
        wts = list(weights) if weights is not None else None
        if masks is not None:
            feats = [f[m] for f, m in zip(feats, masks, strict=True)]
            labels = [y[m] for y, m in zip(labels, masks, strict=True)]
            if init is not None:
                init = [o[m] for o, m in zip(init, masks, strict=True)]
            if wts is not None:
                wts = [w[m] for w, m in zip(wts, masks, strict=True)]
        x = np.vstack(feats)
        y = np.concatenate(labels)
        binary = bool(np.isin(y, (0.0, 1.0)).all())
        params: dict[str, Any] = {
            "objective": "binary" if binary else "cross_entropy",
            "learning_rate": 0.05,
            "num_leaves": 31,
            "min_data_in_leaf": 20,
            "feature_fraction": 0.8,
            "bagging_fraction": 0.8,
            "bagging_freq": 1,
            "num_threads": 1,
            "seed": seed,
            "verbose": -1,
            "deterministic": True,
        }
        data = lgb.Dataset(
            x, y, init_score=np.concatenate(init) if init is not None else None,
            weight=np.concatenate(wts) if wts is not None else None,
        )  # fmt: skip
        self.booster = lgb.train(params, data, num_boost_round=self.num_rounds)
        return self

    def predict(
        self,
        graph: ChainGraph,
        *,
        offset: FloatArray | None = None,
        features: NDArray[np.float32] | None = None,
    ) -> FloatArray:
        """Probabilities; with ``offset``, those of a model fitted with offsets.

        ``features`` are ``self.features(graph)`` when the caller already has them (several
        tasks scored on one graph share them; at a million firms they take a minute).
        """
        if self.booster is None:
            raise ValueError("fit the model first")
        x = self.features(graph) if features is None else features
        # Trained single-threaded for determinism; prediction is deterministic on every core.
        if offset is None:
            return np.asarray(self.booster.predict(x, num_threads=0), dtype=np.float64)
        raw = np.asarray(self.booster.predict(x, raw_score=True, num_threads=0)) + offset
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(raw, -50.0, 50.0))), dtype=np.float64)

    def to_bytes(self) -> bytes:
        assert self.booster is not None
        return pickle.dumps({"view": self.view, "model": self.booster.model_to_string()})

    @classmethod
    def from_bytes(cls, blob: bytes) -> TreeModel:
        d = pickle.loads(blob)
        return cls(view=d["view"], booster=lgb.Booster(model_str=d["model"]))


def rule_score(graph: ChainGraph, task: str) -> FloatArray:
    """Red flags counted per firm; ties are frequent, as with real rule engines."""
    f = graph.feature
    if task == "fraud":
        has_sales = f("sales_n") > 0
        flags = [
            has_sales & (f("sales_shipped_share") < 0.5),  # invoices without goods movement
            has_sales & (f("sales_paid_share") < 0.5),
            f("address_shared_n") > np.log(2.5),
            f("phone_shared_n") > np.log(2.5),
            f("legal_rep_shared_n") > np.log(2.5),
            (f("age_years") < 1.0) & (f("age_missing") == 0),
            f("max_invoice_over_capital") > 0,  # one invoice above the registered capital
            # chain analytics' circular trade: invoices round a loop of 3 to 6 firms
            np.column_stack([f(f"trade_return_{k}") for k in range(3, 7)]).max(axis=1) > 0,
        ]
    else:
        flags = [
            f("purchases_overdue_share") > 0.3,
            f("payable_log_overdue") > 0,
            f("pay_days_mean") > 3.0,
            f("purchases_paid_share") < 0.5,
            f("guarantees_given_log") > f("log_capital"),
        ]
    return np.asarray(np.sum(flags, axis=0), dtype=np.float64) / len(flags)


def observed_stress(graph: ChainGraph) -> FloatArray:
    """A firm's visible payment stress in [0, 1]: the overdue share of what it owes."""
    return np.clip(graph.feature("purchases_overdue_share").astype(np.float64), 0.0, 1.0)


def debtrank_score(graph: ChainGraph) -> FloatArray:
    """Differential DebtRank distress when each firm starts at its observed stress."""
    lev = leverage_matrix(graph.exposure, graph.equity)
    res = debtrank(lev, observed_stress(graph))
    return np.asarray(res.h, dtype=np.float64)
