"""Bulk work split across forked processes gives what one process gives, errors included."""

from __future__ import annotations

import os
from collections import defaultdict
from itertools import combinations

import numpy as np
import pytest

from entity_resolution import records as records_module
from entity_resolution import score as score_module
from entity_resolution.blocking import PASSES, build_index, candidate_pairs
from entity_resolution.errors import EntityResolutionError, InvalidRecord
from entity_resolution.forked import run_split, split_bounds
from entity_resolution.records import EnterpriseRecord, prepare_records
from entity_resolution.resolver import resolve_records
from entity_resolution.score import TradeRarity, feature_matrix
from entity_resolution.synth import make_records


def test_slices_cover_the_range_in_order() -> None:
    assert split_bounds(10, 3) == [(0, 3), (3, 6), (6, 10)]
    assert split_bounds(1, 2) == [(0, 0), (0, 1)]
    pids = run_split(lambda lo, hi: (lo, hi, os.getpid()), 9, 3)
    assert [(lo, hi) for lo, hi, _ in pids] == [(0, 3), (3, 6), (6, 9)]
    assert pids[0][2] == os.getpid()
    assert len({pid for _, _, pid in pids}) == 3  # two children did the other slices


def test_a_childs_error_is_raised_in_the_parent() -> None:
    def work(lo: int, hi: int) -> int:
        if lo > 0:
            raise InvalidRecord(f"record at {lo} has no name")
        return hi

    with pytest.raises(InvalidRecord, match="record at 5 has no name"):
        run_split(work, 10, 2)

    def dies(lo: int, hi: int) -> int:
        if lo > 0:
            os._exit(3)  # no result at all
        return hi

    with pytest.raises(EntityResolutionError, match="ended without a result"):
        run_split(dies, 10, 2)


@pytest.fixture(scope="module")
def synth() -> list[EnterpriseRecord]:
    return make_records(400, seed=99).records


def test_prepared_in_two_processes_equals_one(
    synth: list[EnterpriseRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(records_module, "PARALLEL_MIN_RECORDS", 10)
    one = prepare_records(synth, workers=1)
    two = prepare_records(synth, workers=2)
    assert two == one
    assert all(p.record is r for p, r in zip(two, synth, strict=True))
    assert all(p.primary is (p.zh or p.en) for p in two)

    bad = [*synth, EnterpriseRecord("nameless", "erp", "")]
    with pytest.raises(InvalidRecord, match="nameless"):
        prepare_records(bad, workers=2)


def test_features_in_two_processes_equal_one(
    synth: list[EnterpriseRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(score_module, "PARALLEL_MIN_PAIRS", 10)
    prepared = prepare_records(synth)
    pairs, _, _ = candidate_pairs(prepared)
    rarity = TradeRarity.of(prepared)
    assert len(pairs) > 100
    np.testing.assert_array_equal(
        feature_matrix(prepared, pairs, rarity, workers=2),
        feature_matrix(prepared, pairs, rarity, workers=1),
    )


def test_vectorised_pairs_equal_a_plain_expansion_of_the_blocks(
    synth: list[EnterpriseRecord],
) -> None:
    prepared = prepare_records(synth)
    max_block = 5  # small, so that some blocks are capped
    index = build_index(prepared)
    expected: dict[tuple[int, int], str] = {}
    per_record: dict[int, int] = defaultdict(int)
    capped = 0
    for key, members in index.blocks.items():
        if len(members) > max_block:
            capped += 1
            continue
        kind = key.split(":", 1)[0]
        for i, j in combinations(sorted(members), 2):
            known = expected.get((i, j))
            if known is None:
                per_record[i] += 1
                per_record[j] += 1
            if known is None or PASSES.index(kind) < PASSES.index(known):
                expected[(i, j)] = kind
    pairs, stats, _ = candidate_pairs(prepared, max_block=max_block, index=index)
    assert capped > 0
    assert pairs == sorted(expected)
    assert stats.blocks_capped == capped
    assert stats.max_candidates_per_record == max(per_record.values())
    by_pass: dict[str, int] = defaultdict(int)
    for kind in expected.values():
        by_pass[kind] += 1
    assert stats.pairs_by_pass == dict(by_pass)


def test_resolution_does_not_depend_on_the_number_of_workers(
    synth: list[EnterpriseRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(records_module, "PARALLEL_MIN_RECORDS", 10)
    monkeypatch.setattr(score_module, "PARALLEL_MIN_PAIRS", 10)
    one = resolve_records(synth, workers=1, keep_index=False)
    two = resolve_records(synth, workers=2, keep_index=False)
    assert two.links == one.links
    assert two.branch_of == one.branch_of
