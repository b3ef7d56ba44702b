"""Learning the match model's weights from generated records with ground truth.

Pairs come from the real blocking passes over records made by `synth` (the generator's
names and dirt), labelled by the truth; a logistic regression (scikit-learn) fits the
weights; the merge threshold is the lowest probability at which the pairs above it keep the
target precision. `python -m entity_resolution.training` rewrites model_weights.json.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression

from entity_resolution.blocking import candidate_pairs
from entity_resolution.evaluate import read_generated
from entity_resolution.records import EnterpriseRecord, prepare_records
from entity_resolution.score import WEIGHTS_PATH, MatchModel, TradeRarity, feature_matrix
from entity_resolution.synth import make_records

TRAIN_SEED = 101  # evaluation uses other seeds


def labelled_pairs(
    records: Sequence[EnterpriseRecord], truth: dict[str, str], max_block: int = 60
) -> tuple[NDArray[np.float64], NDArray[np.int_]]:
    prepared = prepare_records(records)
    pairs, _, _ = candidate_pairs(prepared, max_block=max_block)
    x = feature_matrix(prepared, pairs, TradeRarity.of(prepared))
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


def train(
    firms: int = 20_000,
    seed: int = TRAIN_SEED,
    precision: float = 0.999,
    generated: Sequence[Path] = (),
) -> MatchModel:
    """Fit on synth records of ``firms`` firms plus any generated folders (with truth).

    Masters take part as records; their enterprise id is no feature, so the model learns
    from the fields alone.
    """
    made = make_records(firms, seed)
    truth = dict(made.truth)
    truth.update({m.record_id: m.enterprise_id for m in made.masters})
    xs, ys = [], []
    x, y = labelled_pairs(made.records + made.masters, truth)
    xs.append(x)
    ys.append(y)
    for folder in generated:
        records, masters, g_truth = read_generated(folder)
        g_truth = dict(g_truth)
        g_truth.update({m.record_id: m.enterprise_id for m in masters})
        x, y = labelled_pairs(records + masters, g_truth)
        xs.append(x)
        ys.append(y)
    x, y = np.vstack(xs), np.concatenate(ys)
    clf = LogisticRegression(C=5.0, max_iter=2000, class_weight={0: 3.0, 1: 1.0})
    clf.fit(x, y)
    probs = clf.predict_proba(x)[:, 1]
    threshold = pick_threshold(probs, y, precision)
    return MatchModel(
        tuple(float(w) for w in clf.coef_[0]),
        float(clf.intercept_[0]),
        threshold,
        f"logistic regression on {len(y)} candidate pairs of synth seed {seed} ({firms} "
        f"firms) and generated folders {[p.name for p in generated]}; threshold for pair "
        f"precision {precision}",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--firms", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=TRAIN_SEED)
    parser.add_argument("--generated", type=Path, nargs="*", default=[],
                        help="folders written by `chainlens generate` (training seeds only)")
    args = parser.parse_args()
    model = train(args.firms, args.seed, generated=args.generated)
    WEIGHTS_PATH.write_text(model.to_json() + "\n", encoding="utf-8")
    print(model.to_json())


if __name__ == "__main__":
    main()
