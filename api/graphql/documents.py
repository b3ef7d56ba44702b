"""Documents over GraphQL (docs/documents.md): a contract uploaded through
`POST /api/v1/documents` reviewed against an application or a financing, its stored review
read back, and documents attached to applications (`Application.documents`).

A funder's users review against, read reviews of, and attach to their own funder's
applications and financings only (`api/graphql/scoping.py`): another funder's is NOT_FOUND.
"""

from __future__ import annotations

from typing import Any, cast

import strawberry
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.permissions import requires
from api.graphql.scalars import BigInt
from api.security import Role
from documents import service
from finance.lifecycle.states import get_application

REVIEWERS = (Role.RELATIONSHIP_MANAGER, Role.CREDIT_OFFICER)
VIEWERS = (Role.RELATIONSHIP_MANAGER, Role.CREDIT_OFFICER, Role.ANALYST)
ATTACHERS = (Role.RELATIONSHIP_MANAGER, Role.CREDIT_OFFICER, Role.SERVICE)


@strawberry.type(description="A party as the contract names it.")
class ContractParty:
    role: str = strawberry.field(description="The role label written (甲方, 卖方, 债权人 ...).")
    name: str
    uscc: str | None


@strawberry.type(description="The key elements read from a contract's text; null where the "
                 "text does not state them.")  # fmt: skip
class ContractElements:
    parties: list[ContractParty]
    amount: BigInt | None = strawberry.field(description="In minor units.")
    currency: str | None
    amount_in_words: BigInt | None = strawberry.field(
        description="The upper-case amount (大写) in minor units, when written."
    )
    signed_on: str | None
    start_on: str | None
    due_on: str | None = strawberry.field(description="Maturity: the end of the term or the "
                                          "last payment date.")  # fmt: skip
    payment_terms: str | None
    payment_days: int | None
    assignment_restricted: bool
    assignment_clause: str | None
    governing_law: str | None
    dispute_resolution: str | None = strawberry.field(
        description="`arbitration: <body>` or `court: <court>`."
    )

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ContractElements:
        def big(v: Any) -> BigInt | None:
            return None if v is None else BigInt(int(v))

        return cls(
            parties=[ContractParty(role=p["role"], name=p["name"], uscc=p.get("uscc"))
                     for p in d.get("parties") or []],
            amount=big(d.get("amount_minor")), currency=d.get("currency"),
            amount_in_words=big(d.get("amount_in_words_minor")), signed_on=d.get("signed_on"),
            start_on=d.get("start_on"), due_on=d.get("due_on"),
            payment_terms=d.get("payment_terms"), payment_days=d.get("payment_days"),
            assignment_restricted=bool(d.get("assignment_restricted")),
            assignment_clause=d.get("assignment_clause"), governing_law=d.get("governing_law"),
            dispute_resolution=d.get("dispute_resolution"),
        )  # fmt: skip


@strawberry.type(description="One difference between the contract and what the application "
                 "or financing and the graph say.")  # fmt: skip
class ContractDifference:
    element: str
    contract_value: str | None
    expected_value: str | None
    severity: str = strawberry.field(description="`high`, `medium` or `low`.")
    note: str


@strawberry.type(description="A contract's review against an application or a financing.")
class ContractReview:
    document_id: strawberry.ID
    against: str = strawberry.field(description="`application:<id>` or `financing:<id>`.")
    summary: str = strawberry.field(description="`clean`, or the worst severity found.")
    text_method: str | None = strawberry.field(description="`text_layer` or `ocr`.")
    elements: ContractElements
    differences: list[ContractDifference]
    reviewed_by: str | None
    reviewed_at: str | None

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> ContractReview:
        return cls(
            document_id=strawberry.ID(r["document_id"]), against=r["against"],
            summary=r["summary"], text_method=r.get("text_method"),
            elements=ContractElements.from_dict(r["elements"]),
            differences=[ContractDifference(
                element=d["element"], contract_value=d.get("contract_value"),
                expected_value=d.get("expected_value"), severity=d["severity"],
                note=d.get("note") or "") for d in r["differences"]],
            reviewed_by=r.get("reviewed_by"), reviewed_at=r.get("reviewed_at"),
        )  # fmt: skip


