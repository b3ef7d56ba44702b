"""A heterogeneous GraphSAGE whose messages read edge features (amounts, counts, times).

Per edge type, a source node ``j`` sends ``m_ij = ReLU(W_x x_j + W_e e_ij)`` (``W_x x`` is
computed once per node, then gathered per edge); the target aggregates the mean and a
log-degree-scaled mean of its messages (the latter lets it count: fan-in and fan-out) and
adds its own root transform. Forward and reverse edge types have their own weights, so
direction matters. Shapes: ``x_dict[t]`` is ``[N_t, F_t]``, ``edge_attr`` of an edge type
``[E, D]``; the model returns one logit per enterprise, ``[N_enterprise]``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from gnn.models.ego import EgoTradeEncoder

EdgeType = tuple[str, str, str]
# The payment (trade) relation, seller -> buyer: where ego identifiers mark each centre.
TRADE: EdgeType = ("enterprise", "sells_to", "enterprise")
# Edges per slice when scoring without autograd (about 256 MiB of messages at 64 hidden).
INFERENCE_EDGE_CHUNK = 1 << 20


def _key(et: EdgeType) -> str:
    return "|".join(et)


class _EdgeLinear(torch.autograd.Function):
    """``attr @ weight.T`` for many edges with few features, with a fast weight gradient.

    Autograd's own weight gradient is ``grad.T @ attr``: a transposed ``[64, E] @ [E, D]``
    product that runs about 8x slower on a CPU than the same sum taken as
    ``attr.T @ grad`` with ``attr.T`` made contiguous. Edge features are inputs (no gradient).
    """

    @staticmethod
    def forward(ctx: Any, attr: Tensor, weight: Tensor) -> Tensor:
        ctx.save_for_backward(attr.t().contiguous())
        return attr @ weight.t()

    @staticmethod
    def backward(ctx: Any, *grads: Tensor) -> tuple[None, Tensor]:
        (attr_t,) = ctx.saved_tensors
        # Row-major strides, as DistributedDataParallel's gradient buckets expect: a [64, 1]
        # transpose counts as contiguous in PyTorch yet keeps strides (1, 64).
        grad = (attr_t @ grads[0]).t().contiguous()
        return None, grad.reshape(-1).view(grad.shape)


class EdgeSAGEConv(nn.Module):
    """One relation's SAGE step with edge features; see the module docstring."""

    def __init__(self, in_src: int, in_dst: int, edge_dim: int, out: int) -> None:
        super().__init__()
        self.lin_x = nn.Linear(in_src, out)
        self.lin_e = nn.Linear(edge_dim, out, bias=False)
        self.lin_agg = nn.Linear(2 * out, out)
        self.lin_root = nn.Linear(in_dst, out, bias=False)

    def reset_parameters(self) -> None:
        for lin in (self.lin_x, self.lin_e, self.lin_agg, self.lin_root):
            lin.reset_parameters()

    def forward(
        self, x_src: Tensor, x_dst: Tensor, edge_index: Tensor, edge_attr: Tensor
    ) -> Tensor:
        """``[N_dst, out]`` from ``x_src [N_src, in]``, ``x_dst [N_dst, in]``."""
        root: Tensor = self.lin_root(x_dst)
        return self.aggregate(x_src, x_dst.shape[0], edge_index, edge_attr) + root

    def aggregate(
        self,
        x_src: Tensor,
        n_dst: int,
        edge_index: Tensor,
        edge_attr: Tensor,
        in_degree: Tensor | None = None,
    ) -> Tensor:
        """``forward`` without the root term, which a hetero layer sums once per node type.

        ``in_degree`` (``[N_dst]``): each target's number of edges in the whole graph, for a
        sampled subgraph (gnn/minibatch.py), whose mean over the sampled messages estimates the
        whole mean but whose own count would cap the log-degree scale at the fanout."""
        src, dst = edge_index[0], edge_index[1]
        projected = self.lin_x(x_src)
        total = projected.new_zeros((n_dst, projected.shape[1]))
        # Without autograd (scoring), messages are made and summed a slice of edges at a
        # time: a million firms have tens of millions of edges, whose [E, hidden] messages
        # would not fit in memory at once. Training keeps one pass for the backward.
        step = src.numel() if torch.is_grad_enabled() else INFERENCE_EDGE_CHUNK
        for lo in range(0, src.numel(), max(step, 1)):
            part = slice(lo, lo + step)
            edge_term: Tensor = _EdgeLinear.apply(edge_attr[part], self.lin_e.weight)  # type: ignore[no-untyped-call]
            # index_select, not [src]: its backward is an index_add, several times faster on
            # a CPU than the accumulating index_put behind advanced indexing.
            msg = torch.relu(projected.index_select(0, src[part]) + edge_term)
            total.index_add_(0, dst[part], msg)
        count = total.new_zeros(n_dst).index_add_(0, dst, torch.ones_like(dst, dtype=total.dtype))
        mean = total / count.clamp(min=1.0).unsqueeze(-1)
        degree = count if in_degree is None else in_degree.to(total.dtype)
        scaled = mean * torch.log1p(degree).unsqueeze(-1)
        out: Tensor = self.lin_agg(torch.cat([mean, scaled], dim=-1))
        return out


