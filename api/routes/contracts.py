"""`GET /api/v1/contracts/{id}/signed.pdf`: a graph Contract rendered as a PDF (WeasyPrint)
and signed with the platform's signer key (pyHanko, PAdES), for the parties to countersign or
keep (docs/documents.md). Each call signs afresh; nothing is stored. The signed PDF is
uploaded back and verified with GraphQL's `uploadSignedContract`.

`GET /api/v1/financings/{id}/contract.pdf`: a financing's newest contract PDF as stored,
signed so far (docs/documents.md#financing-contracts); the financing's funder's staff and the
borrower's own user, another funder's or firm's answer 404 as an unknown financing.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.deps import CurrentUserDep, DriverDep, SettingsDep
from api.errors import http_status_of
from api.security import Role
from documents import financing_contracts as fc
from documents.errors import DocumentsError
from documents.signed_contracts import identity_of, signed_contract_pdf
from finance.lifecycle import get_financing
from graph.funders import funder_of
from graph.model import Label

router = APIRouter(prefix="/api/v1", tags=["contracts"])

# Signing in the platform's name is a credit act (admins pass every check).
SIGNERS = frozenset({Role.CREDIT_OFFICER})
# A financing's contract: whoever reads it in GraphQL (financingContract).
CONTRACT_READERS = frozenset({Role.CREDIT_OFFICER, Role.RELATIONSHIP_MANAGER, Role.ANALYST})


@router.get(
    "/contracts/{contract_id}/signed.pdf",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "The signed contract."},
        404: {"description": "Unknown contract."},
    },
)
async def signed_contract(
    contract_id: str, user: CurrentUserDep, settings: SettingsDep, driver: DriverDep
) -> Response:
    """The contract as a signed PDF, rendered from the graph's facts."""
    if not user.has_any(SIGNERS):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "your role does not allow signing")
    try:
        identity = await run_in_threadpool(identity_of, settings)
        pdf = await run_in_threadpool(
            signed_contract_pdf, driver, settings.neo4j_database, identity, contract_id
        )
    except DocumentsError as e:
        raise HTTPException(http_status_of(e), str(e)) from e
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", contract_id)[:100]
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="contract-{safe}.pdf"'},
    )


@router.get(
    "/financings/{financing_id}/contract.pdf",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "The contract as signed."},
        404: {"description": "Unknown financing (or another funder's), or no contract yet."},
    },
)
async def financing_contract(
    financing_id: str, user: CurrentUserDep, settings: SettingsDep, driver: DriverDep
) -> Response:
    """The financing's newest contract PDF, with the signatures it carries so far."""
    if not user.has_any(CONTRACT_READERS):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "your role does not allow this")
    database = settings.neo4j_database
    unknown = HTTPException(status.HTTP_404_NOT_FOUND, f"financing {financing_id} does not exist")
    owner = await run_in_threadpool(funder_of, driver, database, Label.FINANCING, financing_id)
    if owner is None or (user.book is not None and owner != user.book):
        raise unknown
    if user.enterprise_id is not None:  # the borrower's own user: its own financing only
        fin = await run_in_threadpool(get_financing, driver, database, financing_id)
        if fin.borrower_id != user.enterprise_id:
            raise unknown
    doc = await run_in_threadpool(fc.current, driver, database, financing_id)
    if doc is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"financing {financing_id} has no "
                            "contract yet (generateFinancingContract)")  # fmt: skip
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", str(doc["id"]))[:100]
    return Response(
        bytes(doc["content"]),
        media_type=fc.MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{safe}.pdf"',
            "X-Content-SHA256": str(doc["file_hash"]),
        },
    )

