"""Documents over GraphQL (docs/documents.md): a licence, invoice or contract uploaded as a
multipart request (`uploadDocument`, the same service and limits as
`POST /api/v1/documents`), read back (`document`), listed per enterprise (`documents`); a
contract reviewed against an application or a financing, its stored review read back, and
documents attached to applications (`Application.documents`).

A refused upload answers the REST door's HTTP status (413 too large, 415 not an image or PDF,
422 corrupt, no pages or neither document, 404 an unknown enterprise or invoice) with its
code, and stores nothing.

Licences and invoices are evidence about firms of the shared chain graph: every funder's
staff read them. A contract reviewed against another funder's application or financing is
not shown (its outcome and reasons are that review's): NOT_FOUND by id, left out of lists.
An enterprise's user reads only the documents that concern its own firm
(`api/graphql/scoping.py`). A funder's users review against, read reviews of, and attach to
their own funder's applications and financings only: another funder's is NOT_FOUND.
"""

from __future__ import annotations

import json
from typing import Any, cast

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

from api.graphql.analytics import FlowCheck
from api.graphql.context import Context
from api.graphql.permissions import requires
from api.graphql.scalars import BigInt
from api.graphql.uploads import read_upload, refused_with_status
from api.security import CurrentUser, Role
from documents import service
from documents.errors import DocumentsError, FileTooLarge
from documents.fields import DocumentKind
from documents.ocr import MAX_BYTES
from finance.errors import NotFound
from finance.lifecycle.states import get_application
from graph.errors import InvalidArgument
from graph.queries import documents as q

REVIEWERS = (Role.RELATIONSHIP_MANAGER, Role.CREDIT_OFFICER)
VIEWERS = (Role.RELATIONSHIP_MANAGER, Role.CREDIT_OFFICER, Role.ANALYST)
ATTACHERS = (Role.RELATIONSHIP_MANAGER, Role.CREDIT_OFFICER, Role.SERVICE)
UPLOADERS = REVIEWERS  # as `POST /api/v1/documents` (api/routes/documents.py)
# The kinds `documents.service.process_upload` stores; signed and financing contracts are
# read through their own fields (api/graphql/contracts.py, financing_contracts.py).
UPLOADED_KINDS = tuple(k.value for k in DocumentKind)


@strawberry.type(description="One field read from a licence or invoice.")
class DocumentField:
    name: str = strawberry.field(description="`uscc`, `name`, `amount`, `issued_on` ...")
    value: str | None = strawberry.field(
        description="The canonical value (dates `YYYY-MM-DD`, money in yuan with two "
        "decimals); null when it was not found or does not parse."
    )
    raw: str = strawberry.field(description="The text it was read from.")
    confidence: float = strawberry.field(description="The recogniser's confidence, 0 to 1.")
    needs_review: bool = strawberry.field(
        description="A person must look; the value is then never used as a fact."
    )
    reason: str = strawberry.field(description="Why it needs review (empty when it does not).")


_FOUR_FLOW = ("An invoice's four-flow checks (contract, goods, invoice, payment) as the graph "
              "held them when it was read; null for a licence or contract.")  # fmt: skip


def four_flow_of(d: dict[str, Any]) -> list[FlowCheck] | None:
    """The four-flow checks stored on an invoice's Document (`documents.service`)."""
    if not d.get("four_flow"):
        return None
    return [FlowCheck(flow=c["flow"], present=bool(c["present"]),
                      consistent=bool(c["consistent"]), detail=c["detail"])
            for c in json.loads(d["four_flow"])["checks"]]  # fmt: skip


@strawberry.type(description="An uploaded licence, invoice or contract: the fields read from "
                 "it and the outcome of its check against the graph.")  # fmt: skip
class Document:
    id: strawberry.ID
    kind: str = strawberry.field(description="`licence`, `invoice` or `contract`.")
    outcome: str = strawberry.field(
        description="`verified`, `mismatch`, `forged`, `needs_review` or `unmatched`."
    )
    reasons: list[str]
    for_review: list[str] = strawberry.field(description="The fields sent to a person.")
    fields: list[DocumentField] = strawberry.field(description="By name (none for a contract).")
    file_hash: str = strawberry.field(description="SHA-256 of the uploaded file.")
    media_type: str
    size_bytes: int
    pages: int
    enterprise_id: strawberry.ID | None = strawberry.field(
        description="The enterprise it proves (a licence's match by USCC, or the one named)."
    )
    invoice_id: strawberry.ID | None
    uploaded_by: str
    uploaded_at: str
    ocr_seconds: float = strawberry.field(description="Seconds spent reading it (text layer "
                                          "and recognition).")  # fmt: skip
    text_method: str | None = strawberry.field(
        description="`text_layer` when every page was read from its text layer, else `ocr`; "
        "null for a document stored before uploads read text layers.")  # fmt: skip
    four_flow: list[FlowCheck] | None = strawberry.field(description=_FOUR_FLOW)

    @classmethod
    def from_row(cls, d: dict[str, Any]) -> Document:
        fields = json.loads(d.get("fields") or "{}")
        return cls(
            id=strawberry.ID(d["id"]), kind=d["kind"], outcome=d["outcome"],
            reasons=list(d.get("reasons") or []), for_review=list(d.get("for_review") or []),
            fields=[DocumentField(
                name=f.get("name", n), value=f.get("value"), raw=f.get("raw", ""),
                confidence=float(f.get("confidence", 0.0)),
                needs_review=bool(f.get("needs_review")), reason=f.get("reason") or "",
            ) for n, f in fields.items()],
            file_hash=d["file_hash"], media_type=d["media_type"],
            size_bytes=int(d["size_bytes"]), pages=int(d["pages"]),
            enterprise_id=strawberry.ID(d["enterprise_id"]) if d.get("enterprise_id") else None,
            invoice_id=strawberry.ID(d["invoice_id"]) if d.get("invoice_id") else None,
            uploaded_by=d["uploaded_by"], uploaded_at=d["uploaded_at"],
            ocr_seconds=float(d.get("ocr_seconds") or 0.0), text_method=d.get("text_method"),
            four_flow=four_flow_of(d),
        )  # fmt: skip


