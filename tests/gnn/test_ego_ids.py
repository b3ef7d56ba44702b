"""Ego identifiers on the trade graph (gnn/models/ego.py): the neighbourhoods they are computed
on, what they let a model tell apart that mean-aggregating message passing cannot, and a model
with them through fitting and the registry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from gnn.dataset import build_graph
from gnn.fit import GnnConfig, fit_gnn, predict_gnn
from gnn.labels import read_labels, truth_as_of
from gnn.models.edge_sage import EdgeSAGEConv
from gnn.models.ego import EgoTradeEncoder, ego_batch
from gnn.registry import TaskModel, load_bundle, save_bundle
from gnn.scoring import predict_task


def _cycles(*lengths: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Disjoint directed cycles of the given lengths: (src, dst, n)."""
    src: list[int] = []
    dst: list[int] = []
    n = 0
    for k in lengths:
        src += [n + i for i in range(k)]
        dst += [n + (i + 1) % k for i in range(k)]
        n += k
    return np.asarray(src), np.asarray(dst), n


def test_neighbourhoods_hold_the_firms_within_reach_and_their_edges() -> None:
    # A 3-cycle 0->1->2->0 and a chain 3->4->5->6, and a hub 7 trading with 0 and 8..67.
    src = np.asarray([0, 1, 2, 3, 4, 5, 7, *range(8, 68)])
    dst = np.asarray([1, 2, 0, 4, 5, 6, 0, *([7] * 60)])
    b = ego_batch(src, dst, 68, hops=2, hub_degree=50, max_nodes=64)
    node, centre = b.node.numpy(), b.centre.numpy()
    edges = b.edge_index.numpy()
    copy_start = np.append(centre, node.size)

    def members(c: int) -> list[int]:
        return sorted(node[centre[c] : copy_start[c + 1]].tolist())

    def original_edges(c: int) -> set[tuple[int, int]]:
        lo, hi = centre[c], copy_start[c + 1]
        inside = (edges[0] >= lo) & (edges[0] < hi)
        return {(int(node[a]), int(node[b])) for a, b in edges[:, inside].T}

    assert b.is_centre.numpy()[centre].tolist() == [1.0] * 68
    assert b.is_centre.sum() == 68
    # Firm 0's neighbourhood: the cycle and the hub, not beyond the hub (61 counterparties).
    assert members(0) == [0, 1, 2, 7]
    assert original_edges(0) == {(0, 1), (1, 2), (2, 0), (7, 0)}
    assert members(4) == [3, 4, 5, 6]
    assert original_edges(4) == {(3, 4), (4, 5), (5, 6)}
    # The hub's own neighbourhood is cut at max_nodes, nearest first.
    assert len(members(7)) == 64 and 0 in members(7)
    # Each copied edge names its trade edge.
    ids = b.edge_id.numpy()
    assert (src[ids] == node[edges[0]]).all() and (dst[ids] == node[edges[1]]).all()


def test_ego_ids_tell_short_cycles_from_long_ones_where_mean_aggregation_cannot() -> None:
    """Firms on two directed 3-cycles and on one 6-cycle, all alike but for the cycles: every
    firm has one payer and one payee, so message passing without identifiers gives all of
    them the same state (1-WL cannot tell them apart); with the centre marked, three layers
    see the marker come back after three steps on a 3-cycle only."""
    torch.manual_seed(0)
    src, dst, n = _cycles(3, 3, 6)
    edge_index = torch.from_numpy(np.stack([src, dst]))
    attr = torch.ones(src.size, 1)
    h = torch.ones(n, 8)
    ego = EgoTradeEncoder(8, 1, layers=3, hops=3, hub_degree=50, max_nodes=64).eval()
    with torch.no_grad():
        out = ego(h, edge_index, attr)
        plain = [EdgeSAGEConv(8, 8, 1, 8).eval() for _ in range(3)]
        x = h
        for conv in plain:
            x = torch.relu(conv(x, x, edge_index, attr))
    short, long = out[:6], out[6:]
    assert torch.allclose(short, short[0].expand_as(short), atol=1e-5)
    assert torch.allclose(long, long[0].expand_as(long), atol=1e-5)
    assert (short[0] - long[0]).abs().max() > 1e-3
    assert torch.allclose(x, x[0].expand_as(x), atol=1e-6)  # no identifiers: all the same


def test_a_gnn_with_ego_ids_learns_and_round_trips_the_registry(
    worlds: dict[int, Path], tmp_path: Path
) -> None:
    graphs = [build_graph(worlds[s] / "data", truth_as_of(worlds[s] / "truth")) for s in (11, 21)]
    train, test = graphs
    y = read_labels(worlds[11] / "truth", train).fraud.astype(float)
    y_test = read_labels(worlds[21] / "truth", test).fraud
    fitted = fit_gnn([train], [y], GnnConfig(epochs=25, hidden=16, ego_ids=True, ego_hops=2))
    assert fitted.model.ego is not None and fitted.losses[-1] < fitted.losses[0]
    p = predict_gnn(fitted, test)
    assert p[y_test].mean() > p[~y_test].mean()
    version = save_bundle(tmp_path, {"fraud": TaskModel(
        "fraud", "gnn", gnn=fitted.model, feature_mean=fitted.feature_mean,
        feature_std=fitted.feature_std)}, {"data_hash": train.source_hash})  # fmt: skip
    loaded = load_bundle(tmp_path, version).models["fraud"]
    assert loaded.gnn is not None and loaded.gnn.config["ego"]["hops"] == 2
    np.testing.assert_allclose(predict_task(loaded, test), p, rtol=1e-5, atol=1e-6)
