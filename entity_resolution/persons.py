"""Resolving person records: a simpler matcher than for enterprises.

A person is identified by the SHA-256 of the national ID number (never the number itself).
Two records with the same hash are one person; two with different hashes never are. A record
without a hash joins a person only when the name agrees (simplified script, or the same
pinyin for a romanised name in either order: 王思萍 / Wang Siping / SIPING WANG / Wang
Si-ping) *and* other facts do, since common names (王伟) alone identify nobody: a shared
linked enterprise, or two of date of birth, email, phone (E.164) and address. Different
dates of birth or nationalities keep two records apart.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from entity_resolution.errors import InvalidRecord
from entity_resolution.normalise import (
    has_cjk,
    normalise_address,
    normalise_person_name,
    normalise_phone,
    pinyin_key,
)

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class PersonRecord:
    record_id: str
    source: str
    name: str
    id_hash: str = ""  # SHA-256 hex of the national ID number
    enterprise_ids: tuple[str, ...] = ()  # enterprises the source links the person to
    person_id: str = ""  # set on master records (the persons file)
    birth_date: str = ""  # ISO date, 1990-01-31
    nationality: str = ""  # ISO 3166-1 alpha-2
    address: str = ""
    phone: str = ""
    email: str = ""


# The fields beside the name that tell people apart, as the persons file names them.
PERSON_FACTS = ("birth_date", "nationality", "address", "phone", "email")


@dataclass(frozen=True, slots=True)
class _Facts:
    """A record's comparable facts beside its name."""

    birth_date: str
    nationality: str
    email: str
    phone: str
    address: str

    @classmethod
    def of(cls, r: PersonRecord) -> _Facts:
        return cls(r.birth_date.strip(), r.nationality.strip().upper(),
                   r.email.strip().lower(), normalise_phone(r.phone, r.nationality),
                   normalise_address(r.address))  # fmt: skip

    def conflict(self, other: _Facts) -> str:
        for name in ("birth_date", "nationality"):
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine and theirs and mine != theirs:
                return name
        return ""

    def agree(self, other: _Facts) -> list[str]:
        return [name for name in ("birth_date", "email", "phone", "address")
                if getattr(self, name) and getattr(self, name) == getattr(other, name)]


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
    facts = [_Facts.of(r) for r in recs]
    # What a group of records may not hold two of: the groups of two hashes, two dates of
    # birth or two nationalities never merge, not even through a record that has none.
    apart: list[dict[str, set[str]]] = [
        {"id_hash": {r.id_hash.lower()} if r.id_hash else set(),
         "birth_date": {f.birth_date} if f.birth_date else set(),
         "nationality": {f.nationality} if f.nationality else set()}
        for r, f in zip(recs, facts, strict=True)
    ]  # fmt: skip
    reason: dict[int, dict[str, Any]] = {}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int, why: dict[str, Any]) -> None:
        ri, rj = find(i), find(j)
        a, b = apart[ri], apart[rj]
        if ri == rj or any(a[k] and b[k] and a[k] != b[k] for k in a):
            return
        parent[rj] = ri
        for k in a:
            a[k] |= b[k]
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
    # Name + shared enterprise, or name + two other facts; blocked by (the order-free pinyin
    # of the name, the fact).
    blocks: dict[tuple[str, str], list[int]] = defaultdict(list)
    keys = [name_keys(r.name) for r in recs]
    for i, r in enumerate(recs):
        f = facts[i]
        shared = [f"enterprise:{e}" for e in r.enterprise_ids]
        shared += [f"{name}:{value}" for name, value in (
            ("birth_date", f.birth_date), ("email", f.email), ("phone", f.phone)) if value]
        for key in _order_free_keys(keys[i][1], r.name, romanised=not keys[i][0]):
            for fact in shared:
                blocks[(key, fact)].append(i)
    seen: set[tuple[int, int]] = set()
    for members in blocks.values():
        # A romanised name that could be either of two written names (Wang Wei: 王伟 or
        # 汪伟) joins neither.
        written = {keys[m][0] for m in members if keys[m][0]}
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                i, j = sorted((members[x], members[y]))
                if (i, j) in seen or i == j:
                    continue
                seen.add((i, j))
                a, b = keys[i][0], keys[j][0]
                if a and b and a != b:
                    continue  # same pinyin, different characters: 王伟 vs 汪伟
                if (not a or not b) and len(written) > 1:
                    continue
                if recs[i].id_hash and recs[j].id_hash:
                    continue  # both hashed: the hash alone decides
                if facts[i].conflict(facts[j]):
                    continue
                firms = sorted(set(recs[i].enterprise_ids) & set(recs[j].enterprise_ids))
                agreed = facts[i].agree(facts[j])
                if firms:
                    union(i, j, {"reason": "same name and linked enterprise",
                                 "matched_record": recs[i].record_id, "enterprise": firms[0],
                                 "agreed": agreed})
                elif len(agreed) >= 2:
                    union(i, j, {"reason": "same name and personal details",
                                 "matched_record": recs[i].record_id, "agreed": agreed})
    links: list[PersonLink] = []
    persons: dict[str, list[str]] = defaultdict(list)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(recs)):
        groups[find(i)].append(i)
    for members in groups.values():
        master = next((recs[m].person_id for m in members if recs[m].person_id), "")
        h = sorted(apart[find(members[0])]["id_hash"])
        seed = h[0] if h else min(recs[m].record_id for m in members)
        pid = master or "P-" + hashlib.blake2b(seed.encode(), digest_size=8).hexdigest()
        for m in members:
            why = reason.get(m, {"reason": "no match"})
            links.append(PersonLink(recs[m].record_id, pid, 1.0, why))
            persons[pid].append(recs[m].record_id)
    return PersonResolution(links, dict(persons))


def _order_free_keys(key: str, name: str, romanised: bool) -> set[str]:
    """The name as {surname, given name} in pinyin, whatever the order it was written in.

    A written name has one: its first syllable is the surname (王 + 思萍). A romanised name
    does not say which word is the surname (Wang Siping, SIPING WANG, Wang Si Ping), so it
    gets one key with the first word as the surname and one with the last.
    """
    if romanised:
        words = re.findall(r"[a-z]+", re.sub(r"[-'’]", "", name.lower()))
        if len(words) < 2:
            return {key}
        return {"".join(sorted([words[0], "".join(words[1:])])),
                "".join(sorted([words[-1], "".join(words[:-1])]))}
    syllables = re.findall(r"[a-z]+", " ".join(_syllables(name)))
    if not syllables:
        return {key}
    return {"".join(sorted([syllables[0], "".join(syllables[1:])]))}


def _syllables(name: str) -> list[str]:
    from pypinyin import lazy_pinyin

    return lazy_pinyin(normalise_person_name(name))