def visible(row: dict[str, Any], user: CurrentUser) -> bool:
    """Whether ``user`` may see this stored document (the module's docstring): one of the
    uploaded kinds, and not a contract reviewed against another funder's record."""
    if row.get("kind") not in UPLOADED_KINDS:
        return False
    if row.get("review") and user.book is not None:
        funder = json.loads(row["review"]).get("funder_id")
        return funder in (None, user.book)
    return True


def _kind(kind: str | None) -> DocumentKind | None:
    if kind is None:
        return None
    try:
        return DocumentKind(kind)
    except ValueError:
        raise DocumentsError(f"kind is one of {', '.join(UPLOADED_KINDS)}, not {kind!r}") from None


async def _read(file: Any) -> bytes:
    """The uploaded document's bytes; FileTooLarge over MAX_BYTES."""
    data = await read_upload(file, MAX_BYTES, DocumentsError(
        "send the document as a multipart upload (`file`)"))  # fmt: skip
    if len(data) > MAX_BYTES:
        raise FileTooLarge(f"a document is at most {MAX_BYTES} bytes")
    return data


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
    four_flow: list[FlowCheck] | None = strawberry.field(description=_FOUR_FLOW)

    @classmethod
    def from_row(cls, d: dict[str, Any]) -> AttachedDocument:
        return cls(
            id=strawberry.ID(d["id"]), kind=d["kind"], outcome=d["outcome"],
            reasons=list(d.get("reasons") or []),
            enterprise_id=strawberry.ID(d["enterprise_id"]) if d.get("enterprise_id") else None,
            invoice_id=strawberry.ID(d["invoice_id"]) if d.get("invoice_id") else None,
            file_hash=d["file_hash"], uploaded_by=d["uploaded_by"],
            uploaded_at=d["uploaded_at"], attached_by=d.get("attached_by"),
            attached_at=d.get("attached_at"), four_flow=four_flow_of(d),
        )  # fmt: skip


@strawberry.type
class DocumentsQuery:
    @strawberry.field(description="One uploaded licence, invoice or contract: its fields, "
                      "review marks and verification. Unknown, or not the caller's to see: "
                      "NOT_FOUND.", extensions=requires(*VIEWERS))  # fmt: skip
    async def document(self, info: Info[Context, None], id: strawberry.ID) -> Document:
        context, did = info.context, str(id)
        row = await context.call(q.get_document, did)
        if row is not None and visible(row, context.user) and context.user.enterprise_id:
            # An enterprise's user: only a document that concerns its own firm.
            parties = await context.call(q.document_parties, did)
            concerns = set() if parties is None else {
                *parties["enterprises"], parties["document"].get("enterprise_id")}  # fmt: skip
            row = row if context.user.enterprise_id in concerns else None
        if row is None or not visible(row, context.user):
            raise NotFound(f"no document {did}")
        return Document.from_row(row)

    @strawberry.field(description="An enterprise's documents, newest first: those that prove "
                      "it and those that prove an invoice it sells or buys under. `kind`: "
                      "`licence`, `invoice` or `contract`; `first`: 1 to 200.",
                      extensions=requires(*VIEWERS))  # fmt: skip
    async def documents(
        self, info: Info[Context, None], enterprise_id: strawberry.ID, kind: str | None = None,
        first: int = 50,
    ) -> list[Document]:  # fmt: skip
        context, eid = info.context, str(enterprise_id)
        if not 1 <= first <= 200:
            raise InvalidArgument("first is 1 to 200")
        if kind is not None and kind not in UPLOADED_KINDS:
            raise InvalidArgument(f"kind is one of {', '.join(UPLOADED_KINDS)}, not {kind!r}")
        if await context.call(q.enterprise_by_id, eid) is None:
            raise NotFound(f"no enterprise {eid}")
        kinds = [kind] if kind is not None else list(UPLOADED_KINDS)
        rows = await context.call(q.enterprise_documents, eid, kinds, first)
        return [Document.from_row(r) for r in rows if visible(r, context.user)]

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
    @strawberry.mutation(description="Upload a business licence or VAT invoice (or a contract "
                         "for review) as a multipart request (`file`, an image or PDF of at "
                         "most 10 MiB): read by OCR, checked against the graph and stored, as "
                         "`POST /api/v1/documents`. `kind`: `licence`, `invoice` or "
                         "`contract` (optional: the page decides); an invoice needs "
                         "`invoiceId`. Refused with the REST door's status and nothing "
                         "stored: PAYLOAD_TOO_LARGE (413), UNSUPPORTED_MEDIA_TYPE (415), "
                         "UNPROCESSABLE (422), NOT_FOUND (404).",
                         extensions=requires(*UPLOADERS))  # fmt: skip
    async def upload_document(
        self, info: Info[Context, None], file: Upload, kind: str | None = None,
        enterprise_id: strawberry.ID | None = None, invoice_id: strawberry.ID | None = None,
    ) -> Document:  # fmt: skip
        context = info.context
        eid = None if enterprise_id is None else str(enterprise_id)
        iid = None if invoice_id is None else str(invoice_id)
        with refused_with_status(info):
            data = await _read(file)
            row = await context.call(
                service.process_upload, data, username=context.user.username,
                kind=_kind(kind), enterprise_id=eid, invoice_id=iid,
            )  # fmt: skip
        return Document.from_row(row)

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
