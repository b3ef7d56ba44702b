"""Mini-batch training of the GNN on sampled neighbourhoods: memory bounded by the batch.

Full-graph training (``gnn.fit``) keeps every layer's messages of every edge for the backward
pass: at 100k firms about 10 GB, at ten million beyond any machine. Here each step trains on
``batch_size`` seed firms and the subgraph that their outputs depend on, sampled layer by
layer (GraphSAGE, Hamilton et al. 2017): the seeds' incoming edges of every relation, at most
``fanout[0]`` per seed and relation, then at most ``fanout[1]`` per newly reached node, and
so on for every layer. Activations are then bounded by ``batch_size * prod(fanout)`` nodes
per relation, whatever the graph's size; the graph itself (features and edges) stays in
memory once per process.

Sampling goes through PyG's own loader: ``torch_geometric.loader.NodeLoader`` (the loader
behind ``NeighborLoader``) with a sampler of this module's, ``ChainNeighborSampler``, because
PyG's ``NeighborSampler`` needs the compiled ``pyg-lib`` or ``torch-sparse``, neither of
which has a wheel for this torch (2.9) on PyPI (``pyg-lib`` is not there at all,
``torch-sparse`` only as source). The sampler is numpy over a CSR of each relation by
target; a node of more than ``k`` edges gets ``k`` draws with replacement, duplicates
dropped (so up to ``k`` distinct edges), where PyG's samples exactly ``k`` without
replacement. PyG's ``filter_hetero_data`` then cuts features and edge features.

A sampled mean estimates the whole neighbourhood's mean, but the model's log-degree scale
(``EdgeSAGEConv.aggregate``) would see the capped count; each batch therefore carries its
targets' whole-graph in-degrees (``in_degree_dict``), so that a model trained here scores
full graphs (``gnn.fit.predict_gnn``) as it was trained.

One process: ``fit_minibatch(prepare(...), cfg)``; several: ``gnn.distributed``, which calls
the same loop in every worker with its rank (each takes its share of the seeds of every
epoch) and the model wrapped in ``DistributedDataParallel``.
"""

from __future__ import annotations

import math
import resource
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import Tensor
from torch_geometric.data import HeteroData
from torch_geometric.loader import NodeLoader
from torch_geometric.sampler import (
    BaseSampler,
    EdgeSamplerInput,
    HeteroSamplerOutput,
    NodeSamplerInput,
)

from chainlens.logs import get_logger
from gnn.errors import InvalidInput
from gnn.fit import DEFAULT_BATCH_SIZE, FittedGnn, GnnConfig, Prepared

log = get_logger(__name__)

EdgeType = tuple[str, str, str]
SEED_TYPE = "enterprise"


