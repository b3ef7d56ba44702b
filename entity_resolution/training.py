"""Learning the match model's weights from generated records and real names.

Pairs come from the real blocking passes over records made by `synth` (the generator's
names and dirt) and generated folders, labelled by the truth, plus the development
benchmark's tune part (real firm names, tests/data/er/benchmark.csv); a logistic regression
whose weights keep the signs `score.SIGNS` declares (L-BFGS-B under bounds) fits the
weights; the merge threshold is the lowest probability at which the generated pairs above it
keep the target precision; the names-only weights are then set on the tune part, as far as
the generated pairs keep their precision. `python -m entity_resolution.training --generated
FOLDER` rewrites model_weights.json (``--frequencies`` first rewrites
trade_frequencies.json).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.special import expit, log_expit

from entity_resolution.blocking import candidate_pairs
from entity_resolution.evaluate import read_generated
from entity_resolution.records import EnterpriseRecord, prepare_records
from entity_resolution.score import (
    FEATURES,
    FREQUENCIES_PATH,
    SIGNS,
    WEIGHTS_PATH,
    MatchModel,
    TradeRarity,
    _reference_table,
    feature_matrix,
)
from entity_resolution.synth import make_records

TRAIN_SEED = 101  # evaluation uses other seeds


def labelled_pairs(
    records: Sequence[EnterpriseRecord],
    truth: dict[str, str],
    max_block: int = 60,
    rarity: TradeRarity | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.int_]]:
    prepared = prepare_records(records)
    pairs, _, _ = candidate_pairs(prepared, max_block=max_block)
    x = feature_matrix(prepared, pairs, rarity or TradeRarity.reference())
    y = np.array(
        [truth[records[i].record_id] == truth[records[j].record_id] for i, j in pairs],
        dtype=np.int_,
    )
    return x, y


def pick_threshold(
    probs: NDArray[np.float64], y: NDArray[np.int_], precision: float = 0.999
) -> float:
    """Lowest threshold whose pairs above it have at least ``precision``."""
    order = np.argsort(-probs)
    tp = np.cumsum(y[order])
    seen = np.arange(1, len(order) + 1)
    ok = np.nonzero(tp / seen >= precision)[0]
    if len(ok) == 0:
        return 0.99
    return float(max(0.5, probs[order][ok[-1]]))


def _training_sets(
    firms: int, seed: int, generated: Sequence[Path]
) -> list[tuple[list[EnterpriseRecord], dict[str, str]]]:
    made = make_records(firms, seed)
    truth = dict(made.truth)
    truth.update({m.record_id: m.enterprise_id for m in made.masters})
    sets = [(made.records + made.masters, truth)]
    for folder in generated:
        records, masters, g_truth = read_generated(folder)
        g_truth = dict(g_truth)
        g_truth.update({m.record_id: m.enterprise_id for m in masters})
        sets.append((records + masters, g_truth))
    return sets


def reference_frequencies(
    firms: int = 20_000, seed: int = TRAIN_SEED, generated: Sequence[Path] = ()
) -> TradeRarity:
    """Trade-name frequencies over the training records: the table shipped with the
    package (trade_frequencies.json), which every run scores with."""
    rarity = TradeRarity()
    for records, _ in _training_sets(firms, seed, generated):
        rarity.add(prepare_records(records))
    return rarity


def benchmark_pairs(
    rarity: TradeRarity, split: str = "tune"
) -> tuple[NDArray[np.float64], NDArray[np.int_]]:
    """Features and labels of the development benchmark's ``split`` part (real names)."""
    from entity_resolution.benchmark import read_pairs

    pairs = [p for p in read_pairs() if p.split == split]
    prepared = prepare_records([r for p in pairs for r in (p.a, p.b)])
    x = feature_matrix(prepared, [(2 * k, 2 * k + 1) for k in range(len(pairs))], rarity)
    # A branch pair is kept apart by the cannot-link rule, not by the model: not learned from.
    keep = np.array([prepared[2 * k].branch_key == prepared[2 * k + 1].branch_key
                     for k in range(len(pairs))], dtype=bool)
    y = np.array([p.same for p in pairs], dtype=np.int_)
    return x[keep], y[keep]


