"""Clustering scored pairs into entities without chaining unrelated firms together.

Union-find over pairs above the model's threshold, best pair first, where a union is refused
when it would join two different valid USCCs, two different master enterprises, records
registered in different regions or under different registration numbers, a branch with its
parent (or two different branches), or records a person has said are not the same. The
region and number checks are what stop a sparse record (田园牧歌农业专业合作社, no region)
from chaining two firms of one trade name in two cities. Human
"same" decisions are applied first and always win.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from entity_resolution.identifiers import typed_conflict
from entity_resolution.records import Prepared


@dataclass(slots=True)
class _Group:
    usccs: set[str]
    masters: set[str]
    branch: str
    members: list[int]
    regions: set[str]  # division-code prefixes the records give (region_code or USCC)
    regnos: set[str]  # registration numbers the records give
    typed: set[str]  # other identifiers (SCHEME:VALUE) the records give
    forbidden: set[int] = field(default_factory=set)


def _conflict(a: set[str], b: set[str]) -> bool:
    # A cluster a person forced to hold two codes may still take records carrying either.
    return bool(a) and bool(b) and not (a <= b or b <= a)


def regions_conflict(a: set[str], b: set[str]) -> bool:
    # Prefixes of different length compare on the shorter (3302 lies in 33).
    return any(x[: min(len(x), len(y))] != y[: min(len(x), len(y))] for x in a for y in b)


class ConstrainedClusters:
    """Union-find whose unions respect cannot-link constraints."""

    def __init__(self, prepared: Sequence[Prepared]) -> None:
        self.parent = list(range(len(prepared)))
        self.groups: dict[int, _Group] = {}
        for i, p in enumerate(prepared):
            self.groups[i] = _Group(
                usccs={p.ids.uscc} if p.ids.uscc and p.ids.uscc_valid else set(),
                masters={p.record.enterprise_id} if p.record.enterprise_id else set(),
                branch=p.branch_key,
                members=[i],
                regions={p.field_region} if p.field_region else set(),
                regnos={p.ids.registration_no} if p.ids.registration_no else set(),
                typed=set(p.ids.typed),
            )

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def forbid(self, i: int, j: int) -> None:
        self.groups[self.find(i)].forbidden.add(j)
        self.groups[self.find(j)].forbidden.add(i)

    def why_not(self, i: int, j: int) -> str:
        """'' when the clusters of i and j may merge, else the reason they may not."""
        ri, rj = self.find(i), self.find(j)
        if ri == rj:
            return ""
        a, b = self.groups[ri], self.groups[rj]
        if _conflict(a.usccs, b.usccs):
            return "different valid USCCs"
        if _conflict(a.masters, b.masters):
            return "different master enterprises"
        if regions_conflict(a.regions, b.regions):
            return "registered in different regions"
        if a.regnos and b.regnos and not (a.regnos & b.regnos):
            return "different registration numbers"
        if scheme := typed_conflict(a.typed, b.typed):
            return f"different {scheme} identifiers"
        if a.branch != b.branch:
            return "branch and parent (or two branches) stay separate"
        if a.forbidden.intersection(b.members) or b.forbidden.intersection(a.members):
            return "a person decided these are not the same"
        return ""

    def union(self, i: int, j: int, force: bool = False) -> bool:
        ri, rj = self.find(i), self.find(j)
        if ri == rj:
            return False
        if not force and self.why_not(i, j):
            return False
        a, b = self.groups[ri], self.groups[rj]
        if len(a.members) < len(b.members):
            ri, rj, a, b = rj, ri, b, a
        self.parent[rj] = ri
        a.usccs |= b.usccs
        a.masters |= b.masters
        a.members.extend(b.members)
        a.forbidden |= b.forbidden
        a.regions |= b.regions
        a.regnos |= b.regnos
        a.typed |= b.typed
        if b.branch and not a.branch:
            a.branch = b.branch
        del self.groups[rj]
        return True

    def clusters(self) -> list[list[int]]:
        return [sorted(g.members) for g in self.groups.values()]


def cluster(
    prepared: Sequence[Prepared],
    scored: Iterable[tuple[float, int, int]],
    threshold: float,
    must_link: Iterable[tuple[int, int]] = (),
    cannot_link: Iterable[tuple[int, int]] = (),
) -> tuple[ConstrainedClusters, list[tuple[float, int, int]]]:
    """Cluster; returns the clusters and the pairs whose union was accepted (the evidence)."""
    cc = ConstrainedClusters(prepared)
    accepted: list[tuple[float, int, int]] = []
    for i, j in cannot_link:
        cc.forbid(i, j)
    for i, j in must_link:
        if cc.union(i, j, force=True):
            accepted.append((1.0, i, j))
    for p, i, j in sorted((s for s in scored if s[0] >= threshold), reverse=True):
        if cc.union(i, j):
            accepted.append((p, i, j))
    return cc, accepted
