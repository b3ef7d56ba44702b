"""A financing's contract over GraphQL (docs/documents.md#financing-contracts): generate it from
the product's templates, have each party sign it (hosted PAdES signatures with an RFC 3161
timestamp), read it with every signature verified, and verify an uploaded copy. The PDF is
downloaded from `GET /api/v1/financings/{id}/contract.pdf`; `signContract` requires the
newest contract signed by both parties (`documents.financing_contracts.require_signed`).

Who signs which side (`may_sign`):

- the funder's side: a credit officer of the financing's funder (the scope guard answers
  NOT_FOUND to another funder's staff);
- the borrower's side: a user bound to the borrower enterprise, or a relationship manager of
  the financing's funder signing on the borrower's written mandate (hosted signing, as
  Chinese e-sign platforms offer it; the platform does not hold the mandate, the user who
  asked is recorded on the contract and in the audit trail);
- never one user for both sides (`documents.financing_contracts.SignerRefused`).
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.permissions import requires
from api.graphql.uploads import read_upload, refused_with_status
from api.security import CurrentUser, Role
from documents import financing_contracts as fc
from documents.signing import BadSignedPdf
from finance import lifecycle as lc
from finance.errors import Forbidden, NotFound

MAKERS = (Role.CREDIT_OFFICER, Role.RELATIONSHIP_MANAGER)
SIGNERS = (Role.CREDIT_OFFICER, Role.RELATIONSHIP_MANAGER)
VIEWERS = (Role.CREDIT_OFFICER, Role.RELATIONSHIP_MANAGER, Role.ANALYST)


@strawberry.enum(description="A party of a financing's contract (its signature field).")
class ContractPartyName(Enum):
    BORROWER = "borrower"
    FUNDER = "funder"


@strawberry.type(description="One signature of a contract PDF as pyHanko's validator found it.")
class ContractSignature:
    party: str | None = strawberry.field(
        description="`borrower` or `funder`; null: a signature of neither party in its field."
    )
    field: str = strawberry.field(description="The PDF signature field.")
    signer: str | None = strawberry.field(description="The certificate's common name.")
    signer_id: str | None = strawberry.field(
        description="The party the certificate names (`enterprise:<id>`, `funder:<id>`)."
    )
    signed_at: str | None = strawberry.field(
        description="The timestamp token's time (ISO 8601), else the signer's claimed time."
    )
    timestamped: bool
    timestamp_valid: bool = strawberry.field(
        description="The RFC 3161 timestamp token is intact and its TSA trusted."
    )
    valid: bool
    reason: str


@strawberry.type(description="What verifying a contract PDF found.")
class ContractVerification:
    sha256: str = strawberry.field(description="SHA-256 of the PDF verified.")
    valid: bool = strawberry.field(
        description="At least one signature, and every signature intact, trusted and of a "
        "party in its own field."
    )
    complete: bool = strawberry.field(
        description="Valid and signed by both parties with valid timestamps: what "
        "signContract requires."
    )
    signed_parties: list[str]
    missing_parties: list[str]
    reason: str
    signatures: list[ContractSignature]


@strawberry.type(description="A financing's contract: the newest one generated, as signed so "
                 "far, with its signatures verified now.")  # fmt: skip
class FinancingContract:
    document_id: strawberry.ID
    financing_id: strawberry.ID
    templates: list[str] = strawberry.field(description="The templates, each `id@version`.")
    sha256: str = strawberry.field(description="SHA-256 of the PDF as it is now.")
    generated_sha256: str = strawberry.field(description="SHA-256 of the unsigned PDF.")
    size_bytes: int
    pages: int
    generated_by: str
    generated_at: str
    borrower_signed_by: str | None = strawberry.field(
        description="The user who had the borrower sign."
    )
    funder_signed_by: str | None = strawberry.field(description="The user who had the funder sign.")
    verification: ContractVerification


@strawberry.type(description="An uploaded copy of a financing's contract, verified (nothing "
                 "stored).")  # fmt: skip
class ContractCopyCheck:
    document_id: strawberry.ID = strawberry.field(description="The contract it is checked as.")
    same_as_stored: bool = strawberry.field(
        description="The copy is byte for byte the contract as stored now."
    )
    verification: ContractVerification


def _verification(check: fc.ContractVerification) -> ContractVerification:
    return ContractVerification(
        sha256=check.file_hash, valid=check.valid, complete=check.complete,
        signed_parties=[p.value for p in check.signed],
        missing_parties=[p.value for p in check.missing], reason=check.reason,
        signatures=[ContractSignature(
            party=s.party.value if s.party is not None else None, field=s.report.field,
            signer=s.report.signer, signer_id=s.report.signer_id,
            signed_at=s.report.signed_at, timestamped=s.report.timestamped,
            timestamp_valid=s.report.timestamp_valid, valid=s.report.valid,
            reason=s.report.reason,
        ) for s in check.signatures],
    )  # fmt: skip


def _contract(doc: dict[str, Any], check: fc.ContractVerification) -> FinancingContract:
    return FinancingContract(
        document_id=strawberry.ID(doc["id"]), financing_id=strawberry.ID(doc["financing_id"]),
        templates=list(doc.get("templates") or []), sha256=check.file_hash,
        generated_sha256=str(doc.get("generated_hash") or ""),
        size_bytes=int(doc.get("size_bytes") or 0), pages=int(doc.get("pages") or 0),
        generated_by=str(doc.get("generated_by") or ""),
        generated_at=str(doc.get("generated_at") or ""),
        borrower_signed_by=doc.get("borrower_signed_by"),
        funder_signed_by=doc.get("funder_signed_by"), verification=_verification(check),
    )  # fmt: skip


def may_read(user: CurrentUser, borrower_id: str, financing_id: str) -> None:
    """An enterprise's user reads only its own firm's contracts (another's is NOT_FOUND, as
    an unknown id); the funder's staff are scoped by the guard."""
    if user.enterprise_id is not None and user.enterprise_id != borrower_id:
        raise NotFound(f"financing {financing_id} does not exist")