class ChainNeighborSampler(BaseSampler):  # type: ignore[misc]
    """Layer-wise neighbour sampling of a ``HeteroData`` toward the seeds (see the module
    docstring); ``seed`` makes the draws reproducible, batch after batch."""

    def __init__(self, data: HeteroData, fanout: Sequence[int], seed: int = 0) -> None:
        if not fanout or any(k < 1 for k in fanout):
            raise InvalidInput(f"fanout must be positive per layer, got {list(fanout)}")
        self.fanout = [int(k) for k in fanout]
        self.rng = np.random.default_rng(seed)
        self.num_nodes = {t: int(data[t].num_nodes) for t in data.node_types}
        # Per relation, its edges grouped by target: ptr[v]..ptr[v+1] index `src` and `eid`.
        self.csr: dict[EdgeType, tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]]
        self.csr = {}
        for et in data.edge_types:
            ei = data[et].edge_index.numpy()
            n_dst = self.num_nodes[et[2]]
            order = np.argsort(ei[1], kind="stable")
            ptr = np.zeros(n_dst + 1, dtype=np.int64)
            np.cumsum(np.bincount(ei[1], minlength=n_dst), out=ptr[1:])
            self.csr[et] = (ptr, ei[0][order].astype(np.int64), order.astype(np.int64))
        # Global id -> position in the batch being built, -1 when not in it (reset after
        # each batch at the touched entries only).
        self._pos = {t: np.full(n, -1, dtype=np.int64) for t, n in self.num_nodes.items()}

    def in_degree(self) -> dict[EdgeType, Tensor]:
        """Each relation's whole-graph in-degree per target node."""
        return {et: torch.from_numpy(np.diff(ptr).astype(np.float32))
                for et, (ptr, _, _) in self.csr.items()}  # fmt: skip

    def _draw(
        self, ptr: NDArray[np.int64], frontier: NDArray[np.int64], k: int
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """(edge positions in the CSR, index into ``frontier`` of each edge's target)."""
        start = ptr[frontier]
        deg = ptr[frontier + 1] - start
        small = deg <= k
        # Every edge of the nodes with at most k.
        d_small = deg[small]
        owner_small = np.repeat(np.flatnonzero(small), d_small)
        first = np.repeat(np.cumsum(d_small) - d_small, d_small)
        pos_small = np.repeat(start[small], d_small) + (np.arange(d_small.sum()) - first)
        # k draws with replacement for the others, duplicates dropped.
        big = np.flatnonzero(~small)
        owner_big = np.repeat(big, k)
        draws = np.floor(self.rng.random(owner_big.size) * deg[owner_big]).astype(np.int64)
        pos_big = start[owner_big] + draws
        pos_big, keep = np.unique(pos_big, return_index=True)
        return (np.concatenate([pos_small, pos_big]),
                np.concatenate([owner_small, owner_big[keep]]))  # fmt: skip

    def sample_from_nodes(self, index: NodeSamplerInput, **kwargs: Any) -> HeteroSamplerOutput:
        seed_type = index.input_type or SEED_TYPE
        seeds = index.node.numpy().astype(np.int64)
        if np.unique(seeds).size != seeds.size:
            raise InvalidInput("a batch's seed nodes must be distinct")
        nodes: dict[str, list[NDArray[np.int64]]] = {t: [] for t in self.num_nodes}
        count = dict.fromkeys(self.num_nodes, 0)
        rows: dict[EdgeType, list[NDArray[np.int64]]] = {et: [] for et in self.csr}
        cols: dict[EdgeType, list[NDArray[np.int64]]] = {et: [] for et in self.csr}
        edges: dict[EdgeType, list[NDArray[np.int64]]] = {et: [] for et in self.csr}
        pos = self._pos

        def add(t: str, ids: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
            """Batch positions of ``ids``, and those of them new to the batch."""
            new = np.unique(ids[pos[t][ids] < 0])
            pos[t][new] = count[t] + np.arange(new.size)
            count[t] += new.size
            nodes[t].append(new)
            return pos[t][ids], new

        pos[seed_type][seeds] = np.arange(seeds.size)
        count[seed_type] = seeds.size
        nodes[seed_type].append(seeds)
        frontier: dict[str, NDArray[np.int64]] = {seed_type: seeds}
        try:
            for k in self.fanout:
                reached: dict[str, list[NDArray[np.int64]]] = {}
                for et, (ptr, src, eid) in self.csr.items():
                    src_t, _, dst_t = et
                    f = frontier.get(dst_t)
                    if f is None or f.size == 0:
                        continue
                    at, owner = self._draw(ptr, f, k)
                    if at.size == 0:
                        continue
                    local_src, new = add(src_t, src[at])
                    rows[et].append(local_src)
                    cols[et].append(pos[dst_t][f[owner]])
                    edges[et].append(eid[at])
                    reached.setdefault(src_t, []).append(new)
                frontier = {t: np.concatenate(v) for t, v in reached.items()}
        finally:
            node = {t: np.concatenate(v) if v else np.zeros(0, np.int64) for t, v in nodes.items()}
            for t, ids in node.items():
                pos[t][ids] = -1
        row: dict[EdgeType, Tensor] = {}
        col: dict[EdgeType, Tensor] = {}
        edge: dict[EdgeType, Tensor | None] = {}
        for et in self.csr:
            if not rows[et]:
                continue
            r, c, e = (np.concatenate(v) for v in (rows[et], cols[et], edges[et]))
            by_target = np.argsort(c, kind="stable")  # the model scatters in target order
            row[et] = torch.from_numpy(r[by_target])
            col[et] = torch.from_numpy(c[by_target])
            edge[et] = torch.from_numpy(e[by_target])
        return HeteroSamplerOutput(
            node={t: torch.from_numpy(v) for t, v in node.items()},
            row=row,
            col=col,
            edge=edge,
            batch=None,
            num_sampled_nodes=None,
            num_sampled_edges=None,
            metadata=(index.input_id, None),
        )

    def sample_from_edges(self, index: EdgeSamplerInput, neg_sampling: Any = None) -> Any:
        raise NotImplementedError("the GNN trains on nodes only")


def batch_plan(
    seeds: Sequence[NDArray[np.int64]],
    batch_size: int,
    epoch: int,
    seed: int,
    rank: int = 0,
    world_size: int = 1,
) -> list[tuple[int, NDArray[np.int64]]]:
    """One epoch's batches for worker ``rank`` of ``world_size``: (graph index, seed firms).

    Each graph's seeds are shuffled with (``seed``, ``epoch``, graph) alone, so every worker
    draws the same permutation and takes every ``world_size``-th firm of it, after padding it
    (with its first firms) to a multiple of ``world_size``: the workers' shares are disjoint
    but for the padding, equal in size, hence the same number of steps each, which
    ``DistributedDataParallel`` needs. The batches of all graphs are then interleaved in an
    order drawn the same way.
    """
    out: list[tuple[int, NDArray[np.int64]]] = []
    for k, s in enumerate(seeds):
        if s.size == 0:
            continue
        perm = s[np.random.default_rng([seed, epoch, k]).permutation(s.size)]
        total = math.ceil(perm.size / world_size) * world_size
        perm = np.resize(perm, total)  # repeats from the start
        share = perm[rank::world_size]
        out += [(k, share[i : i + batch_size]) for i in range(0, share.size, batch_size)]
    order = np.random.default_rng([seed, epoch, len(seeds)]).permutation(len(out))
    return [out[i] for i in order]


def peak_rss_mb() -> float:
    """This process's peak resident memory (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fit_minibatch(
    prep: Prepared,
    cfg: GnnConfig,
    *,
    rank: int = 0,
    world_size: int = 1,
    wrap: Callable[[torch.nn.Module], torch.nn.Module] | None = None,
    device: torch.device | None = None,
) -> FittedGnn:
    """Train ``prep.model`` for ``cfg.epochs`` passes over the seed firms (those of
    ``prep.ms``), ``cfg.batch_size`` per step in all, as worker ``rank`` of ``world_size``
    (which takes ``batch_size / world_size`` of them);
    ``wrap``: e.g. ``DistributedDataParallel``, applied to the model before training."""
    if cfg.ego_ids:
        raise InvalidInput("ego identifiers need each firm's whole neighbourhood: "
                           "train them full-graph (batch_size 0, one worker)")  # fmt: skip
    if len(cfg.fanout) != cfg.layers:
        raise InvalidInput(f"fanout {list(cfg.fanout)} needs one entry per layer ({cfg.layers})")
    dev = device or torch.device("cpu")
    # A step's batch in all: each worker takes its share of it.
    batch_size = math.ceil((cfg.batch_size or DEFAULT_BATCH_SIZE) / world_size)
    model = prep.model.to(dev)
    net = wrap(model) if wrap is not None else model
    samplers = [ChainNeighborSampler(d, cfg.fanout, seed=cfg.seed * 1000 + rank)
                for d in prep.datas]  # fmt: skip
    degrees = [s.in_degree() for s in samplers]
    loaders = [NodeLoader(d, node_sampler=s, input_nodes=SEED_TYPE)
               for d, s in zip(prep.datas, samplers, strict=True)]  # fmt: skip
    seeds = [np.flatnonzero(m.numpy()).astype(np.int64) for m in prep.ms]
    total_w = sum(float(w[m].sum()) for w, m in zip(prep.ws, prep.ms, strict=True)) \
        if prep.ws is not None else 0.0  # fmt: skip
    n_seeds = sum(s.size for s in seeds)
    steps = len(batch_plan(seeds, batch_size, 0, cfg.seed, rank, world_size))
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, cfg.epochs * steps))
    pos_weight = prep.pos_weight.to(dev)
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    weighted = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight, reduction="none")
    losses: list[float] = []
    net.train()
    for epoch in range(cfg.epochs):
        epoch_loss = 0.0
        plan = batch_plan(seeds, batch_size, epoch, cfg.seed, rank, world_size)
        for k, batch_seeds in plan:
            batch = loaders[k](torch.from_numpy(batch_seeds))
            n_id = batch[SEED_TYPE].n_id
            bs = batch_seeds.size
            deg = {et: degrees[k][et][batch[et[2]].n_id].to(dev) for et in batch.edge_types}
            batch = batch.to(dev)
            logits = net(batch.x_dict, batch.edge_index_dict, batch.edge_attr_dict, deg)[:bs]
            target = n_id[:bs]
            logits = logits + prep.offs[k][target].to(dev)
            y = prep.ys[k][target].to(dev)
            if prep.ws is None:
                loss = loss_fn(logits, y)
            else:  # each batch's share of one weighted mean over all seeds
                w = prep.ws[k][target].to(dev)
                loss = (weighted(logits, y) * w).sum() * (n_seeds / bs) / max(total_w, 1e-9)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
            opt.step()
            sched.step()
            epoch_loss += float(loss.detach()) / max(len(plan), 1)
        losses.append(epoch_loss)
        log.debug("gnn mini-batch epoch", epoch=epoch, rank=rank, loss=round(epoch_loss, 5),
                  steps=len(plan), peak_rss_mb=round(peak_rss_mb()))  # fmt: skip
    model.eval()
    model.to("cpu")
    return FittedGnn(model, prep.mean, prep.std, losses)


__all__ = ["ChainNeighborSampler", "batch_plan", "fit_minibatch", "peak_rss_mb"]
