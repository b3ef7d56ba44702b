"""Resolving enterprise records into entities: block, score, cluster, explain.

`resolve_records` is pure: records (and stored human decisions) in, a `Resolution` out, with
one link per record to its entity, the score and an explanation of which fields agreed. The
`ResolutionIndex` it leaves behind resolves new records one at a time against the entities
already found, without re-running everything; it can be saved and loaded.
"""

from __future__ import annotations

import gc
import hashlib
import pickle
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from entity_resolution.blocking import BlockIndex, BlockingStats, blocking_keys, candidate_pairs
from entity_resolution.cluster import ConstrainedClusters, cluster, regions_conflict
from entity_resolution.errors import UnknownRecord
from entity_resolution.forked import available_cpus
from entity_resolution.identifiers import typed_conflict
from entity_resolution.records import EnterpriseRecord, Prepared, prepare_one, prepare_records
from entity_resolution.score import (
    FEATURES,
    MatchModel,
    TradeRarity,
    default_model,
    feature_matrix,
    identified_rows,
    pair_features,
)

DEFAULT_MAX_BLOCK = 60
# The shape of a saved index's records; bumped when it changes (2: aliases and typed
# identifiers, issue #21), so that an index saved before is resolved again, not misread.
INDEX_LAYOUT = 2


@dataclass(frozen=True, slots=True)
class Decision:
    """A person's judgement that two source records are (not) the same entity."""

    record_a: str
    record_b: str
    same: bool
    by: str
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RecordLink:
    """Where one source record resolved to, how sure, and why."""

    record_id: str
    source: str
    entity_id: str
    score: float
    explanation: dict[str, Any]


@dataclass(slots=True)
class Entity:
    entity_id: str
    name: str
    name_en: str
    uscc: str
    uscc_valid: bool
    record_ids: list[str]
    is_branch: bool


@dataclass(slots=True)
class Resolution:
    links: list[RecordLink]
    entities: dict[str, Entity]
    branch_of: list[tuple[str, str]]  # (branch entity, parent entity)
    stats: dict[str, Any]
    flags: dict[str, tuple[str, ...]]  # record_id -> identifier problems (flagged, kept)
    records: list[EnterpriseRecord] = field(default_factory=list)
    pairs: list[tuple[int, int]] = field(default_factory=list)  # candidate pairs, positions
    index: ResolutionIndex | None = None

    def entity_of(self) -> dict[str, str]:
        return {link.record_id: link.entity_id for link in self.links}


def new_entity_id(record_id: str) -> str:
    """A stable id for an entity first seen as ``record_id`` (no master enterprise)."""
    return "ER-" + hashlib.blake2b(record_id.encode(), digest_size=8).hexdigest()


def _agreement(model: MatchModel, features: Sequence[float]) -> dict[str, Any]:
    contributions = model.explain(features, top=len(FEATURES))
    return {
        "agreed": [k for k, v in contributions.items() if v > 0],
        "disagreed": [k for k, v in contributions.items() if v < 0],
        "contributions": dict(list(contributions.items())[:6]),
    }


@dataclass(slots=True)
class _IndexedEntity:
    entity_id: str
    usccs: set[str]
    masters: set[str]
    branch: str
    regions: set[str] = field(default_factory=set)
    regnos: set[str] = field(default_factory=set)
    typed: set[str] = field(default_factory=set)

    def absorb(self, p: Prepared) -> None:
        if p.ids.uscc and p.ids.uscc_valid:
            self.usccs.add(p.ids.uscc)
        if p.record.enterprise_id:
            self.masters.add(p.record.enterprise_id)
        if p.field_region:
            self.regions.add(p.field_region)
        if p.ids.registration_no:
            self.regnos.add(p.ids.registration_no)
        self.typed.update(p.ids.typed)


