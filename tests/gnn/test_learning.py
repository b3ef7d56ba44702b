"""Features, labels, models and the registry on small generated worlds (no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from gnn import baselines
from gnn.baselines import TreeModel, neighbour_features, rule_score
from gnn.dataset import ENTERPRISE_FEATURES, build_graph
from gnn.errors import ModelNotFound
from gnn.fit import GnnConfig, fit_gnn, predict_gnn
from gnn.hetero import edge_dims, to_hetero
from gnn.labels import read_labels, truth_as_of
from gnn.registry import Bundle, TaskModel, list_versions, load_bundle, save_bundle
from gnn.scoring import predict_task, score_tables
from gnn.targets import cascade_pd, contagion_prior, standalone_pd


def _graph(folder: Path, shift: int = 0):  # type: ignore[no-untyped-def]
    return build_graph(folder / "data", truth_as_of(folder / "truth") - timedelta(days=shift))


def test_features_are_point_in_time(worlds: dict[int, Path]) -> None:
    folder = worlds[11]
    now = _graph(folder)
    year_ago = _graph(folder, 365)
    assert now.x.shape == (600, len(ENTERPRISE_FEATURES))
    assert np.isfinite(now.x).all()
    # A year earlier there is less trade and never more of it.
    assert year_ago.relations["trade"].size < now.relations["trade"].size
    assert (year_ago.feature("sales_n") <= now.feature("sales_n") + 1e-6).all()
    # Ages shrink by one year for firms founded more than a year before.
    old = year_ago.feature("age_years") > 0
    np.testing.assert_allclose(
        now.feature("age_years")[old] - year_ago.feature("age_years")[old],
        365 / 365.25,
        atol=1e-4,
    )


def test_labels_follow_the_truth(worlds: dict[int, Path]) -> None:
    folder = worlds[11]
    g = _graph(folder)
    labels = read_labels(folder / "truth", g)
    assert labels.rings and all(len(m) >= 3 for m in labels.rings.values())
    assert {"ring", "shell"} <= set(labels.pattern[labels.fraud])
    # Fraud positives are exactly the firms that sold without shipping (docs/generator.md:
    # unshipped invoices are the void ones plus the planted ones).
    assert labels.default.sum() > 0 and not (labels.default & ~labels.alive).any()


def test_to_hetero_has_both_directions(worlds: dict[int, Path]) -> None:
    g = _graph(worlds[11])
    data = to_hetero(g)
    fwd_store = data["enterprise", "sells_to", "enterprise"]
    rev_store = data["enterprise", "buys_from", "enterprise"]

    def edges(ei: torch.Tensor, attr: torch.Tensor, flip: bool = False) -> list[tuple]:  # type: ignore[type-arg]
        a, b = (ei[1], ei[0]) if flip else (ei[0], ei[1])
        return sorted(zip(a.tolist(), b.tolist(), map(tuple, attr.tolist()), strict=True))

    fwd, rev = fwd_store.edge_index, rev_store.edge_index
    assert fwd.shape[1] == g.relations["trade"].size > 0
    # The same edges with the same features both ways, each direction sorted by its target.
    assert edges(fwd, fwd_store.edge_attr) == edges(rev, rev_store.edge_attr, flip=True)
    rel = g.relations["trade"]
    assert edges(fwd, fwd_store.edge_attr) == edges(
        torch.as_tensor(np.stack([rel.src, rel.dst])),
        torch.as_tensor(rel.attr, dtype=torch.float32),
    )
    assert (fwd[1].diff() >= 0).all() and (rev[1].diff() >= 0).all()
    shuffled = to_hetero(g, shuffle_edges_seed=1)["enterprise", "sells_to", "enterprise"]
    assert sorted(shuffled.edge_index[0].tolist()) == sorted(fwd[0].tolist())
    assert edges(shuffled.edge_index, shuffled.edge_attr) != edges(fwd, fwd_store.edge_attr)


def test_neighbour_features_average_the_right_neighbours() -> None:
    from gnn.dataset import ChainGraph, Relation

    x = np.array([[1.0], [3.0], [5.0]], dtype=np.float32)
    empty = Relation(
        "enterprise",
        "enterprise",
        np.zeros(0, np.int64),
        np.zeros(0, np.int64),
        np.zeros((0, 1), np.float32),
        (),
    )
    trade = Relation(
        "enterprise",
        "enterprise",
        np.array([0, 0]),
        np.array([1, 2]),
        np.zeros((2, 1), np.float32),
        ("a",),
    )
    g = ChainGraph(
        as_of=None,
        ids=np.array(["a", "b", "c"], dtype=object),
        x=x,
        feature_names=("f",),  # type: ignore[arg-type]
        num_nodes={"enterprise": 3, "person": 0, "address": 0, "phone": 0},
        relations={
            "trade": trade,
            "guarantee": empty,
            "holds": empty,
            "person": empty,
            "address": empty,
            "phone": empty,
        },
        exposure=None,
        equity=None,
        source_hash="",  # type: ignore[arg-type]
    )
    feats = neighbour_features(g)
    # Columns: own, then per view (sells_to, ...) mean, max, log-degree.
    assert feats[0, 1] == pytest.approx(4.0)  # a sells to b and c: mean 4
    assert feats[0, 2] == pytest.approx(5.0)  # max 5
    assert feats[1, 4] == pytest.approx(1.0)  # b buys from a: mean 1
    assert feats[2, 1] == 0.0  # c sells to no one


@pytest.mark.parametrize("entries", [1, 3, 7, 1 << 21])
def test_max_aggregation_in_slices_is_the_row_max(
    entries: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Slices of any size (one entry, mid-row boundaries, everything at once) give each row's
    # max over its neighbours, negative values included, and 0 for rows without neighbours.
    monkeypatch.setattr(baselines, "MAX_AGG_ENTRIES", entries)
    rng = np.random.default_rng(5)
    dense = (rng.random((40, 40)) < 0.15) & ~np.eye(40, dtype=bool)
    dense[7] = dense[19] = False
    adj = sp.csr_matrix(dense.astype(np.float64))
    x = rng.normal(size=(40, 3)).astype(np.float32)
    expected = np.array(
        [x[row].max(axis=0) if row.any() else np.zeros(3, np.float32) for row in dense]
    )
    np.testing.assert_array_equal(baselines._max_agg(adj, x), expected)


@pytest.mark.slow
def test_gnn_learns_fraud_and_round_trips_the_registry(
    worlds: dict[int, Path], tmp_path: Path
) -> None:
    train = [_graph(worlds[11]), _graph(worlds[12])]
    ys = [
        read_labels(worlds[s] / "truth", g).fraud.astype(float)
        for s, g in zip((11, 12), train, strict=True)
    ]
    test = _graph(worlds[21])
    y_test = read_labels(worlds[21] / "truth", test).fraud
    fitted = fit_gnn(train, ys, GnnConfig(epochs=40, hidden=32))
    assert fitted.losses[-1] < fitted.losses[0]
    p = predict_gnn(fitted, test)
    assert ((p >= 0) & (p <= 1)).all()
    # Fraud positives outrank the rest on a world the model never saw.
    assert p[y_test].mean() > p[~y_test].mean() + 0.2
    trees = TreeModel(num_rounds=30).fit(train, ys)
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
            "default": TaskModel("default", "trees", trees=trees),
        },
        {"data_hash": train[0].source_hash},
    )
    bundle = load_bundle(tmp_path)
    assert bundle.version == version and [v["version"] for v in list_versions(tmp_path)] == [
        version
    ]
    np.testing.assert_allclose(predict_task(bundle.models["fraud"], test), p, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        predict_task(bundle.models["default"], test), np.clip(trees.predict(test), 0, 1)
    )
    with pytest.raises(ModelNotFound):
        load_bundle(tmp_path, "v-nope")


def test_contagion_prior_composes_and_decomposes_a_pd(worlds: dict[int, Path]) -> None:
    g = _graph(worlds[11])
    prior = contagion_prior(g)
    b = standalone_pd(g)
    assert prior.reachable.any() and not prior.reachable.all()
    single_hit = prior.compose(prior.contagion)
    assert np.all(single_hit >= b)
    # A firm no full hit can reach keeps its own PD, whatever a model says.
    np.testing.assert_array_equal(
        prior.compose(np.ones(g.n))[~prior.reachable], b[~prior.reachable]
    )
    alive = b < 1.0
    np.testing.assert_allclose(prior.share_of(single_hit)[alive], prior.contagion[alive], atol=1e-9)
    shuffled = contagion_prior(g, shuffle_edges_seed=1)
    assert not np.array_equal(shuffled.contagion, prior.contagion)


@pytest.mark.slow
def test_default_trees_correct_the_single_hit_cascade(
    worlds: dict[int, Path], tmp_path: Path
) -> None:
    from scipy.stats import spearmanr

    train = [_graph(worlds[11]), _graph(worlds[12])]
    priors = [contagion_prior(g) for g in train]
    cascades = [cascade_pd(g, samples=500, seed=1) for g in train]
    shares = [p.share_of(c) for p, c in zip(priors, cascades, strict=True)]
    masks = [p.reachable & (p.standalone < 1) for p in priors]
    corrected = TreeModel(num_rounds=30).fit_masked(
        train, shares, masks, offsets=[p.offset for p in priors]
    )
    direct = TreeModel(num_rounds=30).fit_masked(
        train, cascades, [b < 1 for b in map(standalone_pd, train)]
    )

    test = _graph(worlds[21])
    prior = contagion_prior(test)
    reference = cascade_pd(test, samples=500, seed=2)
    alive = prior.standalone < 1
    pd = prior.compose(corrected.predict(test, offset=prior.offset))
    rho = spearmanr(pd[alive], reference[alive]).statistic
    assert rho >= 0.9
    assert rho > spearmanr(direct.predict(test)[alive], reference[alive]).statistic
    np.testing.assert_array_equal(pd[~prior.reachable], prior.standalone[~prior.reachable])

    save_bundle(
        tmp_path,
        {"default": TaskModel("default", "trees", trees=corrected, target="contagion_share")},
        {"data_hash": train[0].source_hash},
    )
    model = load_bundle(tmp_path).models["default"]
    assert model.target == "contagion_share"
    np.testing.assert_allclose(predict_task(model, test), pd)
    # Scoring both tasks at once shares the trees' features and the prior between them; the
    # scores are those of each task scored alone.
    both = Bundle("v", {"fraud": TaskModel("fraud", "trees", trees=direct), "default": model}, {})
    shared, _ = score_tables(test, both, explain=False)
    np.testing.assert_allclose(shared["default"], pd)
    np.testing.assert_allclose(shared["fraud"], np.clip(direct.predict(test), 0.0, 1.0))


def test_models_trained_on_other_features_are_not_used(
    worlds: dict[int, Path], tmp_path: Path
) -> None:
    train = _graph(worlds[11])
    trees = TreeModel(num_rounds=5).fit([train], [read_labels(worlds[11] / "truth", train).fraud])
    usable = save_bundle(tmp_path, {"fraud": TaskModel("fraud", "trees", trees=trees)}, {})
    # A newer version from before the cycle features: it reads 36 columns, not these.
    older = save_bundle(
        tmp_path,
        {"fraud": TaskModel("fraud", "trees", trees=trees)},
        {"features": list(ENTERPRISE_FEATURES[:36])},
    )
    assert [m["version"] for m in list_versions(tmp_path)] == [usable, older]
    assert [m["version"] for m in list_versions(tmp_path, usable_only=True)] == [usable]
    assert load_bundle(tmp_path).version == usable
    wanted = rf"36 features, not the {len(ENTERPRISE_FEATURES)} .*trade_return_2"
    with pytest.raises(ModelNotFound, match=wanted):
        load_bundle(tmp_path, older)
    only_old = tmp_path / "only-old"
    save_bundle(only_old, {}, {"features": ["log_capital"]})
    with pytest.raises(ModelNotFound, match=r"other features .* run `chainlens train`"):
        load_bundle(only_old)


def test_rules_flag_unshipped_sellers_and_trade_loops(worlds: dict[int, Path]) -> None:
    g = _graph(worlds[21])
    labels = read_labels(worlds[21] / "truth", g)
    s = rule_score(g, "fraud")
    assert s[labels.fraud].mean() > s[~labels.fraud].mean()
    # Ring members raise the loop flag on top of the others: blank the cycle features and
    # each scores one flag less.
    ring = np.isin(np.arange(g.n), [m for ms in labels.rings.values() for m in ms])
    looped = g.x.copy()
    looped[:, [g.feature_names.index(f"trade_return_{k}") for k in range(3, 7)]] = 0.0
    flat = rule_score(replace(g, x=looped), "fraud")
    np.testing.assert_allclose(s[ring] - flat[ring], 1 / 8)


@pytest.mark.slow
def test_train_and_report_prints_every_table_and_registers(
    worlds: dict[int, Path], tmp_path: Path
) -> None:
    from io import StringIO

    from rich.console import Console

    from gnn.train import TrainConfig, train_and_report

    (tmp_path / "datasets").mkdir()
    for folder in worlds.values():
        (tmp_path / "datasets" / folder.name).symlink_to(folder)
    cfg = TrainConfig(
        train_seeds=(11,),
        test_seeds=(21,),
        train_enterprises=600,
        test_enterprises=800,
        gnn=GnnConfig(epochs=5, hidden=16),
        tree_rounds=10,
        mc_samples=100,
        fraud_without_goods_flow=False,
    )
    out = StringIO()
    report = train_and_report(tmp_path, cfg, console=Console(file=out, width=200))
    text = out.getvalue()
    for needle in (
        "fraud (held-out",
        "default (held-out",
        "time split",
        "edges shuffled",
        "amount-only",
        "degree-only",
        "rules",
        "DebtRank alone",
        "single-hit cascade",
        "PD learnt directly",
        "Spearman",
        "fraud with trade noise (held-out",
    ):
        assert needle in text
    noisy = report.rows["fraud with trade noise (held-out seeds [21])"]
    assert noisy[0].model.startswith("GNN") and noisy[0].metrics.pr_auc is not None
    assert set(report.chosen) == {"fraud", "default"}
    bundle = load_bundle(tmp_path)
    assert bundle.version == report.version
    assert bundle.meta["chosen"] == report.chosen
    assert {m.kind for m in bundle.models.values()} <= {"gnn", "trees"}
    assert bundle.models["default"].target == "contagion_share"


def test_the_gnn_is_registered_only_when_clearly_better_than_the_trees() -> None:
    from gnn.metrics import Metrics
    from gnn.train import CHOICE_MARGIN, better

    def m(pr_auc: float, spearman: float | None = None) -> Metrics:
        return Metrics(pr_auc, 0.05, 0.5, 0.0, None, spearman=spearman)

    assert better("fraud", m(0.80), m(0.80)) == "trees"
    assert better("fraud", m(0.80 + CHOICE_MARGIN / 2), m(0.80)) == "trees"
    assert better("fraud", m(0.80 + 2 * CHOICE_MARGIN), m(0.80)) == "gnn"
    assert better("default", m(0.0, 0.988921), m(0.0, 0.988896)) == "trees"
    assert better("default", m(0.0, 0.95), m(0.0, 0.90)) == "gnn"
    assert better("default", m(0.0, None), m(0.0, 0.5)) == "trees"


def test_edge_linear_gradient_matches_autograd() -> None:
    from gnn.models.edge_sage import _EdgeLinear

    attr = torch.rand(50, 4, dtype=torch.float64)
    weight = torch.rand(8, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda w: _EdgeLinear.apply(attr, w), (weight,))
    upstream = torch.rand(50, 8, dtype=torch.float64)
    (_EdgeLinear.apply(attr, weight) * upstream).sum().backward()
    plain = weight.detach().clone().requires_grad_(True)
    (torch.nn.functional.linear(attr, plain) * upstream).sum().backward()
    assert weight.grad is not None and plain.grad is not None
    torch.testing.assert_close(weight.grad, plain.grad)


def test_scoring_in_edge_slices_gives_the_training_pass_outputs(
    worlds: dict[int, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from gnn.models import edge_sage

    g = _graph(worlds[11])
    data = to_hetero(g)
    model = edge_sage.HeteroEdgeSAGE(
        {t: int(data[t].x.shape[1]) for t in data.node_types}, edge_dims(data), hidden=16
    ).eval()
    inputs = (data.x_dict, data.edge_index_dict, data.edge_attr_dict)
    one_pass = model(*inputs).detach()
    monkeypatch.setattr(edge_sage, "INFERENCE_EDGE_CHUNK", 7)
    with torch.no_grad():
        sliced = model(*inputs)
    torch.testing.assert_close(sliced, one_pass, rtol=1e-5, atol=1e-5)
