"""Ego identifiers on the payment (trade) graph: Egressy et al., AAAI 2024, "Provably powerful
graph neural networks for directed multigraphs" (after You et al.'s identity-aware GNNs).

Message passing with mean aggregation cannot tell whether the messages coming back to a firm
started at the firm itself: a firm on a directed cycle and a firm on a long chain look alike.
An ego identifier marks the centre of each computation: every firm gets its own copy of its
neighbourhood, in which only the centre carries a learned marker vector; after ``L`` layers
over directed edges (forward and reverse with their own weights) the centre's state says
whether the marker came back along a directed cycle of length at most ``L``, and along which
edges. Port numbers, the other half of the paper, are already on each trade edge (the payee's
rank among the payer's payees and the payer's among the payee's payers, `gnn/payments.py`).

One copy per centre is what costs: the copies of all neighbourhoods form one disjoint union,
``Σ_c |N_K(c)|`` nodes. Neighbourhoods are the firms within ``hops`` trade links (either
direction), grown only through firms of at most ``hub_degree`` counterparties (a core buyer's
hundreds of suppliers are not one laundering pattern) and cut at ``max_nodes`` firms, nearest
first. The union is built once per graph (cached on the edge tensor it came from) with numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import Tensor, nn

if TYPE_CHECKING:
    from gnn.models.edge_sage import EdgeSAGEConv


@dataclass(frozen=True)
class EgoBatch:
    """The disjoint union of every firm's neighbourhood: copy ``k`` is firm ``node[k]`` in the
    neighbourhood of ``centre_copy``'s firm; ``edge_index`` joins copies, ``edge_id`` names
    the original trade edge (for its features); ``centre[c]`` is the copy that is firm c."""

    node: Tensor  # [T] original firm of each copy
    is_centre: Tensor  # [T] 1.0 for the centre's own copy
    edge_index: Tensor  # [2, E'] copy -> copy, seller -> buyer, sorted by target
    edge_id: Tensor  # [E'] index into the trade edges
    centre: Tensor  # [N] the copy of each firm in its own neighbourhood


def ego_batch(
    src: NDArray[np.int64], dst: NDArray[np.int64], n: int, *, hops: int, hub_degree: int,
    max_nodes: int,
) -> EgoBatch:  # fmt: skip
    """Neighbourhoods of every firm of a directed trade graph ``src -> dst`` (see the module
    docstring)."""
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    # Undirected neighbours (distinct), as CSR.
    both_a = np.concatenate([src, dst])
    both_b = np.concatenate([dst, src])
    keep = both_a != both_b
    pairs = np.unique(np.stack([both_a[keep], both_b[keep]], axis=1), axis=0)
    nb_ptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(nb_ptr, pairs[:, 0] + 1, 1)
    nb_ptr = np.cumsum(nb_ptr)
    nb = pairs[:, 1]
    degree = np.diff(nb_ptr)
    # Out-edges per seller, as CSR over edge ids.
    order = np.argsort(src, kind="stable")
    out_ptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(out_ptr, src + 1, 1)
    out_ptr = np.cumsum(out_ptr)
    expands = degree <= hub_degree

    nodes: list[NDArray[np.int64]] = []
    centres = np.zeros(n, dtype=np.int64)
    e_src: list[NDArray[np.int64]] = []
    e_dst: list[NDArray[np.int64]] = []
    e_id: list[NDArray[np.int64]] = []
    offset = 0
    for c in range(n):
        members = [c]
        seen = {c}
        frontier = [c]
        for _ in range(hops):
            nxt = []
            for v in frontier:
                if v != c and not expands[v]:
                    continue
                for u in nb[nb_ptr[v] : nb_ptr[v + 1]].tolist():
                    if u not in seen:
                        seen.add(u)
                        nxt.append(u)
                        if len(members) + len(nxt) >= max_nodes:
                            break
                if len(members) + len(nxt) >= max_nodes:
                    break
            members.extend(nxt)
            frontier = nxt
            if not frontier or len(members) >= max_nodes:
                break
        m = np.asarray(members, dtype=np.int64)
        local = {v: i for i, v in enumerate(members)}
        # Trade edges among the members: out-edges of each member whose buyer is a member.
        starts, ends = out_ptr[m], out_ptr[m + 1]
        if (ends > starts).any():
            spans = [np.arange(a, b) for a, b in zip(starts, ends, strict=True)]
            ids = order[np.concatenate(spans)]
            inside = np.fromiter((int(d) in local for d in dst[ids]), dtype=bool, count=ids.size)
            ids = ids[inside]
            if ids.size:
                e_src.append(np.fromiter((local[int(s)] for s in src[ids]), np.int64, ids.size)
                             + offset)  # fmt: skip
                e_dst.append(np.fromiter((local[int(d)] for d in dst[ids]), np.int64, ids.size)
                             + offset)  # fmt: skip
                e_id.append(ids)
        nodes.append(m)
        centres[c] = offset
        offset += m.size
    node = np.concatenate(nodes) if nodes else np.zeros(0, np.int64)
    es = np.concatenate(e_src) if e_src else np.zeros(0, np.int64)
    ed = np.concatenate(e_dst) if e_dst else np.zeros(0, np.int64)
    ei = np.concatenate(e_id) if e_id else np.zeros(0, np.int64)
    by_target = np.argsort(ed, kind="stable")
    is_centre = np.zeros(node.size, dtype=np.float32)
    is_centre[centres] = 1.0
    return EgoBatch(
        node=torch.from_numpy(node), is_centre=torch.from_numpy(is_centre),
        edge_index=torch.from_numpy(np.stack([es[by_target], ed[by_target]])),
        edge_id=torch.from_numpy(ei[by_target]), centre=torch.from_numpy(centres),
    )  # fmt: skip


class EgoTradeEncoder(nn.Module):
    """``layers`` edge-SAGE steps over every firm's marked neighbourhood; returns the centre's
    state, ``[N, hidden]`` (see the module docstring)."""

    def __init__(
        self, hidden: int, edge_dim: int, *, layers: int = 2, hops: int = 2,
        hub_degree: int = 50, max_nodes: int = 64, dropout: float = 0.1,
    ) -> None:  # fmt: skip
        super().__init__()
        from gnn.models.edge_sage import EdgeSAGEConv

        self.hops, self.hub_degree, self.max_nodes = hops, hub_degree, max_nodes
        self.dropout = dropout
        self.marker = nn.Parameter(torch.randn(hidden) * 0.5)  # the ego identifier
        self.fwd = nn.ModuleList(EdgeSAGEConv(hidden, hidden, edge_dim, hidden)
                                 for _ in range(layers))  # fmt: skip
        self.rev = nn.ModuleList(EdgeSAGEConv(hidden, hidden, edge_dim, hidden)
                                 for _ in range(layers))  # fmt: skip
        self.norms = nn.ModuleList(nn.LayerNorm(hidden) for _ in range(layers))
        self._cache: dict[tuple[Any, ...], EgoBatch] = {}

    def batch(self, edge_index: Tensor, n: int) -> EgoBatch:
        key = (edge_index.data_ptr(), tuple(edge_index.shape), n)
        found = self._cache.get(key)
        if found is None:
            if len(self._cache) > 16:  # graphs of a training run, then of scoring
                self._cache.clear()
            found = ego_batch(edge_index[0].numpy(), edge_index[1].numpy(), n, hops=self.hops,
                              hub_degree=self.hub_degree, max_nodes=self.max_nodes)  # fmt: skip
            self._cache[key] = found
        return found

    def forward(self, h: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        b = self.batch(edge_index, h.shape[0])
        x = h.index_select(0, b.node) + b.is_centre.unsqueeze(-1) * self.marker
        attr = edge_attr.index_select(0, b.edge_id)
        flipped = b.edge_index.flip(0)
        t = x.shape[0]
        for fwd_m, rev_m, norm in zip(self.fwd, self.rev, self.norms, strict=True):
            fwd: EdgeSAGEConv = fwd_m  # type: ignore[assignment]
            rev: EdgeSAGEConv = rev_m  # type: ignore[assignment]
            upd = (fwd.aggregate(x, t, b.edge_index, attr) + fwd.lin_root(x)
                   + rev.aggregate(x, t, flipped, attr))  # fmt: skip
            x = norm(x + nn.functional.dropout(torch.relu(upd), self.dropout, self.training))
        out: Tensor = x.index_select(0, b.centre)
        return out


__all__ = ["EgoBatch", "EgoTradeEncoder", "ego_batch"]