def fit_logistic(
    x: NDArray[np.float64],
    y: NDArray[np.int_],
    sample_weight: NDArray[np.float64],
    c: float = 20.0,
    signs: dict[str, int] | None = None,
) -> tuple[list[float], float]:
    """L2-regularised logistic regression (the objective of scikit-learn's, C = ``c``, the
    intercept unpenalised) whose weights keep the sign `SIGNS` declares: monotone
    constraints, solved with L-BFGS-B under bounds. Returns (weights, intercept)."""
    signs = SIGNS if signs is None else signs
    total = float(sample_weight.sum())
    target = y.astype(np.float64)

    def loss(theta: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        w, b = theta[:-1], theta[-1]
        z = x @ w + b
        # -log p for positives, -log(1 - p) for negatives
        ll = -(target * log_expit(z) + (1 - target) * log_expit(-z))
        r = sample_weight * (expit(z) - target)
        value = (0.5 * float(w @ w) / c + float(sample_weight @ ll)) / total
        grad = np.concatenate([(w / c + x.T @ r) / total, [r.sum() / total]])
        return value, grad

    bounds: list[tuple[float | None, float | None]] = []
    for name in FEATURES:
        sign = signs.get(name, 0)
        bounds.append((0.0, None) if sign > 0 else (None, 0.0) if sign < 0 else (None, None))
    bounds.append((None, None))
    start = np.zeros(x.shape[1] + 1)
    result = minimize(loss, start, jac=True, method="L-BFGS-B", bounds=bounds,
                      options={"maxiter": 20_000, "maxfun": 40_000, "ftol": 1e-13,
                               "gtol": 1e-9})
    theta = result.x
    return [float(v) for v in theta[:-1]], float(theta[-1])


# The benchmark's tune part weighs as much as this share of the generated pairs.
BENCHMARK_SHARE = 0.05
# Names-only pairs: the share of the tune part's different pairs that must stay apart.
TUNE_TNR = 0.95
# The features whose names-only weight is raised together (evidence that two names are one).
NAME_EVIDENCE = ("names_only_parts_agree", "names_only_trade_contains",
                 "names_only_trade_abbreviation")
MAX_SHIFT = 6.0
# The generated training pairs' precision the names-only shifts must keep.
SHIFT_PRECISION = 0.9985


def _largest_shift(
    logits: NDArray[np.float64], on: NDArray[np.float64], y: NDArray[np.int_], cut: float,
    tnr: float, generated: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int_]],
    precision: float,
) -> float:
    """The largest raise (0..MAX_SHIFT, steps of 0.05) of the log-odds of the pairs where
    ``on`` is set that keeps at least ``tnr`` of the different pairs below ``cut`` and the
    ``generated`` pairs (log-odds, on, label) above ``cut`` at ``precision``."""
    different = y == 0
    g_logits, g_on, g_y = generated
    best = 0.0
    for shift in np.arange(0.0, MAX_SHIFT, 0.05):
        called = logits + shift * on >= cut
        if different.any() and 1 - (called & different).sum() / different.sum() < tnr:
            break
        g_called = g_logits + shift * g_on >= cut
        if g_called.any() and g_y[g_called].mean() < precision:
            break
        best = float(shift)
    return best


def train(
    firms: int = 20_000,
    seed: int = TRAIN_SEED,
    precision: float = 0.999,
    generated: Sequence[Path] = (),
    benchmark_share: float = BENCHMARK_SHARE,
    tune_tnr: float = TUNE_TNR,
) -> MatchModel:
    """Fit on synth records of ``firms`` firms plus any generated folders (with truth) and
    the development benchmark's tune part (real names; never its test part); see `fit`."""
    rarity = TradeRarity.reference()
    xs, ys = [], []
    for records, truth in _training_sets(firms, seed, generated):
        x, y = labelled_pairs(records, truth, rarity=rarity)
        xs.append(x)
        ys.append(y)
    x_gen, y_gen = np.vstack(xs), np.concatenate(ys)
    x_b, y_b = benchmark_pairs(rarity)
    model = fit(x_gen, y_gen, x_b, y_b, precision, benchmark_share, tune_tnr)
    return MatchModel(
        model.weights, model.bias, model.threshold,
        f"logistic regression (monotone constraints) on {len(y_gen)} candidate pairs of "
        f"synth seed {seed} ({firms} firms) and generated folders "
        f"{[p.name for p in generated]}, plus {model.trained_on}",
    )  # fmt: skip


