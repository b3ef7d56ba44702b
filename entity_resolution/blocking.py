"""Blocking: which pairs of records are worth scoring at all.

A union of passes, each a key that two records of one firm are likely to share: a
well-formed USCC, a legacy organisation code (given or embedded in a USCC), a registration
number, the trade name and its pinyin (each with the industry), each trade-name character
together with the industry and region (catches one-character typos), the phone number and
the address. Blocks larger
than ``max_block`` are not expanded into pairs (a shared trade name like 华盛 or a
switchboard number would otherwise pair thousands of unrelated firms); the count of such
blocks is reported, and blocking recall is measured by `evaluate`. A trade-name block that
large is split instead: each of its records also carries a secondary key (the trade name
with its region, or with its branch for a branch: every branch of a big bank lands in one
trade block), and those sub-blocks are expanded when, and only when, their parent is capped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from entity_resolution.records import Prepared

PASSES: tuple[str, ...] = ("uscc", "org", "regno", "id", "trade", "pinyin", "words", "char",
                          "phone", "address")


SPLIT = "#"  # parent key SPLIT secondary key: a sub-block of a capped trade-name block


def _secondary(p: Prepared, region: str) -> str:
    if p.branch_key:
        return f"{SPLIT}b:{p.branch_key}"
    return f"{SPLIT}r:{region}" if region else ""


def _parent(key: str) -> str:
    return key.split(SPLIT, 1)[0] if SPLIT in key else ""


def blocking_keys(p: Prepared) -> list[str]:
    """Every blocking key of one record; the prefix names the pass."""
    keys: list[str] = []
    if p.ids.uscc:
        keys.append("uscc:" + p.ids.uscc)
    if p.ids.org_code:
        keys.append("org:" + p.ids.org_code)
    if p.ids.registration_no:
        keys.append("regno:" + p.ids.registration_no)
    keys.extend("id:" + key for key in p.ids.typed)
    region = (p.name_region or p.field_region)[:4]
    secondary = _secondary(p, region)
    for parts in (p.zh, p.en, *(v.primary for v in p.variants)):
        if parts is None:
            continue
        # Trade names repeat across firms (华盛 is everywhere): with the industry the
        # blocks stay small as the corpus grows, and the industry survives a missing region.
        industry = parts.industry_key.replace("集团", "").replace("控股", "")
        if parts.trade_key:
            keys.append(f"pinyin:{parts.trade_key}|{industry}")
            if secondary:
                keys.append(f"pinyin:{parts.trade_key}|{industry}{secondary}")
        if parts.is_english:
            words = parts.trade.split()
            if len(words) > 1:  # Acme Widgets / Widgets Acme
                keys.append("words:" + " ".join(sorted(words)))
            continue
        trade = parts.trade
        if trade:
            keys.append(f"trade:{trade}|{industry}")
            if secondary:
                keys.append(f"trade:{trade}|{industry}{secondary}")
            for ch in set(trade):
                keys.append(f"char:{ch}|{industry}|{region}")
    if p.phone:
        keys.append("phone:" + p.phone)
    if p.address:
        keys.append("address:" + p.address)
    return list(dict.fromkeys(keys))


@dataclass(slots=True)
class BlockingStats:
    keys: int = 0
    blocks_capped: int = 0
    records_in_capped: int = 0
    blocks_split: int = 0  # sub-blocks of capped trade-name blocks that were expanded
    candidate_pairs: int = 0
    max_candidates_per_record: int = 0
    pairs_by_pass: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class BlockIndex:
    """Blocking key -> record positions; kept for incremental lookups."""

    blocks: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    def add(self, position: int, p: Prepared) -> None:
        for key in blocking_keys(p):
            self.blocks[key].append(position)

    def candidates(self, p: Prepared, max_block: int) -> set[int]:
        """Positions of indexed records sharing a non-capped block with ``p`` (a sub-block
        only where its parent is capped)."""
        found: set[int] = set()
        for key in blocking_keys(p):
            members = self.blocks.get(key)
            if not members or len(members) > max_block:
                continue
            parent = _parent(key)
            if parent and len(self.blocks.get(parent, ())) <= max_block:
                continue
            found.update(members)
        return found


def build_index(prepared: Iterable[Prepared]) -> BlockIndex:
    index = BlockIndex()
    for position, p in enumerate(prepared):
        index.add(position, p)
    return index


def candidate_pairs(
    prepared: Sequence[Prepared], max_block: int = 60, index: BlockIndex | None = None
) -> tuple[list[tuple[int, int]], BlockingStats, BlockIndex]:
    """All pairs (i < j) that share a block of at most ``max_block`` records, sorted.

    Blocks of one size are expanded together as a matrix (numpy), so a million records'
    millions of pairs never pass through a Python loop; a pair found by several passes is
    counted under the first of PASSES.
    """
    index = index or build_index(prepared)
    stats = BlockingStats(keys=len(index.blocks))
    rank = {kind: r for r, kind in enumerate(PASSES)}
    by_size: dict[int, tuple[list[list[int]], list[int]]] = defaultdict(lambda: ([], []))
    all_blocks = index.blocks
    for key, members in all_blocks.items():
        size = len(members)
        if size < 2:
            continue
        if size > max_block:
            if SPLIT not in key:
                stats.blocks_capped += 1
                stats.records_in_capped += size
            continue
        if SPLIT in key:
            if len(all_blocks.get(_parent(key), ())) <= max_block:
                continue  # the parent block is expanded whole
            stats.blocks_split += 1
        blocks, kinds = by_size[size]
        blocks.append(members)
        kinds.append(rank[key.split(":", 1)[0]])
    n = len(prepared)
    codes: list[np.ndarray[Any, np.dtype[np.int64]]] = []
    passes: list[np.ndarray[Any, np.dtype[np.int64]]] = []
    for size, (blocks, kinds) in by_size.items():
        matrix = np.asarray(blocks, dtype=np.int64)  # one block of this size per row
        first, second = np.triu_indices(size, 1)
        a, b = matrix[:, first].ravel(), matrix[:, second].ravel()
        codes.append(np.minimum(a, b) * n + np.maximum(a, b))
        passes.append(np.repeat(np.asarray(kinds, dtype=np.int64), len(first)))
    if codes:
        code = np.concatenate(codes)
        kind = np.concatenate(passes)
        order = np.lexsort((kind, code))  # by pair, then by pass rank: first of each is kept
        code, kind = code[order], kind[order]
        first_of_pair = np.ones(len(code), dtype=bool)
        first_of_pair[1:] = code[1:] != code[:-1]
        code, kind = code[first_of_pair], kind[first_of_pair]
    else:
        code = kind = np.empty(0, dtype=np.int64)
    low, high = code // n, code % n
    per_record = np.bincount(low, minlength=n) + np.bincount(high, minlength=n) if n else code
    counts = np.bincount(kind, minlength=len(PASSES))
    stats.candidate_pairs = len(code)
    stats.max_candidates_per_record = int(per_record.max(initial=0))
    stats.pairs_by_pass = {PASSES[r]: int(c) for r, c in enumerate(counts) if c}
    return list(zip(low.tolist(), high.tolist(), strict=True)), stats, index
