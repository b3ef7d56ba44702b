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
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from rapidfuzz.distance import OSA, JaroWinkler, Levenshtein
from rapidfuzz.fuzz import ratio

from entity_resolution.forked import run_split
from entity_resolution.identifiers import typed_shared
from entity_resolution.lexicons import load
from entity_resolution.normalise import addresses_agree
from entity_resolution.parse import NameParts
from entity_resolution.records import Prepared
from entity_resolution.translation import cross_script_cover

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
    # Added for real names (issue #21): soft differences that are no conflict.
    "form_variant",
    "form_one_missing",
    "industry_variant",
    "trade_contains",
    "trade_abbreviation",
    "trade_contains_formal",
    "industry_differs_formal",
    "parts_agree",
    "names_only",
    "cross_script_other_trade",
    # An English and a Chinese name whose words correspond by meaning, sound or initials
    # (`translation.cross_script_cover`): all of them; every English word and this share
    # of the Chinese trade name.
    "cross_script_translated",
    "cross_script_cover",
    # A firm named for a place in brackets against the bare name: its local arm (Microsoft
    # Corporation / Microsoft (China) Co., Ltd., 中国银行 / 中国银行(香港)).
    "subsidiary_place",
    # Names that differ only by 集团 / 控股 (`_GROUP_WORDS`): two 股份有限公司 are one firm
    # renamed (上海汽车 / 上海汽车集团); a group and a company of other legal forms are a
    # parent and its (listed) company (鞍钢集团有限公司 / 鞍钢股份有限公司).
    "group_renamed",
    "group_and_company",
)
# When two records have nothing but their names to compare (no identifier, phone, address,
# legal representative or registered region on both sides) the name features get weights of
# their own: what the name says then is all the evidence there is, and it must not be
# learned from pairs where the phone decided.
NAME_ONLY_FEATURES: tuple[str, ...] = (
    "trade_exact",
    "trade_one_char_off",
    "trade_rarity",
    "cross_script_other_trade",
    "region_name_conflict",
    "industry_conflict",
    "form_one_missing",
    "industry_variant",
    "trade_contains",
    "trade_abbreviation",
    "trade_contains_formal",
    "industry_differs_formal",
    "parts_agree",
)
FEATURES = FEATURES + tuple(f"names_only_{name}" for name in NAME_ONLY_FEATURES)
_NAME_ONLY_AT = tuple(FEATURES.index(name) for name in NAME_ONLY_FEATURES)
# Monotone constraints (issue #21): the sign a feature's weight must keep when the model is
# learned (`training`), so that evidence for a match never lowers the score and evidence
# against never raises it. Features not listed (similarities, the correlated trade-name
# pair trade_exact / trade_key_same, and the names-only copies of agreements, which are
# corrections of their base weight) are free.
SIGNS: dict[str, int] = {
    **dict.fromkeys(
        ("uscc_same", "org_same", "regno_same", "trade_rarity", "region_name_same",
         "region_field_same", "industry_same", "phone_same", "address_same", "legal_rep_same",
         "trade_contains", "trade_abbreviation", "parts_agree", "cross_script_translated",
         "cross_script_cover", "group_renamed"), 1),
    **dict.fromkeys(
        ("uscc_conflict", "org_conflict", "regno_conflict", "region_name_conflict",
         "region_field_conflict", "industry_conflict", "form_conflict", "phone_conflict",
         "legal_rep_conflict", "industry_differs_formal", "cross_script_other_trade",
         "names_only_region_name_conflict", "names_only_industry_conflict",
         "names_only_industry_differs_formal", "names_only_cross_script_other_trade",
         "subsidiary_place", "group_and_company"), -1),
}

N_FEATURES = len(FEATURES)
WEIGHTS_PATH = Path(__file__).resolve().parent / "model_weights.json"


FREQUENCIES_PATH = Path(__file__).resolve().parent / "trade_frequencies.json"


