"""Pair features and the learned match model.

Each candidate pair becomes a vector of agreement features (identifiers, the parsed name
parts, contacts); a logistic regression learned on generated records turns it into a match
probability. Logistic regression keeps every decision explainable: the log-odds is a sum of
per-feature contributions, which is what a `RESOLVES_TO` explanation lists. The trade name is
scored on its own and weighted by its rarity (IDF), because whole-name similarity cannot
tell 宁波拓搏贸易 from 宁波拓博贸易 or from 海南拓搏贸易.
"""

from __future__ import annotations

import json
import math
import mmap
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from rapidfuzz.distance import JaroWinkler, Levenshtein
from rapidfuzz.fuzz import ratio

from entity_resolution.forked import run_split
from entity_resolution.records import Prepared

FEATURES: tuple[str, ...] = (
    "uscc_same",
    "uscc_conflict",
    "org_same",
    "org_conflict",
    "regno_same",
    "regno_conflict",
    "trade_exact",
    "trade_one_char_off",
    "trade_sim",
    "trade_key_same",
    "trade_key_sim",
    "trade_rarity",
    "region_name_same",
    "region_name_conflict",
    "region_field_same",
    "region_field_conflict",
    "industry_same",
    "industry_conflict",
    "form_same",
    "form_conflict",
    "name_sim",
    "en_sim",
    "phone_same",
    "phone_conflict",
    "address_same",
    "address_sim",
    "legal_rep_same",
    "legal_rep_conflict",
    "common_trade_no_id",
    "phone_same_other_trade",
    "address_same_other_trade",
)
N_FEATURES = len(FEATURES)
WEIGHTS_PATH = Path(__file__).resolve().parent / "model_weights.json"


class TradeRarity:
    """Inverse document frequency of trade-name keys over a corpus, scaled to 0..1."""

    def __init__(self, counts: Counter[str] | None = None, total: int = 0) -> None:
        self.counts: Counter[str] = counts or Counter()
        self.total = total

    @classmethod
    def of(cls, prepared: Iterable[Prepared]) -> TradeRarity:
        rarity = cls()
        rarity.add(prepared)
        return rarity

    def add(self, prepared: Iterable[Prepared]) -> None:
        for p in prepared:
            self.counts[p.trade_key] += 1
            self.total += 1

    def __call__(self, key: str) -> float:
        if self.total <= 1:
            return 1.0
        df = self.counts.get(key, 0)
        return math.log((self.total + 1) / (df + 1)) / math.log(self.total + 1)


def _cmp_region(a: str, b: str) -> int:
    if not a or not b:
        return 0
    n = min(len(a), len(b))
    return 1 if a[:n] == b[:n] else -1


def _both(a: str, b: str) -> bool:
    return bool(a) and bool(b)


def pair_features(a: Prepared, b: Prepared, rarity: TradeRarity) -> list[float]:
    """The feature vector of one pair, in the order of FEATURES."""
    ia, ib = a.ids, b.ids
    uscc_same = _both(ia.uscc or "", ib.uscc or "") and ia.uscc == ib.uscc
    uscc_conflict = _both(ia.uscc or "", ib.uscc or "") and ia.uscc != ib.uscc
    org_same = _both(ia.org_code or "", ib.org_code or "") and ia.org_code == ib.org_code
    org_conflict = _both(ia.org_code or "", ib.org_code or "") and ia.org_code != ib.org_code
    reg_same = (
        _both(ia.registration_no or "", ib.registration_no or "")
        and ia.registration_no == ib.registration_no
    )
    reg_conflict = (
        _both(ia.registration_no or "", ib.registration_no or "")
        and ia.registration_no != ib.registration_no
    )
    pa, pb = a.primary, b.primary
    trade_exact = trade_off = 0.0
    trade_sim = 0.0
    if a.zh is not None and b.zh is not None:
        ta, tb = a.zh.trade, b.zh.trade
        trade_exact = float(ta == tb)
        trade_sim = ratio(ta, tb) / 100.0
        if not trade_exact and len(ta) == len(tb) and Levenshtein.distance(ta, tb) == 1:
            trade_off = 1.0
        name_sim = ratio(a.zh.text, b.zh.text) / 100.0
    key_same = float(pa.trade_key == pb.trade_key)
    key_sim = JaroWinkler.similarity(pa.trade_key, pb.trade_key)
    if a.zh is None or b.zh is None:
        # Across scripts the pinyin is all there is: its equality stands for the exact
        # trade name, so an English-only record is scored like its Chinese twin.
        trade_exact, trade_sim = key_same, key_sim
        name_sim = ratio(pa.trade_key + pa.industry_key, pb.trade_key + pb.industry_key) / 100.0
    rare = rarity(pa.trade_key) if key_same else 0.0
    rn = _cmp_region(a.name_region, b.name_region)
    rf = _cmp_region(a.field_region, b.field_region)
    ind = 0
    if pa.industry_key and pb.industry_key:
        # Synonyms (技术/科技) are no evidence either way; the same word is.
        if pa.industry == pb.industry:
            ind = 1
        elif pa.industry_key != pb.industry_key:
            ind = -1
    form = 0
    if pa.legal_form and pb.legal_form:
        form = 1 if pa.legal_form == pb.legal_form else -1
    en_sim = 0.0
    if a.en is not None and b.en is not None:
        en_sim = ratio(a.en.text, b.en.text) / 100.0
    phone = 0
    if a.phone and b.phone:
        phone = 1 if a.phone == b.phone else -1
    addr_same = float(_both(a.address, b.address) and a.address == b.address)
    addr_sim = ratio(a.address, b.address) / 100.0 if _both(a.address, b.address) else 0.0
    rep = 0
    if a.legal_rep and b.legal_rep:
        rep = 1 if a.legal_rep == b.legal_rep else -1
    any_id = uscc_same or org_same or reg_same
    common_no_id = float(key_same and rare < 0.5 and not any_id)
    # Shell firms share a phone or an address; only with the trade name do they identify.
    other_trade = key_sim < 0.85
    return [
        float(uscc_same),
        float(uscc_conflict),
        float(org_same),
        float(org_conflict),
        float(reg_same),
        float(reg_conflict),
        trade_exact,
        trade_off,
        trade_sim,
        key_same,
        key_sim,
        rare,
        float(rn == 1),
        float(rn == -1),
        float(rf == 1),
        float(rf == -1),
        float(ind == 1),
        float(ind == -1),
        float(form == 1),
        float(form == -1),
        name_sim,
        en_sim,
        float(phone == 1),
        float(phone == -1),
        addr_same,
        addr_sim,
        float(rep == 1),
        float(rep == -1),
        common_no_id,
        float(phone == 1 and other_trade),
        float(addr_same and other_trade),
    ]


