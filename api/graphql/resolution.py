"""Entity resolution over GraphQL: an enterprise's source records with match explanations,
and a mutation that records a person's match decision (it takes effect on the next run)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.scalars import JSON
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.permissions import READERS, requires
from api.security import Role
from entity_resolution import lookup, store
from entity_resolution.errors import InvalidRecord
from entity_resolution.records import EnterpriseRecord

if TYPE_CHECKING:
    from api.graphql.core import Enterprise

DECIDERS = (Role.CREDIT_OFFICER, Role.ADMIN)
# The longest text a lookup argument may carry.
MAX_LOOKUP_CHARS = 200
MAX_LOOKUP_LIST = 20


@strawberry.type(description="Why a source record resolved to its enterprise.")
class MatchExplanation:
    reason: str = strawberry.field(
        description="matched, decision, master record, no match above threshold, new entity."
    )
    matched_record: str | None = strawberry.field(description="The record it matched best.")
    score: float | None
    agreed: list[str] = strawberry.field(description="Features that argued for the match.")
    disagreed: list[str] = strawberry.field(description="Features that argued against it.")
    contributions: JSON = strawberry.field(
        description="The largest contributions to the log-odds, by feature."
    )

    @classmethod
    def from_domain(cls, e: dict[str, Any]) -> MatchExplanation:
        score = e.get("score")
        return cls(
            reason=str(e.get("reason", "")),
            matched_record=e.get("matched_record"),
            score=float(score) if score is not None else None,
            agreed=list(e.get("agreed", [])),
            disagreed=list(e.get("disagreed", [])),
            contributions=cast(JSON, e.get("contributions", {})),
        )


@strawberry.type(description="A source's record of an enterprise and how it was linked.")
class SourceRecordMatch:
    record_id: strawberry.ID
    source: str
    name: str | None
    raw: JSON = strawberry.field(description="The record as the source gave it.")
    uscc_valid: bool | None
    score: float | None
    explanation: MatchExplanation
    run_id: str | None
    at: datetime | None

    @classmethod
    def from_domain(cls, row: dict[str, Any]) -> SourceRecordMatch:
        return cls(
            record_id=strawberry.ID(row["record_id"]),
            source=row["source"] or "",
            name=row.get("name"),
            raw=cast(JSON, json.loads(row["raw"]) if row.get("raw") else {}),
            uscc_valid=row.get("uscc_valid"),
            score=row.get("score"),
            explanation=MatchExplanation.from_domain(row.get("explanation") or {}),
            run_id=row.get("run_id"),
            at=row.get("at"),
        )


async def source_records(info: Info[Context, None], enterprise_id: str) -> list[SourceRecordMatch]:
    loader: DataLoader[str, list[dict[str, Any]]] = info.context.batch_loader(
        "source_records", store.entity_sources, list
    )
    return [SourceRecordMatch.from_domain(r) for r in await loader.load(enterprise_id)]


async def branch_links(info: Info[Context, None], enterprise_id: str) -> tuple[list[str],
                                                                               list[str]]:
    loader = info.context.batch_loader("branch_links", store.entity_branches, lambda: ([], []))
    parents, branches = await loader.load(enterprise_id)
    return list(parents), list(branches)


@strawberry.type(description="A person's judgement that two source records are (not) one.")
class MatchDecision:
    record_a: strawberry.ID
    record_b: strawberry.ID
    same: bool
    by: str
    at: datetime | None


@strawberry.type
class ResolutionMutation:
    @strawberry.mutation(
        extensions=requires(*DECIDERS),
        description="Record that two source records are (not) the same enterprise; the next "
        "resolution run (`chainlens resolve`, or an ingest) respects it.",
    )
    async def record_match_decision(
        self, info: Info[Context, None], record_a: strawberry.ID, record_b: strawberry.ID,
        same: bool,
    ) -> MatchDecision:  # fmt: skip
        user = info.context.user.username
        d = await info.context.call(store.record_decision, str(record_a), str(record_b), same,
                                    user)  # fmt: skip
        return MatchDecision(
            record_a=strawberry.ID(d.record_a), record_b=strawberry.ID(d.record_b),
            same=d.same, by=d.by, at=d.at,
        )  # fmt: skip


@strawberry.type(description="An enterprise an outside record may be, scored as a resolution "
                 "run would score the pair.")
class MatchCandidate:
    enterprise_id: strawberry.ID
    name: str
    score: float = strawberry.field(description="The match probability (0 when a cannot-link "
                                    "rule applies).")
    same: bool = strawberry.field(description="The score reaches the model's threshold and no "
                                  "rule keeps the two apart: a run would link them.")
    threshold: float
    blocked_by: str | None = strawberry.field(description="The rule that keeps them apart.")
    agreed: list[str] = strawberry.field(description="Features that argued for the match.")
    disagreed: list[str] = strawberry.field(description="Features that argued against it.")
    contributions: JSON = strawberry.field(
        description="The largest contributions to the log-odds, by feature."
    )

    @strawberry.field(description="The enterprise itself.")
    async def enterprise(
        self, info: Info[Context, None]
    ) -> Annotated[Enterprise, strawberry.lazy("api.graphql.core")] | None:
        from api.graphql.core import Enterprise

        found = await info.context.enterprise_loader.load(str(self.enterprise_id))
        return Enterprise.from_domain(found) if found is not None else None

    @classmethod
    def from_domain(cls, c: lookup.Candidate) -> MatchCandidate:
        r = c.result
        return cls(
            enterprise_id=strawberry.ID(c.enterprise_id), name=c.name, score=round(r.score, 4),
            same=r.same, threshold=round(r.threshold, 4), blocked_by=r.blocked_by or None,
            agreed=r.agreed, disagreed=r.disagreed, contributions=cast(JSON, r.contributions),
        )  # fmt: skip


@strawberry.type
class ResolutionQuery:
    @strawberry.field(
        extensions=requires(*READERS, Role.ADMIN),
        description="The enterprises of the graph a firm may be, best first: the holder of "
        "its USCC and the best name matches, each scored by the entity-resolution model with "
        "the reasons (the onboarding lookup). A name is required.",
    )
    async def match_candidates(
        self, info: Info[Context, None], name: str, name_en: str | None = None,
        uscc: str | None = None, phone: str | None = None, address: str | None = None,
        country: str | None = None, city: str | None = None,
        aliases: list[str] | None = None, identifiers: list[str] | None = None,
        first: int = 5,
    ) -> list[MatchCandidate]:  # fmt: skip
        given = {"name": name, "name_en": name_en or "", "uscc": uscc or "",
                 "phone": phone or "", "address": address or "", "country": country or "",
                 "city": city or ""}  # fmt: skip
        names, ids = tuple(aliases or ()), tuple(identifiers or ())
        if len(names) > MAX_LOOKUP_LIST or len(ids) > MAX_LOOKUP_LIST:
            raise InvalidRecord(f"aliases and identifiers hold at most {MAX_LOOKUP_LIST} each")
        for key, value in [*given.items(), *(("aliases", a) for a in names),
                           *(("identifiers", i) for i in ids)]:  # fmt: skip
            if len(value) > MAX_LOOKUP_CHARS:
                raise InvalidRecord(f"{key} is at most {MAX_LOOKUP_CHARS} characters")
        record = replace(EnterpriseRecord.from_fields("lookup", "lookup", given),
                         aliases=names, identifiers=ids)
        found = await info.context.call(lookup.match_candidates, record, first)
        return [MatchCandidate.from_domain(c) for c in found]
