"""Training beyond one process: neighbour-sampled mini-batches and data-parallel workers.

On the small generated worlds of ``conftest.py``: the sampler's subgraphs are real pieces of
the graph within their fanout, mini-batch training reaches the full-graph model's PR-AUC on
a held-out world, and two ``torch.distributed`` processes (gloo, CPU) end with the same
parameters and a model the registry loads and scores with.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score
from torch_geometric.loader import NodeLoader

from gnn.baselines import TreeModel
from gnn.dataset import ChainGraph, build_graph
from gnn.distributed import fit_distributed
from gnn.errors import InvalidInput
from gnn.fit import GnnConfig, feature_stats, fit_gnn, predict_gnn
from gnn.hetero import to_hetero
from gnn.labels import read_labels, truth_as_of
from gnn.minibatch import ChainNeighborSampler, batch_plan
from gnn.registry import TaskModel, load_bundle, save_bundle
from gnn.scoring import predict_task


def _world(folder: Path) -> tuple[ChainGraph, np.ndarray]:
    g = build_graph(folder / "data", truth_as_of(folder / "truth"))
    return g, read_labels(folder / "truth", g).fraud


def test_sampled_batches_are_pieces_of_the_graph_within_the_fanout(
    worlds: dict[int, Path],
) -> None:
    g, _ = _world(worlds[11])
    mean, std = feature_stats([g])
    data = to_hetero(g, feature_mean=mean, feature_std=std)
    fanout = (3, 2)
    seeds = torch.arange(5, 69)

    def sample(seed: int):  # type: ignore[no-untyped-def]
        loader = NodeLoader(
            data,
            node_sampler=ChainNeighborSampler(data, fanout, seed=seed),
            input_nodes="enterprise",
        )
        return loader(seeds)

    batch = sample(7)
    ent = batch["enterprise"]
    assert ent.batch_size == seeds.numel()
    assert torch.equal(ent.n_id[: seeds.numel()], seeds)  # the seeds come first, in order
    assert torch.equal(ent.x, data["enterprise"].x[ent.n_id])
    sampled_edges = 0
    for et in batch.edge_types:
        src_t, _, dst_t = et
        ei, e_id = batch[et].edge_index, batch[et].e_id
        sampled_edges += e_id.numel()
        # Every sampled edge is an edge of the graph, with its own features.
        whole = data[et].edge_index[:, e_id]
        assert torch.equal(batch[src_t].n_id[ei[0]], whole[0])
        assert torch.equal(batch[dst_t].n_id[ei[1]], whole[1])
        assert torch.equal(batch[et].edge_attr, data[et].edge_attr[e_id])
        assert e_id.unique().numel() == e_id.numel()
        # Sorted by target, and no target has more edges of a relation than the first hop's
        # fanout (later hops sample fewer per node).
        assert bool((ei[1][1:] >= ei[1][:-1]).all())
        if ei.shape[1]:
            assert int(torch.bincount(ei[1]).max()) <= max(fanout)
        # The seeds' incoming edges: all of them when they have at most fanout[0], else
        # between one and fanout[0] (draws with replacement, duplicates dropped).
        if dst_t == "enterprise":
            seed_in = ei[1] < seeds.numel()
            per_seed = torch.bincount(ei[1][seed_in], minlength=seeds.numel())
            whole_in = torch.bincount(data[et].edge_index[1], minlength=g.n)[seeds]
            few = whole_in <= fanout[0]
            assert torch.equal(per_seed[few], whole_in[few])
            assert bool(((per_seed[~few] >= 1) & (per_seed[~few] <= fanout[0])).all())
    assert sampled_edges > 0
    # The subgraph is a small part of the graph, and the same seed draws the same subgraph.
    assert batch["enterprise"].num_nodes < g.n
    again = sample(7)
    for et in batch.edge_types:
        assert torch.equal(again[et].e_id, batch[et].e_id)


def test_workers_take_disjoint_equal_shares_of_every_epoch() -> None:
    seeds = [np.arange(0, 101), np.arange(0, 40)]
    plans = [batch_plan(seeds, 16, epoch=3, seed=5, rank=r, world_size=2) for r in (0, 1)]
    assert len(plans[0]) == len(plans[1])  # the same number of steps, as DDP needs
    for k, s in enumerate(seeds):
        shares = [np.concatenate([b for g, b in p if g == k]) for p in plans]
        assert shares[0].size == shares[1].size == -(-s.size // 2)
        assert set(shares[0]) | set(shares[1]) == set(s)
        # Disjoint but for the one firm that pads an odd count.
        assert len(set(shares[0]) & set(shares[1])) == s.size % 2
    assert batch_plan(seeds, 16, 3, 5, 0, 2)[0][1].tolist() == plans[0][0][1].tolist()
    other_epoch = batch_plan(seeds, 16, 4, 5, 0, 2)
    assert [b.tolist() for _, b in other_epoch] != [b.tolist() for _, b in plans[0]]


def test_minibatch_training_reaches_the_full_graph_pr_auc(worlds: dict[int, Path]) -> None:
    train = [_world(worlds[s]) for s in (11, 12)]
    test, y_test = _world(worlds[21])
    graphs, ys = [g for g, _ in train], [y.astype(float) for _, y in train]
    full = fit_gnn(graphs, ys, GnnConfig(epochs=150))
    cfg = GnnConfig(epochs=10, batch_size=256, fanout=(10, 5))
    mini = fit_gnn(graphs, ys, cfg)
    pr_full = average_precision_score(y_test, predict_gnn(full, test))
    pr_mini = average_precision_score(y_test, predict_gnn(mini, test))
    base = float(y_test.mean())
    assert pr_full > 5 * base  # both models learnt something on a world they never saw
    assert pr_mini > 5 * base
    assert abs(pr_mini - pr_full) < 0.05, (pr_mini, pr_full)
    # Same seed, same model.
    again = fit_gnn(graphs, ys, cfg)
    for a, b in zip(mini.model.parameters(), again.model.parameters(), strict=True):
        assert torch.equal(a, b)
    with pytest.raises(InvalidInput):
        fit_gnn(graphs, ys, GnnConfig(epochs=1, batch_size=64, fanout=(5,)))
    with pytest.raises(InvalidInput):
        fit_gnn(graphs, ys, GnnConfig(epochs=1, batch_size=64, ego_ids=True))


def test_two_gloo_processes_train_equal_replicas_the_registry_loads(
    worlds: dict[int, Path], tmp_path: Path
) -> None:
    train = [_world(worlds[s]) for s in (11, 12)]
    test, y_test = _world(worlds[21])
    graphs, ys = [g for g, _ in train], [y.astype(float) for _, y in train]
    cfg = GnnConfig(epochs=6, batch_size=256, fanout=(10, 5), workers=2)
    run = fit_distributed(graphs, ys, cfg)
    assert run.workers == 2 and run.backend == "gloo" and len(run.peak_rss_mb) == 2
    # DDP averaged the gradients: both replicas took the same steps.
    assert run.replica_max_diff == 0.0
    fitted = run.fitted
    assert len(fitted.losses) == cfg.epochs and fitted.losses[-1] < fitted.losses[0]
    p = predict_gnn(fitted, test)
    assert average_precision_score(y_test, p) > 5 * float(y_test.mean())
    version = save_bundle(
        tmp_path,
        {
            "fraud": TaskModel(
                "fraud",
                "gnn",
                gnn=fitted.model,
                feature_mean=fitted.feature_mean,
                feature_std=fitted.feature_std,
            ),
            "default": TaskModel(
                "default", "trees", trees=TreeModel(num_rounds=10).fit(graphs, ys)
            ),
        },
        {"data_hash": graphs[0].source_hash, "config": {"gnn": vars(cfg)}},
    )
    bundle = load_bundle(tmp_path, version)
    np.testing.assert_allclose(predict_task(bundle.models["fraud"], test), p, rtol=1e-5, atol=1e-6)