class HeteroEdgeSAGE(nn.Module):
    """Input projections per node type, ``layers`` hetero edge-SAGE steps, an MLP head."""

    NAME = "hetero_edge_sage"

    def __init__(
        self,
        in_dims: dict[str, int],
        edge_dims: dict[EdgeType, int],
        hidden: int = 64,
        layers: int = 2,
        dropout: float = 0.1,
        ego: dict[str, int] | None = None,
    ) -> None:
        super().__init__()
        self.config: dict[str, Any] = {
            "in_dims": dict(in_dims),
            "edge_dims": {_key(k): v for k, v in edge_dims.items()},
            "hidden": hidden,
            "layers": layers,
            "dropout": dropout,
        }
        # Ego identifiers on the trade graph (gnn/models/ego.py): {"hops", "hub_degree",
        # "max_nodes"}; their encoder's centre state joins the head's input.
        self.ego: EgoTradeEncoder | None = None
        if ego is not None:
            self.config["ego"] = dict(ego)
            self.ego = EgoTradeEncoder(
                hidden, edge_dims[TRADE], layers=ego["hops"], hops=ego["hops"],
                hub_degree=ego["hub_degree"], max_nodes=ego["max_nodes"], dropout=dropout,
            )  # fmt: skip
        self.edge_types = list(edge_dims)
        self.inp = nn.ModuleDict({t: nn.Linear(d, hidden) for t, d in in_dims.items()})
        self.convs = nn.ModuleList(
            nn.ModuleDict(
                {_key(et): EdgeSAGEConv(hidden, hidden, d, hidden) for et, d in edge_dims.items()}
            )
            for _ in range(layers)
        )
        self.norms = nn.ModuleList(
            nn.ModuleDict({t: nn.LayerNorm(hidden) for t in in_dims}) for _ in range(layers)
        )
        self.dropout = dropout
        parts = 3 if self.ego is not None else 2
        self.head = nn.Sequential(
            nn.Linear(parts * hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1)
        )

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> HeteroEdgeSAGE:
        edge_dims: dict[EdgeType, int] = {
            (a, b, c): v
            for (a, b, c), v in ((tuple(k.split("|")), v) for k, v in config["edge_dims"].items())
        }
        return cls(
            config["in_dims"],
            edge_dims,
            hidden=config["hidden"],
            layers=config["layers"],
            dropout=config["dropout"],
            ego=config.get("ego"),
        )

    def embed(
        self,
        x_dict: dict[str, Tensor],
        edge_index_dict: dict[EdgeType, Tensor],
        edge_attr_dict: dict[EdgeType, Tensor],
        in_degree_dict: dict[EdgeType, Tensor] | None = None,
    ) -> tuple[Tensor, Tensor]:
        """(input projection, final embedding) of the enterprises, each ``[N, hidden]``;
        ``in_degree_dict``: per edge type, its targets' whole-graph in-degree (a sampled
        subgraph's, see ``EdgeSAGEConv.aggregate``)."""
        h = {t: torch.relu(self.inp[t](x)) for t, x in x_dict.items()}
        h0 = h["enterprise"]
        last = len(self.convs) - 1
        for layer, (convs_m, norms_m) in enumerate(zip(self.convs, self.norms, strict=True)):
            convs: nn.ModuleDict = convs_m  # type: ignore[assignment]
            norms: nn.ModuleDict = norms_m  # type: ignore[assignment]
            upd: dict[str, Tensor] = {}
            roots: dict[str, Tensor] = {}
            for et in self.edge_types:
                if et not in edge_index_dict:
                    continue
                # The last layer's person, address and phone states are never read: only
                # the enterprises' go to the head. Skipping them saves a fifth of the work.
                if layer == last and et[2] != "enterprise":
                    continue
                src_t, _, dst_t = et
                conv: EdgeSAGEConv = convs[_key(et)]  # type: ignore[assignment]
                out = conv.aggregate(
                    h[src_t],
                    h[dst_t].shape[0],
                    edge_index_dict[et],
                    edge_attr_dict[et],
                    None if in_degree_dict is None else in_degree_dict[et],
                )
                upd[dst_t] = upd[dst_t] + out if dst_t in upd else out
                w = conv.lin_root.weight
                roots[dst_t] = roots[dst_t] + w if dst_t in roots else w
            # Σ_et W_et x equals (Σ_et W_et) x: one product per node type, not per relation.
            for t, w in roots.items():
                upd[t] = upd[t] + h[t] @ w.t()
            h = {
                t: norms[t](
                    h[t] + nn.functional.dropout(torch.relu(upd[t]), self.dropout, self.training)
                )
                if t in upd
                else h[t]
                for t in h
            }
        return h0, h["enterprise"]

    def forward(
        self,
        x_dict: dict[str, Tensor],
        edge_index_dict: dict[EdgeType, Tensor],
        edge_attr_dict: dict[EdgeType, Tensor],
        in_degree_dict: dict[EdgeType, Tensor] | None = None,
    ) -> Tensor:
        h0, h = self.embed(x_dict, edge_index_dict, edge_attr_dict, in_degree_dict)
        parts = [h0, h]
        if self.ego is not None:
            if TRADE in edge_index_dict:
                parts.append(self.ego(h0, edge_index_dict[TRADE], edge_attr_dict[TRADE]))
            else:
                parts.append(torch.zeros_like(h0))
        logits: Tensor = self.head(torch.cat(parts, dim=-1)).squeeze(-1)
        return logits
