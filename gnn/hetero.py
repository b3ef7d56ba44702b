"""``ChainGraph`` -> PyG ``HeteroData`` with reverse edges, so that messages flow both ways.

Each relation becomes two edge types, forward and reverse, carrying the same edge features:
a firm hears from its buyers and from its suppliers through different weights, which is what
lets the model tell fan-in from fan-out. Person, address and phone nodes carry their degree.
"""

from __future__ import annotations

import numpy as np
import torch
from torch_geometric.data import HeteroData

from gnn.dataset import ChainGraph

# relation -> (forward name, reverse name)
EDGE_NAMES: dict[str, tuple[str, str]] = {
    "trade": ("sells_to", "buys_from"),
    "guarantee": ("guarantees", "guaranteed_by"),
    "holds": ("holds", "held_by"),
    "person": ("linked", "rev_linked"),
    "address": ("located_at", "rev_located_at"),
    "phone": ("has_phone", "rev_has_phone"),
}
NODE_TYPES = ("enterprise", "person", "address", "phone")


def to_hetero(
    graph: ChainGraph,
    *,
    feature_mean: np.ndarray | None = None,
    feature_std: np.ndarray | None = None,
    shuffle_edges_seed: int | None = None,
) -> HeteroData:
    """The graph as ``HeteroData``; enterprise features standardised with the given stats.

    ``shuffle_edges_seed`` rewires every relation at random (same degrees at the source,
    uniform targets): the leakage control that shows whether a model uses the graph.
    """
    data = HeteroData()
    x = graph.x.astype(np.float32)
    if feature_mean is not None and feature_std is not None:
        x = (x - feature_mean) / feature_std
    data["enterprise"].x = torch.from_numpy(np.ascontiguousarray(x))
    rng = np.random.default_rng(shuffle_edges_seed) if shuffle_edges_seed is not None else None
    degree: dict[str, np.ndarray] = {
        t: np.zeros(graph.num_nodes[t], np.float32) for t in NODE_TYPES if t != "enterprise"
    }
    for rel_name, rel in graph.relations.items():
        fwd, rev = EDGE_NAMES[rel_name]
        src, dst = rel.src, rel.dst
        if rng is not None and src.size:
            dst = rng.integers(0, graph.num_nodes[rel.dst_type], dst.size)
        attr = np.asarray(rel.attr, dtype=np.float32)
        if attr.shape[1] == 0:
            attr = np.ones((src.size, 1), dtype=np.float32)
        # Each direction's edges sorted by their target: the models' scatter-adds then write
        # memory in order, which is most of an epoch's time on large graphs.
        for name, a, b, a_type, b_type in (
            (fwd, src, dst, rel.src_type, rel.dst_type),
            (rev, dst, src, rel.dst_type, rel.src_type),
        ):
            order = np.argsort(b, kind="stable")
            data[a_type, name, b_type].edge_index = torch.from_numpy(
                np.stack([a[order], b[order]]).astype(np.int64)
            )
            data[a_type, name, b_type].edge_attr = torch.from_numpy(
                np.ascontiguousarray(attr[order])
            )
        for node_type, idx in ((rel.src_type, src), (rel.dst_type, dst)):
            if node_type in degree and idx.size:
                degree[node_type] += np.bincount(idx, minlength=degree[node_type].size)
    for node_type, deg in degree.items():
        data[node_type].x = torch.from_numpy(np.log1p(deg)[:, None].astype(np.float32))
    return data


def edge_dims(data: HeteroData) -> dict[tuple[str, str, str], int]:
    return {et: int(data[et].edge_attr.shape[1]) for et in data.edge_types}
