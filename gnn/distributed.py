"""Data-parallel GNN training over several processes with ``torch.distributed``.

``fit_distributed`` starts ``cfg.workers`` processes (``spawn``) on this machine, joined by a
TCP rendezvous on a free local port: gloo on CPUs, NCCL when ``device="cuda"`` (one GPU per
worker, ``cuda:rank``). Every worker builds the same model from ``cfg.seed``, wraps it in
``DistributedDataParallel`` and runs ``gnn.minibatch.fit_minibatch`` as its rank: each epoch
it takes its share of the seed firms (``batch_plan``), samples its own neighbourhoods (the
sampler seeded with ``cfg.seed`` and the rank) and after each backward pass the gradients are
averaged over the workers, so every replica takes the same step and they stay equal. Same
config and seed, same model. On CPUs the workers share ``cfg.threads`` (each gets
``threads // workers``, at least one), so that N workers never ask for more cores than one
process would.

The inputs go to the workers once, as a file in a temporary folder; each worker writes its
final parameters, losses and peak memory there, and rank 0's parameters become the returned
model (the others are compared with them: ``DistributedFit.replica_max_diff``).
"""

from __future__ import annotations

import pickle
import socket
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from numpy.typing import NDArray
from torch.multiprocessing.spawn import (
    ProcessExitedException,
    ProcessRaisedException,
    start_processes,
)

from chainlens.logs import get_logger
from gnn.dataset import ChainGraph
from gnn.errors import GnnError, InvalidInput
from gnn.fit import DEFAULT_BATCH_SIZE, FittedGnn, GnnConfig, feature_stats, prepare
from gnn.minibatch import fit_minibatch, peak_rss_mb
from gnn.models.edge_sage import HeteroEdgeSAGE

log = get_logger(__name__)

# How long workers wait for each other at the rendezvous and at each collective.
RENDEZVOUS_TIMEOUT = timedelta(minutes=10)


@dataclass
class DistributedFit:
    fitted: FittedGnn
    workers: int
    backend: str
    seconds: float
    peak_rss_mb: list[float]  # per worker, rank order
    replica_max_diff: float  # largest |parameter difference| between rank 0 and any other


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _worker(rank: int, world_size: int, port: int, folder: str, device: str) -> None:
    """One worker's whole run (the target of ``torch.multiprocessing.spawn``)."""
    root = Path(folder)
    with (root / "inputs.pkl").open("rb") as f:
        inputs: dict[str, Any] = pickle.load(f)
    cfg: GnnConfig = inputs["cfg"]
    if device == "cpu":
        # The workers share the CPU threads one process would use: at two threads each, two
        # workers on a 2-core machine ran each epoch 6-14 times slower than one process.
        cfg = replace(cfg, threads=max(1, cfg.threads // world_size))
    backend = "nccl" if device == "cuda" else "gloo"
    dev = torch.device(f"cuda:{rank}") if device == "cuda" else torch.device("cpu")
    if device == "cuda":
        torch.cuda.set_device(dev)
    dist.init_process_group(backend, init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=world_size, timeout=RENDEZVOUS_TIMEOUT)  # fmt: skip
    try:
        prep = prepare(inputs["graphs"], inputs["labels"], cfg, **inputs["options"])
        del inputs
        from torch.nn.parallel import DistributedDataParallel

        def wrap(model: torch.nn.Module) -> torch.nn.Module:
            # Some parameters get no gradient in a step: the last layer's convolutions into
            # person, address and phone nodes (never read) and relations a batch lacks.
            return DistributedDataParallel(
                model, device_ids=[rank] if device == "cuda" else None,
                find_unused_parameters=True,
            )  # fmt: skip

        fitted = fit_minibatch(prep, cfg, rank=rank, world_size=world_size, wrap=wrap,
                               device=dev)  # fmt: skip
        out = {
            "state": {k: v.cpu() for k, v in fitted.model.state_dict().items()},
            "config": fitted.model.config,
            "losses": fitted.losses,
            "peak_rss_mb": peak_rss_mb(),
        }
        torch.save(out, root / f"rank{rank}.pt")
        dist.barrier()
    finally:
        dist.destroy_process_group()


def fit_distributed(
    graphs: list[ChainGraph],
    labels: list[NDArray[np.float64]],
    config: GnnConfig,
    *,
    masks: list[NDArray[np.bool_]] | None = None,
    shuffle_edges_seed: int | None = None,
    balance: bool = True,
    offsets: list[NDArray[np.float64]] | None = None,
    weights: list[NDArray[np.float64]] | None = None,
    device: str = "cpu",
) -> DistributedFit:
    """Mini-batch training in ``config.workers`` processes (arguments as ``fit_gnn``'s);
    ``device``: ``"cpu"`` (gloo) or ``"cuda"`` (NCCL, one GPU per worker)."""
    workers = config.workers
    if workers < 1:
        raise InvalidInput(f"workers must be at least 1, got {workers}")
    if device not in ("cpu", "cuda"):
        raise InvalidInput(f"device must be cpu or cuda, got {device!r}")
    if device == "cuda" and torch.cuda.device_count() < workers:
        raise InvalidInput(f"{workers} workers need {workers} GPUs, "
                           f"{torch.cuda.device_count()} found")  # fmt: skip
    cfg = replace(config, batch_size=config.batch_size or DEFAULT_BATCH_SIZE)
    options = {"masks": masks, "shuffle_edges_seed": shuffle_edges_seed, "balance": balance,
               "offsets": offsets, "weights": weights}  # fmt: skip
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="chainlens-ddp-") as folder:
        root = Path(folder)
        with (root / "inputs.pkl").open("wb") as f:
            pickle.dump({"graphs": graphs, "labels": labels, "cfg": cfg, "options": options}, f,
                        protocol=pickle.HIGHEST_PROTOCOL)  # fmt: skip
        try:
            start_processes(_worker, args=(workers, _free_port(), folder, device),
                               nprocs=workers, join=True, start_method="spawn")  # fmt: skip
        except ProcessRaisedException as e:
            raise GnnError(f"a training worker failed: {e}") from e
        except ProcessExitedException as e:
            raise GnnError(f"a training worker died: {e}") from e
        results = [torch.load(root / f"rank{r}.pt", weights_only=False) for r in range(workers)]
    seconds = time.perf_counter() - t0
    # The model of rank 0, rebuilt from its config, with its final parameters.
    model = HeteroEdgeSAGE.from_config(results[0]["config"])
    model.load_state_dict(results[0]["state"])
    model.eval()
    diff = max(
        (float((a - results[0]["state"][k]).abs().max()) for r in results[1:]
         for k, a in r["state"].items() if a.numel()),
        default=0.0,
    )  # fmt: skip
    mean, std = feature_stats(graphs)
    fitted = FittedGnn(model, mean, std, results[0]["losses"])
    log.info("gnn distributed fit", workers=workers, seconds=round(seconds, 1),
             replica_max_diff=diff)  # fmt: skip
    return DistributedFit(fitted, workers, "nccl" if device == "cuda" else "gloo", seconds,
                          [float(r["peak_rss_mb"]) for r in results], diff)  # fmt: skip


__all__ = ["DistributedFit", "fit_distributed"]