@dataclass
class ResolutionIndex:
    """The resolved records, their blocks and entities, for incremental resolution."""

    model: MatchModel
    max_block: int
    prepared: list[Prepared] = field(default_factory=list)
    entity_at: list[str] = field(default_factory=list)
    blocks: BlockIndex = field(default_factory=BlockIndex)
    rarity: TradeRarity = field(default_factory=TradeRarity.reference)
    entities: dict[str, _IndexedEntity] = field(default_factory=dict)
    by_record: dict[str, int] = field(default_factory=dict)
    not_same: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    layout: int = INDEX_LAYOUT

    def lookup(self, record: EnterpriseRecord) -> RecordLink:
        """Resolve one record against the index without adding it."""
        return self._match(prepare_one(record))

    def add(self, record: EnterpriseRecord) -> RecordLink:
        """Resolve one new record and add it to the index (a new entity when nothing matches)."""
        p = prepare_one(record)
        link = self._match(p)
        self._insert(p, link.entity_id)
        return link

    def _match(self, p: Prepared) -> RecordLink:
        rec = p.record
        candidates = sorted(self.blocks.candidates(p, self.max_block))
        best: tuple[float, int, list[float]] | None = None
        if candidates:
            feats = np.array([pair_features(p, self.prepared[c], self.rarity) for c in candidates])
            probs = self.model.probabilities(feats)
            probs[identified_rows([p, *(self.prepared[c] for c in candidates)],
                                  [(0, k + 1) for k in range(len(candidates))])] = 1.0
            for k in np.argsort(-probs):
                prob = float(probs[k])
                if prob < self.model.threshold:
                    break
                c = candidates[int(k)]
                if self._allowed(p, self.entities[self.entity_at[c]]):
                    best = (prob, c, feats[k].tolist())
                    break
        if best is None:
            entity_id = rec.enterprise_id or new_entity_id(rec.record_id)
            return RecordLink(rec.record_id, rec.source, entity_id, 1.0, {"reason": "new entity"})
        prob, c, f = best
        other = self.prepared[c].record.record_id
        explanation = {"reason": "matched", "matched_record": other, "score": round(prob, 4)}
        explanation.update(_agreement(self.model, f))
        return RecordLink(rec.record_id, rec.source, self.entity_at[c], prob, explanation)

    def _allowed(self, p: Prepared, entity: _IndexedEntity) -> bool:
        if p.ids.uscc and p.ids.uscc_valid and entity.usccs - {p.ids.uscc}:
            return False
        if p.record.enterprise_id and entity.masters - {p.record.enterprise_id}:
            return False
        if p.branch_key != entity.branch:
            return False
        if p.field_region and regions_conflict({p.field_region}, entity.regions):
            return False
        if p.ids.registration_no and entity.regnos - {p.ids.registration_no}:
            return False
        if typed_conflict(p.ids.typed, entity.typed):
            return False
        forbidden = self.not_same.get(p.record.record_id, set())
        return not any(self.entity_at[self.by_record[r]] == entity.entity_id
                       for r in forbidden if r in self.by_record)

    def _insert(self, p: Prepared, entity_id: str) -> None:
        position = len(self.prepared)
        self.prepared.append(p)
        self.entity_at.append(entity_id)
        self.by_record[p.record.record_id] = position
        self.blocks.add(position, p)
        entity = self.entities.get(entity_id)
        if entity is None:
            entity = _IndexedEntity(entity_id, set(), set(), p.branch_key)
            self.entities[entity_id] = entity
        entity.absorb(p)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as f:
            pickle.dump(self, f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> ResolutionIndex:
        with path.open("rb") as f:
            index = pickle.load(f)
        if not isinstance(index, cls):
            raise TypeError(f"{path} does not hold a ResolutionIndex")
        if len(index.model.weights) != len(FEATURES):
            # Saved before the feature set changed (issue #21: 31 -> 54 features).
            raise TypeError(f"{path} was built with another feature set; resolve again")
        if getattr(index, "layout", 0) != INDEX_LAYOUT:
            raise TypeError(f"{path} was saved by an earlier version; resolve again")
        return index


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a bulk run.

    Resolution allocates millions of small acyclic objects (prepared records, pairs, links)
    and keeps them; every full collection rescans them all, which cost 40% of a 300k-record
    run and grows with the heap. Reference counting still frees everything acyclic; cycles
    made meanwhile are collected when the collector resumes.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def resolve_records(
    records: Iterable[EnterpriseRecord],
    *,
    decisions: Iterable[Decision] = (),
    model: MatchModel | None = None,
    max_block: int = DEFAULT_MAX_BLOCK,
    keep_index: bool = True,
    workers: int | None = None,
    rarity: TradeRarity | None = None,
) -> Resolution:
    """Resolve records into entities (pure: nothing is read or written outside memory).

    Master records (``enterprise_id`` set) anchor clusters to known enterprises; other
    clusters get a new stable id. Decisions: "same" pairs are merged first whatever the model
    says, "not same" pairs are never in one entity. Preparing and scoring run in
    ``workers`` processes (default: the CPUs this process may use). Trade-name rarity comes
    from ``rarity`` (default: the shipped reference table, `TradeRarity.reference`), never
    from the records of the call, so a pair scores the same in any batch; the index keeps
    the same table.
    """
    workers = workers or available_cpus()
    with _collector_paused():
        return _resolve(list(records), list(decisions), model or default_model(), max_block,
                        keep_index, workers, rarity or TradeRarity.reference())


def _resolve(
    recs: list[EnterpriseRecord],
    decisions: list[Decision],
    model: MatchModel,
    max_block: int,
    keep_index: bool,
    workers: int,
    rarity: TradeRarity,
) -> Resolution:
    t0 = time.perf_counter()
    prepared = prepare_records(recs, workers)
    t_prep = time.perf_counter()
    pairs, bstats, block_index = candidate_pairs(prepared, max_block=max_block)
    t_block = time.perf_counter()
    feats = feature_matrix(prepared, pairs, rarity, workers)
    probs = model.probabilities(feats) if len(pairs) else np.empty(0)
    probs[identified_rows(prepared, pairs)] = 1.0
    t_score = time.perf_counter()
    position = {r.record_id: i for i, r in enumerate(recs)}
    must: list[tuple[int, int]] = []
    cannot: list[tuple[int, int]] = []
    decided: dict[tuple[int, int], Decision] = {}
    for d in decisions:
        if d.record_a not in position or d.record_b not in position:
            continue  # decisions about records outside this run are kept for later runs
        i, j = sorted((position[d.record_a], position[d.record_b]))
        decided[(i, j)] = d
        (must if d.same else cannot).append((i, j))
    # Only pairs above the threshold can be merged (or explain a merge).
    above = np.flatnonzero(probs >= model.threshold).tolist() if len(pairs) else []
    pair_row = {pairs[k]: k for k in above}
    scored = [(float(probs[k]), *pairs[k]) for k in above]
    cc, accepted = cluster(prepared, scored, model.threshold, must, cannot)
    t_cluster = time.perf_counter()
    resolution = _assemble(recs, prepared, cc, accepted, feats, pair_row, decided, model, rarity)
    resolution.stats = {
        "records": len(recs),
        "candidate_pairs": bstats.candidate_pairs,
        "blocks": bstats.keys,
        "blocks_capped": bstats.blocks_capped,
        "blocks_split": bstats.blocks_split,
        "max_candidates_per_record": bstats.max_candidates_per_record,
        "pairs_by_pass": bstats.pairs_by_pass,
        "pairs_above_threshold": len(above),
        "entities": len(resolution.entities),
        "seconds": {
            "prepare": round(t_prep - t0, 3),
            "block": round(t_block - t_prep, 3),
            "score": round(t_score - t_block, 3),
            "cluster": round(t_cluster - t_score, 3),
            "total": round(time.perf_counter() - t0, 3),
        },
    }
    resolution.records = recs
    resolution.pairs = pairs
    if keep_index:
        index = ResolutionIndex(model=model, max_block=max_block, prepared=prepared,
                                blocks=block_index, rarity=rarity)
        entity_of = resolution.entity_of()
        index.entity_at = [entity_of[r.record_id] for r in recs]
        index.by_record = position
        for i, p in enumerate(prepared):
            eid = index.entity_at[i]
            entity = index.entities.get(eid)
            if entity is None:
                entity = _IndexedEntity(eid, set(), set(), p.branch_key)
                index.entities[eid] = entity
            entity.absorb(p)
        for d in decisions:
            if not d.same:
                index.not_same[d.record_a].add(d.record_b)
                index.not_same[d.record_b].add(d.record_a)
        resolution.index = index
    return resolution


def _assemble(
    recs: Sequence[EnterpriseRecord],
    prepared: Sequence[Prepared],
    cc: ConstrainedClusters,
    accepted: Sequence[tuple[float, int, int]],
    feats: np.ndarray[Any, Any],
    pair_row: dict[tuple[int, int], int],
    decided: dict[tuple[int, int], Decision],
    model: MatchModel,
    rarity: TradeRarity,
) -> Resolution:
    best_edge: dict[int, tuple[float, int, int]] = {}
    for p, i, j in accepted:
        for a in (i, j):
            if a not in best_edge or p > best_edge[a][0]:
                best_edge[a] = (p, i, j)
    links: list[RecordLink] = []
    entities: dict[str, Entity] = {}
    root_entity: dict[int, str] = {}
    for members in cc.clusters():
        masters = sorted({recs[m].enterprise_id for m in members if recs[m].enterprise_id})
        first = min(members, key=lambda m: recs[m].record_id)
        entity_id = masters[0] if masters else new_entity_id(recs[first].record_id)
        root_entity[cc.find(members[0])] = entity_id
        rep = next((m for m in members if recs[m].enterprise_id), None)
        if rep is None:
            rep = next((m for m in members if prepared[m].zh is not None), first)
        valid = [prepared[m].ids.uscc for m in members if prepared[m].ids.uscc_valid]
        any_uscc = [prepared[m].ids.uscc for m in members if prepared[m].ids.uscc]
        uscc = (valid or any_uscc or [""])[0] or ""
        name_en = next((recs[m].name_en for m in members if recs[m].name_en), "")
        entities[entity_id] = Entity(
            entity_id=entity_id,
            name=recs[rep].name,
            name_en=name_en,
            uscc=uscc,
            uscc_valid=bool(valid),
            record_ids=sorted(recs[m].record_id for m in members),
            is_branch=bool(prepared[rep].branch_key),
        )
        for m in members:
            rec = recs[m]
            edge = best_edge.get(m)
            if edge is None:
                reason = "master record" if rec.enterprise_id else "no match above threshold"
                links.append(RecordLink(rec.record_id, rec.source, entity_id, 1.0,
                                        {"reason": reason}))
                continue
            p, i, j = edge
            other = j if i == m else i
            explanation: dict[str, Any] = {
                "reason": "matched",
                "matched_record": recs[other].record_id,
                "score": round(p, 4),
            }
            d = decided.get((min(i, j), max(i, j)))
            if d is not None and d.same:
                explanation["reason"] = "decision"
                explanation["decided_by"] = d.by
            row = pair_row.get((min(i, j), max(i, j)))
            if row is not None:
                explanation.update(_agreement(model, feats[row].tolist()))
            elif d is not None:  # a decision below the threshold: say what the fields say
                features = pair_features(prepared[i], prepared[j], rarity)
                explanation.update(_agreement(model, features))
            links.append(RecordLink(rec.record_id, rec.source, entity_id, p, explanation))
    branch_of = _branch_links(prepared, cc, root_entity)
    flags = {r.record_id: p.ids.problems for r, p in zip(recs, prepared, strict=True)
             if p.ids.problems}
    return Resolution(links, entities, branch_of, {}, flags)


def _branch_links(
    prepared: Sequence[Prepared], cc: ConstrainedClusters, root_entity: dict[int, str]
) -> list[tuple[str, str]]:
    """A branch entity points at the one non-branch entity with its parent's name parts."""

    def base(p: Prepared) -> str:
        parts = p.primary
        return parts.bank or f"{parts.trade if p.zh else parts.trade_key}|{parts.industry_key}"

    parents: dict[str, set[str]] = defaultdict(set)
    parent_region: dict[str, str] = {}
    for i, p in enumerate(prepared):
        if not p.branch_key:
            eid = root_entity[cc.find(i)]
            parents[base(p)].add(eid)
            parent_region.setdefault(eid, p.name_region)
    out: set[tuple[str, str]] = set()
    for i, p in enumerate(prepared):
        if not p.branch_key:
            continue
        options = parents.get(base(p), set())
        if len(options) > 1 and p.name_region:
            options = {e for e in options if parent_region.get(e) == p.name_region}
        if len(options) == 1:
            out.add((root_entity[cc.find(i)], next(iter(options))))
    return sorted(out)


def require_known(index: ResolutionIndex, record_id: str) -> int:
    if record_id not in index.by_record:
        raise UnknownRecord(f"no source record {record_id} in the index")
    return index.by_record[record_id]


__all__ = [
    "BlockingStats",
    "Decision",
    "Entity",
    "RecordLink",
    "Resolution",
    "ResolutionIndex",
    "blocking_keys",
    "resolve_records",
]
