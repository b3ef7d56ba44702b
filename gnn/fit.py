"""Fitting and applying the GNN: full-graph training on CPU by default, deterministic.

Graphs of up to a few hundred thousand enterprises fit in memory whole, so each epoch is one
forward and backward pass over every training graph; this is faster on a CPU than neighbour
sampling and has no sampling noise. Labels may be soft (probabilities), which is how the
default model learns Monte-Carlo cascade probabilities.

Larger graphs train in mini-batches of sampled neighbourhoods (``GnnConfig.batch_size``,
``gnn.minibatch``), in one process or data-parallel over ``GnnConfig.workers`` processes
(``gnn.distributed``); ``fit_gnn`` picks the way from the config.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from numpy.typing import NDArray
from torch_geometric.data import HeteroData

from chainlens.logs import get_logger
from gnn.dataset import ChainGraph
from gnn.hetero import edge_dims, to_hetero
from gnn.models.edge_sage import HeteroEdgeSAGE

log = get_logger(__name__)


@dataclass
class GnnConfig:
    hidden: int = 64
    layers: int = 2
    dropout: float = 0.1
    epochs: int = 150
    lr: float = 0.01
    weight_decay: float = 1e-5
    seed: int = 0
    threads: int = 1
    # Ego identifiers on the trade graph (gnn/models/ego.py; Egressy et al., AAAI 2024): each
    # firm's neighbourhood of `ego_hops` trade links, marked at its centre, through firms of
    # at most `ego_hub_degree` counterparties, at most `ego_max_nodes` firms.
    ego_ids: bool = False
    ego_hops: int = 2  # chosen on validation seeds 111, 112: 0.907 against 0.856 with 3
    ego_hub_degree: int = 50
    ego_max_nodes: int = 64
    # Mini-batch training (gnn/minibatch.py): 0 trains full-graph; otherwise seed firms per
    # batch, each layer's messages from at most `fanout[i]` sampled neighbours per node
    # (fanout[0]: the seeds' own). `workers` > 1: data-parallel processes (gnn/distributed.py),
    # which implies mini-batches (`batch_size` 0 then means DEFAULT_BATCH_SIZE).
    batch_size: int = 0
    fanout: tuple[int, ...] = (15, 10)
    workers: int = 1


DEFAULT_BATCH_SIZE = 1024


@dataclass
class FittedGnn:
    model: HeteroEdgeSAGE
    feature_mean: NDArray[np.float32]
    feature_std: NDArray[np.float32]
    losses: list[float] = field(default_factory=list)


def feature_stats(graphs: list[ChainGraph]) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    x = np.vstack([g.x for g in graphs])
    mean = x.mean(axis=0).astype(np.float32)
    std = x.std(axis=0).astype(np.float32)
    return mean, np.where(std > 1e-6, std, 1.0).astype(np.float32)


def _inputs(data: HeteroData) -> tuple[dict, dict, dict]:  # type: ignore[type-arg]
    return data.x_dict, data.edge_index_dict, data.edge_attr_dict


@dataclass
class Prepared:
    """What every way of fitting starts from: standardised graphs, targets, a fresh model."""

    model: HeteroEdgeSAGE
    datas: list[HeteroData]
    ys: list[torch.Tensor]
    ms: list[torch.Tensor]
    offs: list[torch.Tensor]
    ws: list[torch.Tensor] | None
    pos_weight: torch.Tensor
    mean: NDArray[np.float32]
    std: NDArray[np.float32]


def prepare(
    graphs: list[ChainGraph],
    labels: list[NDArray[np.float64]],
    cfg: GnnConfig,
    *,
    masks: list[NDArray[np.bool_]] | None = None,
    shuffle_edges_seed: int | None = None,
    balance: bool = True,
    offsets: list[NDArray[np.float64]] | None = None,
    weights: list[NDArray[np.float64]] | None = None,
) -> Prepared:
    """Feature statistics, ``HeteroData`` per graph, label tensors and a model seeded with
    ``cfg.seed`` (arguments as ``fit_gnn``'s)."""
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    mean, std = feature_stats(graphs)
    datas = [
        to_hetero(g, feature_mean=mean, feature_std=std, shuffle_edges_seed=shuffle_edges_seed)
        for g in graphs
    ]
    ys = [torch.as_tensor(y, dtype=torch.float32) for y in labels]
    offs = (
        [torch.as_tensor(o, dtype=torch.float32) for o in offsets]
        if offsets is not None
        else [torch.zeros_like(y) for y in ys]
    )
    ms = [
        torch.as_tensor(m, dtype=torch.bool)
        if m is not None
        else torch.ones_like(y, dtype=torch.bool)
        for m, y in zip(masks or [None] * len(ys), ys, strict=True)  # type: ignore[list-item]
    ]
    pos = float(sum((y[m]).sum() for y, m in zip(ys, ms, strict=True)))
    total = float(sum(m.sum() for m in ms))
    # Rare positives weigh more (capped); soft targets (probabilities) are left unweighted.
    ratio = (total - pos) / max(pos, 1.0) if balance else 1.0
    pos_weight = torch.tensor(min(50.0, max(1.0, ratio)))
    first = datas[0]
    model = HeteroEdgeSAGE(
        {t: int(first[t].x.shape[1]) for t in first.node_types},
        edge_dims(first),
        hidden=cfg.hidden,
        layers=cfg.layers,
        dropout=cfg.dropout,
        ego={"hops": cfg.ego_hops, "hub_degree": cfg.ego_hub_degree,
             "max_nodes": cfg.ego_max_nodes} if cfg.ego_ids else None,
    )  # fmt: skip
    ws = [torch.as_tensor(w, dtype=torch.float32) for w in weights] if weights else None
    return Prepared(model, datas, ys, ms, offs, ws, pos_weight, mean, std)


def fit_gnn(
    graphs: list[ChainGraph],
    labels: list[NDArray[np.float64]],
    config: GnnConfig | None = None,
    *,
    masks: list[NDArray[np.bool_]] | None = None,
    shuffle_edges_seed: int | None = None,
    balance: bool = True,
    offsets: list[NDArray[np.float64]] | None = None,
    weights: list[NDArray[np.float64]] | None = None,
) -> FittedGnn:
    """Train a fresh model on ``graphs`` with per-enterprise ``labels`` in [0, 1].

    ``masks`` selects the enterprises whose labels count (e.g. firms not yet defaulted);
    ``offsets`` are logits added to the model's output (a prior it learns to correct);
    ``weights`` weigh each enterprise's loss (e.g. unlabelled firms as uncertain negatives).
    """
    cfg = config or GnnConfig()
    if cfg.workers > 1:
        from gnn.distributed import fit_distributed

        return fit_distributed(graphs, labels, cfg, masks=masks,
                               shuffle_edges_seed=shuffle_edges_seed, balance=balance,
                               offsets=offsets, weights=weights).fitted  # fmt: skip
    prep = prepare(graphs, labels, cfg, masks=masks, shuffle_edges_seed=shuffle_edges_seed,
                   balance=balance, offsets=offsets, weights=weights)  # fmt: skip
    if cfg.batch_size > 0:
        from gnn.minibatch import fit_minibatch

        return fit_minibatch(prep, cfg)
    model, datas, ys, ms, offs = prep.model, prep.datas, prep.ys, prep.ms, prep.offs
    mean, std, pos_weight = prep.mean, prep.std, prep.pos_weight
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.epochs)
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    ws = prep.ws
    weighted = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight, reduction="none")
    losses: list[float] = []
    model.train()
    for epoch in range(cfg.epochs):
        opt.zero_grad()
        loss = torch.zeros(())
        for k, (data, y, m, off) in enumerate(zip(datas, ys, ms, offs, strict=True)):
            logits = model(*_inputs(data)) + off
            if ws is None:
                loss = loss + loss_fn(logits[m], y[m]) / len(datas)
            else:  # one weighted mean over every graph's selected enterprises
                w = ws[k][m]
                total_w = sum(float(x[mm].sum()) for x, mm in zip(ws, ms, strict=True))
                loss = loss + (weighted(logits[m], y[m]) * w).sum() / max(total_w, 1e-9)
        loss.backward()  # type: ignore[no-untyped-call]
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
        if epoch % 50 == 0:
            log.debug("gnn epoch", epoch=epoch, loss=round(losses[-1], 5))
    model.eval()
    return FittedGnn(model, mean, std, losses)