def may_sign(user: CurrentUser, party: fc.ContractParty, borrower_id: str,
             financing_id: str) -> None:  # fmt: skip
    """Forbidden unless ``user`` may have ``party`` sign this financing's contract (the
    module's docstring; docs/documents.md#who-signs)."""
    may_read(user, borrower_id, financing_id)
    if user.enterprise_id is not None:
        if party is fc.ContractParty.BORROWER:
            return
        raise Forbidden("an enterprise's user signs only the borrower's side of its own "
                        "financing's contract")  # fmt: skip
    if party is fc.ContractParty.FUNDER:
        if Role.CREDIT_OFFICER in user.roles:
            return
        raise Forbidden("the funder's side is signed by a credit officer of the financing's "
                        "funder")  # fmt: skip
    if Role.RELATIONSHIP_MANAGER in user.roles:
        return
    raise Forbidden("the borrower's side is signed by the borrower's own user, or by a "
                    "relationship manager of the funder on the borrower's written "
                    "mandate")  # fmt: skip


async def _borrower(context: Context, financing_id: str) -> str:
    return str((await context.call(lc.get_financing, financing_id)).borrower_id)


@strawberry.type
class FinancingContractsQuery:
    @strawberry.field(description="The financing's contract (the newest generated), with "
                      "every signature verified now; null before one is generated.",
                      extensions=requires(*VIEWERS))  # fmt: skip
    async def financing_contract(
        self, info: Info[Context, None], financing_id: strawberry.ID
    ) -> FinancingContract | None:
        context, fid = info.context, str(financing_id)
        may_read(context.user, await _borrower(context, fid), fid)
        if await context.call(fc.current, fid) is None:
            return None
        doc, check = await context.call(fc.verify_stored, context.settings, fid)
        return _contract(doc, check)


@strawberry.type
class FinancingContractsMutation:
    @strawberry.mutation(description="Generate the contract of an approved financing from its "
                         "product's templates (a new contract each call; the newest is the "
                         "financing's). Credit officers and relationship managers of the "
                         "financing's funder.", extensions=requires(*MAKERS))  # fmt: skip
    async def generate_financing_contract(
        self, info: Info[Context, None], financing_id: strawberry.ID
    ) -> FinancingContract:
        context, fid = info.context, str(financing_id)
        await context.call(fc.generate, fid, username=context.user.username)
        doc, check = await context.call(fc.verify_stored, context.settings, fid)
        return _contract(doc, check)

    @strawberry.mutation(description="Sign the financing's newest contract for one party: the "
                         "funder's side by a credit officer of its funder, the borrower's by "
                         "the borrower's own user or, on the borrower's written mandate, a "
                         "relationship manager of the funder; never both sides by one user. "
                         "A PAdES signature with an RFC 3161 timestamp, appended in the "
                         "party's field.", extensions=requires(*SIGNERS))  # fmt: skip
    async def sign_financing_contract(
        self, info: Info[Context, None], financing_id: strawberry.ID, party: ContractPartyName
    ) -> FinancingContract:
        context, fid = info.context, str(financing_id)
        role = fc.ContractParty(party.value)
        may_sign(context.user, role, await _borrower(context, fid), fid)
        doc, check = await context.call(
            fc.sign, context.settings, fid, role, username=context.user.username
        )
        return _contract(doc, check)

    @strawberry.mutation(description="Verify an uploaded copy of the financing's contract "
                         "(multipart `file`) against the contract as generated for it: every "
                         "signature, its party and timestamp. Nothing is stored.",
                         extensions=requires(*VIEWERS))  # fmt: skip
    async def verify_financing_contract(
        self, info: Info[Context, None], financing_id: strawberry.ID, file: Upload
    ) -> ContractCopyCheck:
        context, fid = info.context, str(financing_id)
        limit = context.settings.contract_pdf_max_bytes
        with refused_with_status(info):
            data = await read_upload(file, limit, BadSignedPdf(
                "send the contract PDF as a multipart upload (`file`)"))  # fmt: skip
            may_read(context.user, await _borrower(context, fid), fid)
            stored = await context.call(fc.current, fid)
            check = await context.call(fc.verify_upload, context.settings, fid, data, limit)
        assert stored is not None  # verify_upload refuses a financing without a contract
        return ContractCopyCheck(
            document_id=strawberry.ID(stored["id"]),
            same_as_stored=check.file_hash == stored.get("file_hash"),
            verification=_verification(check),
        )
