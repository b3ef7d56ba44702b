"""Scoring one pair of records directly: `match(a, b)`, with the reasons.

The same features, model, trade-name frequencies and cannot-link rules as `resolve_records`,
so the score of a pair does not depend on what else is resolved with it: ``match(a, b)``
gives the probability a run would give that pair, and ``same`` says whether a run would let
the two records into one entity on their own evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from entity_resolution.cluster import regions_conflict
from entity_resolution.identifiers import typed_conflict, typed_shared
from entity_resolution.records import EnterpriseRecord, Prepared, prepare_records
from entity_resolution.score import MatchModel, TradeRarity, default_model, pair_features


@dataclass(frozen=True, slots=True)
class MatchResult:
    """How likely two records are one entity, and why.

    ``score`` is the model's probability (0 when a cannot-link rule applies); ``same`` is
    ``score >= threshold``; ``blocked_by`` names the rule that keeps the two apart ('' when
    none); ``agreed`` / ``disagreed`` are the features that raised / lowered the log-odds and
    ``contributions`` the largest of them; ``identified_by`` the identifier both records
    give (an LEI, another country's company number), which makes the score 1.
    """

    score: float
    same: bool
    threshold: float
    blocked_by: str
    agreed: list[str] = field(default_factory=list)
    disagreed: list[str] = field(default_factory=list)
    contributions: dict[str, float] = field(default_factory=dict)
    identified_by: str = ""

    @property
    def reasons(self) -> dict[str, Any]:
        """The explanation in the shape a `RESOLVES_TO` link stores."""
        out: dict[str, Any] = {"score": round(self.score, 4), "agreed": self.agreed,
                               "disagreed": self.disagreed,
                               "contributions": self.contributions}
        if self.blocked_by:
            out["blocked_by"] = self.blocked_by
        if self.identified_by:
            out["identified_by"] = self.identified_by
        return out


def cannot_link(a: Prepared, b: Prepared) -> str:
    """The clustering rule that keeps two records apart whatever their score ('' if none)."""
    if a.ids.uscc_valid and b.ids.uscc_valid and a.ids.uscc != b.ids.uscc:
        return "different valid USCCs"
    if a.record.enterprise_id and b.record.enterprise_id and (
        a.record.enterprise_id != b.record.enterprise_id
    ):
        return "different master enterprises"
    if a.field_region and b.field_region and regions_conflict({a.field_region},
                                                               {b.field_region}):
        return "registered in different regions"
    if a.ids.registration_no and b.ids.registration_no and (
        a.ids.registration_no != b.ids.registration_no
    ):
        return "different registration numbers"
    if scheme := typed_conflict(a.ids.typed, b.ids.typed):
        return f"different {scheme} identifiers"
    if a.branch_key != b.branch_key:
        return "branch and parent (or two branches) stay separate"
    return ""


def _record(value: EnterpriseRecord | str, record_id: str) -> EnterpriseRecord:
    if isinstance(value, EnterpriseRecord):
        return value
    return EnterpriseRecord(record_id=record_id, source="match", name=value)


def match_prepared(
    a: Prepared, b: Prepared, model: MatchModel, rarity: TradeRarity
) -> MatchResult:
    """`match` on records already prepared (what the benchmark and the resolver share)."""
    features = pair_features(a, b, rarity)
    prob = float(model.probabilities(np.asarray([features]))[0])
    blocked = cannot_link(a, b)
    identified = typed_shared(a.ids.typed, b.ids.typed)
    contributions = model.explain(features, top=len(features))
    agreed = [k for k, v in contributions.items() if v > 0]
    disagreed = [k for k, v in contributions.items() if v < 0]
    score = 0.0 if blocked else 1.0 if identified else prob
    return MatchResult(score=score, same=score >= model.threshold, threshold=model.threshold,
                       blocked_by=blocked, agreed=agreed, disagreed=disagreed,
                       contributions=dict(list(contributions.items())[:6]),
                       identified_by=identified)


def match(
    a: EnterpriseRecord | str,
    b: EnterpriseRecord | str,
    *,
    model: MatchModel | None = None,
    rarity: TradeRarity | None = None,
) -> MatchResult:
    """Score two records (or two bare names) as `resolve_records` would score the pair.

    ``rarity`` defaults to the shipped trade-name frequencies, the table every run uses, so
    the result is the same whatever else is being resolved.
    """
    model = model or default_model()
    rarity = rarity or TradeRarity.reference()
    pa, pb = prepare_records([_record(a, "a"), _record(b, "b")])
    return match_prepared(pa, pb, model, rarity)