@torch.no_grad()
def predict_gnn(
    fitted: FittedGnn | tuple[HeteroEdgeSAGE, NDArray[np.float32], NDArray[np.float32]],
    graph: ChainGraph,
    *,
    shuffle_edges_seed: int | None = None,
    calibration: tuple[float, float] | None = None,
    offset: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    """Probabilities per enterprise of ``graph`` (``offset``: as given to ``fit_gnn``)."""
    model, mean, std = (
        (fitted.model, fitted.feature_mean, fitted.feature_std)
        if isinstance(fitted, FittedGnn)
        else fitted
    )
    model.eval()
    data = to_hetero(
        graph, feature_mean=mean, feature_std=std, shuffle_edges_seed=shuffle_edges_seed
    )
    logits = model(*_inputs(data)).double()
    if offset is not None:
        logits = logits + torch.as_tensor(offset, dtype=torch.float64)
    if calibration is not None:
        a, b = calibration
        logits = a * logits + b
    return np.asarray(torch.sigmoid(logits).numpy(), dtype=np.float64)


def logits_gnn(fitted: FittedGnn, graph: ChainGraph) -> NDArray[np.float64]:
    with torch.no_grad():
        data = to_hetero(graph, feature_mean=fitted.feature_mean, feature_std=fitted.feature_std)
        return np.asarray(fitted.model(*_inputs(data)).double().numpy(), dtype=np.float64)