class TradeRarity:
    """Inverse document frequency of trade-name keys over a corpus, scaled to 0..1.

    Runs use the shipped reference table (`reference`), never the records of the call, so
    a pair scores the same alone, in a batch or against an index of a million records.
    """

    def __init__(self, counts: Counter[str] | None = None, total: int = 0) -> None:
        self.counts: Counter[str] = counts or Counter()
        self.total = total

    @classmethod
    def of(cls, prepared: Iterable[Prepared]) -> TradeRarity:
        """Frequencies over ``prepared`` alone (what the shipped table is made from)."""
        rarity = cls()
        rarity.add(prepared)
        return rarity

    @classmethod
    def reference(cls) -> TradeRarity:
        """The shipped table (entity_resolution/trade_frequencies.json); a fresh copy."""
        data = _reference_table()
        return cls(Counter(data["counts"]), int(data["total"]))

    def extended(self, prepared: Iterable[Prepared]) -> TradeRarity:
        """A copy with ``prepared`` counted too: frequencies of a known corpus (what an
        index holds) on top of this table. Scores then depend on that corpus."""
        rarity = TradeRarity(Counter(self.counts), self.total)
        rarity.add(prepared)
        return rarity

    def to_json(self, min_count: int = 2) -> str:
        """The table as shipped: keys seen fewer than ``min_count`` times are left out (an
        unseen key and a key seen once score almost alike)."""
        counts = {k: c for k, c in sorted(self.counts.items()) if c >= min_count and k}
        return json.dumps({"total": self.total, "counts": counts}, ensure_ascii=False,
                          separators=(",", ":"))

    def add(self, prepared: Iterable[Prepared]) -> None:
        for p in prepared:
            self.counts[p.trade_key] += 1
            self.total += 1

    def __call__(self, key: str) -> float:
        if self.total <= 1:
            return 1.0
        df = self.counts.get(key, 0)
        return math.log((self.total + 1) / (df + 1)) / math.log(self.total + 1)


@cache
def _reference_table() -> dict[str, Any]:
    if not FREQUENCIES_PATH.exists():
        return {"total": 0, "counts": {}}
    data: dict[str, Any] = json.loads(FREQUENCIES_PATH.read_text(encoding="utf-8"))
    return data


def _cmp_region(a: str, b: str) -> int:
    if not a or not b:
        return 0
    n = min(len(a), len(b))
    return 1 if a[:n] == b[:n] else -1


def _both(a: str, b: str) -> bool:
    return bool(a) and bool(b)


# Legal forms in equivalence classes: an 有限责任公司 that became a 股份有限公司 is the same
# firm, so forms of one class differ softly; a partnership and a company conflict.
_FORM_CLASS = {"有限责任公司": "company", "股份有限公司": "company", "公司": "company",
               "股份合作公司": "company"}
# Words that name a firm's place in a group rather than its trade (投资 / 投资集团 /
# 投资控股): a difference in them alone is no conflict.
_GROUP_WORDS = ("集团", "控股")


def form_class(form: str) -> str:
    return _FORM_CLASS.get(form, form)


def _without_group_words(industry: str) -> str:
    for word in _GROUP_WORDS:
        industry = industry.replace(word, "")
    return industry


def _names_place(parts: NameParts, place: str) -> bool:
    """Whether a name mentions ``place`` (中国, a region) anywhere, in its own script."""
    if not parts.is_english:
        return place in parts.text
    if place == "中国":
        return "china" in parts.text.split()
    region = load().regions.get(place)
    return region is not None and region.roman in parts.text.split()


# The places a firm's arm is named for: (中国) after a foreign firm's name, and the regions
# with registries of their own. A mainland city or province in brackets is only where the
# firm itself is registered (拓搏国际贸易(宁波)有限公司 = 宁波拓搏国际贸易有限公司).
_ARM_PLACES = frozenset({"中国", "香港", "澳门", "台湾"})


def _subsidiary_place(a: NameParts, b: NameParts) -> bool:
    """One registered name is placed in brackets (`_ARM_PLACES`) where the other is not (nor
    names the place at all): the local arm of the firm of the bare name."""
    if a.placed == b.placed or not (a.legal_form and b.legal_form):
        return False
    bare, local = (a, b) if not a.placed else (b, a)
    return local.placed in _ARM_PLACES and not _names_place(bare, local.placed)


def _is_subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(ch in it for ch in short)


def _closeness(a: NameParts, b: NameParts) -> tuple[bool, bool, float, float]:
    return (a.trade_key == b.trade_key, a.text == b.text,
            JaroWinkler.similarity(a.trade_key, b.trade_key), ratio(a.text, b.text))