# Below this many pairs a second process costs more than it saves.
PARALLEL_MIN_PAIRS = 200_000


def feature_matrix(
    prepared: Sequence[Prepared],
    pairs: Sequence[tuple[int, int]],
    rarity: TradeRarity,
    workers: int = 1,
) -> NDArray[np.float64]:
    """The features of every pair, one row each; ``workers`` processes share the rows.

    Extra workers (forked, see `forked`) write their rows into an anonymous shared mapping,
    so no row is pickled on the way back.
    """
    shape = (len(pairs), N_FEATURES)
    if workers <= 1 or len(pairs) < PARALLEL_MIN_PAIRS:
        out = np.empty(shape, dtype=np.float64)
        _fill_features(out, prepared, pairs, rarity, 0, len(pairs))
        return out
    shared = mmap.mmap(-1, max(1, shape[0] * shape[1] * 8))
    out = np.frombuffer(shared, dtype=np.float64).reshape(shape)
    run_split(lambda lo, hi: _fill_features(out, prepared, pairs, rarity, lo, hi),
              len(pairs), workers)  # fmt: skip
    return out


def _fill_features(
    out: NDArray[np.float64],
    prepared: Sequence[Prepared],
    pairs: Sequence[tuple[int, int]],
    rarity: TradeRarity,
    lo: int,
    hi: int,
) -> None:
    for row in range(lo, hi):
        i, j = pairs[row]
        out[row] = pair_features(prepared[i], prepared[j], rarity)


@dataclass(frozen=True, slots=True)
class MatchModel:
    """Logistic-regression weights over FEATURES and the probability at which pairs merge."""

    weights: tuple[float, ...]
    bias: float
    threshold: float
    trained_on: str = ""

    def logits(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        result: NDArray[np.float64] = x @ np.asarray(self.weights) + self.bias
        return result

    def probabilities(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        result: NDArray[np.float64] = 1.0 / (1.0 + np.exp(-self.logits(x)))
        return result

    def explain(self, features: Sequence[float], top: int = 6) -> dict[str, float]:
        """The features that moved this pair's log-odds most, with their contributions."""
        contributions = {
            name: round(float(w * v), 3)
            for name, w, v in zip(FEATURES, self.weights, features, strict=True)
            if v
        }
        ranked = sorted(contributions.items(), key=lambda kv: -abs(kv[1]))[:top]
        return dict(ranked)

    def to_json(self) -> str:
        return json.dumps(
            {
                "features": list(FEATURES),
                "weights": list(self.weights),
                "bias": self.bias,
                "threshold": self.threshold,
                "trained_on": self.trained_on,
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> MatchModel:
        data = json.loads(text)
        if tuple(data["features"]) != FEATURES:
            raise ValueError("model weights were trained on another feature set")
        return cls(tuple(data["weights"]), data["bias"], data["threshold"], data["trained_on"])


def default_model() -> MatchModel:
    """The shipped model (entity_resolution/model_weights.json, made by `training`)."""
    return MatchModel.from_json(WEIGHTS_PATH.read_text(encoding="utf-8"))
