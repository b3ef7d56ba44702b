"""Signed contracts over GraphQL (docs/documents.md): upload a signed contract PDF as a
multipart request (the GraphQL multipart request spec, `file: Upload!`), have it verified by
pyHanko's validator against the project's trust root, and read the stored results of a
contract. The signed PDF itself is downloaded from `GET /api/v1/contracts/{id}/signed.pdf`.

A refused upload (not a PDF, corrupt, no pages, over `contract_pdf_max_bytes`) answers
BAD_REQUEST with HTTP 400 and stores nothing.
"""

from __future__ import annotations

from typing import Any

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.file_uploads import Upload
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.permissions import requires
from api.graphql.uploads import read_upload, refused_with_status
from api.security import Role
from documents.signed_contracts import identity_of, signed_documents, upload_signed_contract
from documents.signing import BadSignedPdf

UPLOADERS = (Role.RELATIONSHIP_MANAGER, Role.CREDIT_OFFICER)
VIEWERS = (Role.RELATIONSHIP_MANAGER, Role.CREDIT_OFFICER, Role.ANALYST)


@strawberry.type(description="An uploaded signed contract PDF and what its verification "
                 "found (pyHanko's validator against the project's trust root).")  # fmt: skip
class SignedContractDocument:
    id: strawberry.ID
    contract_id: strawberry.ID
    status: str = strawberry.field(description="`valid` or `invalid`.")
    signer: str | None = strawberry.field(
        description="The signers' common names, in signing order, joined by `; `."
    )
    signed_at: str | None = strawberry.field(
        description="The time the first signer states (ISO 8601; no timestamp authority)."
    )
    reason: str = strawberry.field(description="Why it is valid or invalid, for a person.")
    signatures: int
    file_hash: str = strawberry.field(description="SHA-256 of the uploaded file.")
    size_bytes: int
    pages: int
    uploaded_by: str
    uploaded_at: str

    @classmethod
    def from_row(cls, d: dict[str, Any]) -> SignedContractDocument:
        return cls(
            id=strawberry.ID(d["id"]), contract_id=strawberry.ID(d["contract_id"]),
            status=d["signature_status"], signer=d.get("signer"), signed_at=d.get("signed_at"),
            reason=d.get("signature_reason", ""), signatures=int(d.get("signatures", 0)),
            file_hash=d["file_hash"], size_bytes=int(d["size_bytes"]), pages=int(d["pages"]),
            uploaded_by=d["uploaded_by"], uploaded_at=d["uploaded_at"],
        )  # fmt: skip


@strawberry.type
class ContractsQuery:
    @strawberry.field(description="The signed PDFs uploaded for a contract, newest first, "
                      "each with its verification.", extensions=requires(*VIEWERS))  # fmt: skip
    async def signed_contract_documents(
        self, info: Info[Context, None], contract_id: strawberry.ID
    ) -> list[SignedContractDocument]:
        rows = await info.context.call(signed_documents, str(contract_id))
        return [SignedContractDocument.from_row(r) for r in rows]


@strawberry.type
class ContractsMutation:
    @strawberry.mutation(description="Upload a contract's signed PDF (multipart), verify its "
                         "signatures and store the result. Not a PDF, corrupt, without pages "
                         "or too large: BAD_REQUEST (400), nothing stored.",
                         extensions=requires(*UPLOADERS))  # fmt: skip
    async def upload_signed_contract(
        self, info: Info[Context, None], contract_id: strawberry.ID, file: Upload
    ) -> SignedContractDocument:
        settings = info.context.settings
        with refused_with_status(info):
            data = await read_upload(file, settings.contract_pdf_max_bytes, BadSignedPdf(
                "send the signed PDF as a multipart upload (`file`)"))  # fmt: skip
            identity = await run_in_threadpool(identity_of, settings)
            row = await info.context.call(
                upload_signed_contract, identity, data, contract_id=str(contract_id),
                username=info.context.user.username, max_bytes=settings.contract_pdf_max_bytes,
            )  # fmt: skip
        return SignedContractDocument.from_row(row)
