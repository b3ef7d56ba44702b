"""Risk cases over GraphQL: an analyst's disposition on an alert or an enterprise becomes a
labelled case (with its history) that the next `chainlens train --from-graph` reads."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.permissions import READERS, requires
from api.security import Role
from graph import cases
from graph.errors import InvalidArgument
from graph.model import DispositionKind

# Analysts decide cases; admins pass every role check anyway.
DISPOSERS = (Role.ANALYST,)

@strawberry.enum(
    name="Disposition",
    description="confirmed (the typology is the outcome), false positive (cleared), under "
    "review (no outcome yet).",
)
class DispositionChoice(Enum):
    CONFIRMED = DispositionKind.CONFIRMED.value
    FALSE_POSITIVE = DispositionKind.FALSE_POSITIVE.value
    UNDER_REVIEW = DispositionKind.UNDER_REVIEW.value


@strawberry.type(name="CaseDisposition", description="One analyst's judgement; never changed.")
class CaseDispositionType:
    seq: int
    disposition: str
    outcome: str | None
    note: str | None
    by: str
    at: datetime


@strawberry.type(name="Case", description="A labelled case: a bank's own outcome for a firm.")
class CaseType:
    id: strawberry.ID
    enterprise_id: strawberry.ID
    outcome: str | None = strawberry.field(
        description="A fraud typology, default or cleared; null while under review."
    )
    decided_on: date | None
    source: str | None = strawberry.field(description="analyst, or the cases file's source.")
    alert_id: str | None
    disposition: str | None = strawberry.field(description="The latest disposition.")
    note: str | None
    history: list[CaseDispositionType]

    @classmethod
    def from_domain(cls, c: cases.CaseRecord) -> CaseType:
        return cls(
            id=strawberry.ID(c.id), enterprise_id=strawberry.ID(c.enterprise_id),
            outcome=c.outcome, decided_on=c.decided_on, source=c.source, alert_id=c.alert_id,
            disposition=c.disposition, note=c.note,
            history=[
                CaseDispositionType(seq=d.seq, disposition=d.disposition, outcome=d.outcome,
                                    note=d.note, by=d.by, at=d.at)
                for d in c.history
            ],
        )  # fmt: skip


@strawberry.input(description="A disposition on an alert, an enterprise, or both.")
class DispositionInput:
    disposition: DispositionChoice
    enterprise_id: strawberry.ID | None = None
    alert_id: strawberry.ID | None = None
    case_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Extend this case; default alert:<alertId> or enterprise:<enterpriseId>.",
    )
    typology: str | None = strawberry.field(
        default=None, description="For confirmed: a fraud typology (default fraud) or default."
    )
    note: str | None = None


def _opt(v: strawberry.ID | None) -> str | None:
    return None if v is None else str(v)


@strawberry.type
class CasesQuery:
    @strawberry.field(
        extensions=requires(*READERS),
        description="Cases with their disposition history: one by id, or an enterprise's.",
    )
    async def cases(
        self, info: Info[Context, None], enterprise_id: strawberry.ID | None = None,
        id: strawberry.ID | None = None,
    ) -> list[CaseType]:  # fmt: skip
        if enterprise_id is None and id is None:
            raise InvalidArgument("give an enterprise id or a case id")
        found = await info.context.call(
            lambda driver, database: cases.read_cases(
                driver, database, case_id=_opt(id), enterprise_id=_opt(enterprise_id)
            )
        )
        return [CaseType.from_domain(c) for c in found]


@strawberry.type
class CasesMutation:
    @strawberry.mutation(
        extensions=requires(*DISPOSERS),
        description="Record a disposition on an alert or an enterprise: it is appended to the "
        "case's history and, when decided, is a label for the next training.",
    )
    async def record_disposition(
        self, info: Info[Context, None], input: DispositionInput
    ) -> CaseType:
        kind = DispositionKind(input.disposition.value)
        user = info.context.user.username
        found = await info.context.call(
            lambda driver, database: cases.record_disposition(
                driver, database, disposition=kind, by=user,
                enterprise_id=_opt(input.enterprise_id), alert_id=_opt(input.alert_id),
                case_id=_opt(input.case_id), typology=input.typology, note=input.note,
            )
        )  # fmt: skip
        return CaseType.from_domain(found)