@strawberry.type(description="A document attached to an application, with its verification.")
class AttachedDocument:
    id: strawberry.ID
    kind: str
    outcome: str = strawberry.field(
        description="`verified`, `mismatch`, `forged`, `needs_review` or `unmatched`."
    )
    reasons: list[str]
    enterprise_id: strawberry.ID | None
    invoice_id: strawberry.ID | None
    file_hash: str
    uploaded_by: str
    uploaded_at: str
    attached_by: str | None
    attached_at: str | None

    @classmethod
    def from_row(cls, d: dict[str, Any]) -> AttachedDocument:
        return cls(
            id=strawberry.ID(d["id"]), kind=d["kind"], outcome=d["outcome"],
            reasons=list(d.get("reasons") or []),
            enterprise_id=strawberry.ID(d["enterprise_id"]) if d.get("enterprise_id") else None,
            invoice_id=strawberry.ID(d["invoice_id"]) if d.get("invoice_id") else None,
            file_hash=d["file_hash"], uploaded_by=d["uploaded_by"],
            uploaded_at=d["uploaded_at"], attached_by=d.get("attached_by"),
            attached_at=d.get("attached_at"),
        )  # fmt: skip


@strawberry.type
class DocumentsQuery:
    @strawberry.field(description="A contract's stored review (null when it has none, or it "
                      "was made against another funder's application or financing).",
                      extensions=requires(*VIEWERS))  # fmt: skip
    async def contract_review(
        self, info: Info[Context, None], document_id: strawberry.ID
    ) -> ContractReview | None:
        got = await info.context.call(service.stored_review, str(document_id),
                                      info.context.user.book)  # fmt: skip
        return None if got is None else ContractReview.from_row(got)


@strawberry.type
class DocumentsMutation:
    @strawberry.mutation(description="Review an uploaded contract (`POST /api/v1/documents` "
                         "with `kind=contract`) against an application: its parties, amount, "
                         "dates, assignment, law and payment terms compared with the "
                         "application and the graph; the review is stored on the document.",
                         extensions=requires(*REVIEWERS))  # fmt: skip
    async def review_contract(
        self, info: Info[Context, None], document_id: strawberry.ID,
        application_id: strawberry.ID,
    ) -> ContractReview:  # fmt: skip
        row = await info.context.call(
            service.review_contract, str(document_id), username=info.context.user.username,
            application_id=str(application_id), book=info.context.user.book,
        )  # fmt: skip
        return cast(ContractReview, await info.context.call(_stored, str(row["id"])))

    @strawberry.mutation(description="Review an uploaded contract against a financing (its "
                         "application's collateral and the graph's contracts, its amount and "
                         "maturity); the review is stored on the document.",
                         extensions=requires(*REVIEWERS))  # fmt: skip
    async def review_financing_contract(
        self, info: Info[Context, None], document_id: strawberry.ID,
        financing_id: strawberry.ID,
    ) -> ContractReview:  # fmt: skip
        row = await info.context.call(
            service.review_contract, str(document_id), username=info.context.user.username,
            financing_id=str(financing_id), book=info.context.user.book,
        )  # fmt: skip
        return cast(ContractReview, await info.context.call(_stored, str(row["id"])))

    @strawberry.mutation(
        description="Attach an uploaded document (a licence, invoice or "
        "contract that concerns the applicant) to an application; its "
        "documents after. Idempotent.",
        extensions=requires(*ATTACHERS),
    )
    async def attach_document(
        self, info: Info[Context, None], application_id: strawberry.ID,
        document_id: strawberry.ID,
    ) -> list[AttachedDocument]:  # fmt: skip
        app = await info.context.call(get_application, str(application_id))
        rows = await info.context.call(
            service.attach, str(application_id), app.enterprise_id, [str(document_id)],
            info.context.user.username,
        )  # fmt: skip
        return [AttachedDocument.from_row(r) for r in rows]


def _stored(driver: Any, database: str, document_id: str) -> ContractReview:
    got = service.stored_review(driver, database, document_id)
    assert got is not None
    return ContractReview.from_row(got)


async def application_documents(
    info: Info[Context, None], application_id: str
) -> list[AttachedDocument]:
    """`Application.documents`: the documents attached to it, oldest first."""
    from graph.queries.documents import application_documents as read

    rows = await info.context.call(read, application_id)
    return [AttachedDocument.from_row(r) for r in rows]