def closest_names(a: Prepared, b: Prepared) -> tuple[Prepared, Prepared]:
    """The two records under the names of theirs that are closest (their own names, or an
    alias: a former name, an abbreviation, an English name): a firm known by several names
    is compared by the pair that corresponds. Ties keep the records' own names."""
    if not (a.variants or b.variants):
        return a, b
    return max(((x, y) for x in (a, *a.variants) for y in (b, *b.variants)),
               key=lambda xy: _closeness(xy[0].primary, xy[1].primary))  # fmt: skip


# The shortest Latin trade name in which one letter off is a typo rather than another word.
_LATIN_TYPO_MIN = 6


def _same_words(a: NameParts, b: NameParts) -> bool:
    """Two English trade names of the same words in another order (Acme Widgets / Widgets
    Acme): directories sort and cut names their own way."""
    if not (a.is_english and b.is_english):
        return False
    wa, wb = f"{a.trade} {a.industry}".split(), f"{b.trade} {b.industry}".split()
    return len(wa) > 1 and sorted(wa) == sorted(wb)


def pair_features(a: Prepared, b: Prepared, rarity: TradeRarity) -> list[float]:
    """The feature vector of one pair, in the order of FEATURES."""
    a, b = closest_names(a, b)
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
    key_same = float(pa.trade_key == pb.trade_key or _same_words(pa, pb))
    key_sim = 1.0 if key_same else JaroWinkler.similarity(pa.trade_key, pb.trade_key)
    if a.zh is None or b.zh is None:
        # Across scripts the pinyin is all there is: its equality stands for the exact
        # trade name, so an English-only record is scored like its Chinese twin.
        trade_exact, trade_sim = key_same, key_sim
        # Two Latin names a typo apart (Widgets / Widgetz): what one character off is for a
        # Chinese trade name of two to four.
        if (not key_same and pa.is_english and pb.is_english
                and min(len(pa.trade_key), len(pb.trade_key)) >= _LATIN_TYPO_MIN
                and OSA.distance(pa.trade_key, pb.trade_key) == 1):
            trade_off = 1.0
        name_sim = ratio(pa.trade_key + pa.industry_key, pb.trade_key + pb.industry_key) / 100.0
    rare = rarity(pa.trade_key) if key_same else 0.0
    rn = _cmp_region(a.name_region, b.name_region)
    rf = _cmp_region(a.field_region, b.field_region)
    ind = 0
    industry_variant = group_only = False
    if pa.industry_key and pb.industry_key:
        # Synonyms (技术/科技) are no evidence either way; the same word is; words that only
        # differ by 集团/控股 are a variant, not a conflict.
        if pa.industry == pb.industry:
            ind = 1
        elif pa.industry_key != pb.industry_key:
            # 投资 / 投资集团 / 投资控股, 玻璃 / 玻璃工业集团: one word extends the other.
            ga, gb = _without_group_words(pa.industry_key), _without_group_words(pb.industry_key)
            if not ga or not gb or ga.startswith(gb) or gb.startswith(ga):
                industry_variant = True
                group_only = ga == gb
            else:
                ind = -1
    elif pa.industry_key or pb.industry_key:
        industry_variant = group_only = not _without_group_words(
            pa.industry_key or pb.industry_key)
    # Registered names are exact: two full names (both with a legal form) that differ by a
    # trade-name extension or an industry word name two firms (华润 / 华润置地, 比亚迪 /
    # 比亚迪汽车工业); a short name (no legal form) leaves words out all the time.
    formal = bool(pa.legal_form) and bool(pb.legal_form)
    industry_differs_formal = formal and ind != -1 and pa.industry_key != pb.industry_key
    form = 0
    form_variant = False
    if pa.legal_form and pb.legal_form:
        if pa.legal_form == pb.legal_form:
            form = 1
        elif form_class(pa.legal_form) == form_class(pb.legal_form):
            form_variant = True
        else:
            form = -1
    form_missing = bool(pa.legal_form) != bool(pb.legal_form)
    ta, tb = pa.trade, pb.trade
    if pa.is_english != pb.is_english:
        ta, tb = pa.trade_key, pb.trade_key
    short, long = (ta, tb) if len(ta) <= len(tb) else (tb, ta)
    contains_any = (not key_same and len(short) >= 2 and short != long and short in long
                    and not (pa.bank or pb.bank))
    contains = contains_any and not formal
    contains_formal = contains_any and formal
    # 中国联通 / 中国联合网络通信, 中国电建 / 中国电力建设: a short name picks characters of
    # the full trade name and industry, in order, starting with the first.
    brief, full = (pa, pb) if len(pa.text) <= len(pb.text) else (pb, pa)
    abbreviation = (
        not key_same and not contains_any and not formal and len(brief.trade) >= 2
        and pa.is_english == pb.is_english and not (pa.bank or pb.bank)
        and brief.trade[0] in (full.trade[:1], full.text[:1])
        and _is_subsequence(brief.trade, full.text)
    )
    en_sim = 0.0
    if a.en is not None and b.en is not None:
        en_sim = ratio(a.en.text, b.en.text) / 100.0
    phone = 0
    if a.phone and b.phone:
        phone = 1 if a.phone == b.phone else -1
    addr_same = float(_both(a.address, b.address) and addresses_agree(a.address, b.address))
    addr_sim = ratio(a.address, b.address) / 100.0 if _both(a.address, b.address) else 0.0
    rep = 0
    if a.legal_rep and b.legal_rep:
        rep = 1 if a.legal_rep == b.legal_rep else -1
    any_id = uscc_same or org_same or reg_same
    names_only = not (
        _both(ia.uscc or "", ib.uscc or "") or _both(ia.org_code or "", ib.org_code or "")
        or _both(ia.registration_no or "", ib.registration_no or "") or phone != 0
        or _both(a.address, b.address) or rep != 0 or rf != 0
    )
    subsidiary = _subsidiary_place(pa, pb)
    parts_agree = (
        (key_same or contains) and rn != -1 and ind != -1 and form != -1 and not subsidiary
        and not industry_differs_formal and a.branch_key == b.branch_key and pa.bank == pb.bank
    )
    common_no_id = float(key_same and rare < 0.5 and not any_id)
    # Shell firms share a phone or an address; only with the trade name do they identify.
    other_trade = key_sim < 0.85
    row = [
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
        float(form_variant),
        float(form_missing),
        float(industry_variant),
        float(contains),
        float(abbreviation),
        float(contains_formal),
        float(industry_differs_formal),
        float(parts_agree),
        float(names_only),
        # An English name against a Chinese one whose pinyin differs: a translation
        # (Eastern Airlines / 东方航空) or another firm (Haitong / 华泰) - names cannot tell.
        float(pa.is_english != pb.is_english and not key_same and not contains_any),
    ]
    translated = cover = 0.0
    if pa.is_english != pb.is_english and not key_same:
        en_cover, zh_cover = (cross_script_cover(pa, pb) if pa.is_english
                              else cross_script_cover(pb, pa))
        # Every English word must find its counterpart: a word left over on both sides is
        # how two firms differ (Golden Dragon Bus / 银龙客车), so only then does the share
        # of the Chinese name covered count (Moutai / 茅台酒 leaves out 酒).
        cover = zh_cover if en_cover == 1.0 else 0.0
        translated = float(cover == 1.0)
    group_variant = group_only and key_same and bool(pa.legal_form) and bool(pb.legal_form)
    row.extend((
        translated,
        cover,
        float(subsidiary),
        float(group_variant and pa.legal_form == pb.legal_form == "股份有限公司"),
        float(group_variant and pa.legal_form != pb.legal_form),
    ))
    if names_only:
        row.extend(row[k] for k in _NAME_ONLY_AT)
    else:
        row.extend(0.0 for _ in _NAME_ONLY_AT)
    return row


def identified_rows(prepared: Sequence[Prepared], pairs: Sequence[tuple[int, int]]) -> list[int]:
    """The rows of ``pairs`` whose records give one identifier in common (an LEI, another
    country's company number: `identifiers`): one legal entity, whatever the names say, so
    their probability is 1."""
    typed = {i for i, p in enumerate(prepared) if p.ids.typed}
    if not typed:
        return []
    return [k for k, (i, j) in enumerate(pairs)
            if i in typed and j in typed and typed_shared(prepared[i].ids.typed,
                                                          prepared[j].ids.typed)]  # fmt: skip


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