def fit(
    x_gen: NDArray[np.float64],
    y_gen: NDArray[np.int_],
    x_b: NDArray[np.float64],
    y_b: NDArray[np.int_],
    precision: float = 0.999,
    benchmark_share: float = BENCHMARK_SHARE,
    tune_tnr: float = TUNE_TNR,
    shift_precision: float | None = None,
) -> MatchModel:
    """The model from generated pairs and the tune part's pairs (features and labels).

    Masters take part as records; their enterprise id is no feature, so the model learns
    from the fields alone. The weights keep the signs `SIGNS` declares. The threshold is
    the lowest probability that keeps the generated training pairs at ``precision``. Then
    the weights that only pairs with nothing but names to compare use are set on the tune
    part: first the name evidence (`NAME_EVIDENCE`), then the names-only bias, each raised
    as far as keeps ``tune_tnr`` of the tune part's different pairs below the threshold and
    the generated pairs above it at ``precision``.
    """
    x, y = np.vstack([x_gen, x_b]), np.concatenate([y_gen, y_b])
    class_weight = np.where(y == 0, 3.0, 1.0)
    per_pair = benchmark_share * len(y_gen) / max(1, len(y_b))
    weight = class_weight * np.concatenate([np.ones(len(y_gen)), np.full(len(y_b), per_pair)])
    weights, bias = fit_logistic(x, y, weight)
    probs = 1.0 / (1.0 + np.exp(-(x_gen @ np.asarray(weights) + bias)))
    threshold = pick_threshold(probs, y_gen, precision)
    cut = float(np.log(threshold / (1 - threshold)))
    only = x_b[:, FEATURES.index("names_only")] == 1
    g_only = x_gen[:, FEATURES.index("names_only")] == 1
    evidence = [FEATURES.index(name) for name in NAME_EVIDENCE]
    logits = (x_b @ np.asarray(weights) + bias)[only]
    g_logits = x_gen @ np.asarray(weights) + bias
    on = x_b[only][:, evidence].max(axis=1)
    g_on = x_gen[:, evidence].max(axis=1) * g_only
    shift_precision = SHIFT_PRECISION if shift_precision is None else shift_precision
    shift = _largest_shift(logits, on, y_b[only], cut, tune_tnr, (g_logits, g_on, y_gen),
                           shift_precision)
    for k in evidence:
        weights[k] += shift
    logits = logits + shift * on
    g_logits = g_logits + shift * g_on
    bias_shift = _largest_shift(logits, np.ones(len(logits)), y_b[only], cut, tune_tnr,
                                (g_logits, g_only.astype(np.float64), y_gen),
                                shift_precision)
    weights[FEATURES.index("names_only")] += bias_shift
    return MatchModel(
        tuple(weights),
        bias,
        threshold,
        f"{len(y_b)} pairs of the benchmark's tune part weighing {benchmark_share:.0%} of "
        f"them; threshold for pair precision {precision} on the generated pairs; names-only "
        f"evidence +{shift:.2f}, names-only bias +{bias_shift:.2f} (tune part TNR "
        f"{tune_tnr}, generated precision kept)",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--firms", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=TRAIN_SEED)
    parser.add_argument("--generated", type=Path, nargs="*", default=[],
                        help="folders written by `chainlens generate` (training seeds only)")
    parser.add_argument("--frequencies", action="store_true",
                        help="first rewrite trade_frequencies.json from the training records")
    args = parser.parse_args()
    if args.frequencies:
        table = reference_frequencies(args.firms, args.seed, args.generated)
        FREQUENCIES_PATH.write_text(table.to_json() + "\n", encoding="utf-8")
        _reference_table.cache_clear()
    model = train(args.firms, args.seed, generated=args.generated)
    WEIGHTS_PATH.write_text(model.to_json() + "\n", encoding="utf-8")
    print(model.to_json())


if __name__ == "__main__":
    main()
