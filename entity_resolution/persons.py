"""Resolving person records: a simpler matcher than for enterprises.

A person is identified by the SHA-256 of the national ID number (never the number itself).
Two records with the same hash are one person; two with different hashes never are. A record
without a hash joins a person only when the name agrees (simplified script, or the same
pinyin for a romanised name: 王思萍 / Wang Siping) *and* they share a linked enterprise, since
common names (王伟) alone identify nobody.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from entity_resolution.errors import InvalidRecord
from entity_resolution.normalise import has_cjk, normalise_person_name, pinyin_key

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class PersonRecord:
    record_id: str
    source: str
    name: str
    id_hash: str = ""  # SHA-256 hex of the national ID number
    enterprise_ids: tuple[str, ...] = ()  # enterprises the source links the person to
    person_id: str = ""  # set on master records (the persons file)


@dataclass(frozen=True, slots=True)
class PersonLink:
    record_id: str
    person_id: str
    score: float
    explanation: dict[str, Any]


@dataclass(slots=True)
class PersonResolution:
    links: list[PersonLink]
    persons: dict[str, list[str]] = field(default_factory=dict)  # person id -> record ids

    def person_of(self) -> dict[str, str]:
        return {link.record_id: link.person_id for link in self.links}


def name_keys(name: str) -> tuple[str, str]:
    """(simplified name, pinyin key); a romanised name has only the pinyin key."""
    clean = normalise_person_name(name)
    if has_cjk(clean):
        return clean, pinyin_key(clean)
    # "Siping Wang" and "Wang Siping" are one name: order the romanised parts.
    parts = sorted(re.findall(r"[a-z]+", name.lower()))
    return "", "".join(parts)


def resolve_persons(records: Iterable[PersonRecord]) -> PersonResolution:
    recs = list(records)
    for r in recs:
        if not r.name.strip():
            raise InvalidRecord(f"person record {r.record_id} has no name")
        if r.id_hash and not _SHA256.match(r.id_hash.lower()):
            raise InvalidRecord(
                f"person record {r.record_id}: id_hash must be a SHA-256 hex digest"
            )
    parent = list(range(len(recs)))
    hashes: list[set[str]] = [{r.id_hash.lower()} if r.id_hash else set() for r in recs]
    reason: dict[int, dict[str, Any]] = {}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int, why: dict[str, Any]) -> None:
        ri, rj = find(i), find(j)
        if ri == rj or (hashes[ri] and hashes[rj] and hashes[ri] != hashes[rj]):
            return
        parent[rj] = ri
        hashes[ri] |= hashes[rj]
        reason.setdefault(j, why)
        reason.setdefault(i, why)

    by_hash: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(recs):
        if r.id_hash:
            by_hash[r.id_hash.lower()].append(i)
    for members in by_hash.values():
        for m in members[1:]:
            union(members[0], m, {"reason": "same id_hash", "matched_record":
                                  recs[members[0]].record_id})
    # Name + shared enterprise, blocked by (pinyin of the name, enterprise).
    blocks: dict[tuple[str, str], list[int]] = defaultdict(list)
    keys = [name_keys(r.name) for r in recs]
    for i, r in enumerate(recs):
        _, key = keys[i]
        # Romanised names lose the surname-first order: compare order-free keys.
        order_free = _order_free(key, r.name, romanised=not keys[i][0])
        for e in r.enterprise_ids:
            blocks[(order_free, e)].append(i)
    for (_, enterprise), members in blocks.items():
        # A romanised name that could be either of two written names (Wang Wei: 王伟 or
        # 汪伟) joins neither.
        written = {keys[m][0] for m in members if keys[m][0]}
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                i, j = members[x], members[y]
                a, b = keys[i][0], keys[j][0]
                if a and b and a != b:
                    continue  # same pinyin, different characters: 王伟 vs 汪伟
                if (not a or not b) and len(written) > 1:
                    continue
                if recs[i].id_hash and recs[j].id_hash:
                    continue  # both hashed: the hash alone decides
                union(i, j, {"reason": "same name and linked enterprise",
                             "matched_record": recs[i].record_id, "enterprise": enterprise})
    links: list[PersonLink] = []
    persons: dict[str, list[str]] = defaultdict(list)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(recs)):
        groups[find(i)].append(i)
    for members in groups.values():
        master = next((recs[m].person_id for m in members if recs[m].person_id), "")
        h = sorted(hashes[find(members[0])])
        seed = h[0] if h else min(recs[m].record_id for m in members)
        pid = master or "P-" + hashlib.blake2b(seed.encode(), digest_size=8).hexdigest()
        for m in members:
            why = reason.get(m, {"reason": "no match"})
            links.append(PersonLink(recs[m].record_id, pid, 1.0, why))
            persons[pid].append(recs[m].record_id)
    return PersonResolution(links, dict(persons))


def _order_free(key: str, name: str, romanised: bool) -> str:
    if romanised:
        return key  # already the sorted romanised words
    syllables = re.findall(r"[a-z]+", " ".join(_syllables(name)))
    # Surname first syllable, the given name's syllables joined: "wang", "siping".
    if not syllables:
        return key
    return "".join(sorted([syllables[0], "".join(syllables[1:])]))


def _syllables(name: str) -> list[str]:
    from pypinyin import lazy_pinyin

    return lazy_pinyin(normalise_person_name(name))
