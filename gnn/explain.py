"""Explanations a credit officer can read: which neighbours, links and features drove a score.

For each enterprise: the neighbours that contributed most (a neighbour's own score times the
strength of the link, with the relation, direction and the neighbour's tier from the nearest
core), the riskiest two-step path, the counterparties whose default alone would wipe it out
(its contagion sources, by exposure over equity, with their stand-alone PD), and the features
that pushed the score up the most (gradient × input for the GNN, gain-weighted deviations for
the trees).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import orjson
import scipy.sparse as sp
from numpy.typing import NDArray

from gnn.contagion import leverage_matrix
from gnn.dataset import ChainGraph
from gnn.hetero import to_hetero
from gnn.registry import TaskModel


def core_tiers(graph: ChainGraph) -> NDArray[np.int64]:
    """Hops from the nearest core enterprise along trade links (−1 if not connected)."""
    rel = graph.relations["trade"]
    n = graph.n
    adj = sp.csr_matrix((np.ones(rel.size), (rel.src, rel.dst)), shape=(n, n))
    adj = sp.csr_matrix(((adj + adj.T) > 0).astype(np.float64))
    tier = np.full(n, -1, dtype=np.int64)
    frontier = graph.feature("is_core") > 0
    tier[frontier] = 0
    hop = 0
    while frontier.any():
        hop += 1
        frontier = ((adj @ frontier.astype(np.float64)) > 0) & (tier < 0)
        tier[frontier] = hop
    return tier


@dataclass
class _View:
    name: str
    matrix: sp.csr_matrix  # row i, col j: strength of i's link to neighbour j


def _views(graph: ChainGraph) -> list[_View]:
    n = graph.n

    def mat(rel: str, weight_col: int | None) -> sp.csr_matrix:
        r = graph.relations[rel]
        w = r.attr[:, weight_col] if weight_col is not None and r.size else np.ones(r.size)
        return sp.csr_matrix((np.asarray(w, dtype=np.float64), (r.src, r.dst)), shape=(n, n))

    trade = mat("trade", 0)  # log amount
    guar = mat("guarantee", 0)
    holds = mat("holds", 0)
    return [
        _View("buyer", trade),
        _View("supplier", sp.csr_matrix(trade.T)),
        _View("guarantee", sp.csr_matrix(guar + guar.T)),
        _View("ownership", sp.csr_matrix(holds + holds.T)),
    ]


def feature_attributions(model: TaskModel, graph: ChainGraph) -> NDArray[np.float64]:
    """Per enterprise and feature, how much the feature pushed the score up ([N, F])."""
    if model.kind == "gnn" and model.gnn is not None:
        data = to_hetero(graph, feature_mean=model.feature_mean, feature_std=model.feature_std)
        x = data["enterprise"].x.clone().requires_grad_(True)
        xd = dict(data.x_dict)
        xd["enterprise"] = x
        model.gnn.eval()
        logits = model.gnn(xd, data.edge_index_dict, data.edge_attr_dict)
        logits.sum().backward()
        assert x.grad is not None
        return np.asarray((x.grad * x).detach().numpy(), dtype=np.float64)
    assert model.trees is not None and model.trees.booster is not None
    gain = model.trees.booster.feature_importance("gain")[: len(graph.feature_names)]
    if model.trees.view != "full":
        gain = np.zeros(len(graph.feature_names))
    x = graph.x.astype(np.float64)
    z = (x - x.mean(axis=0)) / np.where(x.std(axis=0) > 1e-9, x.std(axis=0), 1.0)
    return np.asarray(z * (gain / max(gain.sum(), 1e-12)), dtype=np.float64)


def explanations(
    graph: ChainGraph,
    scores: dict[str, NDArray[np.float64]],
    attributions: dict[str, NDArray[np.float64]],
    *,
    top: int = 3,
) -> list[str]:
    """One JSON explanation per enterprise (compact: top neighbours, a path, top features)."""
    tiers = core_tiers(graph)
    views = _views(graph)
    risk = np.maximum.reduce([s for s in scores.values()]) if scores else np.zeros(graph.n)
    contrib = [sp.csr_matrix(v.matrix @ sp.diags(risk)) for v in views]
    # Top neighbours of every row at once: all views' entries sorted by (row, -value), ties in
    # view order, then in each view's storage order.
    row_parts, col_parts, val_parts, view_parts = [], [], [], []
    for k, c in enumerate(contrib):
        coo = c.tocoo()
        row_parts.append(coo.row)
        col_parts.append(coo.col)
        val_parts.append(coo.data)
        view_parts.append(np.full(coo.nnz, k))
    rows, cols = np.concatenate(row_parts), np.concatenate(col_parts)
    vals, view = np.concatenate(val_parts), np.concatenate(view_parts)
    order = np.lexsort((-vals, rows))
    rows, cols, vals, view = rows[order], cols[order], vals[order], view[order]
    first = np.searchsorted(rows, np.arange(graph.n))
    last = np.searchsorted(rows, np.arange(graph.n), side="right")
    # The strongest neighbour is each row's first entry, when it contributes anything.
    best_nb = np.full(graph.n, -1, dtype=np.int64)
    if rows.size:
        head = np.minimum(first, rows.size - 1)
        strongest = (first < last) & (vals[head] > 0)
        best_nb[strongest] = cols[head][strongest]
    # The top features per task as Python lists, converted once (not element by element).
    top_features = {}
    for task, att in attributions.items():
        k_top = np.argsort(-att, axis=1, kind="stable")[:, :top]
        top_features[task] = (
            k_top.tolist(),
            np.take_along_axis(graph.x, k_top, axis=1).astype(np.float64).tolist(),
            np.take_along_axis(att, k_top, axis=1).astype(np.float64).tolist(),
        )
    # Full hits (Λ >= 1): row i, strongest first, as the single-hit cascade counts them.
    hits = leverage_matrix(graph.exposure, graph.equity)
    hits.data[hits.data < 1.0] = 0.0
    hits.eliminate_zeros()
    hit_ptr = hits.indptr.tolist()
    standalone = graph.feature("standalone_pd")
    names = graph.feature_names
    view_names = [v.name for v in views]
    ids = [str(e) for e in graph.ids]
    tier_l = tiers.tolist()
    out: list[str] = []
    cols_l, vals_l, view_l = cols.tolist(), vals.tolist(), view.tolist()
    first_l, last_l, best_l = first.tolist(), last.tolist(), best_nb.tolist()
    for i in range(graph.n):
        lo = first_l[i]
        neighbours = [
            {
                "id": ids[cols_l[k]],
                "relation": view_names[view_l[k]],
                "tier": tier_l[cols_l[k]],
                "contribution": round(vals_l[k], 4),
            }
            for k in range(lo, min(last_l[i], lo + top))
        ]
        path = None
        j = best_l[i]
        if j >= 0 and best_l[j] >= 0 and best_l[j] != i:
            path = [ids[i], ids[j], ids[best_l[j]]]
        contagion = []
        if hit_ptr[i + 1] > hit_ptr[i]:
            row = slice(hit_ptr[i], hit_ptr[i + 1])
            for k in np.argsort(-hits.data[row], kind="stable")[:top]:
                j = int(hits.indices[row][k])
                contagion.append(
                    {
                        "id": ids[j],
                        "tier": tier_l[j],
                        "exposure_over_equity": round(float(hits.data[row][k]), 4),
                        "standalone_pd": round(float(standalone[j]), 4),
                    }
                )
        feats = {
            task: [
                {"feature": names[k], "value": round(value, 4), "push": round(push, 4)}
                for k, value, push in zip(ks[i], values[i], pushes[i], strict=True)
                if push > 0
            ]
            for task, (ks, values, pushes) in top_features.items()
        }
        out.append(
            orjson.dumps(
                {
                    "tier": tier_l[i],
                    "neighbours": neighbours,
                    "path": path,
                    "contagion": contagion,
                    "features": feats,
                }
            ).decode()
        )
    return out
